package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// BenchmarkIngest: readings/s through Append + Commit in batches of 10000
// (20 series of 1 Hz samples). Target >= 200k readings/s.
func BenchmarkIngest(b *testing.B) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	s := openTest(b, clk, nil)
	qs := make([]energy.Quantity, 20)
	for i := range qs {
		qs[i] = energy.Quantity(fmt.Sprintf("power_%d", i))
	}
	batch := make([]energy.Reading, 0, 10000)
	sec := 0
	b.ResetTimer()
	for n := 0; n < b.N; {
		batch = batch[:0]
		for len(batch) < cap(batch) {
			at := t0.Add(time.Duration(sec) * time.Second)
			for _, q := range qs {
				batch = append(batch, energy.Reading{Device: "meter", Quantity: q, Value: energy.D(int64(1000+sec%97), 0), Measured: at, Received: at, Legal: true})
			}
			sec++
		}
		s.Append(batch)
		clk.Set(t0.Add(time.Duration(sec) * time.Second))
		if err := s.Commit(); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
}

// BenchmarkQueryYear: one year of a power series at 1-minute resolution
// (stored as minute, quarter and day rollups), queried as 1000 points.
// Target <= 20 ms.
func BenchmarkQueryYear(b *testing.B) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	s := openTest(b, clk, func(o *Options) { o.Retention = Retention{Raw: time.Hour, Minute: 2 * 365 * 24 * time.Hour} })
	// Feed one reading per minute for a year, committing daily.
	for d := 0; d < 365; d++ {
		rs := make([]energy.Reading, 0, 1440)
		for m := 0; m < 1440; m++ {
			at := t0.Add(time.Duration(d*1440+m) * time.Minute)
			rs = append(rs, energy.Reading{Device: "meter", Quantity: energy.Power, Value: energy.D(int64(500+(d*1440+m)%1777), 0), Measured: at, Received: at})
		}
		s.Append(rs)
		clk.Set(t0.Add(time.Duration(d+1) * 24 * time.Hour).Add(time.Minute))
		if err := s.Commit(); err != nil {
			b.Fatal(err)
		}
		maintainAll(b, s)
	}
	from, to := t0, t0.Add(365*24*time.Hour)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.QuerySeries("meter", energy.Power, from, to, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Points) < 900 {
			b.Fatalf("%d points from tier %s", len(r.Points), r.Tier)
		}
	}
}
