package tariff

import (
	"math/rand/v2"
	"testing"
	"time"
)

// flatten agrees with a minute-by-minute reference over random, heavily
// overlapping prices, for both the sorted fast path and the heap.
func TestFlattenMatchesBruteForce(t *testing.T) {
	base := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		n := 1 + rng.IntN(12)
		dyn := make([]Price, n)
		for i := range dyn {
			if round%2 == 0 { // disjoint, sorted: the fast path
				dyn[i] = Price{Start: at(i * 20), End: at(i*20 + 1 + rng.IntN(20)), Value: float64(rng.IntN(5))}
			} else {
				s := rng.IntN(180)
				dyn[i] = Price{Start: at(s), End: at(s + 1 + rng.IntN(90)), Value: float64(rng.IntN(5)), Fetched: at(rng.IntN(3)), Export: rng.IntN(4) == 0}
			}
		}
		from, to := at(rng.IntN(30)), at(150+rng.IntN(150))
		segs := flatten(dyn, false, from, to)
		for i := 1; i < len(segs); i++ {
			if segs[i].start.Before(segs[i-1].end) || !segs[i].end.After(segs[i].start) {
				t.Fatalf("round %d: segments overlap or are empty: %+v", round, segs)
			}
		}
		for m := from; m.Before(to); m = m.Add(time.Minute) {
			want, ok := 0.0, false
			best := -1
			for i, p := range dyn {
				if p.Export || m.Before(p.Start) || !m.Before(p.End) {
					continue
				}
				if best < 0 || !p.Fetched.Before(dyn[best].Fetched) {
					best = i
				}
			}
			if best >= 0 {
				want, ok = dyn[best].Value, true
			}
			got, gotOK := 0.0, false
			for _, s := range segs {
				if !m.Before(s.start) && m.Before(s.end) {
					got, gotOK = s.value, true
				}
			}
			if ok != gotOK || got != want {
				t.Fatalf("round %d at %s: got %v %v, want %v %v\nprices %+v\nsegs %+v", round, m.Sub(base), got, gotOK, want, ok, dyn, segs)
			}
		}
	}
}
