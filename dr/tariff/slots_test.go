package tariff

import (
	"errors"
	"math"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// local is a wall-clock time in the tariff's zone.
func local(tr *Tariff, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, tr.Location())
}

const cnTariff = `tariff:
  timezone: Asia/Shanghai
  currency: CNY
  import:
    tou:
      default: 0.62
      zones:
        - { price: 0.62, band: flat }
        - { hours: "8-11,18-23", price: 0.98, band: peak }
        - { hours: "0-8,23-0", price: 0.32, band: valley }
        - { months: "Jul-Aug,Dec-Jan", hours: "19-21", price: 1.18, band: sharp }
    tiers:
      period: annual
      anchor: "01-01"
      steps:
        - { startKWh: 0, adder: 0 }
        - { startKWh: 2760, adder: 0.05 }
        - { startKWh: 4800, adder: 0.30 }
`

const deTariff = `tariff:
  timezone: Europe/Berlin
  currency: EUR
  import:
    fixed: 0.2610
    tax: 0.19
  export:
    fixed: 0.0786
  fees:
    daily: 0.45
`

func TestSlotsPerDayAcrossDST(t *testing.T) {
	berlin := mustParse(t, deTariff)
	shanghai := mustParse(t, cnTariff)
	tests := []struct {
		name string
		tr   *Tariff
		y    int
		m    time.Month
		d    int
		want int
	}{
		{"Berlin ordinary day", berlin, 2025, 3, 29, 96},
		{"Berlin spring forward", berlin, 2025, 3, 30, 92},
		{"Berlin fall back", berlin, 2025, 10, 26, 100},
		{"Berlin spring forward 2026", berlin, 2026, 3, 29, 92},
		{"Shanghai", shanghai, 2025, 3, 30, 96},
		{"Shanghai autumn", shanghai, 2025, 10, 26, 96},
		// China observed DST 1986-1991: 1988-04-17 had 23 hours.
		{"Shanghai 1988 DST", shanghai, 1988, 4, 17, 92},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := localMidnight(tc.y, tc.m, tc.d, tc.tr.Location())
			to := localMidnight(tc.y, tc.m, tc.d+1, tc.tr.Location())
			slots, err := tc.tr.Slots(from, to, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(slots) != tc.want {
				t.Fatalf("%d slots, want %d", len(slots), tc.want)
			}
			for i, s := range slots {
				if s.End.Sub(s.Start) != SlotDuration {
					t.Errorf("slot %d lasts %s", i, s.End.Sub(s.Start))
				}
				if i > 0 && !s.Start.Equal(slots[i-1].End) {
					t.Errorf("slot %d does not follow slot %d", i, i-1)
				}
				if _, min, sec := s.Start.In(tc.tr.Location()).Clock(); min%15 != 0 || sec != 0 {
					t.Errorf("slot %d starts at %s", i, s.Start.In(tc.tr.Location()))
				}
			}
			if !slots[0].Start.Equal(from) || !slots[len(slots)-1].End.Equal(to) {
				t.Errorf("slots span %s..%s, want %s..%s", slots[0].Start, slots[len(slots)-1].End, from, to)
			}
		})
	}
}

func TestSlotsFallBackHourIsPricedTwice(t *testing.T) {
	tr := mustParse(t, head+"  import:\n    tou:\n      default: 0.30\n      zones:\n        - {hours: \"2-3\", price: 0.10, band: night}\n")
	slots, err := tr.Slots(local(tr, 2025, 10, 26, 0, 0), local(tr, 2025, 10, 27, 0, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	night := 0
	for _, s := range slots {
		if s.Band == "night" {
			night++
			if !near(s.Import, 0.10) {
				t.Errorf("night slot priced %v", s.Import)
			}
		}
	}
	if night != 8 {
		t.Errorf("%d night slots on the fall-back day, want 8 (02:00-03:00 twice)", night)
	}
}

func TestSlotsAlignmentAndBounds(t *testing.T) {
	tr := mustParse(t, deTariff)
	slots, err := tr.Slots(local(tr, 2025, 5, 1, 10, 7).UTC(), local(tr, 2025, 5, 1, 10, 20), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if s.Start.Location() != tr.Location() || s.End.Location() != tr.Location() {
			t.Errorf("slot times in %v/%v, want the tariff's location", s.Start.Location(), s.End.Location())
		}
	}
	if len(slots) != 2 || !slots[0].Start.Equal(local(tr, 2025, 5, 1, 10, 0)) || !slots[1].End.Equal(local(tr, 2025, 5, 1, 10, 30)) {
		t.Errorf("slots %+v, want 10:00-10:15, 10:15-10:30", slots)
	}
	if s, err := tr.Slots(local(tr, 2025, 5, 1, 10, 0), local(tr, 2025, 5, 1, 10, 0), nil); err != nil || len(s) != 0 {
		t.Errorf("empty range: %v %v", s, err)
	}
	if _, err := tr.Slots(local(tr, 2025, 5, 2, 0, 0), local(tr, 2025, 5, 1, 0, 0), nil); !errors.Is(err, ErrInput) {
		t.Errorf("reversed range: %v", err)
	}
	from := local(tr, 2025, 1, 1, 0, 0)
	if _, err := tr.Slots(from, from.AddDate(0, 0, MaxDays+1), nil); !errors.Is(err, ErrRange) {
		t.Errorf("401 days: %v", err)
	}
	if s, err := tr.Slots(from, from.AddDate(0, 0, MaxDays), nil); err != nil || len(s) != MaxDays*96 {
		t.Errorf("400 days: %d slots, %v", len(s), err)
	}
	// Price checks: German fixed price with VAT, feed-in untaxed.
	s := slots[0]
	if !near(s.Import, 0.2610*1.19) || !near(s.Export, 0.0786) || s.Band != BandFixed || s.ExportBand != BandFixed || s.Dynamic {
		t.Errorf("slot %+v", s)
	}
}

func TestZoneMatching(t *testing.T) {
	tests := []struct {
		name  string
		zones string
		at    [][2]int // hour, minute
		want  []float64
	}{
		{"last zone wins", `
        - {price: 0.20}
        - {hours: "8-12", price: 0.30}
        - {hours: "10-11", price: 0.40}`,
			[][2]int{{7, 45}, {9, 0}, {10, 30}, {11, 0}, {11, 45}, {12, 0}},
			[]float64{0.20, 0.30, 0.40, 0.30, 0.30, 0.20}},
		{"an earlier zone is hidden by a later wider one", `
        - {hours: "10-11", price: 0.40}
        - {hours: "8-12", price: 0.30}`,
			[][2]int{{10, 30}, {12, 0}},
			[]float64{0.30, 0.50}},
		{"22-0 ends at midnight and does not wrap", `
        - {hours: "22-0", price: 0.10}`,
			[][2]int{{21, 45}, {22, 0}, {23, 45}, {0, 0}, {1, 0}},
			[]float64{0.50, 0.10, 0.10, 0.50, 0.50}},
		{"minutes", `
        - {hours: "7:30-8:45,13:15-13:30", price: 0.10}`,
			[][2]int{{7, 15}, {7, 30}, {8, 30}, {8, 45}, {13, 0}, {13, 15}, {13, 30}},
			[]float64{0.50, 0.10, 0.10, 0.50, 0.50, 0.10, 0.50}},
		{"weekdays only (2025-06-02 is a Monday)", `
        - {days: Mon-Fri, hours: "9-10", price: 0.10}`,
			[][2]int{{9, 0}},
			[]float64{0.10}},
		{"other months do not match", `
        - {months: "Jan-May,Jul-Dec", price: 0.10}`,
			[][2]int{{9, 0}},
			[]float64{0.50}},
		{"month range wrapping the year", `
        - {months: Nov-Jun, price: 0.10}`,
			[][2]int{{9, 0}},
			[]float64{0.10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustParse(t, head+"  import:\n    tou:\n      default: 0.50\n      zones:"+tc.zones+"\n")
			for i, hm := range tc.at {
				at := local(tr, 2025, 6, 2, hm[0], hm[1])
				s, err := tr.Slots(at, at.Add(time.Minute), nil)
				if err != nil || len(s) != 1 {
					t.Fatalf("Slots: %v %v", s, err)
				}
				if !near(s[0].Import, tc.want[i]) {
					t.Errorf("%02d:%02d priced %v, want %v", hm[0], hm[1], s[0].Import, tc.want[i])
				}
			}
		})
	}
}

func TestChineseFourBands(t *testing.T) {
	tr := mustParse(t, cnTariff)
	if got := tr.Bands(); len(got) != 4 || got[0] != "flat" || got[1] != "peak" || got[2] != "valley" || got[3] != "sharp" {
		t.Errorf("Bands() = %v, want [flat peak valley sharp]", got)
	}
	tests := []struct {
		m          time.Month
		d, h, min  int
		band       string
		price      float64
		commentary string
	}{
		{7, 16, 3, 0, "valley", 0.32, "night"},
		{7, 16, 7, 45, "valley", 0.32, "last valley quarter"},
		{7, 16, 8, 0, "peak", 0.98, "morning peak"},
		{7, 16, 11, 0, "flat", 0.62, "midday"},
		{7, 16, 18, 30, "peak", 0.98, "evening peak"},
		{7, 16, 19, 0, "sharp", 1.18, "summer sharp peak"},
		{7, 16, 20, 45, "sharp", 1.18, "last sharp quarter"},
		{7, 16, 21, 0, "peak", 0.98, "after the sharp peak"},
		{7, 16, 23, 0, "valley", 0.32, "late valley"},
		{1, 18, 19, 30, "sharp", 1.18, "winter sharp peak (Saturday)"},
		{12, 31, 20, 0, "sharp", 1.18, "December"},
		{4, 15, 19, 30, "peak", 0.98, "spring: no sharp peak"},
		{9, 1, 20, 0, "peak", 0.98, "September: no sharp peak"},
	}
	for _, tc := range tests {
		at := local(tr, 2025, tc.m, tc.d, tc.h, tc.min)
		s, err := tr.Slots(at, at.Add(SlotDuration), nil)
		if err != nil || len(s) != 1 {
			t.Fatalf("Slots: %v %v", s, err)
		}
		if s[0].Band != tc.band || !near(s[0].Import, tc.price) || s[0].Export != 0 || s[0].ExportBand != "" {
			t.Errorf("%s (%s): %s %v, want %s %v", at, tc.commentary, s[0].Band, s[0].Import, tc.band, tc.price)
		}
	}
}

const dynTariff = `tariff:
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
  export:
    fixed: 0.08
`

func TestDynamicOverrideAndFallback(t *testing.T) {
	tr := mustParse(t, dynTariff)
	day := func(h, min int) time.Time { return local(tr, 2025, 6, 2, h, min) }
	fetched := day(0, 0).Add(-12 * time.Hour)
	dyn := []Price{
		{Start: day(10, 0), End: day(11, 0), Value: 0.05, Fetched: fetched},
		// Fetched later: overrides 10:30-10:45.
		{Start: day(10, 30), End: day(10, 45), Value: -0.02, Fetched: fetched.Add(time.Hour)},
		// Fetched earlier: hidden by the hourly price.
		{Start: day(10, 0), End: day(10, 15), Value: 9, Fetched: fetched.Add(-time.Hour)},
		// Five-minute data is averaged: (0.06 + 0.09 + 0.12) / 3 = 0.09.
		{Start: day(12, 0), End: day(12, 5), Value: 0.06, Fetched: fetched},
		{Start: day(12, 5), End: day(12, 10), Value: 0.09, Fetched: fetched},
		{Start: day(12, 10), End: day(12, 15), Value: 0.12, Fetched: fetched},
		// Partial coverage: 5 of 15 minutes at 0.00, the rest fallback 0.30.
		{Start: day(13, 0), End: day(13, 5), Value: 0, Fetched: fetched},
		// Time-variable grid fee band.
		{Start: day(17, 0), End: day(17, 15), Value: 0.05, Fetched: fetched},
		// Export prices are ignored: the export side is fixed.
		{Start: day(10, 0), End: day(11, 0), Value: 5, Export: true, Fetched: fetched},
	}
	slots, err := tr.Slots(day(0, 0), day(24, 0), dyn)
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, min int) Slot {
		for _, s := range slots {
			if s.Start.Equal(day(h, min)) {
				return s
			}
		}
		t.Fatalf("no slot at %02d:%02d", h, min)
		return Slot{}
	}
	price := func(base, charge float64) float64 { return (base + charge) * 1.2 }
	tests := []struct {
		h, min  int
		price   float64
		band    string
		dynamic bool
	}{
		{3, 0, price(0.20, 0.10), "night", false},
		{9, 45, price(0.30, 0.10), BandDefault, false},
		{10, 0, price(0.05, 0.10), BandDynamic, true},
		{10, 15, price(0.05, 0.10), BandDynamic, true},
		{10, 30, price(-0.02, 0.10), BandDynamic, true},
		{10, 45, price(0.05, 0.10), BandDynamic, true},
		{11, 0, price(0.30, 0.10), BandDefault, false},
		{12, 0, price(0.09, 0.10), BandDynamic, true},
		{13, 0, price(0.30*10.0/15, 0.10), BandDefault, false},
		{17, 0, price(0.05, 0.15), "HT", true},
		{17, 15, price(0.30, 0.15), "HT", false},
	}
	for _, tc := range tests {
		s := at(tc.h, tc.min)
		if !near(s.Import, tc.price) || s.Band != tc.band || s.Dynamic != tc.dynamic || !near(s.Export, 0.08) {
			t.Errorf("%02d:%02d: %v %s dynamic=%v export %v, want %v %s %v 0.08", tc.h, tc.min, s.Import, s.Band, s.Dynamic, s.Export, tc.price, tc.band, tc.dynamic)
		}
	}
	if got := tr.Bands(); len(got) != 4 || got[0] != "night" || got[1] != "HT" || got[2] != BandDefault || got[3] != BandDynamic {
		t.Errorf("Bands() = %v", got)
	}
	// Equal Fetched: the later element wins.
	tie := []Price{{Start: day(10, 0), End: day(10, 15), Value: 1}, {Start: day(10, 0), End: day(10, 15), Value: 2}}
	s, err := tr.Slots(day(10, 0), day(10, 15), tie)
	if err != nil || !near(s[0].Import, price(2, 0.10)) {
		t.Errorf("tie: %+v %v", s, err)
	}
	// Bad dynamic data is an error.
	for _, bad := range []Price{{Start: day(1, 0), End: day(1, 0)}, {Start: day(1, 0), End: day(2, 0), Value: math.NaN()}} {
		if _, err := tr.Slots(day(0, 0), day(1, 0), []Price{bad}); !errors.Is(err, ErrInput) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestDynamicExportSide(t *testing.T) {
	tr := mustParse(t, head+"  import: {fixed: 0.30}\n  export:\n    dynamic:\n      provider: openadr\n      fallback: {fixed: 0.07}\n")
	at := local(tr, 2025, 6, 2, 12, 0)
	dyn := []Price{{Start: at, End: at.Add(SlotDuration), Value: -0.01, Export: true}, {Start: at, End: at.Add(time.Hour), Value: 1}}
	s, err := tr.Slots(at, at.Add(30*time.Minute), dyn)
	if err != nil {
		t.Fatal(err)
	}
	if !near(s[0].Export, -0.01) || !s[0].Dynamic || s[0].ExportBand != BandDynamic || !near(s[0].Import, 0.30) {
		t.Errorf("covered slot %+v", s[0])
	}
	if !near(s[1].Export, 0.07) || s[1].Dynamic || s[1].ExportBand != BandFixed {
		t.Errorf("fallback slot %+v", s[1])
	}
}

// Before standard time, zones ran on local mean time with offsets like
// +0:19:32 (Amsterdam until 1937, then +0:20 until 1940) or +0:53:28
// (Berlin until 1893). Slots stay contiguous and on the local grid, except
// that one ends at the offset change and the next, short one starts there.
func TestSlotsAcrossOddOffsetChanges(t *testing.T) {
	for _, tc := range []struct {
		zone string
		at   time.Time
	}{
		{"Europe/Amsterdam", time.Date(1937, 6, 30, 22, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", time.Date(1893, 3, 31, 22, 0, 0, 0, time.UTC)},
	} {
		tr := mustParse(t, "tariff:\n  timezone: "+tc.zone+"\n  currency: EUR\n  import: {fixed: 0.1}\n")
		slots, err := tr.Slots(tc.at.Add(-3*time.Hour), tc.at.Add(3*time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		short := 0
		for i, s := range slots {
			d := s.End.Sub(s.Start)
			if d <= 0 || d > SlotDuration {
				t.Errorf("%s slot %d lasts %s", tc.zone, i, d)
			}
			if d < SlotDuration {
				short++
			}
			if i > 0 && !s.Start.Equal(slots[i-1].End) {
				t.Errorf("%s slot %d does not follow slot %d", tc.zone, i, i-1)
			}
			lt := s.Start.In(tr.Location())
			if zs, _ := lt.ZoneBounds(); misalignment(lt) != 0 && !zs.Equal(s.Start) {
				t.Errorf("%s slot %d starts off the grid at %s", tc.zone, i, lt)
			}
			if !floorLocal(s.Start, tr.Location()).Equal(s.Start) || !floorLocal(s.End.Add(-time.Nanosecond), tr.Location()).Equal(s.Start) {
				t.Errorf("%s slot %d: floorLocal disagrees with the slot bounds", tc.zone, i)
			}
		}
		if short != 1 {
			t.Errorf("%s: %d short slots, want 1 after the offset change", tc.zone, short)
		}
		// A usage series over the change is accepted.
		u := make([]Usage, len(slots))
		for i, s := range slots {
			u[i] = Usage{Start: s.Start, End: s.End, ImportKWh: 0.1}
		}
		if r, err := tr.Costs(u, Day, nil, 0); err != nil || !near(r.Total.ImportKWh, 0.1*float64(len(u))) {
			t.Errorf("%s: Costs over the change: %v", tc.zone, err)
		}
	}
}
