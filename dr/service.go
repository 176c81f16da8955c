package dr

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/control"
	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/dr/plan"
	"github.com/gatewayd-project/gatewayd/dr/tariff"
	"github.com/gatewayd-project/gatewayd/energy"
)

// Registry is the device registry as the service uses it.
type Registry interface {
	energy.DeviceRegistry
	Device(id energy.DeviceID) (energy.Device, bool)
	// Changed is signalled when devices come, go or change state.
	Changed() <-chan struct{}
}

// Site is the site's net import at the grid connection point.
type Site interface {
	// SitePower returns the net import in W (export negative), when it was
	// measured, and false when there is no reading.
	SitePower() (w int64, at time.Time, ok bool)
}

// VEN is the OpenADR client as the service uses it (*openadr.VEN).
type VEN interface {
	Events() []openadr.Event
	Changed() <-chan struct{}
	OptOut(ctx context.Context, eventID string) error
	IsOptedOut(eventID string) bool
	OptedOut() []string
	SetOptedOut(ids []string)
}

// KV keeps the household's overrides across restarts.
type KV interface {
	Get(key string) (v []byte, ok bool, err error)
	Put(key string, v []byte) error
}

// Record writes one entry to the events log (kind "dr" or
// "intervention").
type Record func(kind, subject string, details map[string]string)

// Events log kinds the service writes.
const (
	KindDR           = "dr"
	KindIntervention = "intervention"
)

// Store keys.
const (
	kvOptOut    = "dr/optout"
	kvOverrides = "dr/overrides"
)

// LoadRule says how the controller treats one device (config dr.loads).
type LoadRule struct {
	Device   energy.DeviceID
	Class    control.Class
	Priority int
	MinOn    time.Duration
	MinOff   time.Duration
	CurtailW int64
}

// Options configure a Service.
type Options struct {
	Clock    energy.Clock
	Log      *slog.Logger
	Registry Registry
	Site     Site
	// Control is the controller's configuration; Loads is filled from the
	// registry and Rules.
	Control control.Config
	Rules   []LoadRule
	// VEN is nil without a VTN.
	VEN VEN
	// Tariff returns the household's tariff, nil for none.
	Tariff func() *tariff.Tariff
	// Feed returns dynamic prices from the HTTP feed (nil: none).
	Feed func() []tariff.Price
	KV   KV
	// Record writes the events log; nil drops entries.
	Record Record
	Seed   uint64
	// SiteMaxAge is how old a site reading may be to count (default 10 s).
	SiteMaxAge time.Duration
	// Alive, if set, is called after every control step: the watchdog's
	// proof that the DR loop makes progress.
	Alive func()
}

// Service is the demand-response engine. Build it with New, run it with
// Run; its query and override methods are safe for concurrent use.
type Service struct {
	o   Options
	log *slog.Logger

	kick chan struct{}

	mu        sync.Mutex
	ctl       *control.Controller
	ctlIDs    []energy.DeviceID
	overrides map[energy.DeviceID]*override
	known     map[string]openadr.Status // event id -> last logged status
	results   []plan.Result
	planAt    time.Time
	planKey   string
	baseW     float64
	status    control.Status
	site      siteJSON
	shedSince map[energy.DeviceID]time.Time
}

type override struct {
	Exempt     bool      `json:"exempt"`
	BoostUntil time.Time `json:"boost_until,omitzero"`
}

// New builds the service and restores opt-outs and overrides.
func New(o Options) (*Service, error) {
	if o.Clock == nil || o.Registry == nil || o.Site == nil {
		return nil, errors.New("dr: clock, registry and site are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Control.Period <= 0 {
		o.Control.Period = 2 * time.Second
	}
	if o.SiteMaxAge <= 0 {
		o.SiteMaxAge = 10 * time.Second
	}
	s := &Service{o: o, log: o.Log, kick: make(chan struct{}, 1), overrides: map[energy.DeviceID]*override{},
		known: map[string]openadr.Status{}, shedSince: map[energy.DeviceID]time.Time{}, baseW: 300}
	if o.KV != nil {
		// The VEN holds the opt-outs (it reports them and forgets them
		// with their events); the store only carries them over restarts.
		if v, ok, err := o.KV.Get(kvOptOut); err != nil {
			return nil, fmt.Errorf("dr: %w", err)
		} else if ok && o.VEN != nil {
			var ids []string
			if err := json.Unmarshal(v, &ids); err != nil {
				s.log.Warn("dr: stored opt-outs unreadable; starting without", "err", err)
			}
			o.VEN.SetOptedOut(ids)
		}
		if v, ok, err := o.KV.Get(kvOverrides); err != nil {
			return nil, fmt.Errorf("dr: %w", err)
		} else if ok {
			if err := json.Unmarshal(v, &s.overrides); err != nil {
				s.log.Warn("dr: stored overrides unreadable; starting without", "err", err)
				s.overrides = map[energy.DeviceID]*override{}
			}
		}
	}
	if err := s.rebuild(o.Registry.Devices()); err != nil {
		return nil, err
	}
	return s, nil
}

// rebuild makes a controller for the current device set.
func (s *Service) rebuild(devs []energy.Device) error {
	cfg := s.o.Control
	cfg.Loads = nil
	rules := map[energy.DeviceID]LoadRule{}
	for _, r := range s.o.Rules {
		rules[r.Device] = r
	}
	var ids []energy.DeviceID
	for _, d := range devs {
		r, ok := rules[d.ID]
		if !ok {
			r = LoadRule{Device: d.ID, Class: classOf(d)}
		}
		if r.Class == "" {
			continue
		}
		if !ok && d.Caps.Has(energy.CapEV) && r.Class == control.ClassCurtailable {
			// An EV charger keeps charging at its minimum (about 6 A on
			// one phase) rather than stopping.
			r.CurtailW = min(1400, d.RatedW)
		}
		cfg.Loads = append(cfg.Loads, control.Load{Device: d.ID, Class: r.Class, Priority: r.Priority,
			MinOn: r.MinOn, MinOff: r.MinOff, CurtailW: r.CurtailW, Continuous: continuous(d)})
		ids = append(ids, d.ID)
	}
	ctl, err := control.New(cfg)
	if err != nil {
		return fmt.Errorf("dr: controller: %w", err)
	}
	s.ctl, s.ctlIDs = ctl, ids
	return nil
}

// continuous reports whether a device's job runs in one block once
// started (a dishwasher programme): deferrable, neither curtailable nor an
// EV charger.
func continuous(d energy.Device) bool {
	return d.Caps.Has(energy.CapDeferrable) && !d.Caps.Has(energy.CapCurtail) && !d.Caps.Has(energy.CapEV)
}

// classOf is the class a device's capabilities suggest.
func classOf(d energy.Device) control.Class {
	switch {
	case d.Caps.Has(energy.CapDeferrable):
		return control.ClassDeferrable
	case d.Caps.Has(energy.CapCurtail):
		return control.ClassCurtailable
	case d.Caps.Has(energy.CapSwitch):
		return control.ClassSheddable
	}
	return ""
}

// Kick asks for a step now.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run steps every control period and on every change until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	var venCh <-chan struct{}
	if s.o.VEN != nil {
		venCh = s.o.VEN.Changed()
	}
	regCh := s.o.Registry.Changed()
	for {
		s.Step(ctx)
		if s.o.Alive != nil {
			s.o.Alive()
		}
		t := s.o.Clock.NewTimer(s.o.Control.Period)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		case <-venCh:
		case <-regCh:
		case <-s.kick:
		}
		t.Stop()
	}
}

// Step runs one control step now.
func (s *Service) Step(ctx context.Context) {
	now := s.o.Clock.Now()
	devs := s.o.Registry.Devices()
	var events []openadr.Event
	if s.o.VEN != nil {
		events = s.o.VEN.Events()
	}

	s.mu.Lock()
	if !slices.Equal(s.ctlIDs, managedIDs(devs, s.o.Rules)) {
		if err := s.rebuild(devs); err != nil {
			s.log.Error("dr: controller not rebuilt", "err", err)
		}
	}
	s.logEventChanges(events, now)
	sig := openadr.Resolve(events, now, s.optedOut)
	signals := control.Signals{Level: sig.Level, Event: cmp.Or(sig.ImportLimitEvent, sig.LevelEvent, sig.ExportLimitEvent)}
	if sig.ImportLimitKW != nil {
		signals.ImportLimitW = kw(*sig.ImportLimitKW)
	}
	if sig.ExportLimitKW != nil {
		signals.ExportLimitW = kw(*sig.ExportLimitKW)
	}
	siteW, at, ok := s.o.Site.SitePower()
	fresh := ok && now.Sub(at) <= s.o.SiteMaxAge
	if fresh {
		s.learnBase(siteW, devs)
	}
	s.site = siteJSON{W: siteW, At: at, Fresh: fresh}
	s.replan(now, devs, events)
	in := control.Inputs{Now: now, SiteW: siteW, SiteOK: fresh, Devices: devs, Signals: signals,
		Plan: plan.Want(s.results, now), Overrides: s.controlOverrides(now)}
	decisions := s.ctl.Step(in)
	s.status = s.ctl.Status()
	s.mu.Unlock()

	for _, d := range decisions {
		err := s.o.Registry.Command(ctx, d.Command)
		s.recordDecision(d, devs, now, err)
	}
}

func kw(v float64) int64 { return int64(v*1000 + 0.5) }

// managedIDs are the devices the controller manages, in registry order:
// those with a rule and those whose capabilities suggest a class.
func managedIDs(devs []energy.Device, rules []LoadRule) []energy.DeviceID {
	var ids []energy.DeviceID
	for _, d := range devs {
		if classOf(d) != "" || slices.ContainsFunc(rules, func(r LoadRule) bool { return r.Device == d.ID }) {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// optedOut reports whether the household opted out of an event (the VEN
// keeps that).
func (s *Service) optedOut(id string) bool { return s.o.VEN != nil && s.o.VEN.IsOptedOut(id) }

// learnBase smooths the site's import without the managed loads: the
// planner's forecast of what else the home draws.
func (s *Service) learnBase(siteW int64, devs []energy.Device) {
	base := float64(siteW)
	for _, d := range devs {
		if slices.Contains(s.ctlIDs, d.ID) {
			base -= float64(d.State.PowerW)
		}
	}
	s.baseW += (base - s.baseW) * 0.01
}

func (s *Service) controlOverrides(now time.Time) control.Overrides {
	o := control.Overrides{Exempt: map[energy.DeviceID]bool{}, Boost: map[energy.DeviceID]time.Time{}}
	for id, ov := range s.overrides {
		if ov.Exempt {
			o.Exempt[id] = true
		}
		if ov.BoostUntil.After(now) {
			o.Boost[id] = ov.BoostUntil
		}
	}
	return o
}

// recordDecision writes a command to the events log.
func (s *Service) recordDecision(d control.Decision, devs []energy.Device, now time.Time, err error) {
	name := string(d.Command.Device)
	for _, dv := range devs {
		if dv.ID == d.Command.Device && dv.Name != "" {
			name = dv.Name
		}
	}
	details := map[string]string{"device": string(d.Command.Device), "action": string(d.Command.Kind),
		"why": d.Why, "reason": d.Command.Reason}
	if d.Command.Kind == energy.CmdLimit {
		details["limit_w"] = fmt.Sprint(d.Command.LimitW)
	}
	s.mu.Lock()
	switch d.Command.Kind {
	case energy.CmdOff, energy.CmdLimit:
		if _, ok := s.shedSince[d.Command.Device]; !ok {
			s.shedSince[d.Command.Device] = now
		}
	case energy.CmdOn, energy.CmdNormal:
		if since, ok := s.shedSince[d.Command.Device]; ok {
			details["for"] = now.Sub(since).Round(time.Second).String()
			delete(s.shedSince, d.Command.Device)
		}
	}
	s.mu.Unlock()
	if err != nil {
		details["error"] = err.Error()
		s.log.Warn("dr: command failed", "device", d.Command.Device, "kind", d.Command.Kind, "err", err)
	} else {
		s.log.Info("dr: command", "device", d.Command.Device, "kind", d.Command.Kind, "why", d.Why, "reason", d.Command.Reason)
	}
	s.record(KindIntervention, name+": "+string(d.Command.Kind), details)
}

func (s *Service) record(kind, subject string, details map[string]string) {
	if s.o.Record != nil {
		if len(subject) > 64 {
			subject = subject[:64]
		}
		s.o.Record(kind, subject, details)
	}
}

// logEventChanges writes a "dr" entry when an event appears or its status
// changes.
func (s *Service) logEventChanges(events []openadr.Event, now time.Time) {
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.ID] = true
		st := s.statusOf(e, now)
		if old, ok := s.known[e.ID]; ok && old == st {
			continue
		}
		s.known[e.ID] = st
		d := map[string]string{"event": e.ID, "program": programOf(e), "status": string(st)}
		if !e.Start.IsZero() {
			d["start"] = e.Start.UTC().Format(time.RFC3339)
		}
		if !e.End.IsZero() {
			d["end"] = e.End.UTC().Format(time.RFC3339)
		}
		s.record(KindDR, "event "+string(st), d)
	}
	for id := range s.known {
		if !seen[id] {
			delete(s.known, id)
		}
	}
}

func (s *Service) statusOf(e openadr.Event, now time.Time) openadr.Status {
	st := e.StatusAt(now)
	if s.optedOut(e.ID) && st != openadr.StatusCancelled {
		return StatusOptedOut
	}
	return st
}

// StatusOptedOut is the API status of an event the household opted out of.
const StatusOptedOut openadr.Status = "opted_out"

// actionable reports whether an event asks the home to act.
func actionable(e openadr.Event) bool {
	for _, iv := range e.Intervals {
		if iv.Simple != nil || iv.ImportLimitKW != nil || iv.ExportLimitKW != nil {
			return true
		}
	}
	return false
}

func programOf(e openadr.Event) string {
	if e.ProgramName != "" {
		return e.ProgramName
	}
	return e.ProgramID
}

// DynamicPrices are the OpenADR PRICE and EXPORT_PRICE intervals plus the
// HTTP feed, for the tariff engine (opted-out events included: a price is
// information, not an instruction).
func (s *Service) DynamicPrices() []tariff.Price {
	var events []openadr.Event
	if s.o.VEN != nil {
		events = s.o.VEN.Events()
	}
	return s.dynamic(events)
}

// dynamic converts event prices (ordered by the event's modification
// time: a newer event wins where two overlap) and appends the feed's.
func (s *Service) dynamic(events []openadr.Event) []tariff.Price {
	var out []tariff.Price
	mod := make(map[string]time.Time, len(events))
	for _, e := range events {
		mod[e.ID] = e.Modified
	}
	for _, p := range openadr.Prices(events) {
		out = append(out, tariff.Price{Start: p.Start, End: p.End, Value: p.Value, Export: p.Export, Fetched: mod[p.EventID]})
	}
	if s.o.Feed != nil {
		out = append(out, s.o.Feed()...)
	}
	return out
}

// planHorizon is how far ahead the planner looks.
const planHorizon = 36 * time.Hour

// replan runs the planner when its inputs changed or a minute passed.
func (s *Service) replan(now time.Time, devs []energy.Device, events []openadr.Event) {
	var loads []plan.Load
	key := ""
	for _, d := range devs {
		if d.State.Job == nil || !d.Caps.Has(energy.CapDeferrable) || !slices.Contains(s.ctlIDs, d.ID) {
			continue
		}
		loads = append(loads, plan.Load{Device: d.ID, PowerW: d.RatedW, RemainingWh: d.State.Job.RemainingWh,
			Earliest: now, Deadline: d.State.Job.Deadline,
			Continuous: continuous(d),
			Running:    d.State.On && d.State.PowerW > 0})
		key += fmt.Sprintf("%s/%v/%v;", d.ID, d.State.Job.Deadline.Unix(), d.State.On)
	}
	for _, e := range events {
		key += e.ID + e.Modified.String() + ";"
	}
	if s.o.VEN != nil {
		key += strings.Join(s.o.VEN.OptedOut(), ",")
	}
	if key == s.planKey && now.Sub(s.planAt) < time.Minute {
		return
	}
	s.planKey, s.planAt = key, now
	if len(loads) == 0 {
		s.results = nil
		return
	}
	var t *tariff.Tariff
	if s.o.Tariff != nil {
		t = s.o.Tariff()
	}
	dyn := s.dynamic(events)
	if t == nil && len(dyn) == 0 {
		// No price information: run as soon as allowed.
		s.results = nil
		for _, l := range loads {
			s.results = append(s.results, plan.Result{Device: l.Device, Feasible: true,
				Runs: []plan.Run{{Start: now, End: now.Add(planHorizon)}}})
		}
		return
	}
	slots := s.slots(t, dyn, now, events)
	// The start offsets are drawn from a source seeded by the jobs, so a
	// re-plan with the same jobs keeps them: a fresh draw every minute
	// would push a planned start ahead of the clock for ever.
	h := fnv.New64a()
	for _, l := range loads {
		fmt.Fprintf(h, "%s/%d;", l.Device, l.Deadline.Unix())
	}
	s.results = plan.Plan(now, slots, loads, rand.New(rand.NewPCG(s.o.Seed, h.Sum64())))
}

// slots prices the planning horizon in 15-minute slots with each slot's
// headroom for planned loads.
func (s *Service) slots(t *tariff.Tariff, dyn []tariff.Price, now time.Time, events []openadr.Event) []plan.Slot {
	var out []plan.Slot
	if t != nil {
		ts, err := t.Slots(now, now.Add(planHorizon), dyn)
		if err != nil {
			s.log.Warn("dr: tariff slots", "err", err)
		}
		for _, x := range ts {
			out = append(out, plan.Slot{Start: x.Start, End: x.End, Price: x.Import})
		}
	} else {
		// Dynamic prices only: quarter hours priced by the latest price
		// covering them; uncovered quarters are left out.
		start := now.Truncate(15 * time.Minute)
		for q := start; q.Before(now.Add(planHorizon)); q = q.Add(15 * time.Minute) {
			var best *tariff.Price
			for i := range dyn {
				p := &dyn[i]
				if !p.Export && !p.Start.After(q) && p.End.After(q) && (best == nil || p.Fetched.After(best.Fetched)) {
					best = p
				}
			}
			if best != nil {
				out = append(out, plan.Slot{Start: q, End: q.Add(15 * time.Minute), Price: best.Value})
			}
		}
	}
	base := int64(max(s.baseW, 300))
	for i := range out {
		sig := openadr.Resolve(events, out[i].Start, s.optedOut)
		limit := s.o.Control.ContractImportW
		if sig.ImportLimitKW != nil && (limit == 0 || kw(*sig.ImportLimitKW) < limit) {
			limit = kw(*sig.ImportLimitKW)
		}
		pol := s.ctl.Level(sig.Level)
		if pol.ImportLimitW > 0 && (limit == 0 || pol.ImportLimitW < limit) {
			limit = pol.ImportLimitW
		}
		if pol.HoldDeferrable {
			limit = -1
		}
		switch {
		case limit < 0:
			out[i].LimitW = -1
		case limit > 0:
			out[i].LimitW = limit - base
			if out[i].LimitW <= 0 {
				out[i].LimitW = -1
			}
		}
	}
	return out
}

type siteJSON struct {
	W     int64     `json:"w"`
	At    time.Time `json:"at,omitzero"`
	Fresh bool      `json:"fresh"`
}

// OptOut opts the household out of an event.
func (s *Service) OptOut(ctx context.Context, id, who string) (EventJSON, error) {
	if s.o.VEN == nil {
		return EventJSON{}, fmt.Errorf("dr: opt out %s: %w", id, ErrNotFound)
	}
	now := s.o.Clock.Now()
	var ev *openadr.Event
	for _, e := range s.o.VEN.Events() {
		if e.ID == id {
			ev = &e
			break
		}
	}
	if ev == nil {
		return EventJSON{}, fmt.Errorf("dr: opt out %s: %w", id, ErrNotFound)
	}
	switch st := ev.StatusAt(now); st {
	case openadr.StatusPending, openadr.StatusActive:
	default:
		return EventJSON{}, &ConflictError{Reason: fmt.Sprintf("event %s is %s", id, st)}
	}
	if !actionable(*ev) {
		return EventJSON{}, &ConflictError{Reason: fmt.Sprintf("event %s only carries prices, there is nothing to opt out of", id)}
	}
	if !s.o.VEN.IsOptedOut(id) {
		if err := s.o.VEN.OptOut(ctx, id); err != nil {
			// Recorded by the VEN and its report retried; the household's
			// choice holds either way.
			s.log.Warn("dr: opt-out not yet reported to the VTN", "event", id, "err", err)
		}
		s.mu.Lock()
		err := s.saveLocked(kvOptOut, s.o.VEN.OptedOut())
		s.mu.Unlock()
		if err != nil {
			return EventJSON{}, err
		}
		s.record(KindDR, "opted out", map[string]string{"event": id, "program": programOf(*ev), "by": who})
	}
	s.Kick()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eventJSON(*ev, now), nil
}

// Errors of OptOut and Override (wrapped).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// ConflictError is a request that does not fit the state (an event that
// ended, a device the controller does not manage); Reason says why in
// words the household can read. It matches ErrConflict.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string        { return "dr: " + e.Reason }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Why returns Reason (what the API shows).
func (e *ConflictError) Why() string { return e.Reason }

// Override sets exempt and/or boost for a managed device; nil leaves a
// field as it is, boost 0 ends a boost.
func (s *Service) Override(device energy.DeviceID, exempt *bool, boost *time.Duration, who string) error {
	if _, ok := s.o.Registry.Device(device); !ok {
		return fmt.Errorf("dr: override %s: %w", device, ErrNotFound)
	}
	now := s.o.Clock.Now()
	s.mu.Lock()
	if !slices.Contains(s.ctlIDs, device) {
		s.mu.Unlock()
		return &ConflictError{Reason: fmt.Sprintf("the controller does not manage device %s", device)}
	}
	ov := s.overrides[device]
	if ov == nil {
		ov = &override{}
		s.overrides[device] = ov
	}
	d := map[string]string{"device": string(device), "by": who}
	if exempt != nil {
		ov.Exempt = *exempt
		d["exempt"] = fmt.Sprint(*exempt)
	}
	if boost != nil {
		if *boost <= 0 {
			ov.BoostUntil = time.Time{}
			d["boost"] = "ended"
		} else {
			ov.BoostUntil = now.Add(*boost)
			d["boost"] = "until " + ov.BoostUntil.UTC().Format(time.RFC3339)
		}
	}
	if !ov.Exempt && ov.BoostUntil.IsZero() {
		delete(s.overrides, device)
	}
	err := s.saveLocked(kvOverrides, s.overrides)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.record(KindDR, "override "+string(device), d)
	s.Kick()
	return nil
}

func (s *Service) saveLocked(key string, v any) error {
	if s.o.KV == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("dr: save %s: %w", key, err)
	}
	if err := s.o.KV.Put(key, b); err != nil {
		return fmt.Errorf("dr: save %s: %w", key, err)
	}
	return nil
}

// EventJSON is one event as the API shows it.
type EventJSON struct {
	ID        string         `json:"id"`
	Program   string         `json:"program"`
	Name      string         `json:"name,omitempty"`
	Status    openadr.Status `json:"status"`
	Priority  int            `json:"priority"`
	Start     *time.Time     `json:"start"`
	End       *time.Time     `json:"end"`
	Intervals []IntervalJSON `json:"intervals"`
	// LimitW and Level are what this event imposes now (null: nothing).
	LimitW       *int64 `json:"limit_w"`
	ExportLimitW *int64 `json:"export_limit_w"`
	Level        *int   `json:"level"`
	OptedOut     bool   `json:"opted_out"`
	// Actionable: the event asks the home to act (a SIMPLE level or a
	// limit), so it can be opted out of; price-only events cannot.
	Actionable bool `json:"actionable"`
}

// IntervalJSON is one interval of an event.
type IntervalJSON struct {
	ID           int        `json:"id"`
	Start        time.Time  `json:"start"`
	End          *time.Time `json:"end"`
	Level        *int       `json:"level,omitempty"`
	ImportLimitW *int64     `json:"import_limit_w,omitempty"`
	ExportLimitW *int64     `json:"export_limit_w,omitempty"`
	Price        *float64   `json:"price,omitempty"`
	ExportPrice  *float64   `json:"export_price,omitempty"`
}

func kwPtr(v *float64) *int64 {
	if v == nil {
		return nil
	}
	w := kw(*v)
	return &w
}

func (s *Service) eventJSON(e openadr.Event, now time.Time) EventJSON {
	j := EventJSON{ID: e.ID, Program: programOf(e), Name: e.Name, Status: s.statusOf(e, now), Priority: e.Priority,
		Intervals: make([]IntervalJSON, 0, len(e.Intervals))}
	j.OptedOut = s.optedOut(e.ID)
	if !e.Start.IsZero() {
		j.Start = &e.Start
	}
	if !e.End.IsZero() {
		j.End = &e.End
	}
	j.Actionable = actionable(e)
	for _, iv := range e.Intervals {
		ij := IntervalJSON{ID: iv.ID, Start: iv.Start, Level: iv.Simple, ImportLimitW: kwPtr(iv.ImportLimitKW),
			ExportLimitW: kwPtr(iv.ExportLimitKW), Price: iv.Price, ExportPrice: iv.ExportPrice}
		if !iv.End.IsZero() {
			end := iv.End
			ij.End = &end
		}
		j.Intervals = append(j.Intervals, ij)
	}
	if iv, ok := e.IntervalAt(now); ok && !j.OptedOut {
		j.Level, j.LimitW, j.ExportLimitW = iv.Simple, kwPtr(iv.ImportLimitKW), kwPtr(iv.ExportLimitKW)
	}
	return j
}

// Events returns every known event, newest start first.
func (s *Service) Events() []EventJSON {
	var events []openadr.Event
	if s.o.VEN != nil {
		events = s.o.VEN.Events()
	}
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EventJSON, 0, len(events))
	for _, e := range events {
		out = append(out, s.eventJSON(e, now))
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Start, out[j].Start
		return a != nil && (b == nil || a.After(*b))
	})
	return out
}

// StatusJSON is the engine's state for the API and the UI.
type StatusJSON struct {
	ImportLimitW int64          `json:"import_limit_w"`
	ExportLimitW int64          `json:"export_limit_w"`
	Level        int            `json:"level"`
	Event        string         `json:"event,omitempty"`
	Breach       bool           `json:"breach"`
	Site         siteJSON       `json:"site"`
	BaseW        int64          `json:"base_w"`
	Shed         []ShedJSON     `json:"shed"`
	Plan         []PlanJSON     `json:"plan"`
	Overrides    []OverrideJSON `json:"overrides"`
	Managed      []string       `json:"managed"`
}

// ShedJSON is one device held back now.
type ShedJSON struct {
	Device energy.DeviceID `json:"device"`
	Since  time.Time       `json:"since"`
	Why    string          `json:"why"`
}

// PlanJSON is the plan of one deferrable device.
type PlanJSON struct {
	Device   energy.DeviceID `json:"device"`
	Runs     []plan.Run      `json:"runs"`
	Cost     float64         `json:"cost_estimate"`
	Feasible bool            `json:"feasible"`
}

// OverrideJSON is one household override.
type OverrideJSON struct {
	Device     energy.DeviceID `json:"device"`
	Exempt     bool            `json:"exempt"`
	BoostUntil *time.Time      `json:"boost_until"`
}

// Status returns the engine's state.
func (s *Service) Status() StatusJSON {
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	out := StatusJSON{ImportLimitW: st.ImportLimitW, ExportLimitW: st.ExportLimitW, Level: st.Level, Event: st.Event,
		Breach: st.Breach, Site: s.site, BaseW: int64(s.baseW), Shed: []ShedJSON{}, Plan: []PlanJSON{},
		Overrides: []OverrideJSON{}, Managed: []string{}}
	for _, sh := range st.Shed {
		out.Shed = append(out.Shed, ShedJSON{Device: sh.Device, Since: sh.Since, Why: sh.Why})
	}
	for _, r := range s.results {
		out.Plan = append(out.Plan, PlanJSON{Device: r.Device, Runs: r.Runs, Cost: r.CostEstimate, Feasible: r.Feasible})
	}
	for id, ov := range s.overrides {
		o := OverrideJSON{Device: id, Exempt: ov.Exempt}
		if ov.BoostUntil.After(now) {
			b := ov.BoostUntil
			o.BoostUntil = &b
		}
		out.Overrides = append(out.Overrides, o)
	}
	sort.Slice(out.Overrides, func(i, j int) bool { return out.Overrides[i].Device < out.Overrides[j].Device })
	for _, id := range s.ctlIDs {
		out.Managed = append(out.Managed, string(id))
	}
	return out
}

// OperatingState is the OPERATING_STATE the VEN reports for an event:
// RUNNING_OPTED_OUT after an opt-out, RUNNING_CURTAILED while the
// controller holds loads back for it, else NORMAL.
func (s *Service) OperatingState(eventID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.optedOut(eventID) {
		return "RUNNING_OPTED_OUT"
	}
	if len(s.status.Shed) > 0 && s.status.Event == eventID {
		return "RUNNING_CURTAILED"
	}
	return "NORMAL"
}
