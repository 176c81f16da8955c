package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
)

// Seeded power history stays visible once the live link commits its own
// (legal) power readings.
func TestSeedHistorySurvivesLiveCommit(t *testing.T) {
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	now := time.Now().Truncate(time.Minute)
	if err := seedHistory(cfg, 3*time.Hour, now, slog.New(slog.DiscardHandler)); err != nil {
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
	if err := seedHistory(cfg, 3*time.Hour, now, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
}
