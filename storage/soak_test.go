package storage

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// TestSoak runs the store for years on an injected clock: 5 series (a
// legal energy register with minute freezes, power, voltage, a flag and a
// derived HAN counter) sampled every minute, committed every 6 h, with
// retention and compaction running as in production. The stored data
// plateaus once every tier reaches its retention, and heap and goroutines
// stay flat. SOAK_YEARS sets the span (default 1 with shortened retention;
// `make soak` runs 15 years with the default retention).
func TestSoak(t *testing.T) {
	years := 1
	if v := os.Getenv("SOAK_YEARS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SOAK_YEARS=%q", v)
		}
		years = n
	}
	ret := Retention{Raw: 7 * 24 * time.Hour, Minute: 30 * 24 * time.Hour, Quarter: 90 * 24 * time.Hour}
	if years > 1 {
		ret = DefaultRetention()
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	s := openTest(t, clk, func(o *Options) { o.Retention = ret })
	type sample struct {
		at      time.Time
		live    int64
		all     int64
		file    int64
		heap    uint64
		gorouts int
	}
	var samples []sample
	measure := func() sample {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		stats, err := s.TierStats()
		if err != nil {
			t.Fatal(err)
		}
		// Tiers whose retention the run reaches must plateau; the
		// others (quarter in a 15-year run, day always) grow by design.
		span := time.Duration(years) * 365 * 24 * time.Hour
		var live, all int64
		for _, st := range stats {
			all += st.Bytes
			if r := s.retention(st.Tier); st.Tier == "all" || (r != 0 && r < span) {
				live += st.Bytes
			}
		}
		fi, _ := os.Stat(s.Path())
		return sample{clk.Now(), live, all, fi.Size(), ms.HeapAlloc, runtime.NumGoroutine()}
	}
	energyWh := int64(12345670)
	gasL := int64(0)
	total := years * 365 * 24 * 60
	for m := 0; m < total; m++ {
		at := t0.Add(time.Duration(m) * time.Minute)
		p := int64(300 + (m*37)%2500)
		energyWh += p / 60
		gasL += int64(m % 3)
		s.Append([]energy.Reading{
			{Device: "meter", Quantity: energy.ImportEnergy, Value: energy.D(energyWh, 0), Measured: at, Received: at, Legal: true, Minute: true},
			{Device: "meter", Quantity: energy.Power, Value: energy.D(p*10, -1), Measured: at, Received: at, Legal: true},
			{Device: "meter", Quantity: energy.Phase("voltage", 1), Value: energy.D(2200+int64(m%7), -1), Measured: at, Received: at, Legal: true},
			{Device: "meter", Quantity: energy.RelayOpen, Value: energy.D(0, 0), Measured: at, Received: at, Legal: true},
			{Device: "wisun:gas", Quantity: "volume_gas", Value: energy.D(gasL, 0), Measured: at, Received: at},
		})
		if m%360 == 359 {
			clk.Set(at.Add(time.Minute))
			if err := s.Commit(); err != nil {
				t.Fatal(err)
			}
			maintainAll(t, s)
		}
		if m%(30*24*60) == 0 && m > 0 {
			samples = append(samples, measure())
		}
	}
	for _, sm := range samples {
		t.Logf("%s: tiers under retention %d KiB, all data %d KiB, file %d KiB, heap %d KiB, %d goroutines",
			sm.at.Format("2006-01"), sm.live>>10, sm.all>>10, sm.file>>10, sm.heap>>10, sm.gorouts)
	}
	if p, err := s.Check(); err != nil || len(p) > 0 {
		t.Fatalf("check after soak: %v %v", p, err)
	}
	// Plateau: the second half of the run holds no more data than the
	// first half's peak after every tier reached its retention (+15 %).
	settle := int(ret.Quarter/(30*24*time.Hour)) + 1
	if years > 1 {
		settle = int(ret.Minute/(30*24*time.Hour)) + 1
	}
	var peak int64
	for _, sm := range samples[settle : settle+(len(samples)-settle)/2+1] {
		peak = max(peak, sm.live)
	}
	last := samples[len(samples)-1]
	if float64(last.live) > 1.15*float64(peak) {
		t.Errorf("stored data still growing: %d KiB at the end, %d KiB peak after settling", last.live>>10, peak>>10)
	}
	// The file holds the data plus bbolt's free pages and its growth
	// steps; it must not run away from the data (free pages are reused).
	if last.file > 4*last.all+8<<20 {
		t.Errorf("file of %d KiB for %d KiB of data", last.file>>10, last.all>>10)
	}
	mid := samples[len(samples)/2]
	if last.heap > 2*mid.heap+8<<20 || last.gorouts > mid.gorouts {
		t.Errorf("memory or goroutines not flat: heap %d -> %d KiB, goroutines %d -> %d", mid.heap>>10, last.heap>>10, mid.gorouts, last.gorouts)
	}
}
