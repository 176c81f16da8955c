package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/devices/sim"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
)

// Seeded power history stays visible once the live link commits its own
// (legal) power readings.
func TestSeedHistorySurvivesLiveCommit(t *testing.T) {
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	now := time.Now().Truncate(time.Minute)
	if _, err := seedHistory(cfg, 3*time.Hour, now, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(storeOptions(cfg, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func() int {
		r, err := st.QuerySeries("meter", energy.Power, now.Add(-3*time.Hour), now.Add(time.Minute), 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Points)
	}
	before := count()
	if before < 170 {
		t.Fatalf("seeded %d power points for 3 h", before)
	}
	// What the link publishes: legal power, now.
	st.Append([]energy.Reading{{Device: "meter", Quantity: energy.Power, Value: energy.D(4321, -1),
		Measured: now.Add(10 * time.Second), Received: now.Add(10 * time.Second), Legal: true, Source: "dlt645"}})
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	if after := count(); after < before {
		t.Fatalf("after a live commit %d power points, before %d", after, before)
	}
	// Seeding again into a database with data does nothing.
	st.Close()
	if c, err := seedHistory(cfg, 3*time.Hour, now, slog.New(slog.DiscardHandler)); err != nil || c != nil {
		t.Fatal(c, err)
	}
}

// The seeded appliances are inside the household: each has its own
// derived history, their energy is part of the meter's, and the live
// appliances continue from their counters.
func TestSeedHistoryAppliances(t *testing.T) {
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	now := time.Now().Truncate(time.Minute)
	counters, err := seedHistory(cfg, 50*time.Hour, now, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(storeOptions(cfg, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	y, m, d := now.AddDate(0, 0, -1).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.Local)
	kwh := func(id energy.DeviceID) float64 {
		t.Helper()
		c, err := st.Consumption(id, energy.ImportEnergy, day, day.AddDate(0, 0, 1), storage.StepDay)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if len(c.Intervals) != 1 || c.Intervals[0].Value == nil {
			t.Fatalf("%s: %+v", id, c.Intervals)
		}
		return c.Intervals[0].Value.Float64() / 1000
	}
	var apps float64
	for _, id := range []energy.DeviceID{sim.EV, sim.Dishwasher, sim.WaterHeater, sim.HeatPump} {
		apps += kwh(id)
		if counters[id] <= 0 {
			t.Errorf("%s: counter at now %d", id, counters[id])
		}
	}
	// A day: the EV's 14 kWh, the dishwasher's 1.6, the water heater's
	// 5.5 plus losses, the heat pump's 24 (20 of 30 minutes at 1.5 kW).
	if ev := kwh(sim.EV); ev < 13.9 || ev > 14.1 {
		t.Errorf("EV %.2f kWh a day, want 14", ev)
	}
	if apps < 40 {
		t.Errorf("appliances %.1f kWh a day", apps)
	}
	if meter := kwh("meter"); meter < apps {
		t.Errorf("meter import %.1f kWh < the appliances' %.1f kWh: they are not inside the household", meter, apps)
	}
}
