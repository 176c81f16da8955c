package emul

import (
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/gatewayd-project/gatewayd/han/echonet"
)

// maxListed bounds the instance list in D5/D6 (the standard's limit).
const maxListed = 84

// Node is one ECHONET Lite node: an address with a node profile
// (0x0EF001) and its device objects.
type Node struct {
	home    *Home
	index   int
	mac     string
	profile *Device
	devices []*Device

	getSNA atomic.Bool
	silent atomic.Bool
	slow   atomic.Int64 // time.Duration
}

// Index is the node's position in its Home (0 = the smart meter by
// default); transports use it to derive an address or a port.
func (n *Node) Index() int { return n.index }

// MAC is the node's 64-bit MAC address as 16 uppercase hex digits.
func (n *Node) MAC() string { return n.mac }

// LinkLocal is the node's Wi-SUN link-local IPv6 address ([LinkLocal]).
func (n *Node) LinkLocal() string { return LinkLocal(n.mac) }

// Objects lists the node's device objects (the node profile excluded).
func (n *Node) Objects() []echonet.EOJ {
	out := make([]echonet.EOJ, len(n.devices))
	for i, d := range n.devices {
		out[i] = d.eoj
	}
	return out
}

// Devices returns the node's device objects (the node profile excluded).
func (n *Node) Devices() []*Device { return append([]*Device(nil), n.devices...) }

// GetSNA makes every Get (and the Get part of SetGet) fail with Get_SNA
// while on.
func (n *Node) GetSNA(on bool) { n.getSNA.Store(on) }

// Silent makes the node answer nothing while on.
func (n *Node) Silent(on bool) { n.silent.Store(on) }

// Slow asks transports to hold each reply for d (0: reply at once).
func (n *Node) Slow(d time.Duration) { n.slow.Store(int64(max(d, 0))) }

// Delay is the reply delay set by [Node.Slow].
func (n *Node) Delay() time.Duration { return time.Duration(n.slow.Load()) }

// Handle answers one request frame. It returns nil for anything that is
// not a valid request, for requests to objects the node lacks, for a
// successful SetI and while the node is silent; otherwise one reply per
// addressed object (instance 0 addresses every instance of a class). A
// reply that would exceed [echonet.MaxFrame] is not sent.
func (n *Node) Handle(req []byte) [][]byte {
	if n.silent.Load() {
		return nil
	}
	f, err := echonet.Decode(req)
	if err != nil || !f.ESV.IsRequest() {
		return nil
	}
	if _, _, ok := f.ESV.Replies(); !ok {
		return nil
	}
	targets := n.targets(f.DEOJ)
	if len(targets) == 0 {
		return nil
	}
	h := n.home
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clk.Now()
	h.advance(now)
	var out [][]byte
	for _, d := range targets {
		resp, ok := n.serve(d, f, now)
		if !ok {
			continue
		}
		if b, err := resp.Encode(); err == nil {
			out = append(out, b)
		}
	}
	return out
}

func (n *Node) targets(deoj echonet.EOJ) []*Device {
	if deoj.Class() == echonet.ClassNodeProfile {
		if deoj.Instance() == 0 || deoj == echonet.NodeProfile {
			return []*Device{n.profile}
		}
		return nil
	}
	var out []*Device
	for _, d := range n.devices {
		if d.eoj == deoj || deoj.Instance() == 0 && d.eoj.Class() == deoj.Class() {
			out = append(out, d)
		}
	}
	return out
}

// serve builds d's reply to f; false means no reply (a successful SetI).
func (n *Node) serve(d *Device, f echonet.Frame, now time.Time) (echonet.Frame, bool) {
	resp := echonet.Frame{TID: f.TID, SEOJ: d.eoj, DEOJ: f.SEOJ}
	normal, sna, _ := f.ESV.Replies()
	var ok bool
	switch f.ESV {
	case echonet.Get:
		resp.Props, ok = n.getList(d, f.Props, now, n.getSNA.Load())
	case echonet.INFReq:
		resp.Props, ok = n.getList(d, f.Props, now, false)
	case echonet.SetC, echonet.SetI:
		resp.Props, ok = setList(d, f.Props)
		if ok && f.ESV == echonet.SetI {
			return resp, false
		}
	case echonet.SetGet:
		var okSet, okGet bool
		resp.Props, okSet = setList(d, f.Props)
		resp.GetProps, okGet = n.getList(d, f.GetProps, now, n.getSNA.Load())
		ok = okSet && okGet && len(f.Props)+len(f.GetProps) > 0
	default:
		return resp, false
	}
	resp.ESV = normal
	if !ok {
		resp.ESV = sna
	}
	return resp, true
}

// getList answers a Get list: an unsupported EPC comes back with PDC 0
// and fails the whole request. An empty list fails too.
func (n *Node) getList(d *Device, req []echonet.Property, now time.Time, fail bool) ([]echonet.Property, bool) {
	out := make([]echonet.Property, len(req))
	ok := len(req) > 0
	for i, p := range req {
		out[i].EPC = p.EPC
		if fail {
			ok = false
			continue
		}
		v, got := d.get(p.EPC, now)
		if !got {
			ok = false
			continue
		}
		out[i].EDT = v
	}
	return out, ok
}

// setList applies a Set list: accepted properties come back with PDC 0,
// refused ones echo their EDT. Properties are applied independently.
func setList(d *Device, req []echonet.Property) ([]echonet.Property, bool) {
	out := make([]echonet.Property, len(req))
	ok := len(req) > 0
	for i, p := range req {
		out[i].EPC = p.EPC
		if !d.set(p.EPC, p.EDT) {
			out[i].EDT = append([]byte(nil), p.EDT...)
			ok = false
		}
	}
	return out, ok
}

// Announce is the INF of the D5 instance list from the node profile to
// every node's profile, as a node multicasts after it starts.
func (n *Node) Announce() []byte {
	f := echonet.Frame{SEOJ: echonet.NodeProfile, DEOJ: echonet.NodeProfile, ESV: echonet.INF,
		Props: []echonet.Property{{EPC: 0xD5, EDT: n.instanceList()}}}
	b, err := f.Encode()
	if err != nil { // cannot happen: the list is bounded
		return nil
	}
	return b
}

func (n *Node) instanceList() []byte {
	k := min(len(n.devices), maxListed)
	b := make([]byte, 0, 1+3*k)
	b = append(b, byte(k))
	for _, d := range n.devices[:k] {
		b = append(b, d.eoj[:]...)
	}
	return b
}

// nodeProfile is the 0x0EF001 object's behaviour.
type nodeProfile struct{ n *Node }

func (p nodeProfile) epcs() (get, set, anno []byte) {
	return []byte{0x80, 0x82, 0x83, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7}, nil, []byte{0x80, 0xD5}
}

func (p nodeProfile) get(epc byte, _ time.Time) ([]byte, bool) {
	n := p.n
	switch epc {
	case 0x80:
		return []byte{statusOn}, true
	case 0x82:
		return []byte{0x01, 0x0D, 0x01, 0x00}, true // version 1.13, format 1
	case 0x83:
		// FE + maker code + 13 bytes unique to the node (its MAC).
		id := []byte{0xFE, MakerCode >> 16 & 0xFF, MakerCode >> 8 & 0xFF, MakerCode & 0xFF}
		mac, _ := hex.DecodeString(n.mac)
		id = append(id, make([]byte, 13-len(mac))...)
		return append(id, mac...), true
	case 0xD3:
		c := len(n.devices)
		return []byte{byte(c >> 16), byte(c >> 8), byte(c)}, true
	case 0xD4:
		c := len(n.classes()) + 1 // the node profile counts
		return []byte{byte(c >> 8), byte(c)}, true
	case 0xD5, 0xD6:
		return n.instanceList(), true
	case 0xD7:
		cs := n.classes()
		cs = cs[:min(len(cs), 8)]
		b := []byte{byte(len(n.classes()))}
		for _, c := range cs {
			b = append(b, byte(c>>8), byte(c))
		}
		return b, true
	}
	return nil, false
}

func (n *Node) classes() []echonet.Class {
	var out []echonet.Class
	seen := map[echonet.Class]bool{}
	for _, d := range n.devices {
		if c := d.eoj.Class(); !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func (nodeProfile) set(byte, []byte) bool                     { return false }
func (nodeProfile) step(time.Time, time.Duration, *household) {}
func (nodeProfile) power() float64                            { return 0 }
