package storage

import (
	"time"
)

// Rollup columns of the derived minute, quarter and day tiers. Counters
// keep first and last so consumption is exact at every tier; sum and n
// give an exact mean when periods are combined.
const (
	colFirst = iota
	colMin
	colMax
	colSum
	colN
	colLast
	rollupCols
)

type agg [rollupCols]int64

func newAgg(v int64) agg { return agg{v, v, v, v, 1, v} }

func (a *agg) add(b agg) {
	a[colMin] = min(a[colMin], b[colMin])
	a[colMax] = max(a[colMax], b[colMax])
	a[colSum] += b[colSum]
	a[colN] += b[colN]
	a[colLast] = b[colLast]
}

// acc accumulates one open period of one series in one tier.
type acc struct {
	start int64 // period start, Unix ms; 0 = none open
	end   int64
	a     agg
}

// rollups holds the open periods of every series.
type rollups struct {
	loc     *time.Location
	minute  map[uint32]*acc
	quarter map[uint32]*acc
	day     map[uint32]*acc
}

func newRollups(loc *time.Location) *rollups {
	return &rollups{loc: loc, minute: map[uint32]*acc{}, quarter: map[uint32]*acc{}, day: map[uint32]*acc{}}
}

// bounds returns the local-time period [start, end) of tier containing t.
func (r *rollups) bounds(tier string, t int64) (int64, int64) {
	tm := time.UnixMilli(t).In(r.loc)
	var s, e time.Time
	switch tier {
	case "minute":
		s = tm.Truncate(time.Minute)
		e = s.Add(time.Minute)
	case "quarter":
		s = time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute()/15*15, 0, 0, r.loc)
		e = s.Add(15 * time.Minute)
	default: // day: local midnight to midnight, 23 or 25 h across DST
		s = time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, r.loc)
		e = s.AddDate(0, 0, 1)
	}
	return s.UnixMilli(), e.UnixMilli()
}

type emitFn func(tier string, id uint32, start int64, a agg)

// feed adds a point of tier ("minute" takes raw values, the others take
// rollups of the finer tier). A point before the open period (late data)
// is ignored for rollups: derived tiers follow the data as it arrives;
// late legal values live in the legal tiers. It returns false if ignored.
func (r *rollups) feed(tier string, id uint32, t int64, a agg, emit emitFn) bool {
	m := r.open(tier)
	c := m[id]
	if c == nil {
		c = &acc{}
		m[id] = c
	}
	if c.start != 0 && t < c.start {
		return false
	}
	if c.start != 0 && t >= c.end {
		r.close(tier, id, c, emit)
	}
	if c.start == 0 {
		c.start, c.end = r.bounds(tier, t)
		c.a = a
		return true
	}
	c.a.add(a)
	return true
}

func (r *rollups) close(tier string, id uint32, c *acc, emit emitFn) {
	if c.start == 0 {
		return
	}
	emit(tier, id, c.start, c.a)
	start, a := c.start, c.a
	c.start, c.end = 0, 0
	switch tier {
	case "minute":
		r.feed("quarter", id, start, a, emit)
	case "quarter":
		r.feed("day", id, start, a, emit)
	}
}

// closeDue closes every open period that ended before now - grace.
func (r *rollups) closeDue(now int64, grace int64, emit emitFn) {
	for _, tier := range []string{"minute", "quarter", "day"} {
		for id, c := range r.open(tier) {
			if c.start != 0 && c.end+grace <= now {
				r.close(tier, id, c, emit)
			}
		}
	}
}

// open returns the open periods of tier.
func (r *rollups) open(tier string) map[uint32]*acc {
	switch tier {
	case "quarter":
		return r.quarter
	case "day":
		return r.day
	}
	return r.minute
}
