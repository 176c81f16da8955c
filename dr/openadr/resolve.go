package openadr

import (
	"container/heap"
	"slices"
	"time"
)

// Signals are the demand-response signals in force at one instant.
type Signals struct {
	// Level is the SIMPLE level 0..3 (0: normal, also when no event says
	// anything).
	Level int
	// ImportLimitKW and ExportLimitKW are the site limits in kW, nil for
	// none.
	ImportLimitKW, ExportLimitKW *float64
	// LevelEvent, ImportLimitEvent and ExportLimitEvent name the event
	// each signal comes from ("" for none).
	LevelEvent, ImportLimitEvent, ExportLimitEvent string
}

// candidate is the best value so far for one signal.
type candidate struct {
	set  bool
	prio int
	val  float64
	id   string
}

// offer makes (prio, val, id) the candidate if it wins: the lower
// priority number; at equal priority the more restrictive value (the
// higher level when high, else the lower limit); then the smaller event
// id, so the result never depends on the order of events.
func (c *candidate) offer(prio int, val float64, id string, high bool) {
	switch {
	case !c.set, prio < c.prio:
	case prio > c.prio:
		return
	case val != c.val:
		if (val > c.val) != high {
			return
		}
	case id >= c.id:
		return
	}
	*c = candidate{set: true, prio: prio, val: val, id: id}
}

// Resolve returns the signals in force at now over all events. Each
// signal (level, import limit, export limit) is resolved on its own, so
// the level may come from one event and a limit from another. Cancelled
// events and those skip reports true for (opted out) are left out; skip
// may be nil.
func Resolve(events []Event, now time.Time, skip func(eventID string) bool) Signals {
	var lvl, imp, exp candidate
	for i := range events {
		e := &events[i]
		if skip != nil && skip(e.ID) {
			continue
		}
		iv, ok := e.IntervalAt(now)
		if !ok {
			continue
		}
		if iv.Simple != nil {
			lvl.offer(e.Priority, float64(*iv.Simple), e.ID, true)
		}
		if iv.ImportLimitKW != nil {
			imp.offer(e.Priority, *iv.ImportLimitKW, e.ID, false)
		}
		if iv.ExportLimitKW != nil {
			exp.offer(e.Priority, *iv.ExportLimitKW, e.ID, false)
		}
	}
	var s Signals
	if lvl.set {
		s.Level, s.LevelEvent = int(lvl.val), lvl.id
	}
	if imp.set {
		v := imp.val
		s.ImportLimitKW, s.ImportLimitEvent = &v, imp.id
	}
	if exp.set {
		v := exp.val
		s.ExportLimitKW, s.ExportLimitEvent = &v, exp.id
	}
	return s
}

// NextBoundary returns the first interval start or end after now over the
// events that are not cancelled: when the signals may next change
// without a poll. ok is false when there is none.
func NextBoundary(events []Event, now time.Time) (next time.Time, ok bool) {
	consider := func(t time.Time) {
		if !t.IsZero() && t.After(now) && (!ok || t.Before(next)) {
			next, ok = t, true
		}
	}
	for i := range events {
		if events[i].Cancelled {
			continue
		}
		for _, iv := range events[i].Intervals {
			consider(iv.Start)
			consider(iv.End)
		}
	}
	return next, ok
}

// OpenEnd is the End given to a price from an open-ended (P9999Y)
// interval, so that consumers always get a finite range.
var OpenEnd = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Price is one price for the tariff engine: currency per kWh over
// [Start, End).
type Price struct {
	Start, End time.Time
	// Value is per kWh in Currency; negative prices are allowed.
	Value float64
	// Export marks an EXPORT_PRICE (feed-in); else it is a PRICE.
	Export bool
	// Currency is the event's currency, "" if the VTN named none.
	Currency string
	// EventID names the event the price comes from.
	EventID string
}

// Prices returns every PRICE and EXPORT_PRICE of the events that are not
// cancelled (compact multi-value payloads are already split), sorted by
// Start, imports before exports. Overlaps between events are resolved per
// direction so that the result never overlaps: the lower priority number
// wins, then the later Modified, then the smaller event id. An
// open-ended price ends at OpenEnd.
func Prices(events []Event) []Price {
	var imp, exp []priceItem
	for i := range events {
		e := &events[i]
		if e.Cancelled {
			continue
		}
		for _, iv := range e.Intervals {
			end := iv.End
			if end.IsZero() {
				end = OpenEnd
			}
			if !end.After(iv.Start) {
				continue
			}
			if iv.Price != nil {
				imp = append(imp, priceItem{start: iv.Start, end: end, value: *iv.Price, ev: e})
			}
			if iv.ExportPrice != nil {
				exp = append(exp, priceItem{start: iv.Start, end: end, value: *iv.ExportPrice, ev: e})
			}
		}
	}
	out := make([]Price, 0, len(imp)+len(exp))
	out = flatten(out, imp, false)
	out = flatten(out, exp, true)
	slices.SortStableFunc(out, func(a, b Price) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		switch {
		case a.Export == b.Export:
			return 0
		case !a.Export:
			return -1
		}
		return 1
	})
	return out
}

type priceItem struct {
	start, end time.Time
	value      float64
	ev         *Event
}

// outranks reports whether a wins over b where they overlap.
func (a priceItem) outranks(b priceItem) bool {
	if a.ev.Priority != b.ev.Priority {
		return a.ev.Priority < b.ev.Priority
	}
	if !a.ev.Modified.Equal(b.ev.Modified) {
		return a.ev.Modified.After(b.ev.Modified)
	}
	if a.ev.ID != b.ev.ID {
		return a.ev.ID < b.ev.ID
	}
	return a.start.After(b.start) // within one event the later interval
}

func (p priceItem) price(export bool, start, end time.Time) Price {
	return Price{Start: start, End: end, Value: p.value, Export: export, Currency: p.ev.Currency, EventID: p.ev.ID}
}

// flatten appends items as non-overlapping prices: O(n) when they already
// are (the usual day-ahead feed), else a sweep with a heap, O(n log n).
func flatten(out []Price, items []priceItem, export bool) []Price {
	if len(items) == 0 {
		return out
	}
	slices.SortStableFunc(items, func(a, b priceItem) int { return a.start.Compare(b.start) })
	disjoint := true
	for i := 1; i < len(items) && disjoint; i++ {
		disjoint = !items[i].start.Before(items[i-1].end)
	}
	if disjoint {
		for _, it := range items {
			out = append(out, it.price(export, it.start, it.end))
		}
		return out
	}
	bounds := make([]time.Time, 0, 2*len(items))
	for _, it := range items {
		bounds = append(bounds, it.start, it.end)
	}
	slices.SortFunc(bounds, time.Time.Compare)
	bounds = slices.CompactFunc(bounds, time.Time.Equal)
	h := &rankHeap{items: items}
	next, last := 0, -1
	for i := 0; i+1 < len(bounds); i++ {
		a, b := bounds[i], bounds[i+1]
		for next < len(items) && !items[next].start.After(a) {
			heap.Push(h, next)
			next++
		}
		for h.Len() > 0 && !items[h.idx[0]].end.After(a) {
			heap.Pop(h)
		}
		if h.Len() == 0 {
			last = -1
			continue
		}
		top := h.idx[0]
		if n := len(out); top == last && out[n-1].End.Equal(a) {
			out[n-1].End = b
			continue
		}
		out = append(out, items[top].price(export, a, b))
		last = top
	}
	return out
}

// rankHeap orders item indexes best first (lazy deletion of ended ones).
type rankHeap struct {
	items []priceItem
	idx   []int
}

func (h *rankHeap) Len() int           { return len(h.idx) }
func (h *rankHeap) Less(i, j int) bool { return h.items[h.idx[i]].outranks(h.items[h.idx[j]]) }
func (h *rankHeap) Swap(i, j int)      { h.idx[i], h.idx[j] = h.idx[j], h.idx[i] }
func (h *rankHeap) Push(x any)         { h.idx = append(h.idx, x.(int)) }
func (h *rankHeap) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}
