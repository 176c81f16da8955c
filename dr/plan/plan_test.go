package plan

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

var day = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)

func hm(h, m int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// quarters builds 15-minute slots from 00:00, one per price.
func quarters(prices ...float64) []Slot {
	s := make([]Slot, len(prices))
	for i, p := range prices {
		s[i] = Slot{Start: day.Add(time.Duration(i) * 15 * time.Minute), End: day.Add(time.Duration(i+1) * 15 * time.Minute), Price: p}
	}
	return s
}

// flat is n quarters at price p, then overrides.
func flat(n int, p float64, set map[int]float64) []Slot {
	prices := make([]float64, n)
	for i := range prices {
		prices[i] = p
	}
	for i, v := range set {
		prices[i] = v
	}
	return quarters(prices...)
}

func runs(rs ...Run) []Run   { return rs }
func run(a, b time.Time) Run { return Run{a, b} }

func checkRuns(t *testing.T, r Result, want []Run) {
	t.Helper()
	if !slices.EqualFunc(r.Runs, want, func(a, b Run) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }) {
		t.Fatalf("runs\n got  %v\n want %v", fmtRuns(r.Runs), fmtRuns(want))
	}
}

func fmtRuns(rs []Run) []string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Start.Format("15:04:05")+"-"+r.End.Format("15:04:05"))
	}
	return s
}

func total(rs []Run) time.Duration {
	var d time.Duration
	for _, r := range rs {
		d += r.End.Sub(r.Start)
	}
	return d
}

// 2 kW for 30 min: the two cheapest quarters before the deadline.
func TestCheapestSlots(t *testing.T) {
	slots := flat(16, 0.30, map[int]float64{2: 0.10, 9: 0.12, 14: 0.05}) // 14 = 03:30, after the deadline
	r := Plan(hm(0, 0), slots, []Load{{Device: "ev", PowerW: 2000, RemainingWh: 1000, Deadline: hm(3, 0)}}, nil)[0]
	checkRuns(t, r, runs(run(hm(0, 30), hm(0, 45)), run(hm(2, 15), hm(2, 30))))
	if !r.Feasible || !near(r.CostEstimate, 2*0.25*0.10+2*0.25*0.12) {
		t.Errorf("feasible %v cost %v", r.Feasible, r.CostEstimate)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// Equal prices: the later slot wins (evcc).
func TestTiesToLater(t *testing.T) {
	slots := flat(16, 0.30, map[int]float64{1: 0.10, 5: 0.10, 11: 0.10})
	r := Plan(hm(0, 0), slots, []Load{{Device: "a", PowerW: 1000, RemainingWh: 500, Deadline: hm(4, 0)}}, nil)[0]
	checkRuns(t, r, runs(run(hm(1, 15), hm(1, 30)), run(hm(2, 45), hm(3, 0))))
	// Continuous on flat prices: the latest window.
	r = Plan(hm(0, 0), flat(16, 0.2, nil), []Load{{Device: "a", PowerW: 1000, RemainingWh: 500, Deadline: hm(3, 50), Continuous: true}}, nil)[0]
	checkRuns(t, r, runs(run(hm(3, 20), hm(3, 50))))
}

// The last slot taken covers more than needed: cut at its start if it is
// the earliest chosen (start as late as possible), else at its end.
func TestTrimLastSlot(t *testing.T) {
	load := []Load{{Device: "a", PowerW: 1500, RemainingWh: 1000, Deadline: hm(4, 0)}} // 40 min
	r := Plan(hm(0, 0), flat(16, 0.3, map[int]float64{4: 0.10, 8: 0.11, 2: 0.12}), load, nil)[0]
	checkRuns(t, r, runs(run(hm(0, 35), hm(0, 45)), run(hm(1, 0), hm(1, 15)), run(hm(2, 0), hm(2, 15))))
	r = Plan(hm(0, 0), flat(16, 0.3, map[int]float64{4: 0.10, 8: 0.11, 12: 0.12}), load, nil)[0]
	checkRuns(t, r, runs(run(hm(1, 0), hm(1, 15)), run(hm(2, 0), hm(2, 15)), run(hm(3, 0), hm(3, 10))))
}

// A continuous job takes the cheapest window, which may straddle slots.
func TestContinuousWindow(t *testing.T) {
	// 45 min at 2 kW. Cheapest single quarter is 01:00 but its neighbours
	// are dear; 02:15-03:00 is the cheapest block.
	slots := flat(16, 0.30, map[int]float64{4: 0.01, 9: 0.12, 10: 0.11, 11: 0.12})
	r := Plan(hm(0, 0), slots, []Load{{Device: "dw", PowerW: 2000, RemainingWh: 1500, Deadline: hm(4, 0), Continuous: true}}, nil)[0]
	checkRuns(t, r, runs(run(hm(2, 15), hm(3, 0))))
	if !near(r.CostEstimate, 2*0.25*(0.12+0.11+0.12)) {
		t.Errorf("cost %v", r.CostEstimate)
	}
	// Non-aligned length: 50 min straddling, aligned at the end of the
	// cheap run because the quarter after it is dearer than the one before.
	slots = flat(16, 0.30, map[int]float64{8: 0.1, 9: 0.1, 10: 0.1, 11: 0.4})
	r = Plan(hm(0, 0), slots, []Load{{Device: "dw", PowerW: 1200, RemainingWh: 1000, Deadline: hm(4, 0), Continuous: true}}, nil)[0]
	checkRuns(t, r, runs(run(hm(1, 55), hm(2, 45))))
}

// Headroom is shared: two 2 kW loads into slots with 3 kW of room.
func TestSharedHeadroom(t *testing.T) {
	slots := flat(16, 0.30, map[int]float64{4: 0.10, 5: 0.10, 6: 0.20, 7: 0.20})
	for i := range slots {
		slots[i].LimitW = 3000
	}
	slots[8].LimitW, slots[8].Price = -100, 0.01 // no headroom at all
	loads := []Load{
		{Device: "late", PowerW: 2000, RemainingWh: 1000, Deadline: hm(4, 0)},
		{Device: "soon", PowerW: 2000, RemainingWh: 1000, Deadline: hm(2, 0)}, // least slack: placed first
	}
	res := Plan(hm(0, 0), slots, loads, nil)
	checkRuns(t, res[1], runs(run(hm(1, 0), hm(1, 30))))
	checkRuns(t, res[0], runs(run(hm(1, 30), hm(2, 0))))
	// Never more than the headroom in any slot.
	for _, s := range slots {
		var w int64
		for i, r := range res {
			for _, x := range r.Runs {
				if x.Start.Before(s.End) && x.End.After(s.Start) {
					w += loads[i].PowerW
				}
			}
		}
		if s.LimitW != 0 && w > max(s.LimitW, 0) {
			t.Errorf("slot %v: %d W planned, headroom %d", s.Start.Format("15:04"), w, s.LimitW)
		}
	}
}

// Unreachable deadline: run now, not feasible; Want says run.
func TestInfeasibleRunsNow(t *testing.T) {
	now := hm(1, 7)
	r := Plan(now, flat(16, 0.3, nil), []Load{{Device: "a", PowerW: 1000, RemainingWh: 500, Deadline: hm(1, 30)}}, nil)[0]
	if r.Feasible {
		t.Fatal("feasible")
	}
	checkRuns(t, r, runs(run(now, now.Add(30*time.Minute))))
	if w := Want([]Result{r}, now); !w["a"] {
		t.Fatalf("want %v", w)
	}
	// Feasible in time but not in headroom: also now.
	slots := flat(16, 0.3, nil)
	for i := range slots {
		slots[i].LimitW = 500
	}
	r = Plan(hm(0, 0), slots, []Load{{Device: "a", PowerW: 1000, RemainingWh: 500, Deadline: hm(3, 0)}}, nil)[0]
	if r.Feasible || !r.Runs[0].Start.Equal(hm(0, 0)) {
		t.Fatalf("%+v", r)
	}
}

// Slots before now count from now; a deadline inside a slot counts up to it.
func TestPartialSlots(t *testing.T) {
	slots := flat(16, 0.30, map[int]float64{0: 0.05, 10: 0.10, 11: 0.20})
	// now 00:05: the 00:00 slot gives 10 min; the deadline 02:40 cuts the
	// 02:30 slot to 10 min; 30 min needed: the last 10 from the latest
	// 0.30 quarter (02:15), cut at its end as it is not the earliest.
	r := Plan(hm(0, 5), slots, []Load{{Device: "a", PowerW: 1000, RemainingWh: 500, Deadline: hm(2, 40)}}, nil)[0]
	checkRuns(t, r, runs(run(hm(0, 5), hm(0, 15)), run(hm(2, 15), hm(2, 25)), run(hm(2, 30), hm(2, 40))))
	if total(r.Runs) != 30*time.Minute {
		t.Fatalf("total %v", total(r.Runs))
	}
	// Continuous with the deadline mid-slot: window ends at the deadline at most.
	r = Plan(hm(0, 5), flat(16, 0.3, map[int]float64{10: 0.01}), []Load{{Device: "a", PowerW: 1000, RemainingWh: 250, Deadline: hm(2, 40), Continuous: true}}, nil)[0]
	checkRuns(t, r, runs(run(hm(2, 25), hm(2, 40))))
}

// A deadline past the known slots: within them if they suffice, else all
// usable known slots plus the rest just before the deadline.
func TestDeadlineBeyondSlots(t *testing.T) {
	slots := flat(16, 0.3, map[int]float64{3: 0.1}) // known until 04:00
	r := Plan(hm(0, 0), slots, []Load{{Device: "a", PowerW: 1000, RemainingWh: 250, Deadline: hm(9, 0)}}, nil)[0]
	checkRuns(t, r, runs(run(hm(0, 45), hm(1, 0))))
	r = Plan(hm(0, 0), slots, []Load{{Device: "a", PowerW: 1000, RemainingWh: 5000, Deadline: hm(9, 0)}}, nil)[0]
	checkRuns(t, r, runs(run(hm(0, 0), hm(4, 0)), run(hm(8, 0), hm(9, 0))))
	if !r.Feasible {
		t.Error("not feasible")
	}
	// Continuous 5 h: no known window; the latest one, reaching into the known slots.
	r = Plan(hm(0, 0), slots, []Load{{Device: "a", PowerW: 1000, RemainingWh: 7000, Deadline: hm(9, 0), Continuous: true}}, nil)[0]
	checkRuns(t, r, runs(run(hm(2, 0), hm(9, 0))))
	// No slots at all: the latest start (evcc's simple plan).
	r = Plan(hm(0, 0), nil, []Load{{Device: "a", PowerW: 1000, RemainingWh: 1000, Deadline: hm(9, 0)}}, nil)[0]
	checkRuns(t, r, runs(run(hm(8, 0), hm(9, 0))))
	// No slots, no deadline: now, or at Earliest.
	r = Plan(hm(0, 0), nil, []Load{{Device: "a", PowerW: 1000, RemainingWh: 1000, Earliest: hm(1, 0)}}, nil)[0]
	checkRuns(t, r, runs(run(hm(1, 0), hm(2, 0))))
	// Earliest excludes the cheap slot before it.
	r = Plan(hm(0, 0), slots, []Load{{Device: "a", PowerW: 1000, RemainingWh: 250, Earliest: hm(1, 0), Deadline: hm(4, 0)}}, nil)[0]
	checkRuns(t, r, runs(run(hm(3, 45), hm(4, 0))))
	// No deadline: within the known slots.
	r = Plan(hm(0, 0), slots, []Load{{Device: "a", PowerW: 1000, RemainingWh: 250}}, nil)[0]
	checkRuns(t, r, runs(run(hm(0, 45), hm(1, 0))))
}

// Re-planning with new prices moves the plan; a running continuous job
// keeps its block from now.
func TestReplan(t *testing.T) {
	load := Load{Device: "dw", PowerW: 2000, RemainingWh: 1000, Deadline: hm(4, 0), Continuous: true}
	r := Plan(hm(0, 0), flat(16, 0.3, map[int]float64{4: 0.1, 5: 0.1}), []Load{load}, nil)[0]
	checkRuns(t, r, runs(run(hm(1, 0), hm(1, 30))))
	r = Plan(hm(0, 0), flat(16, 0.3, map[int]float64{12: 0.1, 13: 0.1}), []Load{load}, nil)[0]
	checkRuns(t, r, runs(run(hm(3, 0), hm(3, 30))))
	// Started at 01:00; at 01:10 the prices move to 03:00: it is not split.
	load.Running, load.RemainingWh = true, 667
	r = Plan(hm(1, 10), flat(16, 0.3, map[int]float64{12: 0.1, 13: 0.1}), []Load{load}, nil)[0]
	checkRuns(t, r, runs(run(hm(1, 10), hm(1, 30).Add(time.Second)))) // 667 Wh at 2 kW: 20m01s
	if w := Want([]Result{r}, hm(1, 10)); !w["dw"] {
		t.Fatal("running job not wanted")
	}
}

// A uniform tier adder shifts every price alike and changes no placement.
func TestTierAdderNeutral(t *testing.T) {
	slots := flat(32, 0.3, map[int]float64{3: 0.12, 7: 0.1, 20: 0.11, 21: 0.09})
	loads := []Load{
		{Device: "a", PowerW: 2000, RemainingWh: 1500, Deadline: hm(8, 0)},
		{Device: "b", PowerW: 1000, RemainingWh: 700, Deadline: hm(8, 0), Continuous: true},
	}
	base := Plan(hm(0, 0), slots, loads, nil)
	for i := range slots {
		slots[i].Price += 0.05
	}
	tiered := Plan(hm(0, 0), slots, loads, nil)
	for i := range base {
		checkRuns(t, tiered[i], base[i].Runs)
	}
}

// Start randomisation: within MaxStartJitter of the unrandomised start,
// same run time, never past the deadline, reproducible, none when running.
func TestStartJitter(t *testing.T) {
	slots := flat(16, 0.3, map[int]float64{8: 0.1, 9: 0.1})
	load := Load{Device: "a", PowerW: 2000, RemainingWh: 1000, Deadline: hm(4, 0)} // 30 min at 02:00
	seen := map[time.Duration]bool{}
	for seed := range uint64(20) {
		r := Plan(hm(0, 0), slots, []Load{load}, rand.New(rand.NewPCG(seed, 1)))[0]
		off := r.Runs[0].Start.Sub(hm(2, 0))
		if off < 0 || off > MaxStartJitter || total(r.Runs) != 30*time.Minute || r.Runs[len(r.Runs)-1].End.After(load.Deadline) {
			t.Fatalf("seed %d: %v", seed, fmtRuns(r.Runs))
		}
		seen[off] = true
		again := Plan(hm(0, 0), slots, []Load{load}, rand.New(rand.NewPCG(seed, 1)))[0]
		checkRuns(t, again, r.Runs)
	}
	if len(seen) < 10 {
		t.Errorf("offsets not spread: %v", seen)
	}
	// The deadline right at the end of the cheap block: no room, no offset.
	load.Deadline = hm(2, 30)
	r := Plan(hm(0, 0), slots, []Load{load}, rand.New(rand.NewPCG(5, 1)))[0]
	checkRuns(t, r, runs(run(hm(2, 0), hm(2, 30))))
	load.Deadline, load.Running = hm(4, 0), true
	r = Plan(hm(0, 0), slots, []Load{load}, rand.New(rand.NewPCG(5, 1)))[0]
	checkRuns(t, r, runs(run(hm(2, 0), hm(2, 30))))
}

// DST spring-forward in Berlin: 92 quarter-hours, the job runs 60 real
// minutes across the missing hour.
func TestDSTBerlin(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	start := time.Date(2025, 3, 30, 0, 0, 0, 0, loc)
	end := time.Date(2025, 3, 31, 0, 0, 0, 0, loc)
	var slots []Slot
	for t := start; t.Before(end); t = t.Add(15 * time.Minute) {
		p := 0.30
		h, m, _ := t.Clock()
		if (h == 1 && m >= 30) || (h == 3 && m < 30) {
			p = 0.05 // 01:30-01:59 and 03:00-03:29 local: contiguous in real time
		}
		slots = append(slots, Slot{Start: t, End: t.Add(15 * time.Minute), Price: p})
	}
	if len(slots) != 92 {
		t.Fatalf("%d slots, want 92", len(slots))
	}
	deadline := time.Date(2025, 3, 30, 7, 0, 0, 0, loc)
	r := Plan(start, slots, []Load{{Device: "dw", PowerW: 2000, RemainingWh: 2000, Deadline: deadline, Continuous: true}}, nil)[0]
	if len(r.Runs) != 1 {
		t.Fatalf("runs %v", r.Runs)
	}
	got := r.Runs[0]
	if got.Start.In(loc).Format("15:04") != "01:30" || got.End.In(loc).Format("15:04") != "03:30" || got.End.Sub(got.Start) != time.Hour {
		t.Fatalf("run %v - %v", got.Start.In(loc), got.End.In(loc))
	}
	if !near(r.CostEstimate, 2*0.05) {
		t.Errorf("cost %v", r.CostEstimate)
	}
}

func TestDegenerateLoads(t *testing.T) {
	res := Plan(hm(0, 0), flat(4, 0.3, nil), []Load{
		{Device: "done", PowerW: 1000},
		{Device: "nopower", RemainingWh: 100},
	}, nil)
	if !res[0].Feasible || len(res[0].Runs) != 0 || res[1].Feasible || len(res[1].Runs) != 0 {
		t.Fatalf("%+v", res)
	}
	w := Want(res, hm(0, 0))
	if len(w) != 2 || w["done"] || w["nopower"] {
		t.Fatalf("want %v", w)
	}
}

func BenchmarkPlan96x20(b *testing.B) {
	prices := make([]float64, 96)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range prices {
		prices[i] = 0.1 + rng.Float64()*0.3
	}
	slots := quarters(prices...)
	for i := range slots {
		slots[i].LimitW = 11000
	}
	var loads []Load
	for i := range 20 {
		loads = append(loads, Load{
			Device: energy.DeviceID("d" + string(rune('a'+i))), PowerW: 1000 + int64(i)*300,
			RemainingWh: 1000 + int64(i)*500, Deadline: day.Add(time.Duration(8+i) * time.Hour),
			Continuous: i%3 == 0,
		})
	}
	jit := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	for b.Loop() {
		Plan(day, slots, loads, jit)
	}
}
