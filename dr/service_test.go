package dr

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/dr/control"
	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// fakeVEN hands the service events as if a VTN had sent them.
type fakeVEN struct {
	mu      sync.Mutex
	events  []openadr.Event
	changed chan struct{}
	optOuts []string // reported to the VTN
	opted   map[string]bool
}

func newFakeVEN() *fakeVEN {
	return &fakeVEN{changed: make(chan struct{}, 1), opted: map[string]bool{}}
}

func (f *fakeVEN) Events() []openadr.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}
func (f *fakeVEN) Changed() <-chan struct{} { return f.changed }
func (f *fakeVEN) OptOut(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.optOuts = append(f.optOuts, id)
	f.opted[id] = true
	return nil
}
func (f *fakeVEN) IsOptedOut(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opted[id]
}
func (f *fakeVEN) OptedOut() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.opted))
}
func (f *fakeVEN) SetOptedOut(ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.opted)
	for _, id := range ids {
		f.opted[id] = true
	}
}
func (f *fakeVEN) set(evs ...openadr.Event) {
	f.mu.Lock()
	f.events = evs
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// plug is a switchable device driver that records commands.
type plug struct {
	reg *devices.Registry
	got chan energy.Command
}

func (p *plug) Command(_ context.Context, c energy.Command) error {
	st, _ := p.reg.Device(c.Device)
	s := st.State
	switch c.Kind {
	case energy.CmdOn:
		s.On, s.PowerW = true, st.RatedW
	case energy.CmdOff:
		s.On, s.PowerW = false, 0
	}
	p.reg.Update(c.Device, s)
	select {
	case p.got <- c:
	default:
	}
	return nil
}

type fixedSite struct{ w func() int64 }

func (s fixedSite) SitePower() (int64, time.Time, bool) { return s.w(), time.Now(), true }

type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *memKV) Get(key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok, nil
}
func (k *memKV) Put(key string, v []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = slices.Clone(v)
	return nil
}

type env struct {
	clk  *clocktest.Fake
	reg  *devices.Registry
	ven  *fakeVEN
	plug *plug
	svc  *Service
	kv   *memKV
	log  []string
	mu   sync.Mutex
}

func newEnv(t testing.TB, kv *memKV) *env {
	t.Helper()
	e := &env{clk: clocktest.New(time.Date(2026, 8, 11, 16, 0, 0, 0, time.UTC)), reg: devices.New(), ven: newFakeVEN(), kv: kv}
	e.plug = &plug{reg: e.reg, got: make(chan energy.Command, 16)}
	for _, id := range []energy.DeviceID{"heater", "pump"} {
		if err := e.reg.Add(energy.DeviceInfo{ID: id, Name: string(id), RatedW: 2000, Caps: energy.Capabilities{energy.CapSwitch, energy.CapMeter}}, e.plug); err != nil {
			t.Fatal(err)
		}
		e.reg.Update(id, energy.DeviceState{Online: true, On: true, PowerW: 2000, Updated: e.clk.Now()})
	}
	site := fixedSite{func() int64 {
		var w int64 = 500
		for _, d := range e.reg.Devices() {
			w += d.State.PowerW
		}
		return w
	}}
	svc, err := New(Options{Clock: e.clk, Registry: e.reg, Site: site, VEN: e.ven, KV: kv, Seed: 1,
		Control: control.Config{Period: 2 * time.Second, RestoreRandomMax: time.Nanosecond, RestoreDelay: 10 * time.Second},
		Rules:   []LoadRule{{Device: "pump", Class: control.ClassSheddable, Priority: 10}},
		Record: func(kind, subject string, d map[string]string) {
			e.mu.Lock()
			e.log = append(e.log, kind+" "+subject)
			e.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func capEvent(id string, start time.Time, kw float64) openadr.Event {
	lvl := 2
	return openadr.Event{ID: id, ProgramID: "prg-peak", ProgramName: "peak-relief", Modified: start.Add(-time.Hour),
		Start: start, End: start.Add(2 * time.Hour),
		Intervals: []openadr.Interval{{ID: 0, Start: start, End: start.Add(2 * time.Hour), Simple: &lvl, ImportLimitKW: &kw}}}
}

func (e *env) hasLog(s string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.log, s)
}

func TestEventShedsOptOutRestores(t *testing.T) {
	kv := &memKV{m: map[string][]byte{}}
	e := newEnv(t, kv)
	ctx := context.Background()
	e.ven.set(capEvent("peak", e.clk.Now().Add(time.Hour), 3))
	e.svc.Step(ctx)
	if ev := e.svc.Events(); len(ev) != 1 || ev[0].Status != openadr.StatusPending {
		t.Fatalf("events before the start: %+v", ev)
	}
	if !e.hasLog("dr event pending") {
		t.Fatalf("no log of the new event: %v", e.log)
	}
	e.clk.Advance(time.Hour)
	e.svc.Step(ctx)
	// 4500 W against a 3 kW cap: both loads go (level 2 sheds sheddables).
	for _, id := range []energy.DeviceID{"heater", "pump"} {
		if d, _ := e.reg.Device(id); d.State.On {
			t.Errorf("%s still on during the event", id)
		}
	}
	st := e.svc.Status()
	if st.ImportLimitW != 3000 || st.Level != 2 || len(st.Shed) != 2 {
		t.Fatalf("status during the event: %+v", st)
	}
	if got := e.svc.OperatingState("peak"); got != "RUNNING_CURTAILED" {
		t.Errorf("operating state %q", got)
	}
	ev := e.svc.Events()[0]
	if ev.Status != openadr.StatusActive || ev.LimitW == nil || *ev.LimitW != 3000 || ev.Level == nil || *ev.Level != 2 {
		t.Fatalf("active event: %+v", ev)
	}
	// The household opts out: the loads come back one at a time.
	j, err := e.svc.OptOut(ctx, "peak", "anna")
	if err != nil || !j.OptedOut || j.Status != StatusOptedOut {
		t.Fatalf("opt out: %+v %v", j, err)
	}
	if len(e.ven.optOuts) != 1 {
		t.Fatalf("opt-out not reported: %v", e.ven.optOuts)
	}
	var on int
	for range 30 {
		e.clk.Advance(2 * time.Second)
		e.svc.Step(ctx)
		n := 0
		for _, d := range e.reg.Devices() {
			if d.State.On {
				n++
			}
		}
		if n-on > 1 {
			t.Fatalf("%d loads restored in one step", n-on)
		}
		on = n
	}
	if on != 2 {
		t.Fatalf("%d of 2 loads restored after the opt-out", on)
	}
	if _, err := e.svc.OptOut(ctx, "nope", "anna"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown event: %v", err)
	}
	// The opt-out survives a restart.
	e2 := newEnv(t, kv)
	e2.ven.set(capEvent("peak", e2.clk.Now(), 3))
	if ev := e2.svc.Events(); len(ev) != 1 || !ev[0].OptedOut {
		t.Fatalf("opt-out lost on restart: %+v", ev)
	}
	// An ended event cannot be opted out of.
	e2.clk.Advance(3 * time.Hour)
	if _, err := e2.svc.OptOut(ctx, "peak", "anna"); !errors.Is(err, ErrConflict) {
		t.Fatalf("opt out of a completed event: %v", err)
	}
}

func TestOverrides(t *testing.T) {
	kv := &memKV{m: map[string][]byte{}}
	e := newEnv(t, kv)
	ctx := context.Background()
	yes := true
	if err := e.svc.Override("heater", &yes, nil, "anna"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Override("nope", &yes, nil, "anna"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	e.ven.set(capEvent("peak", e.clk.Now(), 3))
	e.svc.Step(ctx)
	if d, _ := e.reg.Device("heater"); !d.State.On {
		t.Fatal("exempt heater was shed")
	}
	if d, _ := e.reg.Device("pump"); d.State.On {
		t.Fatal("pump not shed")
	}
	if !e.hasLog("dr override heater") {
		t.Fatalf("override not logged: %v", e.log)
	}
	st := e.svc.Status()
	if len(st.Overrides) != 1 || !st.Overrides[0].Exempt {
		t.Fatalf("overrides: %+v", st.Overrides)
	}
	// Survives a restart.
	e2 := newEnv(t, kv)
	if st := e2.svc.Status(); len(st.Overrides) != 1 {
		t.Fatalf("override lost on restart: %+v", st.Overrides)
	}
	sort.Strings(st.Managed)
	if !slices.Equal(st.Managed, []string{"heater", "pump"}) {
		t.Fatalf("managed: %v", st.Managed)
	}
}

// BenchmarkEventToCommand measures the issue's figure "DR event received
// -> first shed command": from the VEN signalling a new event to the
// device driver holding the command, through the running engine (Run),
// the controller and the registry. It reports the p99 in ms.
func BenchmarkEventToCommand(b *testing.B) {
	lat := make([]time.Duration, 0, b.N)
	for range b.N {
		b.StopTimer()
		e := newEnv(b, &memKV{m: map[string][]byte{}})
		e.svc.o.Clock = energy.SystemClock{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = e.svc.Run(ctx); close(done) }()
		// Let the engine settle (its first step) before the event comes.
		time.Sleep(time.Millisecond)
		b.StartTimer()
		t0 := time.Now()
		e.ven.set(capEvent("peak", time.Now().Add(-time.Second), 3))
		<-e.plug.got
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		cancel()
		<-done
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
