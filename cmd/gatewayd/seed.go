package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/devices/sim"
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
// registers meet the meter's at now, with the simulated appliances (run
// without control: the time before the gateway) inside it. Energy
// registers go in as the legal minute freezes the link would have read;
// power, one value a minute (the minute's mean), as legal like the link's
// own power reads. (Seeded as derived, it hid behind the live legal power
// series after the first commit: a query shows the legal series of a
// quantity when there is one.) The appliances' own counters and power go
// in as the registry publishes them (derived), and their counters at now
// are returned for the live appliances to continue from.
// It does nothing (and returns nil) when the database has data.
func seedHistory(cfg config.Config, span time.Duration, now time.Time, log *slog.Logger) (map[energy.DeviceID]int64, error) {
	st, err := storage.Open(storeOptions(cfg, log.With("sub", "seed")))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if res, err := st.QuerySeries("meter", energy.ImportEnergy, now.Add(-span), now, 1); err == nil && len(res.Points) > 0 {
		log.Info("demo history: the database has data already; not seeding")
		return nil, nil
	}
	t0 := time.Now()
	var power []int64
	var counters map[energy.DeviceID]int64
	from := now.Truncate(time.Minute).Add(-span)
	power, counters, err = seedAppliances(st, from, now.Truncate(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("demo history: %w", err)
	}
	extra := func(t time.Time) int64 {
		return power[min(max(0, int(t.Sub(from)/time.Minute)), len(power)-1)]
	}
	model := emul.NewModel(fixedClock{now.Truncate(time.Minute)}, emul.ModelConfig{History: span, Retain: span, Seed: 1, Extra: extra})
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
				return nil, fmt.Errorf("demo history: %w", err)
			}
			rs = rs[:0]
		}
	}
	for {
		more, err := st.Maintain()
		if err != nil {
			return nil, fmt.Errorf("demo history: %w", err)
		}
		if !more {
			break
		}
	}
	log.Info("demo history seeded", "span", span, "minutes", len(snaps), "took", time.Since(t0).Round(time.Millisecond))
	return counters, nil
}

// stepClock is a clock the seeder moves by hand.
type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time                        { return c.t }
func (c *stepClock) NewTimer(d time.Duration) energy.Timer { return energy.SystemClock{}.NewTimer(d) }

// seedAppliances runs the simulated appliances without control over
// [from, to] minute by minute and stores what the registry would have
// published. It returns their total power per minute (index 0 = from)
// and their energy counters at to.
func seedAppliances(st *storage.Store, from, to time.Time) ([]int64, map[energy.DeviceID]int64, error) {
	clk := &stepClock{from}
	reg := devices.New()
	home, err := sim.New(clk, sim.Config{Dumb: true}, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	const batch = 1440 * 8
	power := make([]int64, 0, int(to.Sub(from)/time.Minute)+1)
	last := map[energy.DeviceID]time.Time{}
	var rs []energy.Reading
	for t := from; !t.After(to); t = t.Add(time.Minute) {
		clk.t = t
		home.Step()
		power = append(power, home.PowerW(t))
		rs = append(rs, reg.Readings(t, last)...)
		if len(rs) >= batch || t.Add(time.Minute).After(to) {
			for i := range rs {
				rs[i].Source = "demo seed"
			}
			st.Append(rs)
			if err := st.Commit(); err != nil {
				return nil, nil, err
			}
			rs = rs[:0]
		}
	}
	counters := map[energy.DeviceID]int64{}
	for _, d := range reg.Devices() {
		counters[d.ID] = d.State.EnergyWh
	}
	return power, counters, nil
}
