package openadr

import (
	"testing"
	"time"
)

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }

// mk is an event with one interval [start, start+d) at base.
func mk(id string, prio int, startMin, durMin int, iv Interval) Event {
	s := now0.Add(time.Duration(startMin) * time.Minute)
	iv.Start, iv.End = s, s.Add(time.Duration(durMin)*time.Minute)
	return Event{ID: id, Priority: prio, Intervals: []Interval{iv}, Start: iv.Start, End: iv.End}
}

func TestResolve(t *testing.T) {
	evs := []Event{
		mk("low-prio-shed", 10, -30, 60, Interval{Simple: ip(3), ImportLimitKW: fp(2)}),
		mk("high-prio", 1, -10, 60, Interval{Simple: ip(1), ImportLimitKW: fp(5)}),
		mk("export", 5, -10, 60, Interval{ExportLimitKW: fp(0)}),
		mk("future", 0, 10, 60, Interval{Simple: ip(3)}),
		mk("past", 0, -120, 60, Interval{Simple: ip(3)}),
	}
	s := Resolve(evs, now0, nil)
	if s.Level != 1 || s.LevelEvent != "high-prio" || *s.ImportLimitKW != 5 || s.ImportLimitEvent != "high-prio" ||
		*s.ExportLimitKW != 0 || s.ExportLimitEvent != "export" {
		t.Fatalf("%+v", s)
	}
	// Opting out of the winner lets the lower priority through.
	s = Resolve(evs, now0, func(id string) bool { return id == "high-prio" })
	if s.Level != 3 || s.LevelEvent != "low-prio-shed" || *s.ImportLimitKW != 2 {
		t.Fatalf("opted out: %+v", s)
	}
	// Nothing in force.
	s = Resolve(evs, now0.Add(2*time.Hour), nil)
	if s.Level != 0 || s.LevelEvent != "" || s.ImportLimitKW != nil || s.ExportLimitKW != nil {
		t.Fatalf("idle: %+v", s)
	}
	// A cancelled event counts for nothing.
	c := evs[1]
	c.Cancelled = true
	s = Resolve([]Event{evs[0], c}, now0, nil)
	if s.LevelEvent != "low-prio-shed" {
		t.Fatalf("cancelled: %+v", s)
	}
}

func TestResolveEqualPriority(t *testing.T) {
	evs := []Event{
		mk("b", 2, -5, 30, Interval{Simple: ip(1), ImportLimitKW: fp(4)}),
		mk("a", 2, -5, 30, Interval{Simple: ip(2), ImportLimitKW: fp(6)}),
		mk("c", 2, -5, 30, Interval{ImportLimitKW: fp(4)}),
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		in := []Event{evs[order[0]], evs[order[1]], evs[order[2]]}
		s := Resolve(in, now0, nil)
		// Highest level; lowest limit, ties to the smaller id.
		if s.Level != 2 || s.LevelEvent != "a" || *s.ImportLimitKW != 4 || s.ImportLimitEvent != "b" {
			t.Fatalf("order %v: %+v", order, s)
		}
	}
	// An absent priority (LowPriority) loses to any explicit one.
	s := Resolve([]Event{mk("none", LowPriority, -5, 30, Interval{Simple: ip(3)}), mk("explicit", 1000, -5, 30, Interval{Simple: ip(0)})}, now0, nil)
	if s.LevelEvent != "explicit" || s.Level != 0 {
		t.Fatalf("%+v", s)
	}
}

func TestIntervalAtOverlapAndGaps(t *testing.T) {
	e := Event{ID: "e", Intervals: []Interval{
		{ID: 0, Start: now0.Add(-time.Hour), End: time.Time{}, Simple: ip(1)}, // open-ended
		{ID: 1, Start: now0.Add(-30 * time.Minute), End: now0.Add(-10 * time.Minute), Simple: ip(2)},
		{ID: 2, Start: now0.Add(time.Hour), End: now0.Add(2 * time.Hour), Simple: ip(3)},
	}, Start: now0.Add(-time.Hour)}
	if iv, ok := e.IntervalAt(now0); !ok || iv.ID != 0 {
		t.Fatalf("open-ended under a later ended one: %+v %v", iv, ok)
	}
	if iv, ok := e.IntervalAt(now0.Add(-20 * time.Minute)); !ok || iv.ID != 1 {
		t.Fatalf("the later start wins: %+v", iv)
	}
	if iv, _ := e.IntervalAt(now0.Add(90 * time.Minute)); iv.ID != 2 {
		t.Fatalf("%+v", iv)
	}
	gap := Event{ID: "g", Intervals: []Interval{{Start: now0, End: now0.Add(time.Minute)}, {Start: now0.Add(time.Hour), End: now0.Add(2 * time.Hour)}}, Start: now0, End: now0.Add(2 * time.Hour)}
	if _, ok := gap.IntervalAt(now0.Add(30 * time.Minute)); ok || gap.StatusAt(now0.Add(30*time.Minute)) != StatusActive {
		t.Fatal("gap")
	}
	zero := Event{ID: "z", Intervals: []Interval{{Start: now0, End: now0}}, Start: now0, End: now0}
	if _, ok := zero.IntervalAt(now0); ok {
		t.Fatal("zero-length interval in force")
	}
}

func TestPrices(t *testing.T) {
	day := mk("day", 10, 0, 0, Interval{})
	day.Intervals = nil
	for i := 0; i < 4; i++ {
		s := now0.Add(time.Duration(i) * time.Hour)
		day.Intervals = append(day.Intervals, Interval{ID: i, Start: s, End: s.Add(time.Hour), Price: fp([]float64{0.20, 0.21, 0.22, 0.23}[i]), ExportPrice: fp(0.05)})
	}
	day.Currency = "EUR"
	// A higher-priority event overrides 01:30-02:30 import prices only.
	spike := mk("spike", 1, 90, 60, Interval{Price: fp(0.9)})
	spike.Currency = "EUR"
	cancelled := mk("gone", 0, 0, 240, Interval{Price: fp(5)})
	cancelled.Cancelled = true
	open := mk("open", 20, 240, 0, Interval{ExportPrice: fp(0.01)})
	open.Intervals[0].End = time.Time{}

	ps := Prices([]Event{day, spike, cancelled, open})
	type p struct {
		s, e   int // minutes
		v      float64
		export bool
	}
	want := []p{
		{0, 60, 0.20, false}, {0, 60, 0.05, true},
		{60, 90, 0.21, false}, {60, 120, 0.05, true},
		{90, 150, 0.9, false},
		{120, 180, 0.05, true},
		{150, 180, 0.22, false},
		{180, 240, 0.23, false}, {180, 240, 0.05, true},
		{240, -1, 0.01, true},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d prices: %+v", len(ps), ps)
	}
	for i, w := range want {
		g := ps[i]
		end := now0.Add(time.Duration(w.e) * time.Minute)
		if w.e < 0 {
			end = OpenEnd
		}
		if !g.Start.Equal(now0.Add(time.Duration(w.s)*time.Minute)) || !g.End.Equal(end) || g.Value != w.v || g.Export != w.export {
			t.Errorf("price %d = %v-%v %v export=%v (%s); want %+v", i, g.Start.Sub(now0), g.End.Sub(now0), g.Value, g.Export, g.EventID, w)
		}
	}
}

func TestNextBoundary(t *testing.T) {
	evs := []Event{mk("a", 0, 10, 60, Interval{}), mk("b", 0, -10, 15, Interval{})}
	if n, ok := NextBoundary(evs, now0); !ok || !n.Equal(now0.Add(5*time.Minute)) {
		t.Fatalf("%v %v", n, ok)
	}
	if _, ok := NextBoundary(evs, now0.Add(3*time.Hour)); ok {
		t.Fatal("boundary after the end")
	}
}
