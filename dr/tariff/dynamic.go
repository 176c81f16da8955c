package tariff

import (
	"slices"
	"time"
)

// seg is a stretch of time with one dynamic price; flatten returns them
// sorted and non-overlapping.
type seg struct {
	start, end time.Time
	value      float64
}

// flatten resolves overlapping prices of one direction within [from, to):
// at every instant the price fetched last wins, and among equal Fetched
// the later element of dyn. O(n) for the usual sorted, non-overlapping
// feed; O(n log n) otherwise.
func flatten(dyn []Price, export bool, from, to time.Time) []seg {
	items := make([]item, 0, len(dyn))
	for i, p := range dyn {
		if p.Export == export && p.End.After(from) && p.Start.Before(to) {
			items = append(items, item{start: later(p.Start, from), end: earlier(p.End, to), value: p.Value, fetched: p.Fetched, order: i})
		}
	}
	if len(items) == 0 {
		return nil
	}
	sorted := slices.IsSortedFunc(items, func(a, b item) int { return a.start.Compare(b.start) })
	if !sorted {
		slices.SortStableFunc(items, func(a, b item) int { return a.start.Compare(b.start) })
	}
	disjoint := true
	for i := 1; i < len(items) && disjoint; i++ {
		disjoint = !items[i].start.Before(items[i-1].end)
	}
	if disjoint {
		out := make([]seg, len(items))
		for i, it := range items {
			out[i] = seg{start: it.start, end: it.end, value: it.value}
		}
		return out
	}

	bounds := make([]time.Time, 0, 2*len(items))
	for _, it := range items {
		bounds = append(bounds, it.start, it.end)
	}
	slices.SortFunc(bounds, time.Time.Compare)
	bounds = slices.CompactFunc(bounds, time.Time.Equal)
	h := activeHeap{items: items}
	var out []seg
	next := 0
	for i := 0; i+1 < len(bounds); i++ {
		a, b := bounds[i], bounds[i+1]
		for next < len(items) && !items[next].start.After(a) {
			h.push(next)
			next++
		}
		// Lazy deletion: expired prices leave only when they reach the top.
		for len(h.idx) > 0 && !items[h.idx[0]].end.After(a) {
			h.pop()
		}
		if len(h.idx) == 0 {
			continue
		}
		v := items[h.idx[0]].value
		if n := len(out); n > 0 && out[n-1].end.Equal(a) && out[n-1].value == v {
			out[n-1].end = b
			continue
		}
		out = append(out, seg{start: a, end: b, value: v})
	}
	return out
}

// item is a Price clipped to the requested range.
type item struct {
	start, end time.Time
	value      float64
	fetched    time.Time
	order      int
}

// activeHeap is a max-heap of indexes into items by precedence (Fetched,
// then slice order).
type activeHeap struct {
	items []item
	idx   []int
}

func (h *activeHeap) less(i, j int) bool { // i has higher precedence than j
	a, b := &h.items[h.idx[i]], &h.items[h.idx[j]]
	if c := a.fetched.Compare(b.fetched); c != 0 {
		return c > 0
	}
	return a.order > b.order
}

func (h *activeHeap) push(x int) {
	h.idx = append(h.idx, x)
	for i := len(h.idx) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h.idx[i], h.idx[parent] = h.idx[parent], h.idx[i]
		i = parent
	}
}

func (h *activeHeap) pop() {
	n := len(h.idx) - 1
	h.idx[0] = h.idx[n]
	h.idx = h.idx[:n]
	for i := 0; ; {
		best, l, r := i, 2*i+1, 2*i+2
		if l < n && h.less(l, best) {
			best = l
		}
		if r < n && h.less(r, best) {
			best = r
		}
		if best == i {
			return
		}
		h.idx[i], h.idx[best] = h.idx[best], h.idx[i]
		i = best
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// cursor walks flattened segments for increasing slots. A nil cursor
// covers nothing.
type cursor struct {
	segs []seg
	i    int
}

// coverage is how much of a slot dynamic data covers, and the covered
// part's price × duration (in currency·ns per kWh).
type coverage struct {
	covered  time.Duration
	weighted float64
}

// cover measures [s, e); later calls must not ask for earlier slots.
func (c *cursor) cover(s, e time.Time) coverage {
	var cov coverage
	if c == nil {
		return cov
	}
	for c.i < len(c.segs) && !c.segs[c.i].end.After(s) {
		c.i++
	}
	for j := c.i; j < len(c.segs) && c.segs[j].start.Before(e); j++ {
		d := earlier(c.segs[j].end, e).Sub(later(c.segs[j].start, s))
		cov.covered += d
		cov.weighted += c.segs[j].value * float64(d)
	}
	return cov
}
