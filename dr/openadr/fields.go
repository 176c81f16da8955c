package openadr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The JSON field helpers of the decoder: each decodes one optional value
// and reports a problem with the value's path.

// plainString returns the content of a JSON string without escapes
// (the common case) without a second JSON pass; ok is false otherwise.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
			return "", false
		}
	}
	return string(body), true
}

// jsonNumber parses a JSON number (already validated as JSON by the caller's
// Unmarshal) as a finite float64.
func jsonNumber(raw []byte) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !(raw[0] == '-' || isDigit(raw[0])) {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// str decodes an optional string.
func (d *dec) str(raw json.RawMessage, field string) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	if s, ok := plainString(raw); ok {
		return s, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", d.fail(field, "want a string")
	}
	return s, nil
}

// integer decodes an optional integer within [lo, hi]; ok is false when
// absent. 2.0 counts as an integer.
func (d *dec) integer(raw json.RawMessage, field string, lo, hi int64) (int64, bool, error) {
	if isNull(raw) {
		return 0, false, nil
	}
	f, ok := jsonNumber(raw)
	if !ok {
		return 0, false, d.fail(field, "want an integer")
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, false, d.fail(field, "want an integer %d..%d, not %s", lo, hi, clip(string(raw), 32))
	}
	return int64(f), true, nil
}

func (d *dec) boolean(raw json.RawMessage, field string, def bool) (bool, error) {
	if isNull(raw) {
		return def, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, d.fail(field, "want true or false")
	}
	return b, nil
}

// array decodes an optional JSON array into its elements, at most max.
func (d *dec) array(raw json.RawMessage, field string, max int) ([]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, d.fail(field, "want an array")
	}
	if len(a) > max {
		return nil, d.fail(field, "%d entries, at most %d allowed", len(a), max)
	}
	return a, nil
}

// object decodes a JSON object into v (unknown keys ignored).
func (d *dec) obj(raw json.RawMessage, field string, v any) error {
	if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '{' {
		return d.fail(field, "want an object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return d.fail(field, "want an object")
	}
	return nil
}

// wireTime is a parsed date-time; sentinel marks 0001-01-01 ("now" or
// "follow the previous interval").
type wireTime struct {
	t        time.Time
	sentinel bool
}

func (d *dec) time(raw json.RawMessage, field string) (wireTime, bool, error) {
	s, err := d.str(raw, field)
	if err != nil || isNull(raw) {
		return wireTime{}, false, err
	}
	if strings.HasPrefix(s, "0001-01-01") {
		rest := s[len("0001-01-01"):]
		if rest == "" || rest[0] == 'T' || rest[0] == 't' {
			return wireTime{sentinel: true}, true, nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return wireTime{}, false, d.fail(field, "want an RFC 3339 date-time with a UTC offset, not %q", clip(s, 40))
	}
	return wireTime{t: t.UTC()}, true, nil
}

func (d *dec) duration(raw json.RawMessage, field string) (Duration, bool, error) {
	s, err := d.str(raw, field)
	if err != nil || isNull(raw) {
		return Duration{}, false, err
	}
	du, err := ParseDuration(s)
	if err != nil {
		return Duration{}, false, d.fail(field, "%v", err)
	}
	return du, true, nil
}

// period is a decoded intervalPeriod.
type period struct {
	start    wireTime
	hasStart bool
	dur      Duration
	hasDur   bool
	rnd      Duration
	hasRnd   bool
	field    string
}

func (d *dec) period(raw json.RawMessage, field string) (*period, error) {
	if isNull(raw) {
		return nil, nil
	}
	var w struct {
		Start          json.RawMessage `json:"start"`
		Duration       json.RawMessage `json:"duration"`
		RandomizeStart json.RawMessage `json:"randomizeStart"`
	}
	if err := d.obj(raw, field, &w); err != nil {
		return nil, err
	}
	p := &period{field: field}
	var err error
	if p.start, p.hasStart, err = d.time(w.Start, field+".start"); err != nil {
		return nil, err
	}
	if p.dur, p.hasDur, err = d.duration(w.Duration, field+".duration"); err != nil {
		return nil, err
	}
	if p.hasDur && p.dur.Negative {
		return nil, d.fail(field+".duration", "must not be negative")
	}
	if p.rnd, p.hasRnd, err = d.duration(w.RandomizeStart, field+".randomizeStart"); err != nil {
		return nil, err
	}
	if p.hasRnd && p.rnd.Forever() {
		return nil, d.fail(field+".randomizeStart", "must not be P9999Y")
	}
	return p, nil
}

// index is the JSON path field[i].
func index(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case Point:
		return strconv.FormatFloat(x.X, 'f', -1, 64) + "," + strconv.FormatFloat(x.Y, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// values decodes a values array: numbers (float64), strings, booleans and
// points; null is an error.
func (d *dec) values(raw json.RawMessage, field string) ([]any, error) {
	items, err := d.array(raw, field, MaxValues)
	if err != nil {
		return nil, err
	}
	return d.valueList(items, field)
}

// valueList converts the elements of a values array.
func (d *dec) valueList(items []json.RawMessage, field string) ([]any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		f := index(field, i)
		it = bytes.TrimSpace(it)
		if len(it) == 0 {
			return nil, d.fail(f, "empty value")
		}
		switch c := it[0]; {
		case c == '"':
			s, ok := plainString(it)
			if !ok && json.Unmarshal(it, &s) != nil {
				return nil, d.fail(f, "bad string")
			}
			out[i] = s
		case c == 't' || c == 'f':
			var b bool
			if err := json.Unmarshal(it, &b); err != nil {
				return nil, d.fail(f, "bad boolean")
			}
			out[i] = b
		case c == '{':
			var p struct {
				X *float64 `json:"x"`
				Y *float64 `json:"y"`
			}
			if err := json.Unmarshal(it, &p); err != nil || p.X == nil || p.Y == nil {
				return nil, d.fail(f, "want a point {x, y}")
			}
			out[i] = Point{X: *p.X, Y: *p.Y}
		case c == '-' || isDigit(c):
			x, ok := jsonNumber(it)
			if !ok {
				return nil, d.fail(f, "number out of range")
			}
			out[i] = x
		default:
			return nil, d.fail(f, "want a number, string, boolean or point, not %s", clip(string(it), 16))
		}
	}
	return out, nil
}
