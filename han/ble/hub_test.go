package ble_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-ble/ble/linux/hci/evt"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/han/ble"
	"github.com/gatewayd-project/gatewayd/han/ble/emul"
)

var testKey = []byte{0x23, 0x1d, 0x39, 0xc1, 0xd7, 0xcc, 0x1a, 0xb1, 0xae, 0xe2, 0x24, 0xcd, 0x09, 0x6d, 0xb9, 0x32}

type pub struct {
	mu sync.Mutex
	rs []energy.Reading
}

func (p *pub) Publish(rs []energy.Reading) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rs = append(p.rs, rs...)
	return nil
}

func (p *pub) of(id energy.DeviceID, q energy.Quantity) []energy.Reading {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []energy.Reading
	for _, r := range p.rs {
		if r.Device == id && r.Quantity == q {
			out = append(out, r)
		}
	}
	return out
}

type rig struct {
	t     *testing.T
	clk   *clocktest.Fake
	ad    *emul.Adapter
	reg   *devices.Registry
	pub   *pub
	hub   *ble.Hub
	dir   string
	down  map[energy.DeviceID]bool
	mu    sync.Mutex
	stop  func()
	errc  chan error
	start time.Time
}

func newRig(t *testing.T, dir string) *rig {
	t.Helper()
	start := time.Date(2025, 6, 1, 7, 0, 0, 0, time.UTC)
	r := &rig{t: t, clk: clocktest.New(start), reg: devices.New(), pub: &pub{}, dir: dir, down: map[energy.DeviceID]bool{}, start: start}
	var err error
	r.ad, err = emul.New(emul.Config{Clock: r.clk, Interval: time.Second, Notify: time.Second, PowerKey: testKey, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.hub, err = ble.New(ble.Options{Adapter: r.ad, Registry: r.reg, Publisher: r.pub, Dir: dir, Clock: r.clk,
		StaleAfter: time.Minute, Backoff: time.Second, MaxBackoff: 8 * time.Second,
		Unreachable: func(id energy.DeviceID, down bool) {
			r.mu.Lock()
			r.down[id] = down
			r.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.errc = make(chan error, 1)
	go func() { r.errc <- r.hub.Run(ctx) }()
	r.stop = func() {
		cancel()
		if err := <-r.errc; err != nil {
			t.Errorf("Run: %v", err)
		}
		r.hub.Close()
	}
	t.Cleanup(func() {
		if r.stop != nil {
			r.stop()
		}
	})
	return r
}

// until advances the fake clock a second at a time until cond holds.
func (r *rig) until(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
		r.clk.Advance(time.Second)
	}
}

func (r *rig) isDown(id energy.DeviceID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down[id]
}

func online(reg *devices.Registry, id energy.DeviceID) bool {
	d, ok := reg.Device(id)
	return ok && d.State.Online
}

func TestAdoptionAndReadings(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir)
	r.until("five candidates", func() bool { return len(r.hub.Seen()) == 5 })
	if n := len(r.reg.Devices()); n != 0 {
		t.Fatalf("%d devices registered before any adoption: adoption must never be automatic", n)
	}
	kinds := map[ble.Addr]string{}
	for _, s := range r.hub.Seen() {
		kinds[s.Addr] = s.Kind
		if s.Adopted || s.LastSeen.IsZero() || s.RSSI >= 0 || len(s.Advertises) == 0 {
			t.Errorf("candidate %+v", s)
		}
	}
	for a, k := range map[ble.Addr]string{emul.WaterMeter: ble.KindWaterMeter, emul.GasMeter: ble.KindGasMeter, emul.Thermo: ble.KindSensor, emul.Plug: ble.KindPlug} {
		if kinds[a] != k {
			t.Errorf("%s kind %q, want %q", a, kinds[a], k)
		}
	}
	if _, err := r.hub.Adopt(ble.Adoption{Addr: "00:11:22:33:44:55"}); !errors.Is(err, ble.ErrNotSeen) {
		t.Errorf("unseen: %v", err)
	}
	water, err := r.hub.Adopt(ble.Adoption{Addr: emul.WaterMeter, Name: "Water"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.hub.Adopt(ble.Adoption{Addr: emul.WaterMeter}); !errors.Is(err, ble.ErrAdopted) {
		t.Errorf("twice: %v", err)
	}
	d, ok := r.reg.Device(water)
	if !ok || d.Transport != "ble" || d.Kind != ble.KindWaterMeter || d.Name != "Water" || len(d.Caps) != 0 {
		t.Fatalf("water meter in the registry: %+v", d)
	}
	r.until("water readings", func() bool { return len(r.pub.of(water, energy.WaterVolume)) >= 3 })
	ws := r.pub.of(water, energy.WaterVolume)
	for i := 1; i < len(ws); i++ {
		if ws[i].Value.Cmp(ws[i-1].Value) < 0 {
			t.Errorf("water counter went back: %v after %v", ws[i].Value, ws[i-1].Value)
		}
		if !ws[i].Measured.After(ws[i-1].Measured) {
			t.Errorf("packet repeated (de-duplication failed): %v at %v twice", ws[i].Value, ws[i].Measured)
		}
	}
	if v := ws[0].Value.Float64(); v < 123.45 || v > 123.47 {
		t.Errorf("water %v m3, want about 123.457 (123 456.789 L)", ws[0].Value)
	}
	if w, ok := r.hub.Wrap(water, energy.WaterVolume); !ok || w.String() != "4294.967296" {
		t.Errorf("water wrap %v %v, want 2^32 mL = 4294.967296 m3", w, ok)
	}
	if !online(r.reg, water) {
		t.Error("water meter offline after readings")
	}

	// The encrypted power meter: no key, a wrong key, then its key.
	if _, err := r.hub.Adopt(ble.Adoption{Addr: emul.PowerMeter}); !errors.Is(err, ble.ErrKeyRequired) {
		t.Errorf("no key: %v", err)
	}
	bad := append([]byte(nil), testKey...)
	bad[3] ^= 0xFF
	if _, err := r.hub.Adopt(ble.Adoption{Addr: emul.PowerMeter, Key: bad}); !errors.Is(err, ble.ErrBadKey) {
		t.Errorf("wrong key: %v", err)
	}
	pm, err := r.hub.Adopt(ble.Adoption{Addr: emul.PowerMeter, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := r.reg.Device(pm); d.Kind != ble.KindPowerMeter || !d.Caps.Has(energy.CapMeter) {
		t.Errorf("power meter %+v", d)
	}
	if st, err := os.Stat(ble.KeyPath(dir+"", emul.PowerMeter)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", st, err)
	}
	r.until("power readings", func() bool {
		return len(r.pub.of(pm, energy.Power)) >= 2 && len(r.pub.of(pm, energy.ImportEnergy)) >= 2
	})
	if p := r.pub.of(pm, energy.Power)[0].Value.Float64(); p < 100 || p > 1000 {
		t.Errorf("power %v W", p)
	}
	if d, _ := r.reg.Device(pm); d.State.EnergyWh < 4_321_000 || d.State.PowerW <= 0 {
		t.Errorf("power meter state %+v", d.State)
	}

	// Persisted: a new hub over the same dir has both, offline until heard.
	r.stop()
	r.stop = nil
	list, err := ble.LoadAdopted(dir)
	if err != nil || len(list) != 2 {
		t.Fatalf("adopted.json: %+v %v", list, err)
	}
	r2 := newRig(t, dir)
	if _, ok := r2.reg.Device(pm); !ok {
		t.Fatal("power meter not restored")
	}
	r2.until("restored power meter readings", func() bool { return len(r2.pub.of(pm, energy.Power)) >= 1 })
	if err := r2.hub.Forget(water); err != nil {
		t.Fatal(err)
	}
	if _, ok := r2.reg.Device(water); ok {
		t.Error("forgotten water meter still registered")
	}
	if err := r2.hub.Forget(water); !errors.Is(err, ble.ErrNotAdopted) {
		t.Errorf("forget twice: %v", err)
	}
	if list, _ := ble.LoadAdopted(dir); len(list) != 1 || list[0].Addr != emul.PowerMeter {
		t.Errorf("after forget: %+v", list)
	}
}

func TestStaleAndBack(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.until("sensor seen", func() bool { return len(r.hub.Seen()) == 5 })
	id, err := r.hub.Adopt(ble.Adoption{Addr: emul.Thermo})
	if err != nil {
		t.Fatal(err)
	}
	r.until("sensor online", func() bool { return online(r.reg, id) })
	r.ad.Silence(emul.Thermo, true)
	silentAt := r.clk.Now()
	r.until("sensor offline", func() bool { return !online(r.reg, id) })
	if gone := r.clk.Now().Sub(silentAt); gone < time.Minute {
		t.Errorf("offline after %v, StaleAfter is 1 min", gone)
	}
	if !r.isDown(id) {
		t.Error("unreachable not reported")
	}
	r.ad.Silence(emul.Thermo, false)
	r.until("sensor back", func() bool { return online(r.reg, id) })
	if r.isDown(id) {
		t.Error("unreachable not withdrawn")
	}
	if len(r.pub.of(id, energy.Temperature)) == 0 || len(r.pub.of(id, energy.Humidity)) == 0 {
		t.Error("no temperature or humidity readings")
	}
}

func TestPlugCommandsAndReconnect(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.until("plug seen", func() bool { return len(r.hub.Seen()) == 5 })
	id, err := r.hub.Adopt(ble.Adoption{Addr: emul.Plug, Name: "Heater"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := r.reg.Device(id)
	for _, c := range []energy.Capability{energy.CapSwitch, energy.CapCurtail, energy.CapMeter} {
		if !d.Caps.Has(c) {
			t.Errorf("plug lacks %s: %v", c, d.Caps)
		}
	}
	r.until("plug connected", func() bool { return online(r.reg, id) })
	r.until("plug power notified", func() bool { return len(r.pub.of(id, energy.Power)) >= 2 })
	ctx := context.Background()
	if err := r.reg.Command(ctx, energy.Command{Device: id, Kind: energy.CmdOff}); err != nil {
		t.Fatal(err)
	}
	if on, w, _, _ := r.ad.PlugState(); on || w != 0 {
		t.Errorf("after off: on %v power %d", on, w)
	}
	if err := r.reg.Command(ctx, energy.Command{Device: id, Kind: energy.CmdOn}); err != nil {
		t.Fatal(err)
	}
	if err := r.reg.Command(ctx, energy.Command{Device: id, Kind: energy.CmdLimit, LimitW: 500}); err != nil {
		t.Fatal(err)
	}
	on, w, _, dr := r.ad.PlugState()
	if !on || dr.Op != ble.DRLimit || dr.LimitW != 500 || w > 500 {
		t.Errorf("after limit: on %v power %d dr %+v", on, w, dr)
	}
	if d, _ := r.reg.Device(id); d.State.LimitW != 500 || !d.State.On {
		t.Errorf("registry state %+v", d.State)
	}
	if err := r.reg.Command(ctx, energy.Command{Device: id, Kind: energy.CmdNormal}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, dr := r.ad.PlugState(); dr.Op != ble.DRNormal {
		t.Errorf("after normal: %+v", dr)
	}

	// The connection drops and the plug refuses for a while: offline,
	// then back after backoff.
	r.ad.RefuseConnect(true)
	r.ad.Drop()
	r.until("plug offline", func() bool { return !online(r.reg, id) })
	if !r.isDown(id) {
		t.Error("unreachable not reported")
	}
	if err := r.reg.Command(ctx, energy.Command{Device: id, Kind: energy.CmdOff}); !errors.Is(err, energy.ErrOffline) {
		t.Errorf("command while offline: %v", err)
	}
	for range 20 {
		r.clk.Advance(time.Second)
		time.Sleep(2 * time.Millisecond)
	}
	if online(r.reg, id) {
		t.Fatal("online while the plug refuses connections")
	}
	r.ad.RefuseConnect(false)
	r.until("plug reconnected", func() bool { return online(r.reg, id) })
	if r.isDown(id) {
		t.Error("unreachable not withdrawn after reconnect")
	}
	if n := r.ad.Connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	if err := r.hub.Forget(id); err != nil {
		t.Fatal(err)
	}
	r.until("connection closed after forget", func() bool { return r.ad.Connections() == 0 })
}

// An emulated advertisement wrapped in a real HCI LE Advertising Report
// event, parsed by go-ble's own event parser, reaches the hub intact.
func TestHCIReportThroughGoBLE(t *testing.T) {
	r := newRig(t, t.TempDir())
	var got ble.Advertisement
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	ad2, _ := emul.New(emul.Config{Clock: r.clk, PowerKey: testKey})
	go func() {
		defer close(done)
		_ = ad2.Scan(ctx, func(a ble.Advertisement) {
			if a.Addr == emul.GasMeter {
				mu.Lock()
				got = a
				mu.Unlock()
				cancel()
			}
		})
	}()
	<-done
	mu.Lock()
	a := got
	mu.Unlock()
	// Subevent 02, one report: event type ADV_NONCONN_IND, public address
	// (little-endian on air), data length, data, RSSI.
	mac := a.Addr.Bytes()
	ev := []byte{0x02, 0x01, 0x03, 0x00}
	for i := 5; i >= 0; i-- {
		ev = append(ev, mac[i])
	}
	ev = append(ev, byte(len(a.Data)))
	ev = append(ev, a.Data...)
	ev = append(ev, byte(int8(a.RSSI)))
	rep := evt.LEAdvertisingReport(ev)
	if rep.NumReports() != 1 || int(rep.RSSI(0)) != a.RSSI {
		t.Fatalf("go-ble report: n %d rssi %d", rep.NumReports(), rep.RSSI(0))
	}
	addr := rep.Address(0)
	var be [6]byte
	for i := range be {
		be[i] = addr[5-i]
	}
	parsed, err := ble.ParseAD(rep.Data(0))
	if err != nil || ble.AddrOf(be) != emul.GasMeter || len(parsed.ServiceData) != 1 || parsed.Name != "Gas meter" {
		t.Fatalf("parsed %+v %v from % X", parsed, err, rep.Data(0))
	}
	if v := binary.LittleEndian.Uint32(parsed.ServiceData[0].Data[6:]); v < 1_234_567 {
		t.Errorf("gas raw %d", v)
	}
	r.hub.Handle(ble.Advertisement{Addr: ble.AddrOf(be), RSSI: int(rep.RSSI(0)), Data: rep.Data(0)})
	found := false
	for _, s := range r.hub.Seen() {
		found = found || s.Addr == emul.GasMeter && s.Kind == ble.KindGasMeter
	}
	if !found {
		t.Error("gas meter not a candidate after the HCI report")
	}
}
