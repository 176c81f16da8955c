package tariff

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Errors of [Tariff.Slots] and [Tariff.Costs]; the returned errors wrap
// one of them and name the offending argument.
var (
	ErrRange = errors.New("tariff: range too long")
	ErrInput = errors.New("tariff: invalid input")
)

// Tariff is a parsed, validated and compiled tariff. It is immutable and
// safe for concurrent use. Obtain it from [Parse].
type Tariff struct {
	loc        *time.Location
	currency   string
	imp        *side
	exp        *side // nil without an export section: feed-in earns nothing
	tiers      *tiers
	dailyFee   float64 // currency per local day
	demandRate float64 // currency per kW of monthly peak

	bands, exportBands []string
}

type sourceKind uint8

const (
	srcFixed sourceKind = iota + 1
	srcTOU
	srcDynamic
)

// source is a base price source: fixed, tou or dynamic with a fallback.
type source struct {
	kind     sourceKind
	price    float64 // fixed price, or the tou default
	zones    []zone  // tou
	feed     *Feed   // dynamic
	fallback *source // dynamic: fixed or tou
}

// side is `import` or `export`, compiled into one 96-slot day profile per
// (month, weekday); real tariffs need only a handful of distinct ones.
type side struct {
	src          source
	charges      float64
	chargesZones []zone
	tax          float64

	profiles []*profile
	day      [12][7]uint8 // index into profiles
}

// cell is the price recipe of one local quarter-hour.
type cell struct {
	base    float64 // base price: fixed, tou zone, or a dynamic source's fallback
	charge  float64 // charges or the matching chargesZones price
	band    string  // band when priced from base
	dynBand string  // band when a dynamic feed covers the slot
}

type profile [quartersPerDay]cell

type tiers struct {
	period      string
	anchorMonth int // annual
	anchorDay   int
	steps       []tierStep
}

type tierStep struct{ startKWh, adder float64 }

// Feed is what a dynamic source fetches from; the fetcher is not part of
// this package.
type Feed struct {
	Provider string            `json:"provider"` // "http" or "openadr"
	Params   map[string]string `json:"params,omitempty"`
}

// Generic band names for slots no named zone prices.
const (
	BandDefault = "default" // tou: no zone matched, or the zone names no band
	BandFixed   = "fixed"   // fixed source
	BandDynamic = "dynamic" // priced by dynamic data
)

// Currency is the ISO 4217 code of every amount, e.g. "EUR".
func (t *Tariff) Currency() string { return t.currency }

// Location is the tariff's time zone; months, days, hours, day and month
// steps and tier periods are all local to it.
func (t *Tariff) Location() *time.Location { return t.loc }

// Bands lists the import band names a slot can carry, named zones first
// in file order, then chargesZones bands, then generic names.
func (t *Tariff) Bands() []string { return slices.Clone(t.bands) }

// ExportBands is [Tariff.Bands] for export; nil without an export section.
func (t *Tariff) ExportBands() []string { return slices.Clone(t.exportBands) }

// HasExport reports whether the tariff pays for feed-in.
func (t *Tariff) HasExport() bool { return t.exp != nil }

// Feed returns the dynamic feed of the import (or export) side, nil if
// that side is not dynamic.
func (t *Tariff) Feed(export bool) *Feed {
	sd := t.imp
	if export {
		sd = t.exp
	}
	if sd == nil || sd.src.kind != srcDynamic {
		return nil
	}
	return &Feed{Provider: sd.src.feed.Provider, Params: maps.Clone(sd.src.feed.Params)}
}

func (t *Tariff) compile() {
	t.bands = t.imp.compile()
	if t.exp != nil {
		t.exportBands = t.exp.compile()
	}
}

// compile builds the day profiles and returns the bands that occur.
func (sd *side) compile() []string {
	base := &sd.src
	if base.kind == srcDynamic {
		base = base.fallback
	}
	generic := BandDefault
	if base.kind == srcFixed {
		generic = BandFixed
	}
	for m := time.January; m <= time.December; m++ {
		for wd := time.Sunday; wd <= time.Saturday; wd++ {
			var p profile
			for q := range quartersPerDay {
				c := cell{base: base.price, charge: sd.charges}
				var band, chBand string
				for i := range base.zones {
					if z := &base.zones[i]; z.matches(m, wd, q) {
						c.base, band = z.price, z.band
					}
				}
				for i := range sd.chargesZones {
					if z := &sd.chargesZones[i]; z.matches(m, wd, q) {
						c.charge, chBand = z.price, z.band
					}
				}
				c.band = cmp.Or(band, chBand, generic)
				c.dynBand = cmp.Or(chBand, BandDynamic)
				p[q] = c
			}
			idx := slices.IndexFunc(sd.profiles, func(x *profile) bool { return *x == p })
			if idx < 0 {
				idx = len(sd.profiles)
				sd.profiles = append(sd.profiles, &p)
			}
			sd.day[m-1][wd] = uint8(idx)
		}
	}
	occurs := map[string]bool{}
	for _, p := range sd.profiles {
		for _, c := range p {
			occurs[c.band] = true
			if sd.src.kind == srcDynamic {
				occurs[c.dynBand] = true
			}
		}
	}
	var order []string
	for _, z := range base.zones {
		order = append(order, z.band)
	}
	for _, z := range sd.chargesZones {
		order = append(order, z.band)
	}
	order = append(order, BandFixed, BandDefault, BandDynamic)
	var bands []string
	for _, b := range order {
		if occurs[b] && !slices.Contains(bands, b) {
			bands = append(bands, b)
		}
	}
	return bands
}

func (sd *side) cell(month time.Month, wd time.Weekday, quarter int) *cell {
	return &sd.profiles[sd.day[month-1][wd]][quarter]
}

// price is the per-kWh price of one slot: (base + charges) × (1 + tax),
// where a dynamic side's base is the feed's time-weighted value, topped
// up with the fallback for any part of the slot the feed does not cover.
func (sd *side) price(c *cell, cov coverage, slot time.Duration) (price float64, band string, full bool) {
	base, band := c.base, c.band
	if sd.src.kind == srcDynamic && cov.covered > 0 {
		frac := float64(cov.covered) / float64(slot)
		base = cov.weighted/float64(slot) + (1-frac)*c.base
		if cov.covered >= slot {
			band, full = c.dynBand, true
		}
	}
	return (base + c.charge) * (1 + sd.tax), band, full
}

// Slot is the price of one 15-minute slot. Prices are per kWh in the
// tariff's currency, after charges and tax and before tier adders.
type Slot struct {
	Start time.Time `json:"start"` // in the tariff's location
	End   time.Time `json:"end"`
	// Import is what a kWh drawn from the grid costs.
	Import float64 `json:"import"`
	// Export is what a kWh fed in earns; 0 without an export section.
	Export float64 `json:"export"`
	// Band is the import band: the matching zone's band, else the
	// matching chargesZones band, else BandFixed, BandDefault or
	// BandDynamic.
	Band string `json:"band"`
	// ExportBand is the same for export; "" without an export section.
	ExportBand string `json:"exportBand,omitempty"`
	// Dynamic is true when the tariff has a dynamic side and dynamic data
	// covered the whole slot on every dynamic side; false means the
	// fallback priced at least part of it (or nothing is dynamic).
	Dynamic bool `json:"dynamic"`
}

// Price is one dynamic price supplied by the caller (a day-ahead feed, an
// OpenADR PRICE or EXPORT_PRICE interval). Value is the base energy price
// per kWh, like `fixed:`; charges and tax are added on top, so for a feed
// that already delivers end-customer prices configure neither.
type Price struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Value is currency per kWh; negative prices are allowed.
	Value float64 `json:"value"`
	// Export marks a feed-in price; otherwise it is an import price.
	Export bool `json:"export"`
	// Fetched orders overlapping prices: the latest fetched wins, and
	// among equal Fetched the later element of the slice.
	Fetched time.Time `json:"fetched"`
}

// Slots returns the prices of every 15-minute local slot overlapping
// [from, to): the first starts at or before from, the last ends at or after
// to. A DST day has 92 or 100 of them. dyn feeds sides whose source is
// dynamic and is ignored for fixed and tou sides. to before from, a range
// over [MaxDays] local days, or a Price with End not after Start or a
// non-finite Value is an error.
func (t *Tariff) Slots(from, to time.Time, dyn []Price) ([]Slot, error) {
	if err := t.checkRange(from, to); err != nil {
		return nil, err
	}
	from, to = floorLocal(from, t.loc), to.Round(0)
	impCur, expCur, err := t.cursors(dyn, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Slot, 0, int(to.Sub(from)/SlotDuration)+1)
	for s := from; s.Before(to); {
		e := nextBoundary(s)
		out = append(out, t.slot(s, e, impCur, expCur))
		s = e
	}
	return out, nil
}

func (t *Tariff) checkRange(from, to time.Time) error {
	if to.Before(from) {
		return fmt.Errorf("%w: to %s is before from %s", ErrInput, to, from)
	}
	if limit := from.In(t.loc).AddDate(0, 0, MaxDays); to.After(limit) {
		return fmt.Errorf("%w: %s to %s is more than %d days", ErrRange, from, to, MaxDays)
	}
	return nil
}

// cursors validates dyn and prepares the dynamic data of each dynamic
// side for [from, to).
func (t *Tariff) cursors(dyn []Price, from, to time.Time) (imp, exp *cursor, err error) {
	for i, p := range dyn {
		if !p.End.After(p.Start) {
			return nil, nil, fmt.Errorf("%w: dyn[%d]: end %s is not after start %s", ErrInput, i, p.End, p.Start)
		}
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			return nil, nil, fmt.Errorf("%w: dyn[%d]: value %v is not finite", ErrInput, i, p.Value)
		}
	}
	if t.imp.src.kind == srcDynamic {
		imp = &cursor{segs: flatten(dyn, false, from, to)}
	}
	if t.exp != nil && t.exp.src.kind == srcDynamic {
		exp = &cursor{segs: flatten(dyn, true, from, to)}
	}
	return imp, exp, nil
}

// slot prices [s, e); s and e are in the tariff's location. Cursors
// must be asked for increasing slots.
func (t *Tariff) slot(s, e time.Time, impCur, expCur *cursor) Slot {
	_, month, _ := s.Date()
	hour, minute, _ := s.Clock()
	wd, q := s.Weekday(), hour*4+minute/15
	dur := e.Sub(s)
	out := Slot{Start: s, End: e}
	var impFull, expFull bool
	out.Import, out.Band, impFull = t.imp.price(t.imp.cell(month, wd, q), impCur.cover(s, e), dur)
	dynamic, allFull := impCur != nil, impCur == nil || impFull
	if t.exp != nil {
		out.Export, out.ExportBand, expFull = t.exp.price(t.exp.cell(month, wd, q), expCur.cover(s, e), dur)
		dynamic = dynamic || expCur != nil
		allFull = allFull && (expCur == nil || expFull)
	}
	out.Dynamic = dynamic && allFull
	return out
}
