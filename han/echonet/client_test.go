package echonet

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

const (
	addrA Addr = "FE80:0000:0000:0000:021D:1290:1234:5679"
	addrB Addr = "FE80:0000:0000:0000:021D:1290:1234:0001"
)

var t0 = time.Date(2024, 5, 20, 13, 0, 0, 0, time.UTC)

func startClient(t *testing.T, n *fakeNet, clk energy.Clock) *Client {
	t.Helper()
	c := NewClient(n, ClientOptions{Clock: clk, Timeout: 3 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return c
}

func TestClientGetAndTimeout(t *testing.T) {
	noLeaks(t)
	n := newFakeNet()
	gas := NewEOJ(ClassGasMeter, 1)
	n.addObj(addrA, gas, map[byte][]byte{0xE0: {0, 1, 0xE2, 0x40}})
	n.addObj(addrB, gas, nil)
	n.setSilent(addrB, true)
	clk := clocktest.New(t0)
	c := startClient(t, n, clk)
	ctx := context.Background()

	props, err := c.Get(ctx, addrA, gas, 0xE0)
	if err != nil || !bytes.Equal(props[0xE0], []byte{0, 1, 0xE2, 0x40}) {
		t.Fatalf("get: % X %v", props, err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, addrB, gas, 0xE0)
		errc <- err
	}()
	waitFor(t, "request timer", func() bool { return clk.Timers() == 1 })
	clk.Advance(2 * time.Second)
	select {
	case err := <-errc:
		t.Fatalf("returned before the timeout: %v", err)
	case <-time.After(5 * time.Millisecond):
	}
	clk.Advance(time.Second)
	if err := <-errc; !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent node: %v", err)
	}
	// A cancelled context ends the wait too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Get(cctx, addrB, gas, 0xE0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestClientCorrelation(t *testing.T) {
	n := newFakeNet()
	c := startClient(t, n, clocktest.New(t0))
	meter := NewEOJ(ClassSmartMeter, 1)
	type result struct {
		props map[byte][]byte
		err   error
	}
	res := make(chan result, 1)
	go func() {
		p, err := c.Get(context.Background(), addrA, meter, 0xE7)
		res <- result{p, err}
	}()
	s := <-n.sentCh
	req, err := Decode(s.data)
	if err != nil || s.dst != addrA {
		t.Fatalf("request to %s: %v", s.dst, err)
	}
	reply := func(tid uint16, w uint32) []byte {
		b, _ := Frame{TID: tid, SEOJ: meter, DEOJ: Controller, ESV: GetRes,
			Props: []Property{{EPC: 0xE7, EDT: []byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w)}}}}.Encode()
		return b
	}
	n.inject(addrA, reply(req.TID+1, 111))    // another TID
	n.inject(addrB, reply(req.TID, 222))      // the right TID from another node
	n.inject(addrA, []byte{0x10, 0x81, 0x00}) // garbage
	n.inject("fe80:0000:0000:0000:021d:1290:1234:5679", reply(req.TID, 500))
	r := <-res
	if r.err != nil || !bytes.Equal(r.props[0xE7], []byte{0, 0, 1, 0xF4}) {
		t.Fatalf("got % X %v", r.props[0xE7], r.err)
	}
	waitFor(t, "bad frame counted", func() bool { return c.BadFrames() == 1 })

	// TIDs advance per request.
	go func() { _, _ = c.Get(context.Background(), addrA, meter, 0xE7) }()
	if s2 := <-n.sentCh; s2.data[3] != byte(req.TID+1) {
		t.Errorf("next TID % X", s2.data[2:4])
	}
}

func TestClientVerifiedBytes(t *testing.T) {
	n := newFakeNet()
	ac := NewEOJ(ClassAirConditioner, 1)
	n.addObj(addrA, ac, map[byte][]byte{0x80: {0x31}, 0xB0: {0x41}, 0xB3: {20}}, 0x80, 0xB0, 0xB3)
	c := startClient(t, n, clocktest.New(t0))
	c.tid = 7
	err := c.SetC(context.Background(), addrA, ac,
		Property{EPC: 0x80, EDT: []byte{0x30}}, Property{EPC: 0xB0, EDT: []byte{0x42}}, Property{EPC: 0xB3, EDT: []byte{26}})
	if err != nil {
		t.Fatal(err)
	}
	want := hx(t, "10 81 00 08 05 FF 01 01 30 01 61 03 80 01 30 B0 01 42 B3 01 1A")
	if s := <-n.sentCh; !bytes.Equal(s.data, want) {
		t.Errorf("SetC % X", s.data)
	}
	if got := n.prop(addrA, ac, 0xB3); !bytes.Equal(got, []byte{26}) {
		t.Errorf("B3 at the node % X", got)
	}
}

func TestClientSNA(t *testing.T) {
	n := newFakeNet()
	meter := NewEOJ(ClassSmartMeter, 1)
	ac := NewEOJ(ClassAirConditioner, 1)
	n.addObj(addrA, meter, map[byte][]byte{0xE7: {0, 0, 1, 0xF4}})
	o := n.addObj(addrA, ac, map[byte][]byte{0x80: {0x30}, 0xB3: {26}}, 0x80, 0xB3)
	o.refuse[0xB3] = true
	c := startClient(t, n, clocktest.New(t0))
	ctx := context.Background()

	props, err := c.Get(ctx, addrA, meter, 0xE7, 0xEC)
	var sna *SNAError
	if !errors.As(err, &sna) || sna.ESV != GetSNA || !bytes.Equal(sna.Failed, []byte{0xEC}) {
		t.Fatalf("Get_SNA: %v", err)
	}
	if !bytes.Equal(props[0xE7], []byte{0, 0, 1, 0xF4}) {
		t.Errorf("partial props % X", props)
	}
	err = c.SetC(ctx, addrA, ac, Property{EPC: 0x80, EDT: []byte{0x31}}, Property{EPC: 0xB3, EDT: []byte{28}})
	if !errors.As(err, &sna) || sna.ESV != SetCSNA || !bytes.Equal(sna.Failed, []byte{0xB3}) {
		t.Fatalf("SetC_SNA: %v", err)
	}
}

func TestClientINFC(t *testing.T) {
	n := newFakeNet()
	c := startClient(t, n, clocktest.New(t0))
	infc := hx(t, "10 81 00 03 02 88 01 05 FF 01 74 01 EA 0B 07 E8 05 14 0D 1E 00 00 00 30 39")
	n.inject(addrA, infc)
	s := <-n.sentCh
	if want := hx(t, "10 81 00 03 05 FF 01 02 88 01 7A 01 EA 00"); s.dst != addrA || !bytes.Equal(s.data, want) {
		t.Errorf("INFC_Res to %s: % X", s.dst, s.data)
	}
	nt := <-c.Notifications()
	if nt.Src != addrA || nt.Frame.ESV != INFC || nt.Frame.SEOJ != NewEOJ(ClassSmartMeter, 1) {
		t.Errorf("notification %+v", nt)
	}
	// INF is delivered and not answered.
	n.inject(addrA, hx(t, "10 81 00 03 02 88 01 05 FF 01 73 01 EA 0B 07 E8 05 14 0D 1E 00 00 00 30 39"))
	if nt := <-c.Notifications(); nt.Frame.ESV != INF {
		t.Errorf("INF %+v", nt)
	}
	if len(n.sentCh) != 0 {
		t.Error("INF answered")
	}
}

func TestClientNotificationsDropOldest(t *testing.T) {
	n := newFakeNet()
	c := startClient(t, n, clocktest.New(t0))
	for i := range NotifyQueue + 6 {
		b, _ := Frame{TID: uint16(i), SEOJ: NewEOJ(ClassGasMeter, 1), DEOJ: Controller, ESV: INF,
			Props: []Property{{EPC: 0xE0, EDT: []byte{0, 0, 0, 1}}}}.Encode()
		n.inject(addrA, b)
	}
	waitFor(t, "queue full", func() bool { return len(n.pkts) == 0 && len(c.Notifications()) == NotifyQueue })
	time.Sleep(5 * time.Millisecond)
	if nt := <-c.Notifications(); nt.Frame.TID != 6 {
		t.Errorf("oldest kept TID %d, want 6", nt.Frame.TID)
	}
}

func TestClientDiscover(t *testing.T) {
	n := newFakeNet()
	n.addObj(addrA, NewEOJ(ClassGasMeter, 1), nil)
	n.addObj(addrA, NewEOJ(ClassSmartMeter, 1), nil)
	n.addObj(addrB, NewEOJ(ClassAirConditioner, 1), nil)
	clk := clocktest.New(t0)
	c := startClient(t, n, clk)
	type result struct {
		nodes []Node
		err   error
	}
	res := make(chan result, 1)
	go func() {
		nodes, err := c.Discover(context.Background(), 2*time.Second)
		res <- result{nodes, err}
	}()
	if s := <-n.sentCh; s.dst != "" || !bytes.Equal(s.data, hx(t, "10 81 00 01 05 FF 01 0E F0 01 62 01 D6 00")) {
		t.Fatalf("discovery to %q: % X", s.dst, s.data)
	}
	pump(t, n, clk, time.Second, "discovery", func() bool { return len(res) == 1 })
	r := <-res
	if r.err != nil || len(r.nodes) != 2 {
		t.Fatalf("%+v %v", r.nodes, r.err)
	}
	if r.nodes[0].Addr != addrB || !slices.Equal(r.nodes[0].Objects, []EOJ{NewEOJ(ClassAirConditioner, 1)}) {
		t.Errorf("node 0 %+v", r.nodes[0])
	}
	if !slices.Equal(r.nodes[1].Objects, []EOJ{NewEOJ(ClassGasMeter, 1), NewEOJ(ClassSmartMeter, 1)}) {
		t.Errorf("node 1 %+v", r.nodes[1])
	}
	objs, err := c.NodeObjects(context.Background(), addrA)
	if err != nil || len(objs) != 2 {
		t.Errorf("NodeObjects %v %v", objs, err)
	}
	for _, bad := range []string{"", "02 0E F0 01", "01 02 88"} {
		if _, err := DecodeInstanceList(hx(t, bad)); !errors.Is(err, ErrEDT) {
			t.Errorf("instance list %q: %v", bad, err)
		}
	}
}

func TestClientBounds(t *testing.T) {
	n := newFakeNet()
	gas := NewEOJ(ClassGasMeter, 1)
	n.addObj(addrA, gas, nil)
	n.setSilent(addrA, true)
	clk := clocktest.New(t0)
	c := NewClient(n, ClientOptions{Clock: clk, Timeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var wg sync.WaitGroup
	errs := make(chan error, MaxPending)
	for range MaxPending {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Get(context.Background(), addrA, gas, 0xE0)
			errs <- err
		}()
	}
	waitFor(t, "requests pending", func() bool { return clk.Timers() == MaxPending })
	if _, err := c.Get(context.Background(), addrA, gas, 0xE0); !errors.Is(err, ErrBusy) {
		t.Errorf("65th request: %v", err)
	}
	if _, err := c.Get(context.Background(), addrA, gas); err == nil {
		t.Error("Get of nothing")
	}
	// Oversized and malformed datagrams are counted, never fatal.
	n.inject(addrA, make([]byte, MaxFrame+1))
	n.inject(addrA, []byte{0x11, 0x81})
	waitFor(t, "bad frames", func() bool { return c.BadFrames() == 2 })
	// The transport closing ends Run and the waiting requests.
	close(n.pkts)
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("Run: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("pending request: %v", err)
		}
	}
	cancel()
	if err := c.Run(ctx); err == nil {
		t.Error("second Run")
	}
}
