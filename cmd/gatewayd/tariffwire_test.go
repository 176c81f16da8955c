package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/storage"
	"github.com/gatewayd-project/gatewayd/web"
)

const testTariff = `tariff:
  timezone: Asia/Shanghai
  currency: CNY
  import:
    tou:
      default: 0.50
      zones:
        - {hours: "0-8", price: 0.30, band: valley}
  export:
    fixed: 0.10
  fees:
    daily: 1.0
`

// The cost of a day is the legal import and export registers priced per
// quarter hour: checked against numbers worked out by hand.
func TestTariffServiceCosts(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	clk := clocktest.New(day.Add(48 * time.Hour))
	st, err := storage.Open(storage.Options{Path: filepath.Join(t.TempDir(), "g.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// 1 kWh import every hour (1000 Wh/h), 0.5 kWh export per hour from
	// 10:00 to 14:00, over the whole day, as legal minute freezes.
	var imp, exp int64 = 5_000_000, 100_000
	dw := 700.0
	var rs []energy.Reading
	for m := -60; m <= 25*60; m++ {
		at := day.Add(time.Duration(m) * time.Minute)
		if m > -60 {
			imp += 1000 * 1000 / 60 // mWh per minute
			if h := at.Add(-time.Minute).In(loc).Hour(); h >= 10 && h < 14 && at.Day() == day.Day() {
				exp += 500 * 1000 / 60
			}
		}
		// A dishwasher with its own meter: 2 kW from 02:00 to 03:00 and
		// from 19:00 to 19:30 (derived readings, as the registry
		// publishes them).
		if m >= 0 && m <= 24*60 {
			h := at.Add(-time.Minute).In(loc).Hour()
			if m > 0 && (h == 2 || h == 19 && at.Add(-time.Minute).Minute() < 30) {
				dw += 2000 / 60.0
			}
			rs = append(rs, energy.Reading{Device: "dishwasher", Quantity: energy.ImportEnergy, Value: energy.D(int64(dw), 0), Measured: at, Received: at})
		}
		for _, r := range []struct {
			q energy.Quantity
			v int64
		}{{energy.ImportEnergy, imp}, {energy.ExportEnergy, exp}} {
			rs = append(rs, energy.Reading{Device: "meter", Quantity: r.q, Value: energy.D(r.v, -3), Measured: at, Received: at, Legal: true, Minute: true})
		}
	}
	st.Append(rs)
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	ts, err := newTariffService(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Costs(day, day.Add(24*time.Hour), "day", ""); err != web.ErrNoTariff {
		t.Fatalf("costs without tariff: %v", err)
	}
	if _, probs, _ := ts.SetTariff([]byte(strings.Replace(testTariff, "0-8", "0-25", 1)), "en"); len(probs) != 1 || probs[0].Line != 8 {
		t.Fatalf("bad tariff problems: %+v", probs)
	}
	if doc, probs, err := ts.SetTariff([]byte(testTariff), "en"); err != nil || len(probs) > 0 || !doc.Configured || doc.Currency != "CNY" {
		t.Fatalf("set: %+v %v %v", doc, probs, err)
	}
	// It survives a restart (kept in the store).
	ts, err = newTariffService(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ts.Costs(day, day.Add(24*time.Hour), "day", "")
	if err != nil {
		t.Fatal(err)
	}
	c := out.(costsJSON)
	if len(c.Steps) != 1 {
		t.Fatalf("%d steps", len(c.Steps))
	}
	s := c.Steps[0]
	near := func(name string, got, want float64) {
		if d := got - want; d > 0.01 || d < -0.01 {
			t.Errorf("%s = %.4f, want %.4f", name, got, want)
		}
	}
	near("import kWh", s.ImportKWh, 24)
	near("export kWh", s.ExportKWh, 2)
	near("import cost", s.ImportCost, 8*0.30+16*0.50) // 10.40
	near("export credit", s.ExportCredit, 2*0.10)
	near("fixed", s.Fixed, 1)
	near("total", s.Total, 10.40-0.20+1)
	if s.Missing != 0 {
		t.Errorf("missing slots %d", s.Missing)
	}
	bands := map[string]float64{}
	for _, b := range s.Bands {
		bands[b.Band] = b.KWh
	}
	near("valley kWh", bands["valley"], 8)
	// The dishwasher's own energy: 2 kWh at 0.30 and 1 kWh at 0.50, no
	// daily fee, no export credit.
	out, err = ts.Costs(day, day.Add(24*time.Hour), "day", "dishwasher")
	if err != nil {
		t.Fatal(err)
	}
	c = out.(costsJSON)
	if c.Device != "dishwasher" || c.EnergySource != "device meter (derived)" || len(c.Steps) != 1 {
		t.Fatalf("device costs %+v", c)
	}
	s = c.Steps[0]
	near("device import kWh", s.ImportKWh, 3)
	near("device import cost", s.ImportCost, 2*0.30+1*0.50)
	near("device total", s.Total, 1.10)
	if s.Fixed != 0 || s.ExportCredit != 0 {
		t.Errorf("household charges on a device: %+v", s)
	}
	if _, err := ts.Costs(day, day.Add(24*time.Hour), "day", "no-such-device"); err == nil {
		t.Error("costs of an unknown device: no error")
	} else if bq, ok := err.(*web.ErrBadQuery); !ok || bq.Code != "no_data" {
		t.Errorf("costs of an unknown device: %v", err)
	}
	// Removing the tariff: costs say so again.
	if doc, _, err := ts.SetTariff([]byte("  \n"), "en"); err != nil || doc.Configured {
		t.Fatalf("clear: %+v %v", doc, err)
	}
	if _, err := ts.Prices(day, day.Add(time.Hour)); err != web.ErrNoTariff {
		t.Fatalf("prices after clear: %v", err)
	}
}
