package openadr

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"time"
)

// payload is one decoded, validated valuesMap of an interval.
type payload struct {
	typ  string
	vals []any
}

// baseInterval is a wire interval before timing.
type baseInterval struct {
	id       int
	field    string
	period   *period
	payloads []payload
	// n is the compact multi-value count: the interval splits into n
	// sub-intervals (1: no split).
	n int
}

// splitTypes are the numeric payload types whose N values in one interval
// mean N equal sub-intervals (the 3.1 compact form, also accepted on
// 3.0.1). Other types keep all their values in one interval.
var splitTypes = map[string]bool{
	"PRICE": true, "EXPORT_PRICE": true, "GHG": true, "SIMPLE": true,
	"IMPORT_CAPACITY_LIMIT": true, "EXPORT_CAPACITY_LIMIT": true,
}

// wireInterval and wirePayload are an interval with its leaves still raw.
type wireInterval struct {
	ID             json.RawMessage `json:"id"`
	IntervalPeriod json.RawMessage `json:"intervalPeriod"`
	Payloads       []wirePayload   `json:"payloads"`
}

type wirePayload struct {
	Type   json.RawMessage   `json:"type"`
	Values []json.RawMessage `json:"values"`
}

// wireIntervals splits the intervals array down to its leaves in one JSON
// pass; only when that fails (a wrongly shaped document) does it walk the
// document level by level to name the offending field.
func (d *dec) wireIntervals(raw json.RawMessage, field string) ([]wireInterval, error) {
	if isNull(raw) {
		return nil, nil
	}
	var fast []wireInterval
	if json.Unmarshal(raw, &fast) == nil && complete(fast) {
		if len(fast) > MaxIntervals {
			return nil, d.fail(field, "%d entries, at most %d allowed", len(fast), MaxIntervals)
		}
		return fast, nil
	}
	items, err := d.array(raw, field, MaxIntervals)
	if err != nil {
		return nil, err
	}
	out := make([]wireInterval, len(items))
	for i, it := range items {
		f := index(field, i)
		var w struct {
			ID             json.RawMessage `json:"id"`
			IntervalPeriod json.RawMessage `json:"intervalPeriod"`
			Payloads       json.RawMessage `json:"payloads"`
		}
		if err := d.obj(it, f, &w); err != nil {
			return nil, err
		}
		pls, err := d.array(w.Payloads, f+".payloads", MaxPayloads)
		if err != nil {
			return nil, err
		}
		out[i] = wireInterval{ID: w.ID, IntervalPeriod: w.IntervalPeriod}
		for j, pr := range pls {
			pf := index(f+".payloads", j)
			var pw struct {
				Type   json.RawMessage `json:"type"`
				Values json.RawMessage `json:"values"`
			}
			if err := d.obj(pr, pf, &pw); err != nil {
				return nil, err
			}
			vals, err := d.array(pw.Values, pf+".values", MaxValues)
			if err != nil {
				return nil, err
			}
			out[i].Payloads = append(out[i].Payloads, wirePayload{Type: pw.Type, Values: vals})
		}
	}
	return out, nil
}

// complete: the one-pass decode saw an object for every interval and
// payload (a null or {} one falls back to the precise path).
func complete(ivs []wireInterval) bool {
	for _, iv := range ivs {
		if iv.ID == nil {
			return false
		}
		for _, p := range iv.Payloads {
			if p.Type == nil {
				return false
			}
		}
	}
	return true
}

// intervals decodes and validates the wire intervals and their payloads.
func (d *dec) intervals(raw json.RawMessage, field string, u unitScale) ([]baseInterval, error) {
	ivs, err := d.wireIntervals(raw, field)
	if err != nil {
		return nil, err
	}
	out := make([]baseInterval, 0, len(ivs))
	for i, w := range ivs {
		f := index(field, i)
		b := baseInterval{field: f, n: 1}
		id, ok, err := d.integer(w.ID, f+".id", math.MinInt32, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, d.fail(f+".id", "required")
		}
		b.id = int(id)
		if b.period, err = d.period(w.IntervalPeriod, f+".intervalPeriod"); err != nil {
			return nil, err
		}
		if len(w.Payloads) > MaxPayloads {
			return nil, d.fail(f+".payloads", "%d entries, at most %d allowed", len(w.Payloads), MaxPayloads)
		}
		for j, wp := range w.Payloads {
			pf := index(f+".payloads", j)
			p, err := d.payload(wp, pf, u)
			if err != nil {
				return nil, err
			}
			for _, q := range b.payloads {
				if q.typ == p.typ {
					return nil, d.fail(pf+".type", "duplicate payload type %s", p.typ)
				}
			}
			if splitTypes[p.typ] && len(p.vals) > 1 {
				if b.n > 1 && b.n != len(p.vals) {
					return nil, d.fail(pf+".values", "%d values where another payload of the interval has %d", len(p.vals), b.n)
				}
				b.n = len(p.vals)
			}
			b.payloads = append(b.payloads, p)
		}
		out = append(out, b)
	}
	return out, nil
}

// payload checks one valuesMap, converting acted-on values to the
// model's units.
func (d *dec) payload(w wirePayload, f string, u unitScale) (payload, error) {
	typ, err := d.str(w.Type, f+".type")
	if err != nil {
		return payload{}, err
	}
	if typ == "" || len(typ) > 128 {
		return payload{}, d.fail(f+".type", "want 1 to 128 characters")
	}
	if len(w.Values) > MaxValues {
		return payload{}, d.fail(f+".values", "%d entries, at most %d allowed", len(w.Values), MaxValues)
	}
	vals, err := d.valueList(w.Values, f+".values")
	if err != nil {
		return payload{}, err
	}
	if !splitTypes[typ] {
		return payload{typ: typ, vals: vals}, nil
	}
	if len(vals) == 0 {
		return payload{}, d.fail(f+".values", "%s needs a value", typ)
	}
	scale := 1.0
	switch typ {
	case "PRICE":
		scale = u.price
	case "EXPORT_PRICE":
		scale = u.export
	case "IMPORT_CAPACITY_LIMIT":
		scale = u.importLimit
	case "EXPORT_CAPACITY_LIMIT":
		scale = u.expLimit
	}
	for k, v := range vals {
		vf := index(f+".values", k)
		x, ok := v.(float64)
		if !ok {
			return payload{}, d.fail(vf, "%s must be a number", typ)
		}
		switch typ {
		case "SIMPLE":
			if x != math.Trunc(x) || x < 0 || x > 3 {
				return payload{}, d.fail(vf, "SIMPLE must be an integer 0..3, not %v", x)
			}
		case "IMPORT_CAPACITY_LIMIT", "EXPORT_CAPACITY_LIMIT", "GHG":
			if x < 0 {
				return payload{}, d.fail(vf, "%s must not be negative, not %v", typ, x)
			}
		}
		x *= scale
		if math.IsInf(x, 0) {
			return payload{}, d.fail(vf, "number out of range")
		}
		vals[k] = x
	}
	return payload{typ: typ, vals: vals}, nil
}

// expander turns base intervals into the event's absolute intervals.
type expander struct {
	d   *dec
	opt DecodeOptions
	mod string // modificationDateTime as sent, for the randomizeStart hash
}

// timed is a base interval with its absolute bounds.
type timed struct {
	b          *baseInterval
	start, end time.Time
	open       bool
}

func (x *expander) expand(e *Event, evp *period, base []baseInterval, evDur *Duration) error {
	d := x.d
	anchor := x.opt.Seen
	if anchor.IsZero() {
		anchor = x.opt.Now
	}
	anchor = anchor.UTC()
	if len(base) == 0 {
		if evp != nil && evp.hasStart && evp.start.sentinel && (!evp.hasDur || evp.dur.IsZero()) {
			e.Cancelled = true
		}
		return nil
	}

	var evOff time.Duration
	if evp != nil && evp.hasRnd {
		ref := anchor
		if evp.hasStart && !evp.start.sentinel {
			ref = evp.start.t
		}
		var err error
		if evOff, err = x.offset(-1, evp.rnd, ref, evp.field+".randomizeStart"); err != nil {
			return err
		}
	}

	ts := make([]timed, len(base))
	firstSentinel := false
	allZero := true
	for i := range base {
		b := &base[i]
		own := b.period
		if own == nil && evp == nil {
			return d.fail(b.field+".intervalPeriod", "required: the event has no intervalPeriod")
		}
		off := evOff
		if own != nil && own.hasRnd {
			ref := anchor
			if own.hasStart && !own.start.sentinel {
				ref = own.start.t
			}
			var err error
			if off, err = x.offset(i, own.rnd, ref, own.field+".randomizeStart"); err != nil {
				return err
			}
		}
		var start time.Time
		switch {
		case own != nil && own.hasStart && !own.start.sentinel:
			start = own.start.t.Add(off)
		case i == 0:
			sentinel := own != nil && own.hasStart
			if !sentinel {
				if evp == nil || !evp.hasStart {
					return d.fail("intervalPeriod.start", "required: the first interval has no start")
				}
				sentinel = evp.start.sentinel
			}
			if sentinel {
				start = anchor.Add(off)
				firstSentinel = true
			} else {
				start = evp.start.t.Add(off)
			}
		default:
			if ts[i-1].open {
				return d.fail(b.field, "follows an open-ended (P9999Y) interval")
			}
			start = ts[i-1].end
		}
		var dur Duration
		switch {
		case own != nil && own.hasDur:
			dur = own.dur
		case evp != nil && evp.hasDur:
			dur = evp.dur
		}
		t := timed{b: b, start: start}
		if dur.Forever() {
			t.open = true
			allZero = false
		} else {
			t.end = dur.AddTo(start)
			if t.end.After(start) {
				allZero = false
			}
		}
		if !inRange(t.start) || (!t.open && !inRange(t.end)) {
			return d.fail(b.field+".intervalPeriod", "time out of range (years 1 to 9999)")
		}
		ts[i] = t
	}
	if firstSentinel && allZero {
		e.Cancelled = true
		return nil
	}

	out := make([]Interval, 0, len(ts))
	for _, t := range ts {
		n := t.b.n
		if n <= 1 {
			out = append(out, build(t.b, 0, t.start, t.end))
			continue
		}
		if t.open || !t.end.After(t.start) {
			return d.fail(t.b.field+".payloads", "%d values need a finite, non-zero interval duration", n)
		}
		if len(out)+n > MaxExpanded {
			return d.fail("intervals", "more than %d intervals after splitting multi-value payloads", MaxExpanded)
		}
		sub := t.end.Sub(t.start) / time.Duration(n)
		if sub <= 0 {
			return d.fail(t.b.field+".payloads", "%d values in an interval too short to split", n)
		}
		for j := 0; j < n; j++ {
			s := t.start.Add(time.Duration(j) * sub)
			en := s.Add(sub)
			if j == n-1 {
				en = t.end
			}
			out = append(out, build(t.b, j, s, en))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })

	open := false
	var last time.Time
	for _, iv := range out {
		if iv.End.IsZero() {
			open = true
		} else if iv.End.After(last) {
			last = iv.End
		}
	}
	e.Start = out[0].Start
	if !open {
		e.End = last
	}
	if evDur != nil {
		var err error
		if out, err = x.loop(e, out, open, last, *evDur); err != nil {
			return err
		}
	}
	for i, iv := range out {
		if !inRange(iv.Start) || (!iv.End.IsZero() && !inRange(iv.End)) {
			return d.fail(fmt.Sprintf("intervals (expanded %d)", i), "time out of range (years 1 to 9999)")
		}
	}
	e.Intervals = out
	return nil
}

// loop applies a 3.1 event.duration: intervals repeat while the event
// lasts (P9999Y: forever) and are cut at its end. Long or endless loops
// are unrolled around opt.Now only (see LoopHorizon).
func (x *expander) loop(e *Event, out []Interval, open bool, cycleEnd time.Time, du Duration) ([]Interval, error) {
	cycleStart := out[0].Start
	forever := du.Forever()
	var eventEnd time.Time
	if !forever {
		eventEnd = du.AddTo(cycleStart)
		if !inRange(eventEnd) {
			return nil, x.d.fail("duration", "event end out of range (years 1 to 9999)")
		}
	}
	if !open && cycleEnd.After(cycleStart) && (forever || eventEnd.After(cycleEnd)) {
		cycleLen := cycleEnd.Sub(cycleStart)
		per := int64(len(out))
		maxCycles := int64(MaxExpanded) / per
		total := int64(-1) // unknown: forever
		if !forever {
			total = ceilDiv(eventEnd.Sub(cycleStart), cycleLen)
		}
		var kFrom, kTo int64
		if total >= 0 && total <= maxCycles {
			kFrom, kTo = 0, total-1
		} else {
			kNow := int64(0)
			if now := x.opt.Now; now.After(cycleStart) {
				kNow = min(int64(now.Sub(cycleStart)/cycleLen), 1<<53)
			}
			kFrom = max(0, kNow-1)
			kTo = kNow + int64(LoopHorizon/cycleLen) + 1
			if total >= 0 && kTo > total-1 {
				kTo = total - 1
			}
			if kTo-kFrom+1 > maxCycles {
				kTo = kFrom + maxCycles - 1
			}
			if kFrom > kTo {
				kFrom = max(0, kTo-1)
			}
		}
		copies := make([]Interval, 0, (kTo-kFrom+1)*per)
		for k := kFrom; k <= kTo; k++ {
			shift, ok := mulDur(k, cycleLen)
			if !ok {
				break
			}
			for _, iv := range out {
				c := iv
				c.Start = iv.Start.Add(shift)
				c.End = iv.End.Add(shift)
				if !forever && !c.Start.Before(eventEnd) {
					continue
				}
				copies = append(copies, c)
			}
		}
		out = copies
		if len(out) == 0 {
			return nil, x.d.fail("duration", "no interval left in the loop window")
		}
	}
	if forever {
		e.End = time.Time{}
		return out, nil
	}
	kept := out[:0]
	for _, iv := range out {
		if !iv.Start.Before(eventEnd) {
			continue
		}
		if iv.End.IsZero() || iv.End.After(eventEnd) {
			iv.End = eventEnd
		}
		kept = append(kept, iv)
	}
	if len(kept) == 0 {
		return nil, x.d.fail("duration", "cuts off every interval")
	}
	e.End = eventEnd
	return kept, nil
}

// build makes sub-interval j of b.
func build(b *baseInterval, j int, start, end time.Time) Interval {
	iv := Interval{ID: b.id, Start: start, End: end}
	for _, p := range b.payloads {
		if !splitTypes[p.typ] {
			if iv.Other == nil {
				iv.Other = map[string][]any{}
			}
			iv.Other[p.typ] = p.vals
			continue
		}
		v := p.vals[0]
		if len(p.vals) > 1 {
			v = p.vals[j]
		}
		f := v.(float64)
		switch p.typ {
		case "SIMPLE":
			n := int(f)
			iv.Simple = &n
		case "PRICE":
			iv.Price = &f
		case "EXPORT_PRICE":
			iv.ExportPrice = &f
		case "IMPORT_CAPACITY_LIMIT":
			iv.ImportLimitKW = &f
		case "EXPORT_CAPACITY_LIMIT":
			iv.ExportLimitKW = &f
		default: // GHG
			if iv.Other == nil {
				iv.Other = map[string][]any{}
			}
			iv.Other[p.typ] = []any{f}
		}
	}
	return iv
}

// offset is the randomizeStart shift of interval idx (-1: the event's).
func (x *expander) offset(idx int, rnd Duration, ref time.Time, field string) (time.Duration, error) {
	span := rnd.AddTo(ref).Sub(ref.UTC())
	if span < 0 {
		span = -span
	}
	if span > MaxRandomize || span < 0 {
		return 0, x.d.fail(field, "larger than %s", MaxRandomize)
	}
	return jitter(x.opt.Seed, x.d.id, x.mod, idx, span), nil
}

// jitter is a uniform offset in [-span, +span] (whole seconds when span
// is at least a second), a pure function of its inputs.
func jitter(seed uint64, id, mod string, idx int, span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(mod))
	h.Write([]byte{0})
	binary.LittleEndian.PutUint64(b[:], uint64(int64(idx)))
	h.Write(b[:])
	z := splitmix(h.Sum64())
	unit := time.Nanosecond
	if span >= time.Second {
		unit = time.Second
	}
	n := uint64(span / unit)
	return time.Duration(int64(z%(2*n+1))-int64(n)) * unit
}

// splitmix is the SplitMix64 finaliser (good avalanche for FNV output).
func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func inRange(t time.Time) bool { y := t.Year(); return y >= 1 && y <= 9999 }

func ceilDiv(a, b time.Duration) int64 {
	q := int64(a / b)
	if a%b != 0 {
		q++
	}
	return q
}

// mulDur is k*d, false on overflow.
func mulDur(k int64, d time.Duration) (time.Duration, bool) {
	if k == 0 || d == 0 {
		return 0, true
	}
	if k > math.MaxInt64/int64(d) {
		return 0, false
	}
	return time.Duration(k) * d, true
}
