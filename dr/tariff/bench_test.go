package tariff

import (
	"testing"
	"time"
)

// A year of slots of the Chinese four-band tariff.
func BenchmarkSlotsYear(b *testing.B) {
	tr := mustParse(b, cnTariff)
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, tr.Location())
	to := from.AddDate(1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		s, err := tr.Slots(from, to, nil)
		if err != nil || len(s) != 365*96 {
			b.Fatal(len(s), err)
		}
	}
}

// A month of 15-minute usage with tiers, fees, demand and a dynamic feed
// of day-ahead prices, per day.
func BenchmarkCostsMonth(b *testing.B) {
	tr := mustParse(b, `tariff:
  timezone: Europe/Berlin
  currency: EUR
  import:
    dynamic:
      provider: http
      fallback:
        tou:
          default: 0.30
          zones:
            - { hours: "0-6", price: 0.20, band: night }
    charges: 0.10
    chargesZones:
      - { hours: "17-20", price: 0.15, band: HT }
    tax: 0.20
    tiers:
      period: monthly
      steps: [{startKWh: 0, adder: 0}, {startKWh: 200, adder: 0.05}]
  export:
    fixed: 0.08
  fees: {daily: 0.45}
  demand: {monthlyPeakPerKW: 5}
`)
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, tr.Location())
	to := from.AddDate(0, 1, 0)
	var dyn []Price
	var u []Usage
	for s := from; s.Before(to); s = s.Add(SlotDuration) {
		dyn = append(dyn, Price{Start: s, End: s.Add(SlotDuration), Value: float64(s.Hour()) / 100})
		u = append(u, Usage{Start: s, End: s.Add(SlotDuration), ImportKWh: 0.2, ExportKWh: 0.05})
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := tr.Costs(u, Day, dyn, 0)
		if err != nil || len(r.Steps) != 31 {
			b.Fatal(err)
		}
	}
}
