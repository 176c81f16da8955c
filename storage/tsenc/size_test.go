package tsenc

import (
	"math/rand/v2"
	"testing"
)

func TestBytesPerPoint(t *testing.T) {
	const n = 1440
	ts := minutes(n)
	// Irregular 1 s raw samples with a few ms of jitter.
	r := rand.New(rand.NewPCG(9, 9))
	jitter := make([]int64, n)
	for i := range jitter {
		jitter[i] = day0 + int64(i)*1000 + int64(r.IntN(9)) - 4
	}
	cases := []struct {
		name  string
		ts    []int64
		vals  [][]int64
		limit float64 // bytes per point; 0 = report only
	}{
		{"a flag constant", ts, seriesFlag(n), 0.3},
		{"b energy counter Wh", ts, seriesEnergy(n, 1), 1.2},
		{"c voltage 0.1V", ts, sample(voltageSecond(n*60, 1)), 1.6},
		{"d power 0.1W", ts, sample(powerSecond(n*60, 1)), 0},
		{"c voltage rollup x5", ts, rollup(voltageSecond(n*60, 1)), 0},
		{"d power rollup x5", ts, rollup(powerSecond(n*60, 1)), 0},
		{"flag 1s jittered ts", jitter, seriesFlag(n), 0},
	}
	for _, c := range cases {
		b, err := Encode(len(c.vals[0]), toPoints(c.ts, c.vals))
		if err != nil {
			t.Fatal(err)
		}
		bpp := float64(len(b)) / n
		t.Logf("%-22s %5d B  %.3f B/pt  %.3f B/value", c.name, len(b), bpp, bpp/float64(len(c.vals[0])))
		if c.limit > 0 && bpp > c.limit {
			t.Errorf("%s: %.3f B/pt > %.2f", c.name, bpp, c.limit)
		}
		_, pts, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pts {
			if p.T != c.ts[i] || !equalVals(p.V, c.vals[i]) {
				t.Fatalf("%s: point %d: got %d %v want %d %v", c.name, i, p.T, p.V, c.ts[i], c.vals[i])
			}
		}
	}
}

func equalVals(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
