package tariff

import "time"

// SlotDuration is the resolution of every price and usage series: the EU
// day-ahead market unit since October 2025, and evcc's slot.
const SlotDuration = 15 * time.Minute

// MaxDays bounds the range [Tariff.Slots] and [Tariff.Costs] accept, in
// local days: a year plus a billing month of slack.
const MaxDays = 400

// Slot boundaries are the instants whose local time is on a 15-minute
// grid (00, 15, 30, 45 min), plus, in the rare case of an offset change
// that is not a multiple of 15 minutes (local mean time before ~1940),
// the instant of that change. With every offset of the last decades the
// grids before and after a change coincide, and slots are 15 minutes.

// floorLocal returns the last slot boundary at or before t, in loc.
func floorLocal(t time.Time, loc *time.Location) time.Time {
	lt := t.Round(0).In(loc) // no monotonic reading: instants only
	off := misalignment(lt)
	if off == 0 {
		return lt
	}
	c := lt.Add(-off)
	if start, _ := lt.ZoneBounds(); c.Before(start) {
		return start // the grid of the previous offset ended earlier
	}
	return c
}

// misalignment is how far the local time lt is past a 15-minute boundary.
func misalignment(lt time.Time) time.Duration {
	_, m, s := lt.Clock()
	return time.Duration(m%15)*time.Minute + time.Duration(s)*time.Second + time.Duration(lt.Nanosecond())
}

// nextBoundary returns the slot boundary after the boundary s (which must
// be in loc's location, as it is returned): s + 15 min, unless an odd
// offset change falls inside.
func nextBoundary(s time.Time) time.Time {
	e := s.Add(SlotDuration)
	off := misalignment(e)
	if off == 0 {
		return e
	}
	if start, _ := e.ZoneBounds(); start.After(s) {
		return start // end the slot at the offset change
	}
	// s is the change itself, off the new grid: realign.
	return e.Add(-off)
}

// dateKey orders local dates: yyyymmdd (t must be in the tariff's zone).
func dateKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// localMidnight returns the first instant whose local date is y-m-d or
// later (m and d may be out of range, as for time.Date). That is local
// 00:00 on ordinary days, 01:00 where a DST gap swallows midnight, the
// first of two midnights where the clock falls back over it, and the next
// day's start for a day a zone skipped (Pacific/Apia, 2011-12-30).
func localMidnight(y int, m time.Month, d int, loc *time.Location) time.Time {
	y, m, d = time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Date()
	want := y*10000 + int(m)*100 + d
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	// time.Date picks either side of a transition; walk to the true start.
	// 200 quarter-hours covers any offset change that ever happened.
	for i := 0; i < 200 && dateKey(t.In(loc)) < want; i++ {
		t = t.Add(SlotDuration)
	}
	for i := 0; i < 200; i++ {
		prev := t.Add(-SlotDuration)
		if dateKey(prev.In(loc)) < want {
			break
		}
		t = prev
	}
	return t
}

// dayStart returns the start of the local day containing t.
func dayStart(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return localMidnight(y, m, d, loc)
}
