package storage

import (
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage/tsenc"
)

// Errors of queries, matched by the API to name the bad parameter.
var (
	ErrUnknownSeries = errors.New("unknown device or quantity")
	ErrRange         = errors.New("from must be before to")
	ErrPoints        = errors.New("points must be 1..10000")
)

// MaxPoints bounds a series query.
const MaxPoints = 10000

// tierRes is the resolution of each tier's points.
var tierRes = map[string]time.Duration{"raw": time.Second, "minute": time.Minute, "quarter": 15 * time.Minute, "day": 24 * time.Hour}

func (s *Store) retention(tier string) time.Duration {
	switch tier {
	case "raw":
		return s.o.Retention.Raw
	case "minute":
		return s.o.Retention.Minute
	case "quarter":
		return s.o.Retention.Quarter
	}
	return s.o.Retention.Day
}

// readRows returns the rows of series id in class/tier with from <= t < to,
// ordered by time; on equal times legal data keeps the earliest committed
// row, derived data the latest.
func (s *Store) readRows(tx *bolt.Tx, legal bool, tier string, id uint32, from, to int64, fn func(t int64, vals []int64)) error {
	b := tierBucket(tx, legal, tier)
	if b == nil {
		return nil
	}
	type row struct {
		t    int64
		seq  uint64
		vals []int64
	}
	var rows []row
	c := b.Cursor()
	start := chunkKey(periodStart(tier, from), 0)
	endP := periodStart(tier, to-1)
	for k, v := c.Seek(start); k != nil; k, v = c.Next() {
		p, seq, err := parseChunkKey(k)
		if err != nil {
			return err
		}
		if p > endP {
			break
		}
		blk, ok, err := chunkBlock(v, id)
		if err != nil {
			return fmt.Errorf("storage: %s/%s chunk %x: %w", class(legal), tier, k, err)
		}
		if !ok {
			continue
		}
		it, err := tsenc.NewIter(blk)
		if err != nil {
			return fmt.Errorf("storage: %s/%s chunk %x: %w", class(legal), tier, k, err)
		}
		for it.Next() {
			t, vals := it.At()
			if t < from || t >= to {
				continue
			}
			rows = append(rows, row{t, seq, append([]int64(nil), vals...)})
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("storage: %s/%s chunk %x: %w", class(legal), tier, k, err)
		}
	}
	err := s.walRows(legal, tier, id, periodStart(tier, from), endP, func(seq uint64, blk []byte) error {
		it, err := tsenc.NewIter(blk)
		if err != nil {
			return fmt.Errorf("storage: log %s/%s: %w", class(legal), tier, err)
		}
		for it.Next() {
			t, vals := it.At()
			if t >= from && t < to {
				rows = append(rows, row{t, seq, append([]int64(nil), vals...)})
			}
		}
		return it.Err()
	})
	if err != nil {
		return err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].t != rows[j].t {
			return rows[i].t < rows[j].t
		}
		return rows[i].seq < rows[j].seq
	})
	for i, r := range rows {
		// Equal times: legal keeps the first committed value (never
		// modified), derived the latest (a recomputed rollup).
		if dropDuplicate(legal, i, len(rows), func(j int) int64 { return rows[j].t }) {
			continue
		}
		fn(r.t, r.vals)
	}
	return nil
}

func class(legal bool) string {
	if legal {
		return "legal"
	}
	return "derived"
}

// SeriesPoint is one (downsampled) point. For raw and legal tiers Min =
// Max = Mean = Last = the value.
type SeriesPoint struct {
	Time  time.Time      `json:"t"`
	Min   energy.Decimal `json:"min"`
	Max   energy.Decimal `json:"max"`
	Mean  float64        `json:"mean"`
	First energy.Decimal `json:"first"`
	Last  energy.Decimal `json:"last"`
	N     int64          `json:"n"`
}

// SeriesResult is the answer to a series query.
type SeriesResult struct {
	Device   energy.DeviceID `json:"device"`
	Quantity energy.Quantity `json:"quantity"`
	Unit     string          `json:"unit"`
	// Tier is where the points come from: raw, minute, quarter or day.
	Tier string `json:"tier"`
	// Legal is true when the points are values as read from the metrology
	// core (legal tiers); rollups are derived.
	Legal bool `json:"legal"`
	// Bucket is the downsampling width.
	Bucket time.Duration `json:"-"`
	Points []SeriesPoint `json:"points"`
}

// lookup finds the series of (device, quantity), preferring the legal one.
func (s *Store) lookup(d energy.DeviceID, q energy.Quantity) (seriesKey, *seriesMeta, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, legal := range []bool{true, false} {
		k := seriesKey{d, q, legal}
		if m, ok := s.series[k]; ok {
			if _, unsaved := s.unsaved[k]; !unsaved {
				return k, m, true
			}
		}
	}
	return seriesKey{}, nil, false
}

// QuerySeries returns at most points points of (device, quantity) over
// [from, to): it picks the coarsest tier whose resolution is at most the
// bucket width and whose retention covers from, and downsamples with min,
// max and mean per bucket so peaks survive.
func (s *Store) QuerySeries(d energy.DeviceID, q energy.Quantity, from, to time.Time, points int) (SeriesResult, error) {
	key, m, ok := s.lookup(d, q)
	if !ok {
		return SeriesResult{}, ErrUnknownSeries
	}
	if !from.Before(to) {
		return SeriesResult{}, ErrRange
	}
	if points < 1 || points > MaxPoints {
		return SeriesResult{}, ErrPoints
	}
	width := to.Sub(from) / time.Duration(points)
	if to.Sub(from)%time.Duration(points) != 0 {
		width++
	}
	now := s.o.Clock.Now()
	tier := ""
	for _, t := range []string{"day", "quarter", "minute", "raw"} {
		if tierRes[t] <= width || t == "raw" {
			if r := s.retention(t); r == 0 || !from.Before(now.Add(-r)) || t == "raw" {
				tier = t
				break
			}
		}
	}
	// Nothing fine enough covers from: take the finest tier that does.
	if r := s.retention(tier); r != 0 && from.Before(now.Add(-r)) {
		for _, t := range []string{"minute", "quarter", "day"} {
			if r := s.retention(t); r == 0 || !from.Before(now.Add(-r)) {
				tier = t
				break
			}
		}
	}
	// Legal counters keep their minute freezes as read in the legal
	// tiers; everything else above raw is a derived rollup.
	legalTier := key.Legal && (tier == "raw" || q.IsCounter())
	res := SeriesResult{Device: d, Quantity: q, Unit: q.Unit(), Tier: tier, Legal: legalTier, Bucket: width, Points: []SeriesPoint{}}
	f, t := from.UnixMilli(), to.UnixMilli()
	w := width.Milliseconds()
	if w < 1 {
		w = 1
	}
	var cur *bucketAgg
	flush := func() {
		if cur != nil {
			res.Points = append(res.Points, cur.point(m.Exp))
			cur = nil
		}
	}
	add := func(ts int64, a agg) {
		b := f + (ts-f)/w*w
		if cur != nil && cur.start != b {
			flush()
		}
		if cur == nil {
			cur = &bucketAgg{start: b, a: a}
			return
		}
		cur.a.add(a)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		if tier == "raw" || legalTier {
			return s.readRows(tx, legalTier, tier, m.ID, f, t, func(ts int64, vals []int64) { add(ts, newAgg(vals[0])) })
		}
		return s.readRows(tx, false, tier, m.ID, f, t, func(ts int64, vals []int64) {
			if len(vals) == rollupCols {
				var a agg
				copy(a[:], vals)
				add(ts, a)
			}
		})
	})
	if err != nil {
		return SeriesResult{}, err
	}
	flush()
	return res, nil
}

type bucketAgg struct {
	start int64
	a     agg
}

func (b *bucketAgg) point(exp int8) SeriesPoint {
	mean := 0.0
	if b.a[colN] > 0 {
		mean = energy.D(b.a[colSum], exp).Float64() / float64(b.a[colN])
	}
	return SeriesPoint{
		Time: time.UnixMilli(b.start).UTC(), Min: energy.D(b.a[colMin], exp), Max: energy.D(b.a[colMax], exp),
		Mean: mean, First: energy.D(b.a[colFirst], exp), Last: energy.D(b.a[colLast], exp), N: b.a[colN],
	}
}
