package echonet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

type bridgeRig struct {
	n     *fakeNet
	clk   *clocktest.Fake
	reg   *devices.Registry
	pub   *fakePub
	b     *Bridge
	mu    sync.Mutex
	downs []string
}

func (r *bridgeRig) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.downs)
}

func (r *bridgeRig) state(t *testing.T, id energy.DeviceID) energy.DeviceState {
	t.Helper()
	d, ok := r.reg.Device(id)
	if !ok {
		t.Fatalf("no device %s", id)
	}
	return d.State
}

func startBridge(t *testing.T, n *fakeNet, transport string, o BridgeOptions) *bridgeRig {
	t.Helper()
	r := &bridgeRig{n: n, clk: clocktest.New(t0), reg: devices.New(), pub: &fakePub{}}
	c := startClient(t, n, r.clk)
	o.Client, o.Transport, o.Registry, o.Publisher, o.Clock = c, transport, r.reg, r.pub, r.clk
	o.DiscoverWindow = time.Second
	o.Unreachable = func(id energy.DeviceID, down bool) {
		r.mu.Lock()
		r.downs = append(r.downs, fmt.Sprintf("%s %v", id, down))
		r.mu.Unlock()
	}
	b, err := NewBridge(o)
	if err != nil {
		t.Fatal(err)
	}
	r.b = b
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bridge Run: %v", err)
		}
	})
	return r
}

func TestBridge(t *testing.T) {
	noLeaks(t)
	n := newFakeNet()
	gas, meter := NewEOJ(ClassGasMeter, 1), NewEOJ(ClassSmartMeter, 1)
	ac, bat := NewEOJ(ClassAirConditioner, 1), NewEOJ(ClassStorageBattery, 1)
	n.addObj(addrA, gas, map[byte][]byte{0x8A: {0, 0, 0x77}, 0xE0: {0, 1, 0xE2, 0x40}})
	n.addObj(addrA, meter, map[byte][]byte{0xE7: {0, 0, 1, 0xF4}})
	acObj := n.addObj(addrB, ac, map[byte][]byte{0x80: {0x30}, 0xB0: {0x42}, 0xB3: {26}, 0xBB: {28},
		0x84: {0x01, 0xF4}, 0x85: {0, 0, 0x30, 0x39}}, 0x80, 0xB0, 0xB3)
	n.addObj(addrB, bat, map[byte][]byte{0xD3: {0xFF, 0xFF, 0xFA, 0x24}, 0xE4: {0x50}, 0xDA: {0x43}}, 0xDA)
	r := startBridge(t, n, "wisun", BridgeOptions{Skip: func(_ Addr, e EOJ) bool { return e.Class() == ClassSmartMeter }})
	gasID := energy.DeviceID("wisun:gas_meter:021D129012345679-01")
	acID := energy.DeviceID("wisun:air_conditioner:021D129012340001-01")
	batID := energy.DeviceID("wisun:battery:021D129012340001-01")
	pump(t, n, r.clk, time.Second, "devices", func() bool {
		_, ok := r.pub.latest(batID, energy.StateOfCharge)
		_, gas := r.pub.latest(gasID, energy.GasVolume)
		return len(r.reg.Devices()) == 3 && ok && gas
	})

	want := map[energy.DeviceID]energy.DeviceInfo{
		gasID: {Name: "Gas meter", Kind: "gas_meter"},
		acID: {Name: "Air conditioner", Kind: "air_conditioner",
			Caps: energy.Capabilities{energy.CapSwitch, energy.CapCurtail, energy.CapThermostat, energy.CapMeter}},
		batID: {Name: "Storage battery", Kind: "battery", Caps: energy.Capabilities{energy.CapBattery, energy.CapCurtail}},
	}
	for _, d := range r.reg.Devices() {
		w, ok := want[d.ID]
		if !ok || d.Name != w.Name || d.Kind != w.Kind || d.Transport != "wisun" || !slices.Equal(d.Caps, w.Caps) || !d.State.Online {
			t.Errorf("device %+v", d)
		}
	}
	rd, _ := r.pub.latest(gasID, energy.GasVolume)
	// Measured on the bridge's clock at the poll that read it (the pump
	// may have advanced the clock since, for the slower devices).
	if rd.Value.String() != "123.456" || rd.Legal || rd.Source != "echonet/wisun" || rd.Measured.Before(t0) || rd.Measured.After(r.clk.Now()) {
		t.Errorf("gas reading %+v", rd)
	}
	if st := r.state(t, acID); !st.On || st.PowerW != 500 || st.EnergyWh != 12345 {
		t.Errorf("AC state %+v", st)
	}
	if st := r.state(t, batID); st.PowerW != -1500 || st.On {
		t.Errorf("battery state %+v", st)
	}

	// An INF updates the value at once.
	inf, _ := Frame{TID: 9, SEOJ: gas, DEOJ: Controller, ESV: INF, Props: []Property{{EPC: 0xE0, EDT: []byte{0, 1, 0xE2, 0x41}}}}.Encode()
	n.inject(addrA, inf)
	waitFor(t, "INF reading", func() bool { rd, _ := r.pub.latest(gasID, energy.GasVolume); return rd.Value.String() == "123.457" })

	// Commands reach the node as SetC; limits shift from the household's setpoint.
	ctx := context.Background()
	lastSet := func() string {
		n.mu.Lock()
		defer n.mu.Unlock()
		var s []string
		for _, p := range acObj.sets[len(acObj.sets)-1] {
			s = append(s, fmt.Sprintf("%02X=%X", p.EPC, p.EDT))
		}
		return strings.Join(s, " ")
	}
	for _, step := range []struct {
		kind energy.CommandKind
		want string
	}{{energy.CmdLimit, "B3=1C"}, {energy.CmdLimit, "B3=1C"}, {energy.CmdNormal, "B3=1A"}, {energy.CmdOff, "80=31"}, {energy.CmdOn, "80=30"}} {
		if err := r.reg.Command(ctx, energy.Command{Device: acID, Kind: step.kind, LimitW: 800}); err != nil {
			t.Fatalf("%s: %v", step.kind, err)
		}
		if got := lastSet(); got != step.want {
			t.Errorf("%s: SetC %s, want %s", step.kind, got, step.want)
		}
	}
	if err := r.reg.Command(ctx, energy.Command{Device: acID, Kind: energy.CmdOff}); err != nil || r.state(t, acID).On {
		t.Errorf("off: %v, state %+v", err, r.state(t, acID))
	}
	n.mu.Lock()
	acObj.refuse[0x80] = true
	n.mu.Unlock()
	err := r.reg.Command(ctx, energy.Command{Device: acID, Kind: energy.CmdOn})
	var sna *SNAError
	if !errors.As(err, &sna) || !strings.Contains(err.Error(), string(acID)) || !strings.Contains(err.Error(), "EPC 80") {
		t.Errorf("refused SetC: %v", err)
	}
	if err := r.b.Command(ctx, energy.Command{Device: batID, Kind: energy.CmdOn}); !errors.Is(err, energy.ErrNotCapable) {
		t.Errorf("battery on: %v", err)
	}
	if err := r.reg.Command(ctx, energy.Command{Device: batID, Kind: energy.CmdLimit, LimitW: 0}); err != nil || !bytes.Equal(n.prop(addrB, bat, 0xDA), []byte{0x43}) {
		t.Errorf("battery limit: %v", err)
	}
	if err := r.b.Command(ctx, energy.Command{Device: "wisun:nope", Kind: energy.CmdOn}); !errors.Is(err, energy.ErrUnknownDevice) {
		t.Errorf("unknown device: %v", err)
	}

	// Wrap sizes for storage.
	if w, ok := r.b.Wrap(gasID, energy.GasVolume); !ok || w.Cmp(energy.D(1, 6)) != 0 {
		t.Errorf("gas wrap %s %v", w, ok)
	}
	if w, ok := r.b.Wrap(acID, energy.ImportEnergy); !ok || w.Cmp(energy.D(1, 9)) != 0 {
		t.Errorf("AC wrap %s %v", w, ok)
	}
	if _, ok := r.b.Wrap(acID, energy.Power); ok {
		t.Error("power wrap")
	}

	// Silence: offline after three failed polls, back on the next answer.
	before := n.count(addrB, ac, Get)
	n.setSilent(addrB, true)
	pump(t, n, r.clk, time.Second, "offline", func() bool { return !r.state(t, acID).Online })
	if got := n.count(addrB, ac, Get) - before; got != OfflineAfter {
		t.Errorf("offline after %d polls", got)
	}
	if err := r.reg.Command(ctx, energy.Command{Device: acID, Kind: energy.CmdOff}); !errors.Is(err, energy.ErrOffline) {
		t.Errorf("command to offline device: %v", err)
	}
	if gs := r.state(t, gasID); !gs.Online {
		t.Error("gas meter went offline with the other node")
	}
	n.setSilent(addrB, false)
	pump(t, n, r.clk, time.Second, "online", func() bool { return r.state(t, acID).Online && r.state(t, batID).Online })
	ev := r.events()
	for _, e := range []string{string(acID) + " true", string(acID) + " false", string(batID) + " true", string(batID) + " false"} {
		if !slices.Contains(ev, e) {
			t.Errorf("Unreachable events %v lack %q", ev, e)
		}
	}

	// A node announcing itself (D5) is discovered at once.
	const addrC Addr = "FE80:0000:0000:0000:021D:1290:1234:0002"
	n.addObj(addrC, NewEOJ(ClassWaterFlowMeter, 1), map[byte][]byte{0xE0: {0, 0, 0x30, 0x39}, 0xE1: {0x03}})
	d5, _ := Frame{TID: 1, SEOJ: NodeProfile, DEOJ: NewEOJ(ClassNodeProfile, 1), ESV: INF,
		Props: []Property{{EPC: 0xD5, EDT: n.nodeList(addrC)}}}.Encode()
	n.inject(addrC, d5)
	waterID := energy.DeviceID("wisun:water_meter:021D129012340002-01")
	pump(t, n, r.clk, 100*time.Millisecond, "rediscovery", func() bool { _, ok := r.reg.Device(waterID); return ok })
	pump(t, n, r.clk, time.Second, "water reading", func() bool { _, ok := r.pub.latest(waterID, energy.WaterVolume); return ok })
	if rd, _ := r.pub.latest(waterID, energy.WaterVolume); rd.Value.String() != "12.345" {
		t.Errorf("water %s", rd.Value)
	}
	if len(r.reg.Devices()) != 4 {
		t.Errorf("%d devices", len(r.reg.Devices()))
	}
}

func TestBridgeSmartMeter(t *testing.T) {
	noLeaks(t)
	n := newFakeNet()
	const ip Addr = "192.0.2.5:3610"
	meter := NewEOJ(ClassSmartMeter, 1)
	n.addObj(ip, meter, map[byte][]byte{0xD3: {0, 0, 0, 1}, 0xD7: {0x06}, 0xE1: {0x01},
		0xE0: {0x00, 0x01, 0xE2, 0x40}, 0xE7: {0, 0, 1, 0xF4}, 0x83: {0xFE, 1, 2, 3}})
	jst := time.FixedZone("JST", 9*3600)
	r := startBridge(t, n, "echonet-ip", BridgeOptions{Location: jst})
	id := energy.DeviceID("echonet-ip:smart_meter:C0000205-01")
	pump(t, n, r.clk, time.Second, "meter reading", func() bool { _, ok := r.pub.latest(id, energy.ImportEnergy); return ok })
	rd, _ := r.pub.latest(id, energy.ImportEnergy)
	if rd.Value.Cmp(energy.D(12345600, 0)) != 0 || rd.Source != "echonet/echonet-ip" {
		t.Errorf("E0 %+v", rd)
	}
	if st := r.state(t, id); st.PowerW != 500 || st.EnergyWh != 12345600 {
		t.Errorf("state %+v", st)
	}
	if w, ok := r.b.Wrap(id, energy.ImportEnergy); !ok || w.Cmp(energy.D(1, 8)) != 0 {
		t.Errorf("wrap %s %v", w, ok)
	}
	// The scale is read once, the counters every poll; a counter that went
	// back is still published raw.
	n.setProp(ip, meter, 0xE0, []byte{0, 0, 0, 5})
	pump(t, n, r.clk, time.Second, "two more polls", func() bool { return n.count(ip, meter, Get) >= 5 })
	if rd, _ := r.pub.latest(id, energy.ImportEnergy); rd.Value.Cmp(energy.D(500, 0)) != 0 {
		t.Errorf("after wrap %s", rd.Value)
	}
	n.mu.Lock()
	scaleReads := 0
	for _, s := range n.sent {
		if f, _ := Decode(s.data); f.ESV == Get && len(f.Props) > 0 && f.Props[0].EPC == 0xD3 {
			scaleReads++
		}
	}
	n.mu.Unlock()
	if scaleReads != 1 {
		t.Errorf("scale read %d times", scaleReads)
	}
	// EA pushed by the meter: published at the meter's time.
	n.inject(ip, hx(t, "10 81 00 03 02 88 01 05 FF 01 73 01 EA 0B 07 E8 05 14 0D 1E 00 00 00 30 39"))
	waitFor(t, "EA reading", func() bool {
		rd, _ := r.pub.latest(id, energy.ImportEnergy)
		return rd.Measured.Equal(time.Date(2024, 5, 20, 13, 30, 0, 0, jst))
	})
	if rd, _ := r.pub.latest(id, energy.ImportEnergy); rd.Value.Cmp(energy.D(1234500, 0)) != 0 || !rd.Received.Equal(r.clk.Now()) {
		t.Errorf("EA %+v", rd)
	}
}

func TestDeviceID(t *testing.T) {
	tests := []struct {
		addr Addr
		want energy.DeviceID
	}{
		{"FE80:0000:0000:0000:021D:1290:1234:5679", "wisun:gas_meter:021D129012345679-01"},
		{"fe80::21d:1290:1234:5679", "wisun:gas_meter:021D129012345679-01"},
		{"[fe80::21d:1290:1234:5679%wlan0]:3610", "wisun:gas_meter:021D129012345679-01"},
		{"192.0.2.5:3610", "wisun:gas_meter:C0000205-01"},
		{"node-7", "wisun:gas_meter:DE7-01"},
	}
	for _, tc := range tests {
		if got := DeviceID("wisun", tc.addr, NewEOJ(ClassGasMeter, 1)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.addr, got, tc.want)
		}
	}
	if _, err := NewBridge(BridgeOptions{Transport: "wisun"}); err == nil {
		t.Error("bridge without a client")
	}
}

// A bridge over a reopened transport takes over the devices of the one
// that stopped: the registry has one driver per id, so a stopped bridge
// gives its devices up and the new one adds them again.
func TestBridgeReplacedAfterTransportLoss(t *testing.T) {
	n := newFakeNet()
	gas := NewEOJ(ClassGasMeter, 1)
	n.addObj(addrA, gas, map[byte][]byte{0xE0: {0, 1, 0xE2, 0x40}})
	clk := clocktest.New(t0)
	reg := devices.New()
	id := DeviceID("wisun", addrA, gas)
	run := func() (*Bridge, context.CancelFunc, chan error) {
		// One client per transport session, stopped with its bridge.
		c := NewClient(n, ClientOptions{Clock: clk, Timeout: 3 * time.Second})
		b, err := NewBridge(BridgeOptions{Client: c, Transport: "wisun", Registry: reg,
			Publisher: &fakePub{}, Clock: clk, DiscoverWindow: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		cdone := make(chan struct{})
		go func() { _ = c.Run(ctx); close(cdone) }()
		go func() { err := b.Run(ctx); <-cdone; done <- err }()
		pump(t, n, clk, time.Second, "gas meter bridged", func() bool { _, ok := reg.Device(id); return ok })
		return b, cancel, done
	}
	first, cancel, done := run()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Device(id); ok {
		t.Fatal("a stopped bridge left its device in the registry")
	}
	second, cancel2, done2 := run()
	defer func() { cancel2(); <-done2 }()
	if err := reg.Command(context.Background(), energy.Command{Device: id, Kind: energy.CmdOff}); !errors.Is(err, energy.ErrNotCapable) {
		t.Errorf("command through the registry: %v", err)
	}
	if first == second {
		t.Fatal("same bridge")
	}
}

// A stopped bridge withdraws the unreachable reports of its devices: a
// device no longer bridged must not hold a health condition for good.
func TestBridgeReleaseWithdrawsUnreachable(t *testing.T) {
	n := newFakeNet()
	gas, water := NewEOJ(ClassGasMeter, 1), NewEOJ(ClassWaterFlowMeter, 1)
	const addrC Addr = "FE80:0000:0000:0000:021D:1290:1234:0002"
	n.addObj(addrA, gas, map[byte][]byte{0xE0: {0, 1, 0xE2, 0x40}})
	n.addObj(addrC, water, map[byte][]byte{0xE0: {0, 0, 0x30, 0x39}, 0xE1: {0x03}})
	clk := clocktest.New(t0)
	reg := devices.New()
	var mu sync.Mutex
	down := map[energy.DeviceID]bool{}
	c := NewClient(n, ClientOptions{Clock: clk, Timeout: 3 * time.Second})
	b, err := NewBridge(BridgeOptions{Client: c, Transport: "wisun", Registry: reg, Publisher: &fakePub{},
		Clock: clk, DiscoverWindow: time.Second, Unreachable: func(id energy.DeviceID, d bool) {
			mu.Lock()
			down[id] = d
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cdone := make(chan struct{})
	go func() { _ = c.Run(ctx); close(cdone) }()
	go func() { err := b.Run(ctx); <-cdone; done <- err }()
	gasID, waterID := DeviceID("wisun", addrA, gas), DeviceID("wisun", addrC, water)
	pump(t, n, clk, time.Second, "both bridged", func() bool { return len(reg.Devices()) == 2 })
	n.setSilent(addrA, true)
	isDown := func(id energy.DeviceID) bool { mu.Lock(); defer mu.Unlock(); return down[id] }
	pump(t, n, clk, time.Second, "gas meter unreachable", func() bool { return isDown(gasID) })
	if isDown(waterID) {
		t.Fatal("water meter reported unreachable while it answers")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if d, ok := down[gasID]; !ok || d {
		t.Errorf("gas meter unreachable report not withdrawn on release: %v %v", d, ok)
	}
	if d := down[waterID]; d {
		t.Error("water meter reported unreachable on release")
	}
	if len(reg.Devices()) != 0 {
		t.Errorf("devices left after release: %v", reg.Devices())
	}
}
