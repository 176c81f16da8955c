package tsenc

import (
	"testing"
)

func benchData(cols int) []Point {
	ts := minutes(1440)
	if cols == 1 {
		return toPoints(ts, sample(powerSecond(1440*60, 1)))
	}
	return toPoints(ts, rollup(powerSecond(1440*60, 1)))
}

func BenchmarkEncode(b *testing.B) {
	for _, cols := range []int{1, 5} {
		pts := benchData(cols)
		name := map[int]string{1: "cols=1", 5: "cols=5"}[cols]
		b.Run(name, func(b *testing.B) {
			e, _ := NewEncoder(cols)
			var out []byte
			b.ReportAllocs()
			for b.Loop() {
				_ = e.Reset(cols)
				for _, p := range pts {
					if err := e.Append(p.T, p.V...); err != nil {
						b.Fatal(err)
					}
				}
				out = e.AppendBlock(out[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pts)), "ns/point")
			b.ReportMetric(float64(len(out))/float64(len(pts)), "B/point")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, cols := range []int{1, 5} {
		block, err := Encode(cols, benchData(cols))
		if err != nil {
			b.Fatal(err)
		}
		name := map[int]string{1: "cols=1", 5: "cols=5"}[cols]
		b.Run(name+"/Decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Decode(block); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1440), "ns/point")
		})
		b.Run(name+"/Iter", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				it, err := NewIter(block)
				if err != nil {
					b.Fatal(err)
				}
				for it.Next() {
				}
				if it.Err() != nil {
					b.Fatal(it.Err())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1440), "ns/point")
		})
	}
}

func BenchmarkMerge(b *testing.B) {
	pts := benchData(1)
	var old, fill []Point
	for i, p := range pts {
		if i%10 == 3 {
			fill = append(fill, p) // backfilled points
		} else {
			old = append(old, p)
		}
	}
	a, _ := Encode(1, old)
	c, _ := Encode(1, fill)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Merge(a, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pts)), "ns/point")
}
