package storage

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

func openTest(t testing.TB, clk energy.Clock, mod func(*Options)) *Store {
	t.Helper()
	o := Options{Path: filepath.Join(t.TempDir(), "g.db"), Clock: clk, Location: time.UTC}
	if mod != nil {
		mod(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func reading(q energy.Quantity, v energy.Decimal, at time.Time, legal, minute bool) energy.Reading {
	return energy.Reading{Device: "meter", Quantity: q, Value: v, Measured: at, Received: at, Legal: legal, Minute: minute}
}

func TestIngestAndQuery(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	s := openTest(t, clk, nil)
	// One hour of 1 Hz power and minute energy registers.
	for i := 0; i < 3600; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		rs := []energy.Reading{reading(energy.Power, energy.D(int64(1000+i%60), 0), at, true, false)}
		if i%60 == 0 {
			rs = append(rs, reading(energy.ImportEnergy, energy.D(int64(12345670+i/60*10), 0), at.Add(200*time.Millisecond), true, true))
		}
		s.Append(rs)
		if i%60 == 59 {
			clk.Set(at.Add(time.Second))
			if err := s.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk.Set(t0.Add(time.Hour + 10*time.Second))
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	// Raw, full resolution.
	r, err := s.QuerySeries("meter", energy.Power, t0, t0.Add(time.Minute), 60)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tier != "raw" || !r.Legal || len(r.Points) != 60 || r.Points[5].Last.Cmp(energy.D(1005, 0)) != 0 {
		t.Fatalf("raw: tier %s legal %v %d points %+v", r.Tier, r.Legal, len(r.Points), r.Points[:2])
	}
	// Minute rollups (derived) keep min/max/mean.
	r, err = s.QuerySeries("meter", energy.Power, t0, t0.Add(time.Hour), 60)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tier != "minute" || r.Legal || len(r.Points) != 60 {
		t.Fatalf("minute: tier %s legal %v points %d", r.Tier, r.Legal, len(r.Points))
	}
	p := r.Points[10]
	if p.Min.Cmp(energy.D(1000, 0)) != 0 || p.Max.Cmp(energy.D(1059, 0)) != 0 || p.Mean != 1029.5 || p.N != 60 {
		t.Fatalf("minute rollup %+v", p)
	}
	// Energy from the legal minute tier, as read.
	r, err = s.QuerySeries("meter", energy.ImportEnergy, t0, t0.Add(time.Hour), 60)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tier != "minute" || !r.Legal || len(r.Points) != 60 || r.Points[59].Last.Cmp(energy.D(12345670+590, 0)) != 0 {
		t.Fatalf("legal minute: %s %v %d %+v", r.Tier, r.Legal, len(r.Points), r.Points[59])
	}
	// 15-minute tier for a coarse query.
	r, err = s.QuerySeries("meter", energy.Power, t0, t0.Add(time.Hour), 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tier != "quarter" || len(r.Points) != 4 || r.Points[0].N != 900 {
		t.Fatalf("quarter: %s %d %+v", r.Tier, len(r.Points), r.Points)
	}
	// Reopen: everything is on disk.
	path := s.Path()
	s.Close()
	s2, err := Open(Options{Path: path, Clock: clk, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r, err = s2.QuerySeries("meter", energy.Power, t0, t0.Add(time.Hour), 60)
	if err != nil || len(r.Points) != 60 {
		t.Fatalf("after reopen: %v %d", err, len(r.Points))
	}
	if _, err := s2.QuerySeries("meter", "nope", t0, t0.Add(time.Hour), 60); err != ErrUnknownSeries {
		t.Fatal(err)
	}
}

func TestExportAndConsumption(t *testing.T) {
	t0 := time.Date(2026, 3, 28, 22, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	s := openTest(t, clk, func(o *Options) {
		o.Wrap = func(d energy.DeviceID, q energy.Quantity) (energy.Decimal, bool) { return energy.D(1, 9), true }
	})
	// Four hours of minute registers: +10 Wh/min, a gap 23:10-23:20, a
	// wrap at 00:30, a meter replacement at 01:30.
	v := int64(999999000)
	for i := 0; i <= 240; i++ {
		at := t0.Add(time.Duration(i) * time.Minute).Add(300 * time.Millisecond)
		switch {
		case i == 150:
			v = (v + 10) % 1000000000
		case i == 210:
			v = 50 // new meter
		default:
			v += 10
		}
		if i >= 70 && i < 80 {
			continue
		}
		s.Append([]energy.Reading{reading(energy.ImportEnergy, energy.D(v, 0), at, true, true)})
	}
	clk.Set(t0.Add(5 * time.Hour))
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	c, err := s.Consumption("meter", energy.ImportEnergy, t0, t0.Add(4*time.Hour), StepHour)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Intervals) != 4 {
		t.Fatalf("%d intervals", len(c.Intervals))
	}
	for i, iv := range c.Intervals {
		if iv.Value == nil || iv.Value.Coef < 0 {
			t.Fatalf("interval %d: %+v", i, iv)
		}
	}
	if c.Intervals[0].Value.Cmp(energy.D(600, 0)) != 0 || c.Intervals[0].Estimated {
		t.Errorf("hour 0 with an inner gap: %+v", c.Intervals[0])
	}
	if c.Intervals[2].Value.Cmp(energy.D(600, 0)) != 0 || c.Intervals[2].Estimated {
		t.Errorf("hour with wrap: %v %+v", *c.Intervals[2].Value, c.Intervals[2])
	}
	if !c.Intervals[3].Estimated {
		t.Errorf("hour with replacement not estimated: %+v", c.Intervals[3])
	}
	// Quarters (the tariff slot): 150 per quarter, the wrap handled.
	q, err := s.Consumption("meter", energy.ImportEnergy, t0.Add(2*time.Hour), t0.Add(3*time.Hour), StepQuarter)
	if err != nil || len(q.Intervals) != 4 {
		t.Fatalf("quarters: %v %d", err, len(q.Intervals))
	}
	for i, iv := range q.Intervals {
		if iv.Value == nil || iv.Value.Cmp(energy.D(150, 0)) != 0 || iv.End.Sub(iv.Start) != 15*time.Minute {
			t.Errorf("quarter %d: %+v", i, iv)
		}
	}
	// Before the data: missing.
	c, _ = s.Consumption("meter", energy.ImportEnergy, t0.Add(-2*time.Hour), t0, StepHour)
	if !c.Intervals[0].Missing || c.Intervals[0].Value != nil {
		t.Errorf("no data: %+v", c.Intervals[0])
	}
	n := 0
	err = s.Export("meter", "", "minute", t0, t0.Add(4*time.Hour), func(r ExportRow) error {
		if r.Legal != (r.Value != nil) {
			t.Fatalf("row %+v", r)
		}
		if r.Legal {
			n++
		}
		return nil
	})
	if err != nil || n != 230 {
		t.Fatalf("exported %d rows: %v", n, err)
	}
}

// maintainAll runs retention, log flushes and compaction until done.
func maintainAll(tb testing.TB, s *Store) {
	tb.Helper()
	for {
		did, err := s.Maintain()
		if err != nil {
			tb.Fatal(err)
		}
		if !did {
			return
		}
	}
}

// A restart in the middle of a day loses nothing from the derived day and
// quarter rollups: the open periods are rebuilt from the raw tier.
func TestRollupsSurviveRestart(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	path := filepath.Join(t.TempDir(), "g.db")
	feed := func(s *Store, from, to int) {
		for i := from; i < to; i++ {
			at := t0.Add(time.Duration(i) * time.Minute)
			s.Append([]energy.Reading{reading(energy.Power, energy.D(int64(i), 0), at, true, false)})
		}
		clk.Set(t0.Add(time.Duration(to) * time.Minute))
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(Options{Path: path, Clock: clk, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	feed(s, 0, 600) // until 10:00, then the gateway restarts
	s.Close()
	s, err = Open(Options{Path: path, Clock: clk, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	feed(s, 600, 1440)
	clk.Set(t0.Add(24*time.Hour + time.Minute))
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err := s.QuerySeries("meter", energy.Power, t0, t0.Add(24*time.Hour), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tier != "day" || len(r.Points) != 1 || r.Points[0].N != 1440 || r.Points[0].Min.Cmp(energy.D(0, 0)) != 0 || r.Points[0].Max.Cmp(energy.D(1439, 0)) != 0 {
		t.Fatalf("day rollup after a restart: tier %s %+v", r.Tier, r.Points)
	}
}

func TestConsumptionRunningInterval(t *testing.T) {
	t0 := time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	s := openTest(t, clk, nil)
	// 10:00 to 11:30, +10 Wh a minute; now is 11:30:30.
	for i := 0; i <= 90; i++ {
		at := t0.Add(time.Duration(i) * time.Minute).Add(300 * time.Millisecond)
		s.Append([]energy.Reading{reading(energy.ImportEnergy, energy.D(int64(1000+10*i), 0), at, true, true)})
	}
	clk.Set(t0.Add(90*time.Minute + 30*time.Second))
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	res, err := s.Consumption("meter", energy.ImportEnergy, t0, t0.Add(3*time.Hour), StepHour)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Intervals) != 3 {
		t.Fatalf("%d intervals", len(res.Intervals))
	}
	done, running, future := res.Intervals[0], res.Intervals[1], res.Intervals[2]
	if done.Partial || done.Value == nil || done.Value.Float64() != 600 {
		t.Fatalf("finished hour: %+v", done)
	}
	if !running.Partial || running.Missing || running.Value == nil || running.Value.Float64() != 300 {
		t.Fatalf("running hour: %+v value %v", running, running.Value)
	}
	if !future.Missing || future.Partial {
		t.Fatalf("future hour: %+v", future)
	}
}
