package storage

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/metering-link/emul"
)

// procIO returns a counter of /proc/self/io ("write_bytes", "wchar").
func procIO(t testing.TB, field string) int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+": "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// referenceHome feeds the store what the demo's metering link publishes
// for the emulated household: 15 instantaneous quantities every second and
// 28 registers, status values and counters every minute (the legal minute
// freeze), for the given duration, committing every 60 s.
func referenceHome(tb testing.TB, s *Store, clk *clocktest.Fake, model *emul.Model, dur time.Duration) {
	start := clk.Now()
	inst := func(st emul.State, at time.Time) []energy.Reading {
		rs := []energy.Reading{{Quantity: energy.Power, Value: energy.D(st.PowerMW[0]/100, -1)}}
		for p := 1; p <= 3; p++ {
			rs = append(rs,
				energy.Reading{Quantity: energy.Phase("power", p), Value: energy.D(st.PowerMW[p]/100, -1)},
				energy.Reading{Quantity: energy.Phase("voltage", p), Value: energy.D(st.VoltageMV[p-1]/100, -1)},
				energy.Reading{Quantity: energy.Phase("current", p), Value: energy.D(st.CurrentMA[p-1], -3)},
				energy.Reading{Quantity: energy.Phase("power_factor", p), Value: energy.D(st.PowerFactorMilli[p], -3)})
		}
		rs = append(rs, energy.Reading{Quantity: energy.PowerFactor, Value: energy.D(st.PowerFactorMilli[0], -3)},
			energy.Reading{Quantity: energy.Frequency, Value: energy.D(st.FrequencyMHz/10, -2)})
		return rs
	}
	minute := func(st emul.State) []energy.Reading {
		var rs []energy.Reading
		for t := 0; t <= 4; t++ {
			qi, qe := energy.ImportEnergy, energy.ExportEnergy
			if t > 0 {
				qi, qe = energy.Tariff(qi, t), energy.Tariff(qe, t)
			}
			rs = append(rs, energy.Reading{Quantity: qi, Value: energy.D(st.ImportMWh[t]/10000, 1), Minute: true},
				energy.Reading{Quantity: qe, Value: energy.D(st.ExportMWh[t]/10000, 1), Minute: true})
		}
		rs = append(rs,
			energy.Reading{Quantity: energy.CombinedEnergy, Value: energy.D((st.ImportMWh[0]-st.ExportMWh[0])/10000, 1), Minute: true},
			energy.Reading{Quantity: energy.ReactiveEnergy1, Value: energy.D(st.Reactive1MVarh/10000, 1), Minute: true},
			energy.Reading{Quantity: energy.ReactiveEnergy2, Value: energy.D(st.Reactive2MVarh/10000, 1), Minute: true},
			energy.Reading{Quantity: energy.ReactivePower, Value: energy.D(st.ReactiveMVar[0]/100, -1)},
			energy.Reading{Quantity: energy.ApparentPower, Value: energy.D(st.ApparentMVA[0]/100, -1)},
			energy.Reading{Quantity: energy.RelayOpen, Value: energy.D(0, 0)},
			energy.Reading{Quantity: energy.ClockBatteryLow, Value: energy.D(0, 0)},
			energy.Reading{Quantity: energy.ReadingBatteryLow, Value: energy.D(0, 0)},
			energy.Reading{Quantity: energy.PowerReversed, Value: energy.D(b2i(st.PowerMW[0] < 0), 0)},
			energy.Reading{Quantity: energy.MeterTimeOffset, Value: energy.D(0, -3)},
			energy.Reading{Quantity: energy.PowerDownCount, Value: energy.D(st.PowerDownCount, 0)})
		for p := 1; p <= 3; p++ {
			rs = append(rs, energy.Reading{Quantity: energy.Phase("reactive_power", p), Value: energy.D(st.ReactiveMVar[p]/100, -1)},
				energy.Reading{Quantity: energy.Phase("apparent_power", p), Value: energy.D(st.ApparentMVA[p]/100, -1)})
		}
		return rs
	}
	for sec := 0; sec < int(dur/time.Second); sec++ {
		at := start.Add(time.Duration(sec) * time.Second)
		clk.Set(at)
		st := model.State()
		rs := inst(st, at)
		if sec%60 == 0 {
			rs = append(rs, minute(st)...)
		}
		for i := range rs {
			rs[i].Device, rs[i].Measured, rs[i].Received, rs[i].Legal = "meter", at.Add(200*time.Millisecond), at.Add(200*time.Millisecond), true
		}
		s.Append(rs)
		if sec%60 == 59 {
			clk.Set(at.Add(time.Second))
			if err := s.Commit(); err != nil {
				tb.Fatal(err)
			}
			maintainAll(tb, s)
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// BenchmarkReferenceHome simulates two days of the reference home (43
// quantities, 15 of them at 1 Hz; commits every 60 s) and reports the
// bytes the process wrote per day (/proc/self/io write_bytes and wchar,
// fsynced log records and bbolt flushes included), then lets the periods
// close and reports the stored bytes per point of each tier once compacted.
// Targets: <= 50 MiB/day of writes; <= 2 B/point for 1-minute series.
func BenchmarkReferenceHome(b *testing.B) {
	for i := 0; i < b.N; i++ {
		t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		clk := clocktest.New(t0)
		s := openTest(b, clk, nil)
		model := emul.NewModel(clk, emul.ModelConfig{Location: time.UTC})
		w0, c0 := procIO(b, "write_bytes"), procIO(b, "wchar")
		referenceHome(b, s, clk, model, 48*time.Hour)
		b.ReportMetric(float64(procIO(b, "write_bytes")-w0)/2/(1<<20), "MiB-write_bytes/day")
		b.ReportMetric(float64(procIO(b, "wchar")-c0)/2/(1<<20), "MiB-wchar/day")
		// Close every period and compact.
		clk.Advance(26 * time.Hour)
		if err := s.Flush(); err != nil {
			b.Fatal(err)
		}
		maintainAll(b, s)
		stats, err := s.TierStats()
		if err != nil {
			b.Fatal(err)
		}
		var mb, mp int64
		for _, st := range stats {
			if st.Points > 0 {
				b.ReportMetric(st.BytesPerPoint(), "B/pt-"+st.Class+"-"+st.Tier)
			}
			if st.Tier == "minute" {
				mb += st.Bytes
				mp += st.Points
			}
		}
		b.ReportMetric(float64(mb)/float64(max(mp, 1)), "B/pt-minute-all")
		fi, _ := os.Stat(s.Path())
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-db-file")
	}
}
