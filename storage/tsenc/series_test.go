package tsenc

import (
	"math"
	"math/rand/v2"
)

// Synthetic but realistic one-day series of a household, one point per
// minute unless stated otherwise. All are deterministic (fixed seeds).

const (
	day0   = int64(1767225600000) // 2026-01-01T00:00:00Z in ms
	minute = int64(60000)
)

func minutes(n int) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = day0 + int64(i)*minute
	}
	return ts
}

// dailyShape is a household load profile in [0,1]: low at night, a morning
// and a larger evening peak.
func dailyShape(min int) float64 {
	h := float64(min%1440) / 60
	g := func(mu, sigma float64) float64 { return math.Exp(-(h - mu) * (h - mu) / (2 * sigma * sigma)) }
	return 0.08 + 0.45*g(7.5, 1.2) + 0.25*g(12.5, 1.5) + 0.9*g(19, 2)
}

// seriesFlag: a constant flag / tariff register.
func seriesFlag(n int) [][]int64 {
	out := make([][]int64, n)
	for i := range out {
		out[i] = []int64{1}
	}
	return out
}

// seriesEnergy: an import register in Wh rising 0..40 Wh per minute
// (0..2.4 kW): daily shape, fridge cycling, noise and short kettle bursts,
// with the fractional Wh carried so the register is what a meter shows.
func seriesEnergy(n int, seed uint64) [][]int64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]int64, n)
	reg, frac := 12345678.0, 0.0
	kettle := 0
	for i := range out {
		w := 120 + 1500*dailyShape(i) // W
		if (i/17)%2 == 0 {
			w += 90 // fridge compressor
		}
		w += r.NormFloat64() * 40
		if kettle > 0 {
			w += 2000
			kettle--
		} else if r.Float64() < 0.004 {
			kettle = 3
		}
		w = max(0, min(w, 2400))
		frac += w / 60
		whole := math.Floor(frac)
		frac -= whole
		reg += whole
		out[i] = []int64{int64(reg)}
	}
	return out
}

// voltageSecond returns a 1 Hz voltage in 0.1 V: 2200 ± 30 daily swing,
// slow wander and measurement noise.
func voltageSecond(n int, seed uint64) []int64 {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]int64, n)
	wander := 0.0
	for i := range out {
		s := float64(i) / 86400 * 2 * math.Pi
		wander = 0.999*wander + r.NormFloat64()*0.3
		out[i] = int64(math.Round(2200 + 30*math.Sin(s-1) + wander + r.NormFloat64()*2))
	}
	return out
}

// powerSecond returns a 1 Hz power in 0.1 W: a random walk whose minute
// steps are about ±500, with occasional appliance jumps of 20000.
func powerSecond(n int, seed uint64) []int64 {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([]int64, n)
	p, on := int64(3000), false
	for i := range out {
		p += int64(r.IntN(131)) - 65
		if r.Float64() < 1.0/600 {
			on = !on
			if on {
				p += 20000
			} else {
				p -= 20000
			}
		}
		p = max(p, 0)
		out[i] = p
	}
	return out
}

// sample takes every 60th value (the minute sample) of a 1 Hz series.
func sample(sec []int64) [][]int64 {
	out := make([][]int64, len(sec)/60)
	for i := range out {
		out[i] = []int64{sec[i*60]}
	}
	return out
}

// rollup returns per-minute first, min, max, mean, last of a 1 Hz series.
func rollup(sec []int64) [][]int64 {
	out := make([][]int64, len(sec)/60)
	for i := range out {
		w := sec[i*60 : i*60+60]
		lo, hi, sum := w[0], w[0], int64(0)
		for _, v := range w {
			lo, hi, sum = min(lo, v), max(hi, v), sum+v
		}
		out[i] = []int64{w[0], lo, hi, int64(math.Round(float64(sum) / 60)), w[59]}
	}
	return out
}

func toPoints(ts []int64, vals [][]int64) []Point {
	pts := make([]Point, len(vals))
	for i := range pts {
		pts[i] = Point{T: ts[i], V: vals[i]}
	}
	return pts
}
