package tariff

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// series returns one Usage per local slot in [from, to), with energy from f.
func series(tr *Tariff, from, to time.Time, f func(s time.Time) (imp, exp float64)) []Usage {
	var out []Usage
	for s := from.In(tr.Location()); s.Before(to); {
		e := nextBoundary(s)
		imp, exp := f(s)
		out = append(out, Usage{Start: s, End: e, ImportKWh: imp, ExportKWh: exp})
		s = e
	}
	return out
}

func flat(imp float64) func(time.Time) (float64, float64) {
	return func(time.Time) (float64, float64) { return imp, 0 }
}

func costs(t *testing.T, tr *Tariff, u []Usage, step Step, dyn []Price, start float64) *CostReport {
	t.Helper()
	r, err := tr.Costs(u, step, dyn, start)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantNear(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %.10g, want %.10g", what, got, want)
	}
}

func TestCostsGermanDay(t *testing.T) {
	tr := mustParse(t, deTariff)
	day := local(tr, 2025, 6, 2, 0, 0)
	u := series(tr, day, day.AddDate(0, 0, 1), func(s time.Time) (float64, float64) {
		if h := s.In(tr.Location()).Hour(); h >= 11 && h < 16 {
			return 0.25, 0.5 // 20 slots of feed-in
		}
		return 0.25, 0
	})
	r := costs(t, tr, u, Day, nil, 0)
	if len(r.Steps) != 1 || r.Currency != "EUR" || r.Tier != nil {
		t.Fatalf("report %+v", r)
	}
	st := r.Steps[0]
	// 24 kWh × 0.2610 × 1.19 = 7.45416; 10 kWh × 0.0786 = 0.786; fee 0.45.
	wantNear(t, "ImportKWh", st.ImportKWh, 24)
	wantNear(t, "ExportKWh", st.ExportKWh, 10)
	wantNear(t, "ImportCost", st.ImportCost, 7.45416)
	wantNear(t, "ExportCredit", st.ExportCredit, 0.786)
	wantNear(t, "FixedFees", st.FixedFees, 0.45)
	wantNear(t, "Total", st.Total, 7.45416-0.786+0.45)
	wantNear(t, "report Total", r.Total.Total, 7.11816)
	wantNear(t, "PeakKW", st.PeakKW, 1)
	if st.DemandCharge != 0 || st.Days != 1 || st.MissingSlots != 0 || !st.Start.Equal(day) || !st.End.Equal(day.AddDate(0, 0, 1)) {
		t.Errorf("step %+v", st)
	}
	if len(st.Bands) != 1 || st.Bands[0].Band != BandFixed || len(st.ExportBands) != 1 || !near(st.ExportBands[0].Cost, 0.786) {
		t.Errorf("bands %+v / %+v", st.Bands, st.ExportBands)
	}
}

func TestCostsWithoutExportSection(t *testing.T) {
	tr := mustParse(t, head+"  import: {fixed: 0.3}\n")
	day := local(tr, 2025, 6, 2, 0, 0)
	u := series(tr, day, day.Add(time.Hour), func(time.Time) (float64, float64) { return 0, 1 })
	r := costs(t, tr, u, Day, nil, 0)
	if st := r.Steps[0]; st.ExportKWh != 4 || st.ExportCredit != 0 || st.ExportBands != nil {
		t.Errorf("step %+v", st)
	}
}

const beijing = `tariff:
  timezone: Asia/Shanghai
  currency: CNY
  import:
    fixed: 0.4883
    tiers:
      period: monthly
      steps:
        - { startKWh: 0, adder: 0 }
        - { startKWh: 240, adder: 0.05 }
        - { startKWh: 400, adder: 0.30 }
`

func TestTierSplitAcrossSteps(t *testing.T) {
	tr := mustParse(t, beijing)
	at := local(tr, 2025, 3, 10, 12, 0)
	one := func(kwh float64) []Usage {
		return []Usage{{Start: at, End: at.Add(SlotDuration), ImportKWh: kwh}}
	}
	fp := func(f float64) *float64 { return &f }
	tests := []struct {
		name     string
		usage    []Usage
		start    float64
		cost     float64
		tierCost float64
		consumed float64
		step     int
		next     *float64
	}{
		{"within the first step", one(1), 100, 0.4883, 0, 101, 0, fp(240)},
		{"half over the boundary", one(1), 239.5, 0.4883 + 0.5*0.05, 0.025, 240.5, 1, fp(400)},
		{"ends exactly on the boundary", one(1), 239, 0.4883, 0, 240, 1, fp(400)},
		{"across two boundaries", one(200), 239, 200*0.4883 + 160*0.05 + 39*0.30, 19.7, 439, 2, nil},
		{"already in the last step", one(2), 500, 2*0.4883 + 2*0.30, 0.6, 502, 2, nil},
		{"over several slots", series(tr, at, at.Add(time.Hour), flat(100)), 0, 400*0.4883 + 8, 8, 400, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := costs(t, tr, tc.usage, Month, nil, tc.start)
			wantNear(t, "ImportCost", r.Total.ImportCost, tc.cost)
			wantNear(t, "TierCost", r.Total.TierCost, tc.tierCost)
			p := r.Tier
			if p == nil {
				t.Fatal("no tier progress")
			}
			wantNear(t, "ConsumedKWh", p.ConsumedKWh, tc.consumed)
			if p.Step != tc.step || (p.NextStepKWh == nil) != (tc.next == nil) || p.NextStepKWh != nil && *p.NextStepKWh != *tc.next {
				t.Errorf("progress step %d next %v, want %d %v", p.Step, p.NextStepKWh, tc.step, tc.next)
			}
			if p.Period != PeriodMonthly || !p.Start.Equal(local(tr, 2025, 3, 1, 0, 0)) || !p.End.Equal(local(tr, 2025, 4, 1, 0, 0)) {
				t.Errorf("progress period %+v", p)
			}
		})
	}
}

func TestTierCounterRestartsAtPeriodStart(t *testing.T) {
	tr := mustParse(t, beijing)
	jan31 := local(tr, 2025, 1, 31, 23, 45)
	u := []Usage{
		{Start: jan31, End: jan31.Add(SlotDuration), ImportKWh: 10},                           // 235..245: 5 kWh at +0.05
		{Start: jan31.Add(SlotDuration), End: jan31.Add(2 * SlotDuration), ImportKWh: 10},     // February: 0..10
		{Start: jan31.Add(2 * SlotDuration), End: jan31.Add(3 * SlotDuration), Missing: true}, // ignored
	}
	r := costs(t, tr, u, Month, nil, 235)
	if len(r.Steps) != 2 {
		t.Fatalf("%d steps, want January and February", len(r.Steps))
	}
	wantNear(t, "January TierCost", r.Steps[0].TierCost, 0.25)
	wantNear(t, "February TierCost", r.Steps[1].TierCost, 0)
	wantNear(t, "February ImportCost", r.Steps[1].ImportCost, 10*0.4883)
	p := r.Tier
	if p == nil || !p.Start.Equal(local(tr, 2025, 2, 1, 0, 0)) || !p.End.Equal(local(tr, 2025, 3, 1, 0, 0)) || p.ConsumedKWh != 10 || p.Step != 0 || *p.NextStepKWh != 240 {
		t.Errorf("progress %+v", p)
	}
	if r.MissingSlots != 1 || r.Steps[1].MissingSlots != 1 {
		t.Errorf("missing %d / %d", r.MissingSlots, r.Steps[1].MissingSlots)
	}
	// The last usage slot opens a new period even when it is missing.
	u = []Usage{{Start: jan31, End: jan31.Add(SlotDuration), ImportKWh: 10}, {Start: jan31.Add(SlotDuration), End: jan31.Add(2 * SlotDuration), Missing: true}}
	if p := costs(t, tr, u, Month, nil, 235).Tier; p.ConsumedKWh != 0 || !p.Start.Equal(local(tr, 2025, 2, 1, 0, 0)) {
		t.Errorf("progress after a missing first slot of a period: %+v", p)
	}
}

func TestPeriod(t *testing.T) {
	withTiers := func(zone, period, anchor string) *Tariff {
		a := ""
		if anchor != "" {
			a = "\n      anchor: " + anchor
		}
		return mustParse(t, "tariff:\n  timezone: "+zone+"\n  currency: EUR\n  import:\n    fixed: 0.3\n    tiers:\n      period: "+period+a+"\n      steps: [{startKWh: 0, adder: 0}]\n")
	}
	berlinNoTiers := mustParse(t, deTariff)
	monthly15 := withTiers("Europe/Berlin", "monthly", "15")
	billing28 := withTiers("Europe/Berlin", "billing", "28")
	annualApr := withTiers("Europe/Berlin", "annual", `"04-01"`)
	annualDefault := withTiers("Asia/Shanghai", "annual", "")
	d := func(tr *Tariff, y int, m time.Month, day, h, min int) time.Time { return local(tr, y, m, day, h, min) }
	tests := []struct {
		name       string
		tr         *Tariff
		at         time.Time
		start, end time.Time
	}{
		{"no tiers: calendar month", berlinNoTiers, d(berlinNoTiers, 2025, 3, 31, 23, 59), d(berlinNoTiers, 2025, 3, 1, 0, 0), d(berlinNoTiers, 2025, 4, 1, 0, 0)},
		{"monthly before the anchor", monthly15, d(monthly15, 2025, 3, 14, 23, 59), d(monthly15, 2025, 2, 15, 0, 0), d(monthly15, 2025, 3, 15, 0, 0)},
		{"monthly on the anchor", monthly15, d(monthly15, 2025, 3, 15, 0, 0), d(monthly15, 2025, 3, 15, 0, 0), d(monthly15, 2025, 4, 15, 0, 0)},
		{"monthly across the year", monthly15, d(monthly15, 2025, 1, 10, 0, 0), d(monthly15, 2024, 12, 15, 0, 0), d(monthly15, 2025, 1, 15, 0, 0)},
		{"billing", billing28, d(billing28, 2025, 3, 1, 0, 0), d(billing28, 2025, 2, 28, 0, 0), d(billing28, 2025, 3, 28, 0, 0)},
		{"annual before the anchor", annualApr, d(annualApr, 2025, 3, 31, 23, 59), d(annualApr, 2024, 4, 1, 0, 0), d(annualApr, 2025, 4, 1, 0, 0)},
		{"annual after the anchor", annualApr, d(annualApr, 2025, 4, 1, 0, 0), d(annualApr, 2025, 4, 1, 0, 0), d(annualApr, 2026, 4, 1, 0, 0)},
		{"annual default", annualDefault, d(annualDefault, 2025, 7, 1, 0, 0), d(annualDefault, 2025, 1, 1, 0, 0), d(annualDefault, 2026, 1, 1, 0, 0)},
	}
	for _, tc := range tests {
		start, end := tc.tr.Period(tc.at)
		if !start.Equal(tc.start) || !end.Equal(tc.end) {
			t.Errorf("%s: Period(%s) = %s..%s, want %s..%s", tc.name, tc.at, start, end, tc.start, tc.end)
		}
	}
}

func TestDailyFeesOverDSTMonths(t *testing.T) {
	tr := mustParse(t, deTariff)
	for _, tc := range []struct {
		month   time.Month
		slots   int
		dstDay  int
		dstKWh  float64
		dstHour float64
	}{
		{3, 31*96 - 4, 30, 92 * 0.1, 23},
		{10, 31*96 + 4, 26, 100 * 0.1, 25},
	} {
		from := local(tr, 2025, tc.month, 1, 0, 0)
		u := series(tr, from, from.AddDate(0, 1, 0), flat(0.1))
		if len(u) != tc.slots {
			t.Fatalf("%d slots in month %d, want %d", len(u), tc.month, tc.slots)
		}
		r := costs(t, tr, u, Month, nil, 0)
		if len(r.Steps) != 1 || r.Steps[0].Days != 31 {
			t.Fatalf("month %d: %d steps, %d days", tc.month, len(r.Steps), r.Steps[0].Days)
		}
		wantNear(t, "FixedFees", r.Steps[0].FixedFees, 31*0.45)
		wantNear(t, "ImportKWh", r.Steps[0].ImportKWh, float64(tc.slots)*0.1)

		r = costs(t, tr, u, Day, nil, 0)
		if len(r.Steps) != 31 {
			t.Fatalf("%d day steps", len(r.Steps))
		}
		wantNear(t, "daily FixedFees", r.Total.FixedFees, 31*0.45)
		st := r.Steps[tc.dstDay-1]
		wantNear(t, "DST day ImportKWh", st.ImportKWh, tc.dstKWh)
		if h := st.End.Sub(st.Start).Hours(); h != tc.dstHour || st.Days != 1 || !near(st.FixedFees, 0.45) {
			t.Errorf("DST day step lasts %vh, %d days, fees %v", h, st.Days, st.FixedFees)
		}
	}
	// Month to date: fees for the days touched so far, not the whole month.
	from := local(tr, 2025, 6, 1, 0, 0)
	r := costs(t, tr, series(tr, from, local(tr, 2025, 6, 10, 12, 0), flat(0.1)), Month, nil, 0)
	if st := r.Steps[0]; st.Days != 10 || !near(st.FixedFees, 4.5) || !st.End.Equal(local(tr, 2025, 7, 1, 0, 0)) {
		t.Errorf("month to date: %d days, fees %v, end %s", st.Days, st.FixedFees, st.End)
	}
}

func TestDemandCharge(t *testing.T) {
	tr := mustParse(t, head+"  import: {fixed: 0.2}\n  demand: {monthlyPeakPerKW: 10}\n")
	june10 := local(tr, 2025, 6, 10, 18, 0)
	june20 := local(tr, 2025, 6, 20, 18, 0)
	july2 := local(tr, 2025, 7, 2, 9, 0)
	u := series(tr, local(tr, 2025, 6, 1, 0, 0), local(tr, 2025, 7, 3, 0, 0), func(s time.Time) (float64, float64) {
		switch {
		case s.Equal(june10):
			return 2, 0 // 8 kW
		case s.Equal(june20):
			return 1.5, 0 // 6 kW
		case s.Equal(july2):
			return 0.5, 0 // 2 kW
		}
		return 0.25, 0
	})
	r := costs(t, tr, u, Month, nil, 0)
	if len(r.Steps) != 2 {
		t.Fatalf("%d steps", len(r.Steps))
	}
	wantNear(t, "June demand", r.Steps[0].DemandCharge, 80)
	wantNear(t, "July demand", r.Steps[1].DemandCharge, 20)
	wantNear(t, "June peak", r.Steps[0].PeakKW, 8)
	wantNear(t, "total demand", r.Total.DemandCharge, 100)
	wantNear(t, "June total", r.Steps[0].Total, r.Steps[0].ImportCost+80)

	r = costs(t, tr, u, Day, nil, 0)
	for _, st := range r.Steps {
		want := 0.0
		switch d := st.Start.In(tr.Location()); {
		case d.Month() == 6 && d.Day() == 10:
			want = 80
		case d.Month() == 7 && d.Day() == 2:
			want = 20
		}
		if !near(st.DemandCharge, want) {
			t.Errorf("%s: demand %v, want %v", st.Start, st.DemandCharge, want)
		}
	}
	wantNear(t, "June 20 peak", r.Steps[19].PeakKW, 6)
}

func TestCostsDynamic(t *testing.T) {
	tr := mustParse(t, dynTariff)
	ten := local(tr, 2025, 6, 2, 10, 0)
	dyn := []Price{{Start: ten, End: ten.Add(time.Hour), Value: 0.05}}
	u := series(tr, ten, ten.Add(75*time.Minute), func(time.Time) (float64, float64) { return 1, 0.5 })
	r := costs(t, tr, u, Day, dyn, 0)
	st := r.Steps[0]
	// 4 × (0.05 + 0.10) × 1.2 + (0.30 + 0.10) × 1.2 = 0.72 + 0.48.
	wantNear(t, "ImportCost", st.ImportCost, 1.2)
	wantNear(t, "ExportCredit", st.ExportCredit, 5*0.5*0.08)
	if len(st.Bands) != 2 || st.Bands[0].Band != BandDefault || !near(st.Bands[0].Cost, 0.48) || st.Bands[1].Band != BandDynamic || !near(st.Bands[1].KWh, 4) || !near(st.Bands[1].Cost, 0.72) {
		t.Errorf("bands %+v", st.Bands)
	}
}

func TestCostsChineseDay(t *testing.T) {
	tr := mustParse(t, cnTariff)
	for _, tc := range []struct {
		month time.Month
		total float64
		bands string
	}{
		// valley 9 h × 0.32 + peak 6 h × 0.98 + sharp 2 h × 1.18 + flat 7 h × 0.62
		{7, 2.88 + 5.88 + 2.36 + 4.34, "flat:7 peak:6 valley:9 sharp:2"},
		// no sharp peak in April: peak 8 h
		{4, 2.88 + 7.84 + 4.34, "flat:7 peak:8 valley:9"},
	} {
		day := local(tr, 2025, tc.month, 16, 0, 0)
		r := costs(t, tr, series(tr, day, day.AddDate(0, 0, 1), flat(0.25)), Day, nil, 0)
		st := r.Steps[0]
		wantNear(t, "ImportCost", st.ImportCost, tc.total)
		var got []string
		sum := 0.0
		for _, b := range st.Bands {
			got = append(got, b.Band+":"+strings.TrimSuffix(strings.TrimRight(jsonNum(b.KWh), "0"), "."))
			sum += b.Cost
		}
		if strings.Join(got, " ") != tc.bands {
			t.Errorf("month %d bands %s, want %s", tc.month, strings.Join(got, " "), tc.bands)
		}
		wantNear(t, "sum of band costs", sum, st.ImportCost)
		if r.Tier == nil || r.Tier.ConsumedKWh != 24 || r.Tier.Period != PeriodAnnual {
			t.Errorf("tier %+v", r.Tier)
		}
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestMissingSlotsAndGaps(t *testing.T) {
	tr := mustParse(t, deTariff)
	day := local(tr, 2025, 6, 2, 0, 0)
	u := series(tr, day, day.AddDate(0, 0, 2), flat(0.25))
	var kept []Usage
	for _, x := range u {
		lt := x.Start.In(tr.Location())
		switch {
		case lt.Day() == 2 && lt.Hour() == 10 && lt.Minute() == 0:
			x.Missing, x.ImportKWh = true, 99 // ignored
		case lt.Day() == 2 && lt.Hour() == 12:
			continue // 4 absent slots
		case lt.Day() == 2 && lt.Hour() == 23 && lt.Minute() >= 30, lt.Day() == 3 && lt.Hour() == 0 && lt.Minute() < 30:
			continue // 2 + 2 absent slots across midnight
		}
		kept = append(kept, x)
	}
	r := costs(t, tr, kept, Day, nil, 0)
	if r.MissingSlots != 9 || r.Steps[0].MissingSlots != 7 || r.Steps[1].MissingSlots != 2 {
		t.Errorf("missing %d (%d + %d), want 9 (7 + 2)", r.MissingSlots, r.Steps[0].MissingSlots, r.Steps[1].MissingSlots)
	}
	wantNear(t, "day 1 import", r.Steps[0].ImportKWh, (96-7)*0.25)
}

func TestCostsRejectsBadInput(t *testing.T) {
	tr := mustParse(t, deTariff)
	at := local(tr, 2025, 6, 2, 10, 0)
	ok := Usage{Start: at, End: at.Add(SlotDuration), ImportKWh: 1}
	tests := []struct {
		name  string
		usage []Usage
		step  Step
		start float64
		err   error
	}{
		{"unaligned start", []Usage{{Start: at.Add(time.Minute), End: at.Add(16 * time.Minute)}}, Day, 0, ErrInput},
		{"30-minute slot", []Usage{{Start: at, End: at.Add(30 * time.Minute)}}, Day, 0, ErrInput},
		{"overlap", []Usage{ok, ok}, Day, 0, ErrInput},
		{"negative energy", []Usage{{Start: at, End: at.Add(SlotDuration), ImportKWh: -1}}, Day, 0, ErrInput},
		{"NaN energy", []Usage{{Start: at, End: at.Add(SlotDuration), ExportKWh: math.NaN()}}, Day, 0, ErrInput},
		{"bad step", []Usage{ok}, 0, 0, ErrInput},
		{"NaN period start", []Usage{ok}, Day, math.NaN(), ErrInput},
		{"negative period start", []Usage{ok}, Day, -1, ErrInput},
		{"too long", []Usage{ok, {Start: at.AddDate(0, 0, 401), End: at.AddDate(0, 0, 401).Add(SlotDuration)}}, Month, 0, ErrRange},
	}
	for _, tc := range tests {
		if _, err := tr.Costs(tc.usage, tc.step, nil, tc.start); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	// A missing slot's energy is not checked: it is ignored.
	if _, err := tr.Costs([]Usage{{Start: at, End: at.Add(SlotDuration), ImportKWh: math.NaN(), Missing: true}}, Day, nil, 0); err != nil {
		t.Errorf("missing slot: %v", err)
	}
	r, err := tr.Costs(nil, Day, nil, 0)
	if err != nil || len(r.Steps) != 0 || r.Tier != nil {
		t.Errorf("no usage: %+v %v", r, err)
	}
}

func TestCostReportJSON(t *testing.T) {
	tr := mustParse(t, beijing)
	at := local(tr, 2025, 3, 10, 12, 0)
	r := costs(t, tr, []Usage{{Start: at, End: at.Add(SlotDuration), ImportKWh: 1}}, Month, nil, 0)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"step":"month"`, `"currency":"CNY"`, `"bands":[{"band":"fixed","kwh":1,"cost":0.4883}]`, `"nextStepKWh":240`, `"period":"monthly"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back CostReport
	if err := json.Unmarshal(b, &back); err != nil || back.Step != Month || *back.Tier.NextStepKWh != 240 {
		t.Errorf("round trip: %v %+v", err, back)
	}
	if s, err := ParseStep("day"); err != nil || s != Day || Day.String() != "day" || Step(9).String() != "Step(9)" {
		t.Error("ParseStep/String")
	}
	if _, err := ParseStep("week"); !errors.Is(err, ErrInput) {
		t.Error("ParseStep(week)")
	}
}

// Zones where clocks jump at midnight or a day is skipped: day steps
// still start at the first instant of each local date.
func TestOddLocalDays(t *testing.T) {
	for _, tc := range []struct {
		zone  string
		y     int
		m     time.Month
		d     int
		start string // local clock of the day's first instant
		slots int
	}{
		{"America/Sao_Paulo", 2018, 11, 4, "01:00 -02", 92},  // DST began at midnight
		{"America/Sao_Paulo", 2019, 2, 16, "00:00 -02", 100}, // DST ended at midnight
		{"America/Sao_Paulo", 2019, 2, 17, "00:00 -03", 96},
		// time.Date returns 23:00 of the day before for this midnight.
		{"America/Havana", 2024, 3, 10, "01:00 -04", 92},
		// 01:00 fell back to 00:00: the day starts at the first midnight,
		// though time.Date returns the second.
		{"Asia/Amman", 2021, 10, 28, "00:00 +03", 96},
		{"Asia/Amman", 2021, 10, 29, "00:00 +03", 100},
		{"Pacific/Apia", 2011, 12, 29, "00:00 -10", 96}, // 30 December 2011 never happened
	} {
		tr := mustParse(t, "tariff:\n  timezone: "+tc.zone+"\n  currency: USD\n  import: {fixed: 0.1}\n  fees: {daily: 1}\n")
		loc := tr.Location()
		from, to := localMidnight(tc.y, tc.m, tc.d, loc), localMidnight(tc.y, tc.m, tc.d+1, loc)
		if got := from.In(loc).Format("15:04 -07"); got != tc.start {
			t.Errorf("%s %d-%d-%d starts at %s, want %s", tc.zone, tc.y, tc.m, tc.d, got, tc.start)
		}
		s, err := tr.Slots(from, to, nil)
		if err != nil || len(s) != tc.slots {
			t.Errorf("%s %d-%d-%d: %d slots (%v), want %d", tc.zone, tc.y, tc.m, tc.d, len(s), err, tc.slots)
		}
	}
	tr := mustParse(t, "tariff:\n  timezone: Pacific/Apia\n  currency: WST\n  import: {fixed: 0.1}\n  fees: {daily: 1}\n")
	from := localMidnight(2011, 12, 29, tr.Location())
	r := costs(t, tr, series(tr, from, from.Add(48*time.Hour), flat(0.25)), Day, nil, 0)
	if len(r.Steps) != 2 || r.Total.Days != 2 || r.Steps[1].Start.In(tr.Location()).Day() != 31 {
		t.Errorf("Apia: %d steps, %d days", len(r.Steps), r.Total.Days)
	}
}
