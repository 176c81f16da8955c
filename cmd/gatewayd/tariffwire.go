package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/tariff"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
	"github.com/gatewayd-project/gatewayd/web"
)

// kvTariff is where the household's tariff YAML lives in the store.
const kvTariff = "tariff/yaml"

// Cost queries read the meter's registers per quarter hour in chunks the
// store accepts (at most storage.MaxPoints steps each).
const (
	usageChunk   = 100 * 24 * time.Hour
	maxCostRange = 400 * 24 * time.Hour
)

// tariffService is web.TariffService over dr/tariff and the store: the
// tariff text is kept in the key/value bucket, the energy comes from the
// legal import and export registers (never from derived values), and the
// money is derived.
type tariffService struct {
	store *storage.Store
	meter energy.DeviceID
	log   *slog.Logger

	// dyn supplies dynamic prices (OpenADR PRICE events, the HTTP feed);
	// nil means none.
	dyn func() []tariff.Price

	mu   sync.Mutex
	text string
	t    *tariff.Tariff
}

func (ts *tariffService) dynamic() []tariff.Price {
	if ts.dyn == nil {
		return nil
	}
	return ts.dyn()
}

// Current is the tariff in force, nil for none.
func (ts *tariffService) Current() *tariff.Tariff {
	t, _ := ts.current()
	return t
}

var _ web.TariffService = (*tariffService)(nil)

func newTariffService(store *storage.Store, log *slog.Logger) (*tariffService, error) {
	ts := &tariffService{store: store, meter: "meter", log: log}
	v, ok, err := store.Get(kvTariff)
	if err != nil {
		return nil, fmt.Errorf("tariff: %w", err)
	}
	if ok && len(v) > 0 {
		t, err := tariff.Parse(v)
		if err != nil {
			// Stored before a stricter release: keep the text for the
			// editor, price nothing, say why.
			log.Warn("stored tariff no longer valid; costs are off until it is fixed in Settings", "err", err)
			ts.text = string(v)
			return ts, nil
		}
		ts.text, ts.t = string(v), t
	}
	return ts, nil
}

func (ts *tariffService) current() (*tariff.Tariff, string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.t, ts.text
}

func docOf(t *tariff.Tariff, text string) web.TariffDoc {
	d := web.TariffDoc{YAML: text}
	if t != nil {
		d.Configured, d.Currency, d.Timezone = true, t.Currency(), t.Location().String()
	}
	return d
}

func (ts *tariffService) Tariff() (web.TariffDoc, error) {
	t, text := ts.current()
	return docOf(t, text), nil
}

// SetTariff stores text when it is a valid tariff; an empty text removes
// the tariff.
func (ts *tariffService) SetTariff(text []byte, lang string) (web.TariffDoc, []web.TariffProblem, error) {
	if strings.TrimSpace(string(text)) == "" {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if err := ts.store.Delete(kvTariff); err != nil {
			return web.TariffDoc{}, nil, fmt.Errorf("tariff: %w", err)
		}
		ts.t, ts.text = nil, ""
		return docOf(nil, ""), nil, nil
	}
	t, err := tariff.Parse(text)
	var verr *tariff.ValidationError
	if errors.As(err, &verr) {
		out := make([]web.TariffProblem, len(verr.Problems))
		for i, p := range verr.Problems {
			out[i] = web.TariffProblem{Key: p.Key, Line: p.Line, Message: p.Message(lang)}
		}
		return web.TariffDoc{}, out, nil
	}
	if err != nil {
		return web.TariffDoc{}, nil, fmt.Errorf("tariff: %w", err)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if err := ts.store.Put(kvTariff, text); err != nil {
		return web.TariffDoc{}, nil, fmt.Errorf("tariff: %w", err)
	}
	ts.t, ts.text = t, string(text)
	return docOf(t, ts.text), nil, nil
}

type slotJSON struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Import float64   `json:"import"`
	Export float64   `json:"export"`
	Band   string    `json:"band"`
}

func (ts *tariffService) Prices(from, to time.Time) (any, error) {
	t, _ := ts.current()
	if t == nil {
		return nil, web.ErrNoTariff
	}
	if to.Sub(from) > maxCostRange {
		return nil, &web.ErrBadQuery{Param: "from", Code: "range_too_long", Args: []any{"400 days"}}
	}
	slots, err := t.Slots(from, to, ts.dynamic())
	if err != nil {
		return nil, &web.ErrBadQuery{Param: "from", Code: "from_after_to"}
	}
	out := struct {
		Currency string     `json:"currency"`
		Slots    []slotJSON `json:"slots"`
	}{Currency: t.Currency(), Slots: make([]slotJSON, len(slots))}
	for i, s := range slots {
		out.Slots[i] = slotJSON{Start: s.Start, End: s.End, Import: s.Import, Export: s.Export, Band: s.Band}
	}
	return out, nil
}

type bandJSON struct {
	Band string  `json:"band"`
	KWh  float64 `json:"kwh"`
	Cost float64 `json:"cost"`
}

type stepJSON struct {
	Start        time.Time  `json:"start"`
	End          time.Time  `json:"end"`
	ImportKWh    float64    `json:"import_kwh"`
	ExportKWh    float64    `json:"export_kwh"`
	ImportCost   float64    `json:"import_cost"`
	ExportCredit float64    `json:"export_credit"`
	Fixed        float64    `json:"fixed"`
	Demand       float64    `json:"demand"`
	Total        float64    `json:"total"`
	Missing      int        `json:"missing_slots"`
	Bands        []bandJSON `json:"bands"`
}

type tierJSON struct {
	Period      string    `json:"period"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	ConsumedKWh float64   `json:"consumed_kwh"`
	Step        int       `json:"step"`
	NextStepKWh *float64  `json:"next_step_kwh"`
}

type costsJSON struct {
	Currency string `json:"currency"`
	// Device is the device priced; empty for the household.
	Device energy.DeviceID `json:"device,omitempty"`
	Step   string          `json:"step"`
	Steps  []stepJSON      `json:"steps"`
	Total  stepJSON        `json:"total"`
	Tier   *tierJSON       `json:"tier"`
	// Legal: the energy is from the metrology core's registers; the
	// money never is.
	EnergySource string `json:"energy_source"`
}

// Costs prices the household's legal import and export over [from, to),
// or with device set, that device's own metered energy (derived, see
// tariff.DeviceCosts: no fees, demand charge or export credit).
func (ts *tariffService) Costs(from, to time.Time, stepName string, device energy.DeviceID) (any, error) {
	t, _ := ts.current()
	if t == nil {
		return nil, web.ErrNoTariff
	}
	step, err := tariff.ParseStep(stepName)
	if err != nil {
		return nil, &web.ErrBadQuery{Param: "step", Code: "bad_step", Args: []any{"day, month"}}
	}
	if to.Sub(from) > maxCostRange {
		return nil, &web.ErrBadQuery{Param: "from", Code: "range_too_long", Args: []any{"400 days"}}
	}
	// Whole local steps: a day or month is priced completely or not at all.
	loc := t.Location()
	lf := from.In(loc)
	from = time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, loc)
	if step == tariff.Month {
		from = time.Date(lf.Year(), lf.Month(), 1, 0, 0, 0, 0, loc)
	}
	if device == ts.meter {
		device = ""
	}
	usage, err := ts.usage(ts.meter, from, to)
	if err != nil && device == "" {
		return nil, err
	}
	var before float64
	if ps, _ := t.Period(from); err == nil && ps.Before(from) {
		before, err = ts.importKWh(ps, from)
		if err != nil {
			return nil, err
		}
	}
	var rep *tariff.CostReport
	source := "legal meter registers"
	if device == "" {
		rep, err = t.Costs(usage, step, ts.dynamic(), before)
	} else {
		// Without legal data yet the device is priced with the tier
		// counter where the period began.
		var dev []tariff.Usage
		if dev, err = ts.usage(device, from, to); err != nil {
			return nil, err
		}
		rep, err = t.DeviceCosts(dev, usage, step, ts.dynamic(), before)
		source = "device meter (derived)"
	}
	if err != nil {
		return nil, fmt.Errorf("tariff: costs: %w", err)
	}
	conv := func(s tariff.StepCost) stepJSON {
		out := stepJSON{Start: s.Start, End: s.End, ImportKWh: s.ImportKWh, ExportKWh: s.ExportKWh, ImportCost: s.ImportCost,
			ExportCredit: s.ExportCredit, Fixed: s.FixedFees, Demand: s.DemandCharge, Total: s.Total, Missing: s.MissingSlots, Bands: []bandJSON{}}
		for _, b := range s.Bands {
			out.Bands = append(out.Bands, bandJSON{Band: b.Band, KWh: b.KWh, Cost: b.Cost})
		}
		return out
	}
	out := costsJSON{Currency: rep.Currency, Step: step.String(), Device: device, Steps: []stepJSON{}, Total: conv(rep.Total), EnergySource: source}
	for _, s := range rep.Steps {
		out.Steps = append(out.Steps, conv(s))
	}
	if tp := rep.Tier; tp != nil {
		out.Tier = &tierJSON{Period: tp.Period, Start: tp.Start, End: tp.End, ConsumedKWh: tp.ConsumedKWh, Step: tp.Step, NextStepKWh: tp.NextStepKWh}
	}
	return out, nil
}

// usage is a device's import and export per quarter hour over
// [from, to): for the meter from the legal registers, for other devices
// from their own (derived) counters.
func (ts *tariffService) usage(id energy.DeviceID, from, to time.Time) ([]tariff.Usage, error) {
	var out []tariff.Usage
	for cf := from; cf.Before(to); cf = cf.Add(usageChunk) {
		ct := earliest(cf.Add(usageChunk), to)
		imp, err := ts.store.Consumption(id, energy.ImportEnergy, cf, ct, storage.StepQuarter)
		if err != nil {
			return nil, noData(err)
		}
		exp, err := ts.store.Consumption(id, energy.ExportEnergy, cf, ct, storage.StepQuarter)
		if err != nil && !errors.Is(err, storage.ErrUnknownSeries) {
			return nil, noData(err)
		}
		for i, iv := range imp.Intervals {
			if !iv.Start.Before(to) {
				break
			}
			u := tariff.Usage{Start: iv.Start, End: iv.End, Missing: iv.Missing || iv.Value == nil}
			if iv.Value != nil {
				u.ImportKWh = iv.Value.Float64() / 1000
			}
			if i < len(exp.Intervals) && exp.Intervals[i].Value != nil {
				u.ExportKWh = exp.Intervals[i].Value.Float64() / 1000
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// importKWh is the legal import over [from, to): the tier counter before
// the queried range (the meter's register is the counter: it cannot
// drift from the bill).
func (ts *tariffService) importKWh(from, to time.Time) (float64, error) {
	var sum float64
	for cf := from; cf.Before(to); cf = cf.AddDate(0, 0, 300) {
		ct := earliest(cf.AddDate(0, 0, 300), to)
		c, err := ts.store.Consumption(ts.meter, energy.ImportEnergy, cf, ct, storage.StepDay)
		if err != nil {
			return 0, noData(err)
		}
		for _, iv := range c.Intervals {
			if iv.Value != nil && iv.Start.Before(to) {
				sum += iv.Value.Float64() / 1000
			}
		}
	}
	return sum, nil
}

// noData turns "the meter has no import series yet" into an empty answer
// rather than an error.
func noData(err error) error {
	if errors.Is(err, storage.ErrUnknownSeries) {
		return &web.ErrBadQuery{Param: "from", Code: "no_data", Status: http.StatusNotFound}
	}
	return fmt.Errorf("tariff: usage: %w", err)
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
