package plan

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/tariff"
	"github.com/gatewayd-project/gatewayd/energy"
)

// MaxStartJitter bounds the random start offset [Plan] adds within the
// first chosen slot.
const MaxStartJitter = 5 * time.Minute

// maxWh keeps RemainingWh×hour within int64 nanoseconds.
const maxWh = math.MaxInt64 / int64(time.Hour) / 2

// Slot is one price interval of the horizon.
type Slot struct {
	Start, End time.Time
	// Price is the marginal import price per kWh.
	Price float64
	// LimitW is the site import headroom for planned loads in the slot
	// (the limit minus the forecast base load): 0 unlimited, negative none.
	LimitW int64
}

// Load is one deferrable job to place.
type Load struct {
	Device energy.DeviceID
	// PowerW is the power drawn while it runs (the device's rated power).
	PowerW int64
	// RemainingWh is the energy still to deliver; <= 0: nothing to do.
	RemainingWh int64
	// Earliest is when it may start (zero: now); Deadline when it must be
	// done (zero: none, plan within the known slots).
	Earliest, Deadline time.Time
	// Continuous: once started the job runs in one block (a dishwasher).
	Continuous bool
	// Running: the job runs now (from the device state). A Continuous
	// job keeps running from now, unsplit and wherever the prices went;
	// no running job gets a random start offset.
	Running bool
}

// Run is one interval in which a load runs.
type Run struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Result is the plan of one load.
type Result struct {
	Device energy.DeviceID
	// Runs are in time order, adjacent runs merged.
	Runs []Run
	// CostEstimate is the import cost of the runs at the slot prices;
	// time outside the known slots counts nothing.
	CostEstimate float64
	// Feasible is false when the job cannot finish by its deadline in
	// the known slots and headroom: it then runs as soon as possible.
	Feasible bool
}

// FromTariff turns tariff slots into planner slots priced at the import
// price, with unlimited headroom.
func FromTariff(ts []tariff.Slot) []Slot {
	out := make([]Slot, len(ts))
	for i, s := range ts {
		out[i] = Slot{Start: s.Start, End: s.End, Price: s.Import}
	}
	return out
}

// slot is a cleaned slot with the headroom left.
type slot struct {
	start, end time.Time
	price      float64
	unlimited  bool
	free       int64
}

func (s *slot) usable(w int64) bool { return s.unlimited || s.free >= w }

func (s *slot) reserve(w int64) {
	if !s.unlimited {
		s.free -= w
	}
}

// piece is part of a run inside one slot (idx -1: outside known slots).
type piece struct {
	idx        int
	start, end time.Time
}

type planner struct {
	now     time.Time
	slots   []slot
	lastEnd time.Time // end of the last known slot; now without slots
	rnd     *rand.Rand
	// scratch
	cands []int
	used  []bool
}

// Plan places each load's remaining energy in the cheapest slots before
// its deadline, most constrained load first, sharing each slot's headroom.
// rnd, if not nil, draws each start offset (see [MaxStartJitter]).
// Results are in the order of loads. Plan is pure: re-planning is calling
// it again with new prices, limits and job states.
func Plan(now time.Time, slots []Slot, loads []Load, rnd *rand.Rand) []Result {
	p := &planner{now: now, rnd: rnd, lastEnd: now}
	p.clean(slots)
	order := make([]int, len(loads))
	for i := range order {
		order[i] = i
	}
	slack := func(l *Load) time.Duration {
		if l.Running && l.Continuous {
			return math.MinInt64 // fixed: placed first
		}
		if l.Deadline.IsZero() || l.PowerW <= 0 {
			return math.MaxInt64
		}
		return l.Deadline.Sub(later(now, l.Earliest)) - need(l)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(slack(&loads[a]), slack(&loads[b])) })
	out := make([]Result, len(loads))
	for _, i := range order {
		out[i] = p.place(&loads[i])
	}
	return out
}

// Want says, for every planned device, whether it should run at now.
func Want(results []Result, now time.Time) map[energy.DeviceID]bool {
	m := make(map[energy.DeviceID]bool, len(results))
	for _, r := range results {
		run := false
		for _, x := range r.Runs {
			if !now.Before(x.Start) && now.Before(x.End) {
				run = true
				break
			}
		}
		m[r.Device] = m[r.Device] || run
	}
	return m
}

// clean sorts the slots, drops empty and past ones, trims overlaps and
// cuts the slot at now.
func (p *planner) clean(in []Slot) {
	p.slots = make([]slot, 0, len(in))
	for _, s := range in {
		if s.End.After(s.Start) && s.End.After(p.now) {
			p.slots = append(p.slots, slot{start: s.Start, end: s.End, price: s.Price,
				unlimited: s.LimitW == 0, free: max(s.LimitW, 0)})
		}
	}
	slices.SortFunc(p.slots, func(a, b slot) int { return a.start.Compare(b.start) })
	out := p.slots[:0]
	for _, s := range p.slots {
		s.start = later(s.start, p.now)
		if n := len(out); n > 0 {
			s.start = later(s.start, out[n-1].end)
		}
		if s.end.After(s.start) {
			out = append(out, s)
		}
	}
	p.slots = out
	if n := len(out); n > 0 {
		p.lastEnd = out[n-1].end
	}
	p.used = make([]bool, len(out))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// need is the run time the job takes, rounded up to the second.
func need(l *Load) time.Duration {
	wh := min(l.RemainingWh, maxWh)
	d := time.Duration((wh*int64(time.Hour) + l.PowerW - 1) / l.PowerW)
	return (d + time.Second - 1).Truncate(time.Second)
}

func (p *planner) place(l *Load) Result {
	res := Result{Device: l.Device, Feasible: true}
	if l.RemainingWh <= 0 {
		return res
	}
	if l.PowerW <= 0 {
		res.Feasible = false
		return res
	}
	clear(p.used)
	d := need(l)
	from := later(p.now, l.Earliest)
	hasDL := !l.Deadline.IsZero()
	var pieces []piece
	switch {
	case l.Running && l.Continuous:
		from = p.now
		pieces = p.force(from, from.Add(d), l.PowerW)
		res.Feasible = !hasDL || !from.Add(d).After(l.Deadline)
	case hasDL && from.Add(d).After(l.Deadline):
		pieces, res.Feasible = p.force(from, from.Add(d), l.PowerW), false
	default:
		var ok bool
		if l.Continuous {
			pieces, ok = p.continuous(l, from, d)
		} else {
			pieces, ok = p.cheapest(l, from, d)
		}
		if !ok {
			pieces, res.Feasible = p.force(from, from.Add(d), l.PowerW), false
		}
	}
	if p.rnd != nil && !l.Running && res.Feasible && len(pieces) > 0 {
		pieces = p.jitter(l, pieces)
	}
	for _, pc := range pieces {
		if pc.idx >= 0 {
			res.CostEstimate += p.slots[pc.idx].price * float64(l.PowerW) / 1000 * pc.end.Sub(pc.start).Hours()
		}
		if n := len(res.Runs); n > 0 && res.Runs[n-1].End.Equal(pc.start) {
			res.Runs[n-1].End = pc.end
		} else if pc.end.After(pc.start) {
			res.Runs = append(res.Runs, Run{Start: pc.start, End: pc.end})
		}
	}
	return res
}

// horizon is where known slots usable for l end.
func (p *planner) horizon(l *Load) time.Time {
	if l.Deadline.IsZero() {
		return p.lastEnd
	}
	return earlier(l.Deadline, p.lastEnd)
}

// candidates collects the usable slots overlapping [from, to).
func (p *planner) candidates(w int64, from, to time.Time) []int {
	p.cands = p.cands[:0]
	for i := range p.slots {
		s := &p.slots[i]
		if s.end.After(from) && s.start.Before(to) && s.usable(w) {
			p.cands = append(p.cands, i)
		}
	}
	return p.cands
}

func (p *planner) clip(i int, from, to time.Time) piece {
	s := &p.slots[i]
	return piece{idx: i, start: later(s.start, from), end: earlier(s.end, to)}
}

func (p *planner) take(pcs []piece, w int64) []piece {
	for _, pc := range pcs {
		if pc.idx >= 0 && !p.used[pc.idx] {
			p.used[pc.idx] = true
			p.slots[pc.idx].reserve(w)
		}
	}
	slices.SortFunc(pcs, func(a, b piece) int { return a.start.Compare(b.start) })
	return pcs
}

// cheapest is the evcc non-continuous plan: slots by price, ties to the
// later start, the last slot taken trimmed at its start if it is the
// earliest chosen, else at its end.
func (p *planner) cheapest(l *Load, from time.Time, d time.Duration) ([]piece, bool) {
	to := p.horizon(l)
	cands := p.candidates(l.PowerW, from, to)
	var capacity time.Duration
	for _, i := range cands {
		pc := p.clip(i, from, to)
		capacity += pc.end.Sub(pc.start)
	}
	var pcs []piece
	if capacity < d {
		// Not enough in the known slots: all of them, and the rest after
		// the last known slot (as late as the deadline allows, prices
		// unknown), if that fits.
		rest := d - capacity
		tailFrom := later(p.lastEnd, from)
		switch {
		case l.Deadline.IsZero():
			pcs = append(pcs, piece{idx: -1, start: tailFrom, end: tailFrom.Add(rest)})
		case l.Deadline.Sub(tailFrom) >= rest:
			pcs = append(pcs, piece{idx: -1, start: l.Deadline.Add(-rest), end: l.Deadline})
		default:
			return nil, false
		}
		for _, i := range cands {
			pcs = append(pcs, p.clip(i, from, to))
		}
		return p.take(pcs, l.PowerW), true
	}
	slices.SortFunc(cands, func(a, b int) int {
		if c := cmp.Compare(p.slots[a].price, p.slots[b].price); c != 0 {
			return c
		}
		return p.slots[b].start.Compare(p.slots[a].start) // ties: later first
	})
	left := d
	for _, i := range cands {
		pc := p.clip(i, from, to)
		if n := pc.end.Sub(pc.start); n < left {
			pcs = append(pcs, pc)
			left -= n
			continue
		}
		earliest := true
		for _, q := range pcs {
			if q.start.Before(pc.start) {
				earliest = false
			}
		}
		if earliest {
			pc.start = pc.end.Add(-left)
		} else {
			pc.end = pc.start.Add(left)
		}
		pcs = append(pcs, pc)
		break
	}
	return p.take(pcs, l.PowerW), true
}

// continuous slides a window of d over runs of contiguous usable slots and
// takes the cheapest, ties to the later window. Without one in the known
// slots it runs as late as the deadline allows, past the known slots.
func (p *planner) continuous(l *Load, from time.Time, d time.Duration) ([]piece, bool) {
	to := p.horizon(l)
	cands := p.candidates(l.PowerW, from, to)
	best, bestCost, found := time.Time{}, 0.0, false
	try := func(seg []int, st time.Time) {
		end := st.Add(d)
		cost := 0.0
		k, _ := slices.BinarySearchFunc(seg, st, func(i int, t time.Time) int {
			if p.slots[i].end.After(t) {
				return 1
			}
			return -1
		})
		for _, i := range seg[k:] {
			s := &p.slots[i]
			if !s.start.Before(end) {
				break
			}
			if a, b := later(s.start, st), earlier(s.end, end); b.After(a) {
				cost += s.price * b.Sub(a).Hours()
			}
		}
		tol := 1e-9 * max(1, math.Abs(bestCost)) // float noise is a tie
		if !found || cost < bestCost-tol || (cost <= bestCost+tol && st.After(best)) {
			best, bestCost, found = st, cost, true
		}
	}
	for lo := 0; lo < len(cands); {
		hi := lo + 1
		for hi < len(cands) && cands[hi] == cands[hi-1]+1 && p.slots[cands[hi]].start.Equal(p.slots[cands[hi-1]].end) {
			hi++
		}
		seg := cands[lo:hi]
		segFrom := later(p.slots[seg[0]].start, from)
		segTo := earlier(p.slots[seg[len(seg)-1]].end, to)
		if segTo.Sub(segFrom) >= d {
			for _, i := range seg {
				s := &p.slots[i]
				if st := later(s.start, segFrom); !st.Add(d).After(segTo) {
					try(seg, st)
				}
				if st := earlier(s.end, segTo).Add(-d); !st.Before(segFrom) {
					try(seg, st)
				}
			}
		}
		lo = hi
	}
	if !found {
		// No window in the known slots: the latest window (the earliest
		// after the known slots without a deadline), reaching past them,
		// if its known part is usable and unbroken.
		best = later(p.lastEnd, from)
		if !l.Deadline.IsZero() {
			best = l.Deadline.Add(-d)
		}
		if best.Before(from) || !p.open(best, best.Add(d), l.PowerW) {
			return nil, false
		}
	}
	return p.force(best, best.Add(d), l.PowerW), true
}

// open reports whether the known part of [from, to) lies in contiguous
// slots with headroom for w.
func (p *planner) open(from, to time.Time, w int64) bool {
	t := from
	for i := range p.slots {
		s := &p.slots[i]
		if !s.end.After(t) || !s.start.Before(to) {
			continue
		}
		if s.start.After(t) || !s.usable(w) {
			return false
		}
		t = s.end
	}
	return !t.Before(p.lastEnd) || !t.Before(to)
}

// force takes [from, to) whatever the headroom, split at known slots.
func (p *planner) force(from, to time.Time, w int64) []piece {
	var pcs []piece
	t := from
	for i := range p.slots {
		s := &p.slots[i]
		if !s.end.After(t) || !s.start.Before(to) {
			continue
		}
		if s.start.After(t) {
			pcs = append(pcs, piece{idx: -1, start: t, end: s.start})
		}
		pcs = append(pcs, p.clip(i, t, to))
		t = earlier(s.end, to)
	}
	if to.After(t) {
		pcs = append(pcs, piece{idx: -1, start: t, end: to})
	}
	return p.take(pcs, w)
}

// jitter moves the first start later by U(0, MaxStartJitter) and makes up
// the time at the end: within the last slot already taken, then in
// contiguous usable slots, never past the deadline. Without such room the
// offset shrinks (to 0 when a plan ends on a full slot before an unusable
// one).
func (p *planner) jitter(l *Load, pcs []piece) []piece {
	delta := time.Duration(p.rnd.Int64N(int64(MaxStartJitter/time.Second)+1)) * time.Second
	delta = min(delta, pcs[0].end.Sub(pcs[0].start))
	limit := time.Unix(1<<62, 0)
	if !l.Deadline.IsZero() {
		limit = l.Deadline
	}
	left := delta
	last := &pcs[len(pcs)-1]
	lastIdx := last.idx
	bound := limit // unknown tail
	if lastIdx >= 0 {
		bound = p.slots[lastIdx].end
	}
	ext := max(min(left, earlier(bound, limit).Sub(last.end)), 0)
	last.end = last.end.Add(ext)
	left -= ext
	for i := lastIdx + 1; left > 0 && lastIdx >= 0 && i < len(p.slots); i++ {
		s := &p.slots[i]
		t := pcs[len(pcs)-1].end
		if !s.start.Equal(t) || !t.Before(limit) || (!p.used[i] && !s.usable(l.PowerW)) {
			break
		}
		n := min(left, earlier(s.end, limit).Sub(t))
		pcs = append(pcs, piece{idx: i, start: t, end: t.Add(n)})
		if !p.used[i] {
			p.used[i] = true
			s.reserve(l.PowerW)
		}
		left -= n
	}
	got := delta - left
	pcs[0].start = pcs[0].start.Add(got)
	if !pcs[0].end.After(pcs[0].start) {
		pcs = pcs[1:]
	}
	return pcs
}
