package openadr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Decoding bounds: larger inputs are rejected, never truncated.
const (
	// MaxIntervals bounds the intervals of one event on the wire.
	MaxIntervals = 1000
	// MaxValues bounds the values of one payload or target valuesMap.
	MaxValues = 1000
	// MaxPayloads bounds the payloads of one interval.
	MaxPayloads = 64
	// MaxExpanded bounds an event's intervals after compact payloads are
	// split and 3.1 loops unrolled.
	MaxExpanded = 10000
	// MaxTargets bounds the target strings of one event.
	MaxTargets = 1000
	// MaxDescriptors bounds payload and report descriptors per object.
	MaxDescriptors = 64
	// MaxObjectBytes bounds one event or program document.
	MaxObjectBytes = MaxBodyBytes
	// LoopHorizon is how far ahead of DecodeOptions.Now a long or endless
	// 3.1 loop is unrolled (from the cycle before the current one).
	LoopHorizon = 48 * time.Hour
	// MaxRandomize bounds |randomizeStart|.
	MaxRandomize = 366 * 24 * time.Hour
)

// ErrMalformed is matched (errors.Is) by every *DecodeError.
var ErrMalformed = errors.New("openadr: malformed object")

// DecodeError is a rejected event or program: which one, which field (a
// JSON path such as "intervals[3].payloads[0].values[0]") and why.
type DecodeError struct {
	// Object is "event" or "program".
	Object string
	// ID is the object's id ("" if it had none or was not JSON).
	ID string
	// Field is the JSON path of the offending value ("" for the whole).
	Field string
	// Reason says what is wrong.
	Reason string
}

func (e *DecodeError) Error() string {
	field := e.Field
	if field == "" {
		field = "(document)"
	}
	return fmt.Sprintf("openadr: %s %q: %s: %s", e.Object, e.ID, field, e.Reason)
}

// Is makes errors.Is(err, ErrMalformed) true.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed }

// DecodeOptions are the inputs of [DecodeEvent] besides the document.
type DecodeOptions struct {
	// Now is the decoding time: it places the unrolling window of long
	// 3.1 loops. Required.
	Now time.Time
	// Seen is when this version of the event (id and
	// modificationDateTime) was first seen; it resolves the 0001-01-01
	// "now" start so that re-polls do not move the event. Zero: Now.
	Seen time.Time
	// Seed makes randomizeStart offsets per VEN: the offset is a hash of
	// Seed, the event id, its modificationDateTime and the interval, so
	// it is uniform across VENs and stable across re-polls.
	Seed uint64
	// Program, if known, supplies the program name and fallback payload
	// descriptors (units, currency).
	Program *Program
}

// dec carries the object being decoded, for errors.
type dec struct {
	v      Version
	object string
	id     string
}

func (d *dec) fail(field, format string, args ...any) error {
	return &DecodeError{Object: d.object, ID: d.id, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// descriptors decodes payloadDescriptors.
func (d *dec) descriptors(raw json.RawMessage, field string) ([]PayloadDescriptor, error) {
	items, err := d.array(raw, field, MaxDescriptors)
	if err != nil {
		return nil, err
	}
	out := make([]PayloadDescriptor, 0, len(items))
	for i, it := range items {
		f := index(field, i)
		var w struct {
			PayloadType json.RawMessage `json:"payloadType"`
			Units       json.RawMessage `json:"units"`
			Currency    json.RawMessage `json:"currency"`
		}
		if err := d.obj(it, f, &w); err != nil {
			return nil, err
		}
		var pd PayloadDescriptor
		if pd.PayloadType, err = d.str(w.PayloadType, f+".payloadType"); err != nil {
			return nil, err
		}
		if pd.PayloadType == "" || len(pd.PayloadType) > 128 {
			return nil, d.fail(f+".payloadType", "want 1 to 128 characters")
		}
		if pd.Units, err = d.str(w.Units, f+".units"); err != nil {
			return nil, err
		}
		if pd.Currency, err = d.str(w.Currency, f+".currency"); err != nil {
			return nil, err
		}
		if len(pd.Units) > 128 || len(pd.Currency) > 128 {
			return nil, d.fail(f, "units or currency longer than 128 characters")
		}
		out = append(out, pd)
	}
	return out, nil
}

// targets decodes event targets per version.
func (d *dec) targets(raw json.RawMessage, field string) ([]string, error) {
	items, err := d.array(raw, field, MaxTargets)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, it := range items {
		f := index(field, i)
		if d.v == V31 {
			s, err := d.str(it, f)
			if err != nil || s == "" || len(s) > 128 {
				return nil, d.fail(f, "want a target string of 1 to 128 characters (3.1)")
			}
			out = append(out, s)
			continue
		}
		var w struct {
			Type   json.RawMessage `json:"type"`
			Values json.RawMessage `json:"values"`
		}
		if err := d.obj(it, f, &w); err != nil {
			return nil, d.fail(f, "want a valuesMap {type, values} (3.0.1)")
		}
		typ, err := d.str(w.Type, f+".type")
		if err != nil {
			return nil, err
		}
		if typ == "" || len(typ) > 128 {
			return nil, d.fail(f+".type", "want 1 to 128 characters")
		}
		vals, err := d.values(w.Values, f+".values")
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			out = append(out, typ+":"+formatValue(v))
		}
		if len(out) > MaxTargets {
			return nil, d.fail(field, "more than %d target values", MaxTargets)
		}
	}
	return out, nil
}

// reportDescriptors decodes reportDescriptors with the 3.0.1 defaults.
func (d *dec) reportDescriptors(raw json.RawMessage, field string) ([]ReportDescriptor, error) {
	items, err := d.array(raw, field, MaxDescriptors)
	if err != nil {
		return nil, err
	}
	out := make([]ReportDescriptor, 0, len(items))
	for i, it := range items {
		f := index(field, i)
		var w struct {
			PayloadType   json.RawMessage `json:"payloadType"`
			ReadingType   json.RawMessage `json:"readingType"`
			Units         json.RawMessage `json:"units"`
			Aggregate     json.RawMessage `json:"aggregate"`
			StartInterval json.RawMessage `json:"startInterval"`
			NumIntervals  json.RawMessage `json:"numIntervals"`
			Historical    json.RawMessage `json:"historical"`
			Frequency     json.RawMessage `json:"frequency"`
			Repeat        json.RawMessage `json:"repeat"`
		}
		if err := d.obj(it, f, &w); err != nil {
			return nil, err
		}
		rd := ReportDescriptor{StartInterval: -1, NumIntervals: -1, Historical: true, Frequency: -1, Repeat: 1}
		if rd.PayloadType, err = d.str(w.PayloadType, f+".payloadType"); err != nil {
			return nil, err
		}
		if rd.PayloadType == "" || len(rd.PayloadType) > 128 {
			return nil, d.fail(f+".payloadType", "want 1 to 128 characters")
		}
		if rd.ReadingType, err = d.str(w.ReadingType, f+".readingType"); err != nil {
			return nil, err
		}
		if rd.Units, err = d.str(w.Units, f+".units"); err != nil {
			return nil, err
		}
		if rd.Aggregate, err = d.boolean(w.Aggregate, f+".aggregate", false); err != nil {
			return nil, err
		}
		if rd.Historical, err = d.boolean(w.Historical, f+".historical", true); err != nil {
			return nil, err
		}
		for _, x := range []struct {
			raw  json.RawMessage
			name string
			dst  *int
		}{{w.StartInterval, "startInterval", &rd.StartInterval}, {w.NumIntervals, "numIntervals", &rd.NumIntervals}, {w.Repeat, "repeat", &rd.Repeat}} {
			n, ok, err := d.integer(x.raw, f+"."+x.name, -1, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			if ok {
				*x.dst = int(n)
			}
		}
		// Some profiles (NetFlex) send frequency as an ISO duration: it
		// is accepted and read as -1, since reports go per interval.
		if s, err := d.str(w.Frequency, ""); err == nil && s != "" {
			if _, err := ParseDuration(s); err != nil {
				return nil, d.fail(f+".frequency", "want an integer or an ISO 8601 duration")
			}
		} else if n, ok, err := d.integer(w.Frequency, f+".frequency", -1, math.MaxInt32); err != nil {
			return nil, err
		} else if ok {
			rd.Frequency = int(n)
		}
		out = append(out, rd)
	}
	return out, nil
}

// DecodeProgram decodes a program object (GET /programs). It needs an id
// and a programName; everything else but payloadDescriptors is ignored.
func DecodeProgram(v Version, data []byte) (Program, error) {
	d := &dec{v: v, object: "program"}
	if len(data) > MaxObjectBytes {
		return Program{}, d.fail("", "larger than %d bytes", MaxObjectBytes)
	}
	var w struct {
		ID                 json.RawMessage `json:"id"`
		ProgramName        json.RawMessage `json:"programName"`
		PayloadDescriptors json.RawMessage `json:"payloadDescriptors"`
	}
	if err := d.obj(data, "", &w); err != nil {
		return Program{}, err
	}
	var p Program
	var err error
	if p.ID, err = d.str(w.ID, "id"); err != nil {
		return Program{}, err
	}
	d.id = p.ID
	if p.ID == "" || len(p.ID) > 128 {
		return Program{}, d.fail("id", "want 1 to 128 characters")
	}
	if p.Name, err = d.str(w.ProgramName, "programName"); err != nil {
		return Program{}, err
	}
	if p.Name == "" {
		return Program{}, d.fail("programName", "required")
	}
	if p.Descriptors, err = d.descriptors(w.PayloadDescriptors, "payloadDescriptors"); err != nil {
		return Program{}, err
	}
	return p, nil
}

// wireEvent is an event with every field still raw, so each can be
// checked with its path.
type wireEvent struct {
	ID                   json.RawMessage `json:"id"`
	ProgramID            json.RawMessage `json:"programID"`
	EventName            json.RawMessage `json:"eventName"`
	Priority             json.RawMessage `json:"priority"`
	Targets              json.RawMessage `json:"targets"`
	ModificationDateTime json.RawMessage `json:"modificationDateTime"`
	PayloadDescriptors   json.RawMessage `json:"payloadDescriptors"`
	ReportDescriptors    json.RawMessage `json:"reportDescriptors"`
	IntervalPeriod       json.RawMessage `json:"intervalPeriod"`
	Intervals            json.RawMessage `json:"intervals"`
	Duration             json.RawMessage `json:"duration"`
}

// eventKey is the part of an event the VEN needs before decoding it.
type eventKey struct {
	ID        string `json:"id"`
	ProgramID string `json:"programID"`
	Modified  string `json:"modificationDateTime"`
}

// peekEvent returns the id and modificationDateTime of a raw event, empty
// when it is not a JSON object with string fields.
func peekEvent(data []byte) eventKey {
	var k eventKey
	_ = json.Unmarshal(data, &k)
	return k
}

// DecodeEvent decodes one event object of wire version v into the
// internal model. It is strict on what the gateway acts on (timing,
// SIMPLE, prices, limits, targets) and ignores unknown fields and
// payload types (kept in Interval.Other). The error is a *DecodeError
// naming the event and field. It never panics.
func DecodeEvent(v Version, data []byte, opt DecodeOptions) (Event, error) {
	d := &dec{v: v, object: "event"}
	if v != V301 && v != V31 {
		return Event{}, d.fail("", "unknown version %q", v)
	}
	if len(data) > MaxObjectBytes {
		return Event{}, d.fail("", "larger than %d bytes", MaxObjectBytes)
	}
	var w wireEvent
	if b := bytes.TrimSpace(data); len(b) == 0 || b[0] != '{' {
		return Event{}, d.fail("", "not a JSON object")
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return Event{}, d.fail("", "not a JSON object: %s", clip(err.Error(), 120))
	}
	var e Event
	var err error
	if e.ID, err = d.str(w.ID, "id"); err != nil {
		return Event{}, err
	}
	d.id = e.ID
	if e.ID == "" || len(e.ID) > 128 {
		return Event{}, d.fail("id", "want 1 to 128 characters")
	}
	if e.ProgramID, err = d.str(w.ProgramID, "programID"); err != nil {
		return Event{}, err
	}
	if e.ProgramID == "" && v == V301 {
		return Event{}, d.fail("programID", "required (3.0.1)")
	}
	if e.Name, err = d.str(w.EventName, "eventName"); err != nil {
		return Event{}, err
	}
	e.Priority = LowPriority
	if n, ok, err := d.integer(w.Priority, "priority", 0, LowPriority); err != nil {
		return Event{}, err
	} else if ok {
		e.Priority = int(n)
	}
	if e.Targets, err = d.targets(w.Targets, "targets"); err != nil {
		return Event{}, err
	}
	mod, hasMod, err := d.time(w.ModificationDateTime, "modificationDateTime")
	if err != nil {
		return Event{}, err
	}
	if hasMod && !mod.sentinel {
		e.Modified = mod.t
	}
	descs, err := d.descriptors(w.PayloadDescriptors, "payloadDescriptors")
	if err != nil {
		return Event{}, err
	}
	if e.Reports, err = d.reportDescriptors(w.ReportDescriptors, "reportDescriptors"); err != nil {
		return Event{}, err
	}
	var progDescs []PayloadDescriptor
	if opt.Program != nil {
		e.ProgramName = opt.Program.Name
		progDescs = opt.Program.Descriptors
	}
	units, err := d.units(descs, progDescs)
	if err != nil {
		return Event{}, err
	}
	e.Currency = units.currency

	evp, err := d.period(w.IntervalPeriod, "intervalPeriod")
	if err != nil {
		return Event{}, err
	}
	if isNull(w.Intervals) && v == V301 {
		return Event{}, d.fail("intervals", "required (3.0.1)")
	}
	base, err := d.intervals(w.Intervals, "intervals", units)
	if err != nil {
		return Event{}, err
	}
	var evDur *Duration
	if v == V31 {
		du, ok, err := d.duration(w.Duration, "duration")
		if err != nil {
			return Event{}, err
		}
		if ok && du.Negative {
			return Event{}, d.fail("duration", "must not be negative")
		}
		if ok && !du.IsZero() {
			evDur = &du
		}
	}
	modText, _ := d.str(w.ModificationDateTime, "")
	x := expander{d: d, opt: opt, mod: modText}
	if err := x.expand(&e, evp, base, evDur); err != nil {
		return Event{}, err
	}
	return e, nil
}

// unitScale is how payload values convert to the model's units.
type unitScale struct {
	currency              string
	price, export         float64 // per kWh
	importLimit, expLimit float64 // kW
}

// units picks the descriptor of each acted-on payload type (the event's,
// else the program's) and checks its units.
func (d *dec) units(event, program []PayloadDescriptor) (unitScale, error) {
	u := unitScale{price: 1, export: 1, importLimit: 1, expLimit: 1}
	find := func(typ string) (PayloadDescriptor, string, bool) {
		for i, pd := range event {
			if pd.PayloadType == typ {
				return pd, fmt.Sprintf("payloadDescriptors[%d].units", i), true
			}
		}
		for i, pd := range program {
			if pd.PayloadType == typ {
				return pd, fmt.Sprintf("program payloadDescriptors[%d].units", i), true
			}
		}
		return PayloadDescriptor{}, "", false
	}
	energy := map[string]float64{"": 1, "KWH": 1, "MWH": 1.0 / 1000, "WH": 1000}
	power := map[string]float64{"": 1, "KW": 1, "W": 1.0 / 1000, "MW": 1000}
	for _, x := range []struct {
		typ   string
		table map[string]float64
		dst   *float64
	}{
		{"PRICE", energy, &u.price}, {"EXPORT_PRICE", energy, &u.export},
		{"IMPORT_CAPACITY_LIMIT", power, &u.importLimit}, {"EXPORT_CAPACITY_LIMIT", power, &u.expLimit},
	} {
		pd, field, ok := find(x.typ)
		if !ok {
			continue
		}
		f, known := x.table[strings.ToUpper(pd.Units)]
		if !known {
			return u, d.fail(field, "%s in units %q is not supported", x.typ, clip(pd.Units, 32))
		}
		*x.dst = f
		if u.currency == "" && pd.Currency != "" && x.table["KWH"] != 0 {
			u.currency = pd.Currency
		}
	}
	return u, nil
}
