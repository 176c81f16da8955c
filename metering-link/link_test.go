package meteringlink_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/health"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/metering-link/dlt645"
	"github.com/gatewayd-project/gatewayd/metering-link/emul"
)

// sink collects published readings.
type sink struct {
	mu sync.Mutex
	rs []energy.Reading
}

func (s *sink) Publish(rs []energy.Reading) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rs = append(s.rs, rs...)
	return nil
}

func (s *sink) all() []energy.Reading {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]energy.Reading(nil), s.rs...)
}

type memCheckpoint struct {
	mu sync.Mutex
	st meteringlink.CheckpointState
}

func (m *memCheckpoint) Load() (meteringlink.CheckpointState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st, nil
}

func (m *memCheckpoint) Save(st meteringlink.CheckpointState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st = st
	return nil
}

type rig struct {
	t      *testing.T
	meter  *emul.Meter
	link   *meteringlink.Link
	health *health.Registry
	sink   *sink
	cancel context.CancelFunc
	done   chan error
}

type rigOpts struct {
	clock      energy.Clock
	interval   time.Duration
	checkpoint meteringlink.Checkpoint
	timeSync   bool
}

func startMeter(t testing.TB, clock energy.Clock, cfg emul.Config) (*emul.Meter, func()) {
	t.Helper()
	if cfg.Link == "" {
		cfg.Link = filepath.Join(t.TempDir(), "meter.tty")
	}
	if cfg.Baud == 0 {
		cfg.Baud = 19200
	}
	if cfg.Td == 0 {
		cfg.Td = 5 * time.Millisecond
	}
	if cfg.Model.Location == nil {
		cfg.Model.Location = time.UTC
	}
	m, err := emul.New(clock, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return m, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("meter: %v", err)
		}
	}
}

func startLink(t *testing.T, m *emul.Meter, o rigOpts) *rig {
	t.Helper()
	c := m.Config()
	drv, err := dlt645.New(dlt645.Options{Baud: c.Baud, Location: time.UTC, Now: o.clock.Now, ResponseTimeout: 200 * time.Millisecond, ByteTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, meter: m, health: health.New(time.Now), sink: &sink{}, done: make(chan error, 1)}
	if o.interval == 0 {
		o.interval = 200 * time.Millisecond
	}
	r.link, err = meteringlink.New(meteringlink.Options{
		Driver: drv, Path: c.Link, Interval: o.interval, Clock: o.clock, Publisher: r.sink,
		Health: r.health, Checkpoint: o.checkpoint, TimeSync: o.timeSync, MaxBackoff: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.link.Run(ctx) }()
	return r
}

func (r *rig) stop() {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("link: %v", err)
		}
	case <-time.After(5 * time.Second):
		r.t.Fatal("link did not stop within 5 s")
	}
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	waitFor(t, "goroutines to settle", 3*time.Second, func() bool { return runtime.NumGoroutine() <= before })
}

func val(st energy.MeterStatus, q energy.Quantity) (energy.Decimal, bool) {
	s, ok := st.Values[q]
	return s.Value, ok
}

func TestLinkReadsMeterExactly(t *testing.T) {
	before := runtime.NumGoroutine()
	clock := energy.SystemClock{}
	m, stopMeter := startMeter(t, clock, emul.Config{})
	m.Model.Hold(true)
	st := m.Model.State()
	r := startLink(t, m, rigOpts{clock: clock})
	waitFor(t, "energy and power", 5*time.Second, func() bool {
		s := r.link.MeterStatus()
		_, ok1 := s.Values[energy.ImportEnergy]
		_, ok2 := s.Values[energy.Power]
		_, ok3 := s.Values[energy.RelayOpen]
		return ok1 && ok2 && ok3
	})
	s := r.link.MeterStatus()
	if s.Address != "123456789012" || !s.LinkUp || s.Protocol != "dlt645" {
		t.Fatalf("status %+v", s)
	}
	want := map[energy.Quantity]energy.Decimal{
		energy.ImportEnergy:                   energy.D(st.ImportMWh[0]/10000, 1),
		energy.ExportEnergy:                   energy.D(st.ExportMWh[0]/10000, 1),
		energy.Tariff(energy.ImportEnergy, 4): energy.D(st.ImportMWh[4]/10000, 1),
		energy.Power:                          energy.D(st.PowerMW[0]/100, -1),
		energy.Phase("voltage", 2):            energy.D(st.VoltageMV[1]/100, -1),
		energy.Phase("current", 1):            energy.D(st.CurrentMA[0], -3),
		energy.Frequency:                      energy.D(st.FrequencyMHz/10, -2),
		energy.PowerFactor:                    energy.D(st.PowerFactorMilli[0], -3),
		energy.RelayOpen:                      energy.D(0, 0),
		energy.PowerDownCount:                 energy.D(st.PowerDownCount, 0),
		energy.ReactivePower:                  energy.D(st.ReactiveMVar[0]/100, -1),
	}
	for q, w := range want {
		got, ok := val(s, q)
		if !ok || got.Cmp(w) != 0 {
			t.Errorf("%s = %v (present %v), want %v", q, got, ok, w)
		}
	}
	for _, rd := range r.sink.all() {
		if !rd.Legal || rd.Device != "meter" || rd.Source != "dlt645" {
			t.Fatalf("reading not tagged: %+v", rd)
		}
	}
	r.stop()
	stopMeter()
	checkNoLeak(t, before)
}

func TestLinkFallsBackToSingleDIs(t *testing.T) {
	clock := energy.SystemClock{}
	m, stopMeter := startMeter(t, clock, emul.Config{
		Unsupported: []dlt645.DI{dlt645.DIForwardBlock, dlt645.DIVoltageBlock, dlt645.DIPFBlock, 0x02060000, dlt645.DIStatusBlock},
	})
	defer stopMeter()
	m.Model.Hold(true)
	st := m.Model.State()
	r := startLink(t, m, rigOpts{clock: clock})
	defer r.stop()
	waitFor(t, "values", 5*time.Second, func() bool {
		s := r.link.MeterStatus()
		_, ok1 := s.Values[energy.Tariff(energy.ImportEnergy, 2)]
		_, ok2 := s.Values[energy.RelayOpen]
		return ok1 && ok2 && s.Unavailable[energy.PowerFactor]
	})
	s := r.link.MeterStatus()
	if got, _ := val(s, energy.Tariff(energy.ImportEnergy, 2)); got.Cmp(energy.D(st.ImportMWh[2]/10000, 1)) != 0 {
		t.Errorf("tariff 2 from single DI: %v", got)
	}
	if got, _ := val(s, energy.Phase("voltage", 3)); got.Cmp(energy.D(st.VoltageMV[2]/100, -1)) != 0 {
		t.Errorf("voltage C from single DI: %v", got)
	}
	if _, ok := s.Values[energy.PowerFactor]; ok {
		t.Error("unsupported power factor has a value")
	}
	if !s.LinkUp {
		t.Error("an unsupported DI took the link down")
	}
}

func TestLinkRecoversFromFaults(t *testing.T) {
	before := runtime.NumGoroutine()
	clock := energy.SystemClock{}
	m, stopMeter := startMeter(t, clock, emul.Config{})
	r := startLink(t, m, rigOpts{clock: clock})
	up := func() bool { return r.link.MeterStatus().LinkUp && !r.health.Active(meteringlink.CondLinkDown) }
	down := func() bool { return r.health.Active(meteringlink.CondLinkDown) && !r.link.MeterStatus().LinkUp }
	waitFor(t, "link up", 5*time.Second, up)

	for _, tc := range []struct {
		name   string
		faults emul.Faults
	}{
		{"silent meter", emul.Faults{Silent: true}},
		{"garbage", emul.Faults{Garbage: 1}},
		{"bad checksums", emul.Faults{BadChecksum: 1}},
		{"late replies", emul.Faults{Late: 1, LateBy: 400 * time.Millisecond}},
	} {
		m.Line.SetFaults(tc.faults)
		waitFor(t, tc.name+": link down", 15*time.Second, down)
		m.Line.SetFaults(emul.Faults{})
		waitFor(t, tc.name+": recovery", 15*time.Second, up)
	}
	// Unplugged adapter / closed pty: the device path dangles, then a new
	// pty appears behind it.
	m.Disconnect(0)
	waitFor(t, "disconnect: link down", 15*time.Second, down)
	if err := m.Reconnect(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnect: recovery", 15*time.Second, up)
	// A noisy line (a fifth of the replies dropped, a tenth garbage)
	// still leaves a working link once it calms down.
	m.Line.SetFaults(emul.Faults{Drop: 0.2, Garbage: 0.1})
	time.Sleep(time.Second)
	m.Line.SetFaults(emul.Faults{})
	waitFor(t, "recovery after noise", 15*time.Second, up)
	r.stop()
	stopMeter()
	checkNoLeak(t, before)
}

func TestLinkBackfillsGap(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 11, 59, 30, 0, time.UTC)
	clock := clocktest.New(t0)
	m, stopMeter := startMeter(t, clock, emul.Config{Model: emul.ModelConfig{History: 2 * time.Hour}})
	defer stopMeter()
	cp := &memCheckpoint{}
	r := startLink(t, m, rigOpts{clock: clock, checkpoint: cp, interval: time.Second})
	// A first start takes over the meter's own history (2 h here).
	waitFor(t, "first-start backfill", 10*time.Second, func() bool {
		for _, rd := range r.sink.all() {
			if rd.Backfilled && rd.Quantity == energy.ImportEnergy && rd.Measured.Equal(t0.Truncate(time.Minute)) {
				return true
			}
		}
		clock.Advance(time.Second)
		return false
	})
	r.stop()
	st, _ := cp.Load()
	if st.LastLegal.Before(t0.Truncate(time.Minute)) || st.LastLegal.After(clock.Now()) {
		t.Fatalf("checkpoint %v, want the newest minute freeze after %v", st.LastLegal, t0.Truncate(time.Minute))
	}
	t0 = st.LastLegal
	// The gateway is off for 40 minutes; the meter keeps recording.
	clock.Advance(40 * time.Minute)
	r = startLink(t, m, rigOpts{clock: clock, checkpoint: cp, interval: time.Second})
	defer r.stop()
	backfilled := func() []energy.Reading {
		var out []energy.Reading
		for _, rd := range r.sink.all() {
			if rd.Backfilled && rd.Quantity == energy.ImportEnergy && rd.Measured.After(t0) {
				out = append(out, rd)
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	waitFor(t, "backfill of 40 minutes", 11*time.Second, func() bool {
		if time.Now().After(deadline) {
			for _, rd := range backfilled() {
				t.Logf("%v", rd.Measured)
			}
			t.Fatalf("t0 %v now %v; %d backfilled", t0, clock.Now(), len(backfilled()))
		}
		if len(backfilled()) >= 39 {
			return true
		}
		clock.Advance(time.Second) // let the poll loop tick
		return false
	})
	got := backfilled()
	hist := map[time.Time]emul.Snapshot{}
	for _, h := range m.Model.History(t0, clock.Now().Add(time.Hour)) {
		hist[h.Time] = h
	}
	// Every minute of the gap, once, in order, equal to the meter's record.
	for i, rd := range got {
		want := t0.Truncate(time.Minute).Add(time.Duration(i+1) * time.Minute)
		h, ok := hist[rd.Measured]
		if !rd.Legal || !rd.Measured.Equal(want) || !ok || rd.Value.Cmp(energy.D(h.ImportMWh/10000, 1)) != 0 {
			t.Fatalf("record %d: %+v, want minute %v, meter has %+v", i, rd, want, h)
		}
	}
}

func TestLinkTimeSync(t *testing.T) {
	clock := energy.SystemClock{}
	m, stopMeter := startMeter(t, clock, emul.Config{Model: emul.ModelConfig{ClockOffset: 30 * time.Second}})
	defer stopMeter()
	r := startLink(t, m, rigOpts{clock: clock, timeSync: true})
	waitFor(t, "meter clock synced", 5*time.Second, func() bool {
		off := m.Model.ClockOffset()
		return off > -time.Second && off < time.Second
	})
	r.stop()
	// Off by more than 5 minutes: a human is asked, the clock is not set.
	m.Model.SetClock(time.Now().Add(10 * time.Minute))
	r2 := startLink(t, m, rigOpts{clock: clock, timeSync: true})
	defer r2.stop()
	waitFor(t, "clock-off condition", 5*time.Second, func() bool { return r2.health.Active(meteringlink.CondClockOff) })
	if off := m.Model.ClockOffset(); off < 9*time.Minute {
		t.Fatalf("a 10 min offset was 'corrected' to %v", off)
	}
}

func TestLinkBackfillsFromHourlyFreezes(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 11, 59, 30, 0, time.UTC)
	clock := clocktest.New(t0)
	m, stopMeter := startMeter(t, clock, emul.Config{Model: emul.ModelConfig{History: 2 * time.Hour, NoLoadProfile: true}})
	defer stopMeter()
	cp := &memCheckpoint{st: meteringlink.CheckpointState{LastLegal: t0}}
	clock.Advance(3 * time.Hour) // off from 11:59:30 to 14:59:30
	r := startLink(t, m, rigOpts{clock: clock, checkpoint: cp, interval: time.Second})
	defer r.stop()
	var got []energy.Reading
	waitFor(t, "hourly backfill", 10*time.Second, func() bool {
		got = got[:0]
		for _, rd := range r.sink.all() {
			if rd.Backfilled && rd.Quantity == energy.ExportEnergy {
				got = append(got, rd)
			}
		}
		if len(got) >= 3 {
			return true
		}
		// Let the poll loop tick: the backfill runs in the idle time
		// before the next tick, which a slow machine (qemu-user) may
		// already have used up on the fake clock.
		clock.Advance(time.Second)
		return false
	})
	freezes := m.Model.Freezes(false)
	byTime := map[time.Time]emul.Snapshot{}
	for _, f := range freezes {
		byTime[f.Time] = f
	}
	for i, rd := range got {
		want := time.Date(2026, 3, 2, 12+i, 0, 0, 0, time.UTC)
		f, ok := byTime[want]
		if !rd.Measured.Equal(want) || !ok || rd.Value.Cmp(energy.D(f.ExportMWh/10000, 1)) != 0 {
			t.Fatalf("freeze %d: %+v, want %v = %+v", i, rd, want, f)
		}
	}
}
