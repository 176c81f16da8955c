package storage

import (
	"errors"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Step of a consumption query.
type Step string

// Steps, in local time: an hour is 60 minutes, a day runs from midnight to
// midnight (23 or 25 hours across DST), a month from the 1st to the 1st.
const (
	// StepQuarter is 15 minutes: the slot of tariffs and cost accounting.
	StepQuarter Step = "quarter"
	StepHour    Step = "hour"
	StepDay     Step = "day"
	StepMonth   Step = "month"
)

// Errors of consumption queries.
var (
	ErrStep       = errors.New("step must be quarter, hour, day or month")
	ErrNotCounter = errors.New("quantity is not a counter")
	ErrTooMany    = errors.New("range holds more than 10000 steps")
)

// Interval is the consumption over one step.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Value is the consumption in the quantity's unit; nil when missing.
	Value *energy.Decimal `json:"value"`
	// Estimated: a boundary was interpolated over a gap, or the counter
	// was reset or replaced inside the interval (the consumption between
	// the last reading before and the first after is unknown).
	Estimated bool `json:"estimated"`
	// Missing: no reading on one side of the interval.
	Missing bool `json:"missing"`
	// Partial: the interval is still running; Value is the consumption
	// from its start to the latest reading.
	Partial bool `json:"partial"`
	// Notes say why: "gap", "counter reset", "counter wrap".
	Notes []string `json:"notes,omitempty"`
}

// ConsumptionResult is the answer to a consumption query.
type ConsumptionResult struct {
	Device    energy.DeviceID `json:"device"`
	Quantity  energy.Quantity `json:"quantity"`
	Unit      string          `json:"unit"`
	Step      Step            `json:"step"`
	Legal     bool            `json:"legal"`
	Tier      string          `json:"tier"`
	Intervals []Interval      `json:"intervals"`
}

func (s *Store) stepStart(t time.Time, st Step) time.Time {
	t = t.In(s.o.Location)
	switch st {
	case StepQuarter:
		// Every zone offset in use is a multiple of 15 minutes.
		return t.Truncate(15 * time.Minute)
	case StepHour:
		return t.Truncate(time.Hour)
	case StepDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.o.Location)
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, s.o.Location)
}

func nextStep(t time.Time, st Step) time.Time {
	switch st {
	case StepQuarter:
		return t.Add(15 * time.Minute)
	case StepHour:
		return t.Add(time.Hour)
	case StepDay:
		return t.AddDate(0, 0, 1)
	}
	return t.AddDate(0, 1, 0)
}

type cpoint struct {
	t int64
	v int64
}

// Consumption returns exact counter differences per step over [from, to)
// in local time. Counter wrap (a register passing its digit count, when
// wrap is known), meter replacement (a register that jumps down) and gaps
// never give negative values; the answer says which intervals are
// estimated or missing.
func (s *Store) Consumption(d energy.DeviceID, q energy.Quantity, from, to time.Time, st Step) (ConsumptionResult, error) {
	if st != StepQuarter && st != StepHour && st != StepDay && st != StepMonth {
		return ConsumptionResult{}, ErrStep
	}
	key, m, ok := s.lookup(d, q)
	if !ok {
		return ConsumptionResult{}, ErrUnknownSeries
	}
	if !q.IsCounter() {
		return ConsumptionResult{}, ErrNotCounter
	}
	if !from.Before(to) {
		return ConsumptionResult{}, ErrRange
	}
	var bounds []time.Time
	for b := s.stepStart(from, st); b.Before(to); b = nextStep(b, st) {
		bounds = append(bounds, b)
		if len(bounds) > MaxPoints {
			return ConsumptionResult{}, ErrTooMany
		}
	}
	bounds = append(bounds, nextStep(bounds[len(bounds)-1], st))
	// The finest tier that still covers the first boundary (with a margin
	// for interpolation): minute for 2 years, quarter for 15, then day.
	now := s.o.Clock.Now()
	first := bounds[0].Add(-24 * time.Hour)
	tier := "day"
	for _, t := range []string{"minute", "quarter", "day"} {
		if r := s.retention(t); r == 0 || !first.Before(now.Add(-r)) {
			tier = t
			break
		}
	}
	if st != StepHour && st != StepQuarter && tier == "minute" && bounds[len(bounds)-1].Sub(bounds[0]) > 62*24*time.Hour {
		tier = "quarter" // month-long steps: fewer points, same boundaries
	}
	res := ConsumptionResult{Device: d, Quantity: q, Unit: q.Unit(), Step: st, Legal: key.Legal, Tier: tier, Intervals: []Interval{}}
	var pts []cpoint
	lo := bounds[0].Add(-24 * time.Hour).UnixMilli()
	hi := bounds[len(bounds)-1].Add(24 * time.Hour).UnixMilli()
	err := s.db.View(func(tx *bolt.Tx) error {
		if key.Legal {
			return s.readRows(tx, true, tier, m.ID, lo, hi, func(t int64, v []int64) { pts = append(pts, cpoint{t, v[0]}) })
		}
		return s.readRows(tx, false, tier, m.ID, lo, hi, func(t int64, v []int64) {
			if len(v) == rollupCols {
				// A rollup says the counter read first at its start and
				// last just before its end.
				pts = append(pts, cpoint{t, v[colFirst]}, cpoint{t + tierRes[tier].Milliseconds() - 1, v[colLast]})
			}
		})
	})
	if err != nil {
		return ConsumptionResult{}, err
	}
	var wrap int64
	if s.o.Wrap != nil {
		if w, ok := s.o.Wrap(d, q); ok {
			wrap, _ = w.Rescale(m.Exp)
		}
	}
	// A boundary reading counts if it lies within this tolerance after the
	// boundary (the minute freeze is read just after the meter's minute).
	tol := int64(90 * time.Second / time.Millisecond)
	for i := 0; i+1 < len(bounds); i++ {
		iv := Interval{Start: bounds[i], End: bounds[i+1]}
		a, b := bounds[i].UnixMilli(), bounds[i+1].UnixMilli()
		va, estA, okA := valueAt(pts, a, tol)
		vb, estB, okB := valueAt(pts, b, tol)
		if okA && !okB && bounds[i+1].After(now) && !bounds[i].After(now) {
			// The running interval: up to the latest reading in it.
			if j := sort.Search(len(pts), func(j int) bool { return pts[j].t > now.UnixMilli() }) - 1; j >= 0 && pts[j].t >= a {
				vb, okB, iv.Partial = pts[j].v, true, true
				iv.Notes = append(iv.Notes, "in progress")
			}
		}
		if !okA || !okB {
			iv.Missing = true
			res.Intervals = append(res.Intervals, iv)
			continue
		}
		if estA || estB {
			iv.Estimated = true
			iv.Notes = append(iv.Notes, "gap")
		}
		// Walk the readings inside the interval so a reset or wrap in the
		// middle is seen.
		seq := []int64{va}
		for j := sort.Search(len(pts), func(j int) bool { return pts[j].t > a+tol }); j < len(pts) && pts[j].t < b; j++ {
			seq = append(seq, pts[j].v)
		}
		seq = append(seq, vb)
		var total int64
		for j := 1; j < len(seq); j++ {
			dv := seq[j] - seq[j-1]
			switch {
			case dv >= 0:
				total += dv
			case wrap > 0 && seq[j-1] > wrap/10*9 && seq[j] < wrap/10:
				total += dv + wrap
				iv.Notes = appendOnce(iv.Notes, "counter wrap")
			default:
				// Replaced or reset meter: count from its new reading on.
				iv.Estimated = true
				iv.Notes = appendOnce(iv.Notes, "counter reset")
			}
		}
		v := energy.D(total, m.Exp)
		iv.Value = &v
		res.Intervals = append(res.Intervals, iv)
	}
	return res, nil
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// valueAt returns the counter at t: the first reading in [t, t+tol], else a
// linear interpolation between the neighbours (estimated).
func valueAt(pts []cpoint, t, tol int64) (v int64, estimated, ok bool) {
	i := sort.Search(len(pts), func(i int) bool { return pts[i].t >= t })
	if i < len(pts) && pts[i].t <= t+tol {
		return pts[i].v, false, true
	}
	if i == 0 || i == len(pts) {
		return 0, false, false
	}
	before, after := pts[i-1], pts[i]
	if after.v < before.v {
		// A reset in the gap: the boundary belongs to the new counter.
		return after.v, true, true
	}
	frac := float64(t-before.t) / float64(after.t-before.t)
	return before.v + int64(frac*float64(after.v-before.v)), true, true
}
