package echonet

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// fakeNet is an in-memory Transport: a network of fake nodes that answer
// Get and SetC from property tables, synchronously inside Send.
type fakeNet struct {
	pkts   chan Packet
	sentCh chan sent

	mu    sync.Mutex
	nodes map[Addr]*fakeNode
	sent  []sent
}

type sent struct {
	dst  Addr // "" for multicast
	data []byte
}

type fakeNode struct {
	silent bool
	objs   map[EOJ]*fakeObj
}

type fakeObj struct {
	props  map[byte][]byte
	set    PropertyMap
	refuse map[byte]bool // SetC of these is refused (SetC_SNA)
	sets   [][]Property
}

var _ Transport = (*fakeNet)(nil)

func newFakeNet() *fakeNet {
	return &fakeNet{pkts: make(chan Packet, 256), sentCh: make(chan sent, 256), nodes: map[Addr]*fakeNode{}}
}

// addObj puts an object on node addr with props readable and set
// settable; 9E/9F are derived.
func (n *fakeNet) addObj(addr Addr, eoj EOJ, props map[byte][]byte, settable ...byte) *fakeObj {
	n.mu.Lock()
	defer n.mu.Unlock()
	nd := n.nodes[addr]
	if nd == nil {
		nd = &fakeNode{objs: map[EOJ]*fakeObj{}}
		n.nodes[addr] = nd
	}
	o := &fakeObj{props: maps.Clone(props), refuse: map[byte]bool{}}
	if o.props == nil {
		o.props = map[byte][]byte{}
	}
	for _, e := range settable {
		o.set.Add(e)
	}
	o.props[0x9E] = o.set.Encode()
	var get PropertyMap
	for e := range o.props {
		get.Add(e)
	}
	get.Add(0x9F)
	o.props[0x9F] = get.Encode()
	nd.objs[eoj] = o
	return o
}

func (n *fakeNet) setSilent(addr Addr, s bool) {
	n.mu.Lock()
	n.nodes[addr].silent = s
	n.mu.Unlock()
}

func (n *fakeNet) prop(addr Addr, eoj EOJ, epc byte) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.nodes[addr].objs[eoj].props[epc])
}

func (n *fakeNet) setProp(addr Addr, eoj EOJ, epc byte, edt []byte) {
	n.mu.Lock()
	n.nodes[addr].objs[eoj].props[epc] = edt
	n.mu.Unlock()
}

func (n *fakeNet) inject(src Addr, data []byte) { n.pkts <- Packet{Src: src, Data: data} }

func (n *fakeNet) Packets() <-chan Packet { return n.pkts }

func (n *fakeNet) Send(ctx context.Context, dst Addr, frame []byte) error {
	n.record(dst, frame)
	n.mu.Lock()
	defer n.mu.Unlock()
	if nd := n.nodes[dst]; nd != nil && !nd.silent {
		n.answer(dst, nd, frame)
	}
	return ctx.Err()
}

func (n *fakeNet) Multicast(ctx context.Context, frame []byte) error {
	n.record("", frame)
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range slices.Sorted(maps.Keys(n.nodes)) {
		if nd := n.nodes[a]; !nd.silent {
			n.answer(a, nd, frame)
		}
	}
	return ctx.Err()
}

func (n *fakeNet) record(dst Addr, frame []byte) {
	s := sent{dst: dst, data: slices.Clone(frame)}
	n.mu.Lock()
	n.sent = append(n.sent, s)
	n.mu.Unlock()
	select {
	case n.sentCh <- s:
	default:
	}
}

// count returns how many requests of esv to deoj at dst were sent.
func (n *fakeNet) count(dst Addr, deoj EOJ, esv ESV) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	for _, s := range n.sent {
		if f, err := Decode(s.data); err == nil && s.dst == dst && f.DEOJ == deoj && f.ESV == esv {
			k++
		}
	}
	return k
}

// answer replies as node nd at addr would; called with n.mu held.
func (n *fakeNet) answer(addr Addr, nd *fakeNode, frame []byte) {
	req, err := Decode(frame)
	if err != nil {
		return
	}
	var objs []*fakeObj
	var eojs []EOJ
	if req.DEOJ == NodeProfile {
		list := instanceList(nd)
		objs, eojs = []*fakeObj{{props: map[byte][]byte{0xD6: list, 0xD5: list}}}, []EOJ{NodeProfile}
	} else if o := nd.objs[req.DEOJ]; o != nil {
		objs, eojs = []*fakeObj{o}, []EOJ{req.DEOJ}
	}
	for i, o := range objs {
		res := Frame{TID: req.TID, SEOJ: eojs[i], DEOJ: req.SEOJ}
		ok := true
		switch req.ESV {
		case Get:
			res.ESV = GetRes
			for _, p := range req.Props {
				edt, has := o.props[p.EPC]
				ok = ok && has
				res.Props = append(res.Props, Property{EPC: p.EPC, EDT: edt})
			}
			if !ok {
				res.ESV = GetSNA
			}
		case SetC:
			res.ESV = SetRes
			o.sets = append(o.sets, req.Props)
			for _, p := range req.Props {
				if o.set.Has(p.EPC) && !o.refuse[p.EPC] {
					o.props[p.EPC] = slices.Clone(p.EDT)
					res.Props = append(res.Props, Property{EPC: p.EPC})
				} else {
					ok = false
					res.Props = append(res.Props, p)
				}
			}
			if !ok {
				res.ESV = SetCSNA
			}
		default:
			continue
		}
		b, err := res.Encode()
		if err == nil {
			n.pkts <- Packet{Src: addr, Data: b}
		}
	}
}

func instanceList(nd *fakeNode) []byte {
	list := []byte{byte(len(nd.objs))}
	for _, e := range slices.SortedFunc(maps.Keys(nd.objs), func(a, b EOJ) int { return slices.Compare(a[:], b[:]) }) {
		list = append(list, e[:]...)
	}
	return list
}

// nodeList is the D5/D6 instance list of the node at addr.
func (n *fakeNet) nodeList(addr Addr) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return instanceList(n.nodes[addr])
}

// noLeaks fails the test if goroutines started during it outlive it; call
// it first so its cleanup runs last.
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines left behind", runtime.NumGoroutine()-before)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// waitFor polls cond in real time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// advancer is the part of the fake clock pump needs.
type advancer interface {
	Advance(time.Duration)
}

// pump advances clk by step until cond holds, letting the goroutines
// under test run between steps.
func pump(t *testing.T, n *fakeNet, clk advancer, step time.Duration, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 3000 {
			t.Fatalf("timed out pumping for %s", what)
		}
		waitFor(t, "packets consumed", func() bool { return len(n.pkts) == 0 })
		time.Sleep(2 * time.Millisecond)
		if cond() {
			return
		}
		clk.Advance(step)
	}
}

// fakePub collects published readings.
type fakePub struct {
	mu sync.Mutex
	rs []energy.Reading
}

func (p *fakePub) Publish(rs []energy.Reading) error {
	p.mu.Lock()
	p.rs = append(p.rs, rs...)
	p.mu.Unlock()
	return nil
}

// latest returns the newest reading of q from dev.
func (p *fakePub) latest(dev energy.DeviceID, q energy.Quantity) (energy.Reading, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.rs) - 1; i >= 0; i-- {
		if p.rs[i].Device == dev && p.rs[i].Quantity == q {
			return p.rs[i], true
		}
	}
	return energy.Reading{}, false
}
