package tariff

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Step is the length of one line of a [CostReport], in the tariff's local
// time.
type Step uint8

// Steps of a cost report.
const (
	Day   Step = iota + 1 // local calendar day (23, 24 or 25 hours)
	Month                 // local calendar month
)

func (s Step) String() string {
	switch s {
	case Day:
		return "day"
	case Month:
		return "month"
	}
	return fmt.Sprintf("Step(%d)", uint8(s))
}

// ParseStep parses "day" or "month".
func ParseStep(s string) (Step, error) {
	switch s {
	case "day":
		return Day, nil
	case "month":
		return Month, nil
	}
	return 0, fmt.Errorf("%w: step %q is not day or month", ErrInput, s)
}

// MarshalText encodes a Step as "day" or "month".
func (s Step) MarshalText() ([]byte, error) {
	if s != Day && s != Month {
		return nil, fmt.Errorf("%w: %v", ErrInput, s)
	}
	return []byte(s.String()), nil
}

// UnmarshalText is the inverse of MarshalText.
func (s *Step) UnmarshalText(b []byte) error {
	v, err := ParseStep(string(b))
	if err == nil {
		*s = v
	}
	return err
}

// Usage is the energy of one 15-minute slot, derived by the caller from
// the legal meter registers.
type Usage struct {
	Start time.Time `json:"start"` // on a local 15-minute boundary
	End   time.Time `json:"end"`   // Start + 15 min
	// ImportKWh and ExportKWh are energy from and to the grid, >= 0.
	ImportKWh float64 `json:"importKWh"`
	ExportKWh float64 `json:"exportKWh"`
	// Missing marks a slot without data; its kWh are ignored.
	Missing bool `json:"missing,omitempty"`
}

// BandCost is the import (or export) of one band within a step.
type BandCost struct {
	Band string  `json:"band"`
	KWh  float64 `json:"kwh"`
	Cost float64 `json:"cost"` // import: incl. tier adders; export: the credit
}

// StepCost is one day or month of a [CostReport]. Money is in the
// tariff's currency, unrounded.
type StepCost struct {
	Start time.Time `json:"start"` // local midnight
	End   time.Time `json:"end"`   // the next step's Start
	// Days is the number of local days of the step that the usage range
	// touches; fixed fees are charged for them, so a month-to-date report
	// is not charged for the rest of the month.
	Days         int     `json:"days"`
	ImportKWh    float64 `json:"importKWh"`
	ExportKWh    float64 `json:"exportKWh"`
	ImportCost   float64 `json:"importCost"`   // slot prices plus tier adders
	TierCost     float64 `json:"tierCost"`     // the tier-adder part of ImportCost
	ExportCredit float64 `json:"exportCredit"` // earned, positive = income
	FixedFees    float64 `json:"fixedFees"`    // daily fee × Days
	PeakKW       float64 `json:"peakKW"`       // highest 15-minute average import in the step
	// DemandCharge is the month's peak kW × monthlyPeakPerKW, booked in
	// the step that holds the month's peak slot (the month itself for
	// monthly steps, the day of the peak for daily steps).
	DemandCharge float64 `json:"demandCharge"`
	// Total is ImportCost − ExportCredit + FixedFees + DemandCharge.
	Total        float64    `json:"total"`
	Bands        []BandCost `json:"bands"`
	ExportBands  []BandCost `json:"exportBands,omitempty"`
	MissingSlots int        `json:"missingSlots"` // flagged Missing or absent from the usage
}

// TierProgress is where the tier counter stands after the usage.
type TierProgress struct {
	Period string    `json:"period"` // PeriodMonthly, PeriodAnnual or PeriodBilling
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// ConsumedKWh is import since Start: periodStartKWh (if the usage
	// began in this period) plus the usage's import in it.
	ConsumedKWh float64 `json:"consumedKWh"`
	// Step is the 0-based index of the tier step the next kWh falls in.
	Step int `json:"step"`
	// NextStepKWh is where the next step starts; nil in the last step.
	NextStepKWh *float64 `json:"nextStepKWh"`
}

// CostReport is derived money for a usage series: an estimate from the
// tariff as configured, never a bill or legal data.
type CostReport struct {
	Currency string     `json:"currency"`
	Step     Step       `json:"step"`
	Steps    []StepCost `json:"steps"`
	// Total sums all steps (PeakKW is the highest of them).
	Total        StepCost      `json:"total"`
	MissingSlots int           `json:"missingSlots"`
	Tier         *TierProgress `json:"tier,omitempty"` // nil without tiers or usage
}

// Costs prices a usage series of 15-minute slots, sorted and not
// overlapping (gaps are allowed and count as missing). dyn is as for
// [Tariff.Slots]. periodStartKWh is the import already consumed in the
// tier period containing the first usage slot before that slot; the
// counter restarts at 0 at each later period start.
//
// Demand charges use the peaks within the usage given: pass whole months
// for the exact charge.
func (t *Tariff) Costs(usage []Usage, step Step, dyn []Price, periodStartKWh float64) (*CostReport, error) {
	return t.costs(usage, nil, step, dyn, periodStartKWh)
}

// DeviceCosts prices the energy of one device that has its own meter:
// usage is the device's consumption per slot (ImportKWh; ExportKWh is
// ignored), household the site's import over the same or a wider range
// (from the legal registers), which is what moves the tier counter
// (periodStartKWh as for [Tariff.Costs]).
//
// A device's kWh in a slot cost the slot's import price plus the tier
// adders the household's counter stands at when the slot begins: what
// running the device then cost at the margin. Fixed fees, demand
// charges and export credit are the household's, not a device's: they
// are 0 in the report. Own generation is not netted, so a device running
// on solar is priced as if imported: derived money, an estimate.
func (t *Tariff) DeviceCosts(usage, household []Usage, step Step, dyn []Price, periodStartKWh float64) (*CostReport, error) {
	if household == nil {
		household = []Usage{}
	}
	if err := t.checkUsage(household); err != nil {
		return nil, fmt.Errorf("household %w", err)
	}
	return t.costs(usage, household, step, dyn, periodStartKWh)
}

// costs is Costs, or DeviceCosts when household is not nil.
func (t *Tariff) costs(usage, household []Usage, step Step, dyn []Price, periodStartKWh float64) (*CostReport, error) {
	device := household != nil
	if step != Day && step != Month {
		return nil, fmt.Errorf("%w: step %v", ErrInput, step)
	}
	if math.IsNaN(periodStartKWh) || math.IsInf(periodStartKWh, 0) || periodStartKWh < 0 {
		return nil, fmt.Errorf("%w: periodStartKWh %v is not a finite number >= 0", ErrInput, periodStartKWh)
	}
	rep := &CostReport{Currency: t.currency, Step: step, Steps: []StepCost{}}
	if len(usage) == 0 {
		return rep, nil
	}
	if err := t.checkUsage(usage); err != nil {
		return nil, err
	}
	first, last := usage[0].Start.Round(0), usage[len(usage)-1].End.Round(0)
	if err := t.checkRange(first, last); err != nil {
		return nil, err
	}
	impCur, expCur, err := t.cursors(dyn, first, last)
	if err != nil {
		return nil, err
	}
	steps := t.steps(first, last, step)

	type peak struct {
		kw   float64
		step int
	}
	peaks := map[int]peak{} // by local year*12+month
	var pEnd time.Time
	consumed := periodStartKWh
	if t.tiers != nil {
		_, pEnd = t.Period(first)
	}
	si, hi := 0, 0
	stepOf := func(at time.Time) *StepCost {
		for !at.Before(steps[si].End) {
			si++
		}
		return &steps[si]
	}
	prevEnd := first.In(t.loc)
	for _, u := range usage {
		for gap := prevEnd; gap.Before(u.Start); gap = nextBoundary(gap) {
			stepOf(gap).MissingSlots++
		}
		ls, le := u.Start.Round(0).In(t.loc), u.End.Round(0).In(t.loc)
		prevEnd = le
		st := stepOf(ls)
		if u.Missing {
			st.MissingSlots++
			continue
		}
		slot := t.slot(ls, le, impCur, expCur)
		var adders float64
		if t.tiers != nil {
			if device {
				// The household's counter up to this slot moves the tier.
				for ; hi < len(household) && household[hi].Start.Before(u.Start); hi++ {
					pEnd, consumed = t.count(household[hi], pEnd, consumed)
				}
			}
			if !u.Start.Before(pEnd) {
				_, pEnd = t.Period(u.Start)
				consumed = 0
			}
			adders = t.tiers.adders(consumed, u.ImportKWh)
			if !device {
				consumed += u.ImportKWh
			}
		}
		cost := u.ImportKWh*slot.Import + adders
		st.ImportKWh += u.ImportKWh
		st.ImportCost += cost
		st.TierCost += adders
		st.Bands = addBand(st.Bands, slot.Band, u.ImportKWh, cost)
		kw := u.ImportKWh / le.Sub(ls).Hours()
		st.PeakKW = max(st.PeakKW, kw)
		if device {
			continue
		}
		st.ExportKWh += u.ExportKWh
		if t.exp != nil {
			credit := u.ExportKWh * slot.Export
			st.ExportCredit += credit
			st.ExportBands = addBand(st.ExportBands, slot.ExportBand, u.ExportKWh, credit)
		}
		y, m, _ := ls.Date()
		if key := y*12 + int(m); kw > peaks[key].kw {
			peaks[key] = peak{kw, si}
		}
	}
	for _, p := range peaks {
		steps[p.step].DemandCharge += p.kw * t.demandRate
	}

	rep.Total = StepCost{Start: steps[0].Start, End: steps[len(steps)-1].End}
	tot := &rep.Total
	for i := range steps {
		st := &steps[i]
		if !device {
			st.FixedFees = float64(st.Days) * t.dailyFee
		}
		st.Total = st.ImportCost - st.ExportCredit + st.FixedFees + st.DemandCharge
		sortBands(st.Bands, t.bands)
		sortBands(st.ExportBands, t.exportBands)
		tot.Days += st.Days
		tot.ImportKWh += st.ImportKWh
		tot.ExportKWh += st.ExportKWh
		tot.ImportCost += st.ImportCost
		tot.TierCost += st.TierCost
		tot.ExportCredit += st.ExportCredit
		tot.FixedFees += st.FixedFees
		tot.PeakKW = max(tot.PeakKW, st.PeakKW)
		tot.DemandCharge += st.DemandCharge
		tot.Total += st.Total
		tot.MissingSlots += st.MissingSlots
		for _, b := range st.Bands {
			tot.Bands = addBand(tot.Bands, b.Band, b.KWh, b.Cost)
		}
		for _, b := range st.ExportBands {
			tot.ExportBands = addBand(tot.ExportBands, b.Band, b.KWh, b.Cost)
		}
	}
	rep.Steps, rep.MissingSlots = steps, tot.MissingSlots

	if t.tiers != nil {
		lastStart := usage[len(usage)-1].Start
		if device {
			// Where the household's counter stands after the device's
			// last slot.
			for ; hi < len(household) && !household[hi].Start.After(lastStart); hi++ {
				pEnd, consumed = t.count(household[hi], pEnd, consumed)
			}
		}
		if !lastStart.Before(pEnd) {
			consumed = 0
		}
		rep.Tier = t.tiers.progress(t, lastStart, consumed)
	}
	return rep, nil
}

// count adds one household slot to the tier counter, restarting it at
// each new period.
func (t *Tariff) count(u Usage, pEnd time.Time, consumed float64) (time.Time, float64) {
	if !u.Start.Before(pEnd) {
		_, pEnd = t.Period(u.Start)
		consumed = 0
	}
	if !u.Missing {
		consumed += u.ImportKWh
	}
	return pEnd, consumed
}

// checkUsage: aligned 15-minute slots, increasing, finite non-negative kWh.
func (t *Tariff) checkUsage(usage []Usage) error {
	for i, u := range usage {
		if !floorLocal(u.Start, t.loc).Equal(u.Start) {
			return fmt.Errorf("%w: usage[%d]: start %s is not on a local 15-minute boundary", ErrInput, i, u.Start)
		}
		if end := nextBoundary(u.Start.Round(0).In(t.loc)); !end.Equal(u.End) {
			return fmt.Errorf("%w: usage[%d]: end %s is not start + 15 min", ErrInput, i, u.End)
		}
		if i > 0 && u.Start.Before(usage[i-1].End) {
			return fmt.Errorf("%w: usage[%d]: start %s is before the end of usage[%d]", ErrInput, i, u.Start, i-1)
		}
		if u.Missing {
			continue
		}
		for _, v := range []float64{u.ImportKWh, u.ExportKWh} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("%w: usage[%d]: energy %v is not a finite number >= 0", ErrInput, i, v)
			}
		}
	}
	return nil
}

// steps returns the days or months covering [first, last), with Days set.
func (t *Tariff) steps(first, last time.Time, step Step) []StepCost {
	start := dayStart(first, t.loc)
	if step == Month {
		y, m, _ := first.In(t.loc).Date()
		start = localMidnight(y, m, 1, t.loc)
	}
	var out []StepCost
	for s := start; s.Before(last); {
		y, m, d := s.In(t.loc).Date()
		next := localMidnight(y, m, d+1, t.loc)
		if step == Month {
			next = localMidnight(y, m+1, 1, t.loc)
		}
		st := StepCost{Start: s, End: next, Bands: []BandCost{}}
		for day := s; day.Before(next); {
			dy, dm, dd := day.In(t.loc).Date()
			dayEnd := localMidnight(dy, dm, dd+1, t.loc)
			if dayEnd.After(first) && day.Before(last) {
				st.Days++
			}
			day = dayEnd
		}
		out = append(out, st)
		s = next
	}
	return out
}

func addBand(bands []BandCost, band string, kwh, cost float64) []BandCost {
	for i := range bands {
		if bands[i].Band == band {
			bands[i].KWh += kwh
			bands[i].Cost += cost
			return bands
		}
	}
	return append(bands, BandCost{Band: band, KWh: kwh, Cost: cost})
}

// sortBands orders bands as the tariff lists them.
func sortBands(bands []BandCost, order []string) {
	slices.SortStableFunc(bands, func(a, b BandCost) int {
		return slices.Index(order, a.Band) - slices.Index(order, b.Band)
	})
}

// adders is the tier adder cost of e kWh consumed after c kWh in the
// period: each step's adder applies to the part of [c, c+e) inside it.
func (tr *tiers) adders(c, e float64) float64 {
	var sum float64
	for i, st := range tr.steps {
		hi := math.Inf(1)
		if i+1 < len(tr.steps) {
			hi = tr.steps[i+1].startKWh
		}
		if a, b := max(c, st.startKWh), min(c+e, hi); b > a {
			sum += (b - a) * st.adder
		}
	}
	return sum
}

func (tr *tiers) progress(t *Tariff, at time.Time, consumed float64) *TierProgress {
	start, end := t.Period(at)
	p := &TierProgress{Period: tr.period, Start: start, End: end, ConsumedKWh: consumed}
	for i, st := range tr.steps {
		if consumed >= st.startKWh {
			p.Step = i
		}
	}
	if p.Step+1 < len(tr.steps) {
		next := tr.steps[p.Step+1].startKWh
		p.NextStepKWh = &next
	}
	return p
}

// Period returns the tier accounting period containing at: [start, end)
// between local midnights. Monthly and billing periods start on the
// anchor day of each month, annual ones on the anchor date of each year.
// Without tiers it is the local calendar month.
func (t *Tariff) Period(at time.Time) (start, end time.Time) {
	y, m, _ := at.In(t.loc).Date()
	if t.tiers != nil && t.tiers.period == PeriodAnnual {
		am, ad := time.Month(t.tiers.anchorMonth), t.tiers.anchorDay
		start = localMidnight(y, am, ad, t.loc)
		if at.Before(start) {
			y--
			start = localMidnight(y, am, ad, t.loc)
		}
		return start, localMidnight(y+1, am, ad, t.loc)
	}
	d := 1
	if t.tiers != nil {
		d = t.tiers.anchorDay
	}
	start = localMidnight(y, m, d, t.loc)
	if at.Before(start) {
		m--
		start = localMidnight(y, m, d, t.loc)
	}
	return start, localMidnight(y, m+1, d, t.loc)
}
