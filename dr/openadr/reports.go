package openadr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Report limits.
const (
	// MaxQueuedReports bounds the reports waiting to be posted; past it
	// the oldest is dropped (and logged).
	MaxQueuedReports = 1000
	// ReportGrace is how long after an interval's end the VEN waits for
	// the ReportSource to have every value; then it posts what it has.
	ReportGrace = 15 * time.Minute
)

// ReportSource supplies the values of reports. It is called from the
// polling goroutine; ok false means "not (yet) known".
type ReportSource interface {
	// Usage is the site's imported energy over [from, to) in kWh (USAGE).
	Usage(from, to time.Time) (kWh float64, ok bool)
	// Demand is the mean import power over [from, to) in kW (DEMAND).
	Demand(from, to time.Time) (kW float64, ok bool)
	// OperatingState is the site's state for the event at an instant, in
	// the OPERATING_STATE vocabulary: NORMAL, RUNNING_CURTAILED,
	// RUNNING_OPTED_OUT, IDLE_NORMAL, ... ("" if unknown).
	OperatingState(eventID string, at time.Time) string
}

// reportKey names one reported interval of an event.
type reportKey struct {
	id    int
	start int64 // UnixNano: looped intervals reuse ids
}

// reportValue is one payload of a report interval.
type reportValue struct {
	typ, reading, units string
	value               any
}

// reportData is a report before it is put on the wire (the version may be
// unknown when it is made).
type reportData struct {
	event      Event
	id         int
	start, end time.Time
	name       string
	values     []reportValue
}

// queued is a report waiting to be posted.
type queued struct {
	seq uint64
	r   reportData
}

// supported reports: the payload types the VEN can fill. Others
// (READING, BASELINE, STORAGE_*, ...) are ignored.
var reportTypes = map[string]bool{"USAGE": true, "DEMAND": true, "OPERATING_STATE": true}

// collectReports makes the reports of intervals that ended, for events
// that ask for USAGE, DEMAND or OPERATING_STATE: one report per ended
// interval (sub-intervals of a split count as one), carrying the event's
// interval id. Intervals that ended before the VEN first saw the event
// (e.g. before a restart) are not reported.
func (v *VEN) collectReports(now time.Time) {
	src := v.cfg.Reports
	if src == nil {
		return
	}
	type job struct {
		rec   *record
		key   reportKey
		r     reportData
		descs []ReportDescriptor
	}
	var jobs []job
	v.mu.Lock()
	for _, rec := range v.events {
		ev := rec.ev
		if ev.Cancelled {
			continue
		}
		var descs []ReportDescriptor
		for _, rd := range ev.Reports {
			if reportTypes[rd.PayloadType] && !hasType(descs, rd.PayloadType) {
				descs = append(descs, rd)
			}
		}
		if len(descs) == 0 {
			continue
		}
		for i := 0; i < len(ev.Intervals); {
			iv := ev.Intervals[i]
			j := i + 1
			end := iv.End
			for j < len(ev.Intervals) && ev.Intervals[j].ID == iv.ID && !end.IsZero() && ev.Intervals[j].Start.Equal(end) {
				end = ev.Intervals[j].End
				j++
			}
			i = j
			if end.IsZero() || end.After(now) || !end.After(rec.first) || !end.After(iv.Start) {
				continue
			}
			k := reportKey{id: iv.ID, start: iv.Start.UnixNano()}
			if rec.reported[k] {
				continue
			}
			jobs = append(jobs, job{rec: rec, key: k, descs: descs,
				r: reportData{event: ev, id: iv.ID, start: iv.Start, end: end, name: fmt.Sprintf("%s interval %d", ev.ID, iv.ID)}})
		}
	}
	v.mu.Unlock()

	for _, j := range jobs {
		complete := true
		for _, rd := range j.descs {
			rv, ok := reportValueOf(src, rd, j.r.event.ID, j.r.start, j.r.end)
			if !ok {
				complete = false
				continue
			}
			j.r.values = append(j.r.values, rv)
		}
		late := !now.Before(j.r.end.Add(ReportGrace))
		if !complete && !late {
			continue // try again on the next poll
		}
		v.mu.Lock()
		j.rec.reported[j.key] = true
		if len(j.r.values) > 0 {
			v.enqueueLocked(j.r)
		}
		v.mu.Unlock()
		if len(j.r.values) == 0 {
			v.log.Warn("openadr: no data for a requested report", "event", j.r.event.ID, "interval", j.r.id)
		}
	}
}

func hasType(ds []ReportDescriptor, t string) bool {
	for _, d := range ds {
		if d.PayloadType == t {
			return true
		}
	}
	return false
}

// reportValueOf asks src for one payload, in the units the descriptor
// asks for when the VEN knows them (KWH or WH, KW or W).
func reportValueOf(src ReportSource, rd ReportDescriptor, eventID string, from, to time.Time) (reportValue, bool) {
	switch rd.PayloadType {
	case "USAGE":
		kwh, ok := src.Usage(from, to)
		rv := reportValue{typ: "USAGE", reading: or(rd.ReadingType, "DIRECT_READ"), units: "KWH", value: kwh}
		if strings.EqualFold(rd.Units, "WH") {
			rv.units, rv.value = "WH", kwh*1000
		}
		return rv, ok && finite(kwh)
	case "DEMAND":
		kw, ok := src.Demand(from, to)
		rv := reportValue{typ: "DEMAND", reading: or(rd.ReadingType, "MEAN"), units: "KW", value: kw}
		if strings.EqualFold(rd.Units, "W") {
			rv.units, rv.value = "W", kw*1000
		}
		return rv, ok && finite(kw)
	case "OPERATING_STATE":
		s := src.OperatingState(eventID, to.Add(-time.Nanosecond))
		return reportValue{typ: "OPERATING_STATE", value: s}, s != ""
	}
	return reportValue{}, false
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func finite(f float64) bool { return f == f && f-f == 0 }

// enqueueLocked queues r, dropping the oldest past MaxQueuedReports.
// v.mu is held.
func (v *VEN) enqueueLocked(r reportData) {
	v.seq++
	v.queue = append(v.queue, queued{seq: v.seq, r: r})
	if n := len(v.queue) - MaxQueuedReports; n > 0 {
		for _, q := range v.queue[:n] {
			v.log.Warn("openadr: report queue full; dropping the oldest report", "event", q.r.event.ID, "interval", q.r.id)
		}
		v.queue = append(v.queue[:0:0], v.queue[n:]...)
	}
}

// flushReports posts queued reports in order until one fails to reach
// the VTN (kept for the next poll). A report the VTN rejects (4xx) is
// dropped and logged.
func (v *VEN) flushReports(ctx context.Context) {
	for {
		v.mu.Lock()
		if len(v.queue) == 0 {
			v.mu.Unlock()
			return
		}
		q := v.queue[0]
		v.mu.Unlock()
		err := v.postReport(ctx, q.r)
		var herr *HTTPError
		rejected := errors.As(err, &herr) && herr.Status >= 400 && herr.Status < 500 && !errors.Is(err, ErrAuth)
		if err != nil && !rejected {
			v.log.Debug("openadr: report not posted; retrying on the next poll", "event", q.r.event.ID, "err", err)
			return
		}
		if rejected {
			v.log.Warn("openadr: VTN rejected a report; dropped", "event", q.r.event.ID, "interval", q.r.id, "err", err)
		}
		v.mu.Lock()
		if len(v.queue) > 0 && v.queue[0].seq == q.seq {
			v.queue = v.queue[1:]
		}
		v.mu.Unlock()
	}
}

// QueuedReports returns how many reports wait to be posted.
func (v *VEN) QueuedReports() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.queue)
}

// Wire shapes of a report (3.0.1 and 3.1; programID only in 3.0.1).
type wireReport struct {
	ProgramID          string           `json:"programID,omitempty"`
	EventID            string           `json:"eventID"`
	ClientName         string           `json:"clientName"`
	ReportName         string           `json:"reportName,omitempty"`
	PayloadDescriptors []wireReportDesc `json:"payloadDescriptors,omitempty"`
	Resources          []wireResource   `json:"resources"`
}

type wireReportDesc struct {
	ObjectType  string `json:"objectType"`
	PayloadType string `json:"payloadType"`
	ReadingType string `json:"readingType,omitempty"`
	Units       string `json:"units,omitempty"`
}

type wireResource struct {
	ResourceName   string           `json:"resourceName"`
	IntervalPeriod wirePeriodOut    `json:"intervalPeriod"`
	Intervals      []wireReportIval `json:"intervals"`
}

type wirePeriodOut struct {
	Start    string `json:"start"`
	Duration string `json:"duration"`
}

type wireReportIval struct {
	ID       int           `json:"id"`
	Payloads []wireValuesM `json:"payloads"`
}

type wireValuesM struct {
	Type   string `json:"type"`
	Values []any  `json:"values"`
}

// encodeReport puts r on the wire for version ver.
func (v *VEN) encodeReport(ver Version, r reportData) ([]byte, error) {
	w := wireReport{EventID: r.event.ID, ClientName: v.cfg.VENName, ReportName: r.name}
	if ver == V301 {
		w.ProgramID = r.event.ProgramID
	}
	dur := "P9999Y"
	if !r.end.IsZero() {
		dur = Duration{Clock: r.end.Sub(r.start)}.String()
	}
	res := wireResource{
		ResourceName:   "AGGREGATED_REPORT",
		IntervalPeriod: wirePeriodOut{Start: r.start.UTC().Format(time.RFC3339Nano), Duration: dur},
	}
	iv := wireReportIval{ID: r.id}
	for _, rv := range r.values {
		w.PayloadDescriptors = append(w.PayloadDescriptors, wireReportDesc{ObjectType: "REPORT_PAYLOAD_DESCRIPTOR", PayloadType: rv.typ, ReadingType: rv.reading, Units: rv.units})
		iv.Payloads = append(iv.Payloads, wireValuesM{Type: rv.typ, Values: []any{rv.value}})
	}
	res.Intervals = []wireReportIval{iv}
	w.Resources = []wireResource{res}
	return json.Marshal(w)
}

func (v *VEN) postReport(ctx context.Context, r reportData) error {
	ver, err := v.wireVersion(ctx)
	if err != nil {
		return err
	}
	body, err := v.encodeReport(ver, r)
	if err != nil {
		return fmt.Errorf("openadr: encoding a report: %w", err)
	}
	_, err = v.api(ctx, http.MethodPost, "reports", nil, body)
	return err
}

// OptOut records that the household opts out of the event (Resolve
// callers skip it through IsOptedOut) and, if the event is active, posts
// an OPERATING_STATE report for its current interval: IDLE_OPTED_OUT when
// the ReportSource says the site is idle (a state starting with IDLE),
// else RUNNING_OPTED_OUT. OpenADR 3 has no opt message; this report is
// how the VTN learns. If the post fails the opt-out still holds, the
// report is queued for the next poll and the error says so.
func (v *VEN) OptOut(ctx context.Context, eventID string) error {
	v.mu.Lock()
	rec := v.events[eventID]
	if rec == nil {
		v.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownEvent, eventID)
	}
	v.optOut[eventID] = true
	ev := rec.ev
	v.mu.Unlock()
	v.signal()

	now := v.clock.Now()
	iv, ok := ev.IntervalAt(now)
	if !ok {
		return nil
	}
	state := "RUNNING_OPTED_OUT"
	if src := v.cfg.Reports; src != nil && strings.HasPrefix(src.OperatingState(eventID, now), "IDLE") {
		state = "IDLE_OPTED_OUT"
	}
	r := reportData{event: ev, id: iv.ID, start: iv.Start, end: iv.End, name: fmt.Sprintf("%s opt-out", ev.ID),
		values: []reportValue{{typ: "OPERATING_STATE", value: state}}}
	if err := v.postReport(ctx, r); err != nil {
		v.mu.Lock()
		v.enqueueLocked(r)
		v.mu.Unlock()
		return fmt.Errorf("openadr: opt-out of %q recorded, report queued: %w", eventID, err)
	}
	return nil
}
