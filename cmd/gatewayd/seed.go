package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/metering-link/emul"
	"github.com/gatewayd-project/gatewayd/storage"
)

// fixedClock is a clock standing at one instant (the seed's model).
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                        { return c.t }
func (c fixedClock) NewTimer(d time.Duration) energy.Timer { return energy.SystemClock{}.NewTimer(d) }

// seedHistory fills an empty demo database with span of simulated
// history up to now: the same household model as the demo meter, so the
// registers meet the meter's at now. Energy registers go in as the legal
// minute freezes the link would have read; power, one value a minute (the
// minute's mean), as legal like the link's own power reads. (Seeded as
// derived, it hid behind the live legal power series after the first
// commit: a query shows the legal series of a quantity when there is one.)
// It does nothing when the database has data.
func seedHistory(cfg config.Config, span time.Duration, now time.Time, log *slog.Logger) error {
	st, err := storage.Open(storeOptions(cfg, log.With("sub", "seed")))
	if err != nil {
		return err
	}
	defer st.Close()
	if res, err := st.QuerySeries("meter", energy.ImportEnergy, now.Add(-span), now, 1); err == nil && len(res.Points) > 0 {
		log.Info("demo history: the database has data already; not seeding")
		return nil
	}
	t0 := time.Now()
	model := emul.NewModel(fixedClock{now.Truncate(time.Minute)}, emul.ModelConfig{History: span, Retain: span, Seed: 1})
	snaps := model.History(now.Add(-span), now)
	const batch = 1440 * 3
	rs := make([]energy.Reading, 0, batch+3)
	for i, s := range snaps {
		if i > 0 {
			prev := snaps[i-1]
			dE := (s.ImportMWh - prev.ImportMWh) - (s.ExportMWh - prev.ExportMWh) // mWh in the minute
			rs = append(rs, energy.Reading{Device: "meter", Quantity: energy.Power, Value: energy.D(dE*60, -3),
				Measured: prev.Time, Received: prev.Time, Legal: true, Source: "demo seed"})
		}
		for _, r := range []struct {
			q energy.Quantity
			v int64
		}{{energy.ImportEnergy, s.ImportMWh}, {energy.ExportEnergy, s.ExportMWh}} {
			rs = append(rs, energy.Reading{Device: "meter", Quantity: r.q, Value: energy.D(r.v, -3),
				Measured: s.Time, Received: s.Time, Legal: true, Minute: true, Backfilled: true, Source: "demo seed"})
		}
		if len(rs) >= batch || i == len(snaps)-1 {
			st.Append(rs)
			if err := st.Commit(); err != nil {
				return fmt.Errorf("demo history: %w", err)
			}
			rs = rs[:0]
		}
	}
	for {
		more, err := st.Maintain()
		if err != nil {
			return fmt.Errorf("demo history: %w", err)
		}
		if !more {
			break
		}
	}
	log.Info("demo history seeded", "span", span, "minutes", len(snaps), "took", time.Since(t0).Round(time.Millisecond))
	return nil
}
