package echonetip

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/han/echonet/emul"
)

var jst = time.FixedZone("JST", 9*3600)

// rig is an emulated Home on loopback and a gateway transport that
// reaches it through unicast peers.
type rig struct {
	home *emul.Home
	clk  *clocktest.Fake
	srv  *HomeServer
	tr   *Transport
	tid  uint16
}

func newRig(t *testing.T, o emul.Options) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	clk := clocktest.New(time.Date(2024, 7, 20, 13, 0, 0, 0, jst))
	home, err := emul.NewHome(clk, o)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ServeHome(ctx, home, ServeOptions{Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Listen(ctx, Options{Listen: "127.0.0.1:0", Peers: srv.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Wait()
		tr.Close()
	})
	return &rig{home: home, clk: clk, srv: srv, tr: tr}
}

// next returns the next packet that answers req, or fails after d.
func next(t testing.TB, tr *Transport, req echonet.Frame, d time.Duration) (echonet.Packet, echonet.Frame, bool) {
	t.Helper()
	tm := time.NewTimer(d)
	defer tm.Stop()
	for {
		select {
		case p, ok := <-tr.Packets():
			if !ok {
				t.Fatal("transport closed")
			}
			f, err := echonet.Decode(p.Data)
			if err == nil && echonet.IsReplyTo(req, f) {
				return p, f, true
			}
		case <-tm.C:
			return echonet.Packet{}, echonet.Frame{}, false
		}
	}
}

// ask sends one request to node i and returns its reply.
func (r *rig) ask(t *testing.T, i int, eoj echonet.EOJ, esv echonet.ESV, props ...echonet.Property) echonet.Frame {
	t.Helper()
	r.tid++
	req := echonet.Frame{TID: r.tid, SEOJ: echonet.Controller, DEOJ: eoj, ESV: esv, Props: props}
	b, err := req.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.tr.Send(context.Background(), echonet.Addr(r.srv.Addrs()[i]), b); err != nil {
		t.Fatal(err)
	}
	p, f, ok := next(t, r.tr, req, 2*time.Second)
	if !ok {
		t.Fatalf("no reply from node %d to %X", i, b)
	}
	if string(p.Src) != r.srv.Addrs()[i] {
		t.Fatalf("reply from %s, want %s", p.Src, r.srv.Addrs()[i])
	}
	return f
}

func (r *rig) get(t *testing.T, i int, eoj echonet.EOJ, epc byte) []byte {
	t.Helper()
	f := r.ask(t, i, eoj, echonet.Get, echonet.Property{EPC: epc})
	if f.ESV != echonet.GetRes {
		t.Fatalf("Get %v %02X: %v", eoj, epc, f.ESV)
	}
	return f.Props[0].EDT
}

func (r *rig) set(t *testing.T, i int, eoj echonet.EOJ, epc byte, edt ...byte) {
	t.Helper()
	if f := r.ask(t, i, eoj, echonet.SetC, echonet.Property{EPC: epc, EDT: edt}); f.ESV != echonet.SetRes {
		t.Fatalf("SetC %v %02X: %v", eoj, epc, f.ESV)
	}
}

var (
	meter   = echonet.NewEOJ(echonet.ClassSmartMeter, 1)
	aircon  = echonet.NewEOJ(echonet.ClassAirConditioner, 1)
	heater  = echonet.NewEOJ(echonet.ClassElectricWaterHtr, 1)
	storage = echonet.NewEOJ(echonet.ClassStorageBattery, 1)
)

// Discovery through unicast peers: Get D6 to every node profile.
func TestDiscoveryUnicast(t *testing.T) {
	r := newRig(t, emul.Options{})
	req := echonet.Frame{TID: 0x4242, SEOJ: echonet.Controller, DEOJ: echonet.NodeProfile, ESV: echonet.Get,
		Props: []echonet.Property{{EPC: 0xD6}}}
	b, _ := req.Encode()
	if err := r.tr.Multicast(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i, n := range r.home.Nodes() {
		l := []byte{byte(len(n.Objects()))}
		for _, e := range n.Objects() {
			l = append(l, e[:]...)
		}
		want[r.srv.Addrs()[i]] = l
	}
	for len(want) > 0 {
		p, f, ok := next(t, r.tr, req, 2*time.Second)
		if !ok {
			t.Fatalf("no reply from %v", want)
		}
		l, known := want[string(p.Src)]
		if !known || f.ESV != echonet.GetRes || !bytes.Equal(f.Props[0].EDT, l) {
			t.Fatalf("from %s: %+v", p.Src, f)
		}
		delete(want, string(p.Src))
	}
}

func TestMeterGetE7(t *testing.T) {
	r := newRig(t, emul.Options{})
	b, _ := echonet.Frame{TID: 1, SEOJ: echonet.Controller, DEOJ: meter, ESV: echonet.Get,
		Props: []echonet.Property{{EPC: 0xE7}}}.Encode()
	if err := r.tr.Send(context.Background(), echonet.Addr(r.srv.Addrs()[0]), b); err != nil {
		t.Fatal(err)
	}
	p, f, ok := next(t, r.tr, echonet.Frame{TID: 1, SEOJ: echonet.Controller, DEOJ: meter, ESV: echonet.Get}, 2*time.Second)
	if !ok || len(p.Data) != 18 || f.Props[0].EPC != 0xE7 {
		t.Fatalf("Get_Res E7: %X", p.Data)
	}
	if w := int32(binary.BigEndian.Uint32(f.Props[0].EDT)); w <= 0 || w > 10000 {
		t.Fatalf("E7 = %d W", w)
	}
}

// Raising the cooling setpoint lowers the AC's power, and the meter sees it.
func TestAirConditionerSetpoint(t *testing.T) {
	r := newRig(t, emul.Options{})
	r.set(t, 3, aircon, 0x80, 0x30)
	r.set(t, 3, aircon, 0xB0, 0x42)
	r.set(t, 3, aircon, 0xB3, 24)
	r.clk.Advance(10 * time.Minute)
	p24 := binary.BigEndian.Uint16(r.get(t, 3, aircon, 0x84))
	r.set(t, 3, aircon, 0xB3, 28)
	r.clk.Advance(10 * time.Minute)
	p28 := binary.BigEndian.Uint16(r.get(t, 3, aircon, 0x84))
	if p24 < 800 || p28 > p24-450 {
		t.Fatalf("%d W at 24 °C, %d W at 28 °C", p24, p28)
	}
	f := r.ask(t, 3, aircon, echonet.SetC, echonet.Property{EPC: 0xB3, EDT: []byte{31}})
	if f.ESV != echonet.SetCSNA || !bytes.Equal(f.Props[0].EDT, []byte{31}) {
		t.Fatalf("B3 = 31: %+v", f)
	}
}

// Charging for a simulated hour moves the state of charge by 2 kWh of 10.
func TestBatterySOC(t *testing.T) {
	r := newRig(t, emul.Options{})
	if soc := r.get(t, 5, storage, 0xE4)[0]; soc != 50 {
		t.Fatal(soc)
	}
	r.set(t, 5, storage, 0xDA, 0x42)
	for i := 0; i < 6; i++ {
		r.clk.Advance(10 * time.Minute)
		if d3 := int32(binary.BigEndian.Uint32(r.get(t, 5, storage, 0xD3))); d3 != 2000 {
			t.Fatalf("D3 %d W while charging", d3)
		}
	}
	if soc := r.get(t, 5, storage, 0xE4)[0]; soc != 70 {
		t.Fatalf("SOC %d %% after an hour at 2 kW", soc)
	}
	r.set(t, 5, storage, 0xDA, 0x43)
	r.clk.Advance(30 * time.Minute)
	if soc := r.get(t, 5, storage, 0xE4)[0]; soc != 60 {
		t.Fatalf("SOC %d %% after half an hour discharging", soc)
	}
}

func TestWaterHeaterStop(t *testing.T) {
	r := newRig(t, emul.Options{})
	r.set(t, 4, heater, 0xB0, 0x42) // manual heating
	r.clk.Advance(5 * time.Minute)
	if w := binary.BigEndian.Uint16(r.get(t, 4, heater, 0x84)); w != 3000 {
		t.Fatalf("%d W while heating", w)
	}
	r.set(t, 4, heater, 0xB0, 0x43)
	r.clk.Advance(5 * time.Minute)
	if w := binary.BigEndian.Uint16(r.get(t, 4, heater, 0x84)); w != 0 || r.get(t, 4, heater, 0xB2)[0] != 0x42 {
		t.Fatalf("%d W after stop", w)
	}
}

func TestFaults(t *testing.T) {
	r := newRig(t, emul.Options{})
	n := r.home.Nodes()[0]
	n.GetSNA(true)
	f := r.ask(t, 0, meter, echonet.Get, echonet.Property{EPC: 0xE7})
	if f.ESV != echonet.GetSNA || len(f.Props[0].EDT) != 0 {
		t.Fatalf("%+v", f)
	}
	n.GetSNA(false)
	n.Slow(100 * time.Millisecond)
	start := time.Now()
	r.get(t, 0, meter, 0xE7)
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("Slow not applied")
	}
	n.Slow(0)
	n.Silent(true)
	req := echonet.Frame{TID: 99, SEOJ: echonet.Controller, DEOJ: meter, ESV: echonet.Get, Props: []echonet.Property{{EPC: 0xE7}}}
	b, _ := req.Encode()
	if err := r.tr.Send(context.Background(), echonet.Addr(r.srv.Addrs()[0]), b); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := next(t, r.tr, req, 200*time.Millisecond); ok {
		t.Fatal("a silent node replied")
	}
}

func sender(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestOversizeDropped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr, err := Listen(ctx, Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c := sender(t)
	big := make([]byte, echonet.MaxFrame+1)
	small := []byte{0x10, 0x81, 0, 1}
	for _, b := range [][]byte{big, small} {
		if _, err := c.WriteToUDP(b, tr.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case p := <-tr.Packets():
		if !bytes.Equal(p.Data, small) || string(p.Src) != c.LocalAddr().String() {
			t.Fatalf("got %X from %s", p.Data, p.Src)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("nothing received")
	}
	if tr.Oversize() != 1 {
		t.Fatalf("oversize %d", tr.Oversize())
	}
	if err := tr.Send(ctx, echonet.Addr(c.LocalAddr().String()), big); err == nil {
		t.Fatal("sent an oversize frame")
	}
}

// A full queue drops the oldest packets and counts them.
func TestBoundedQueue(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr, err := Listen(ctx, Options{Listen: "127.0.0.1:0", Queue: 4})
	if err != nil {
		t.Fatal(err)
	}
	c := sender(t)
	for i := 0; i < 10; i++ {
		if _, err := c.WriteToUDP([]byte{byte(i)}, tr.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for tr.Dropped() < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("dropped %d", tr.Dropped())
		}
		time.Sleep(time.Millisecond)
	}
	for i := 6; i < 10; i++ {
		if p := <-tr.Packets(); p.Data[0] != byte(i) {
			t.Fatalf("got packet %d, want %d", p.Data[0], i)
		}
	}
}

// Cancelling the context closes Packets and stops every goroutine.
func TestStopOnCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	home, err := emul.NewHome(clocktest.New(time.Date(2024, 7, 20, 13, 0, 0, 0, jst)), emul.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ServeHome(ctx, home, ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Listen(ctx, Options{Listen: "127.0.0.1:0", Peers: srv.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	srv.Wait()
	for range tr.Packets() {
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tr.Multicast(context.Background(), []byte{0x10}); err == nil {
		t.Fatal("sent on a closed transport")
	}
}

func TestListenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Listen(ctx, Options{Listen: "127.0.0.1:0", Peers: []string{"no port"}}); err == nil {
		t.Fatal("bad peer accepted")
	}
	if _, err := Listen(ctx, Options{Listen: "127.0.0.1:0", Interfaces: []string{"no-such-if0"}}); err == nil {
		t.Fatal("unknown interface accepted")
	}
	tr, err := Listen(ctx, Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Multicast(ctx, []byte{0x10}); err == nil {
		t.Fatal("multicast without group or peers")
	}
}
