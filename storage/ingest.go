package storage

import (
	"context"

	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage/tsenc"
)

// point is one row waiting to be written: raw points have 1 column,
// rollups rollupCols.
type point struct {
	t    int64
	vals []int64
}

// outKey addresses the chunk a point goes to.
type outKey struct {
	legal bool
	tier  string
}

// rollupGrace is how long after its end a rollup period stays open for
// readings that are still on their way.
const rollupGrace = 5 * time.Second

// Append queues readings for the next commit. It never blocks; Run applies
// backpressure by not taking more from the bus while the queue is full.
func (s *Store) Append(rs []energy.Reading) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, rs...)
}

// Queued returns the number of readings and rows waiting to be committed.
func (s *Store) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) + s.outRows
}

// process turns pending readings into rows. Callers hold s.mu.
func (s *Store) process() error {
	if s.out == nil {
		s.out = map[outKey]map[uint32][]point{}
	}
	emit := s.emitRollup
	for _, r := range s.pending {
		if r.Device == "" || r.Quantity == "" {
			continue
		}
		key := seriesKey{Device: r.Device, Quantity: r.Quantity, Legal: r.Legal}
		m := s.seriesFor(key, r.Value)
		v, ok := r.Value.Rescale(m.Exp)
		if !ok {
			s.o.Log.Warn("storage: value out of range, not stored", "device", r.Device, "quantity", r.Quantity, "value", r.Value)
			continue
		}
		at := r.Measured
		if at.IsZero() {
			at = r.Received
		}
		t := at.UnixMilli()
		s.addRow(outKey{r.Legal, "raw"}, m.ID, point{t, []int64{v}})
		if r.Legal && r.Minute {
			// The legal 1-minute freeze, kept as read in the legal tiers.
			mt := at.In(s.o.Location)
			s.addRow(outKey{true, "minute"}, m.ID, point{t, []int64{v}})
			if mt.Minute()%15 == 0 {
				s.addRow(outKey{true, "quarter"}, m.ID, point{t, []int64{v}})
				if mt.Hour() == 0 && mt.Minute() == 0 {
					s.addRow(outKey{true, "day"}, m.ID, point{t, []int64{v}})
				}
			}
		}
		if !r.Backfilled {
			s.roll.feed("minute", m.ID, t, newAgg(v), emit)
		}
		if r.Received.After(s.pendingThrough) {
			s.pendingThrough = r.Received
		}
	}
	s.pending = s.pending[:0]
	s.roll.closeDue(s.o.Clock.Now().UnixMilli(), rollupGrace.Milliseconds(), emit)
	return nil
}

// emitRollup queues a closed rollup period as a derived row.
func (s *Store) emitRollup(tier string, id uint32, start int64, a agg) {
	v := make([]int64, rollupCols)
	copy(v, a[:])
	s.addRow(outKey{false, tier}, id, point{start, v})
}

func (s *Store) addRow(k outKey, id uint32, p point) {
	m := s.out[k]
	if m == nil {
		m = map[uint32][]point{}
		s.out[k] = m
	}
	m[id] = append(m[id], p)
	s.outRows++
}

// encodeRows builds one tsenc block from rows, sorted by time. On equal
// times the same precedence as between chunks applies (see readRows):
// legal data keeps the row added first, derived data the one added last.
func encodeRows(rows []point, legal bool) ([]byte, error) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].t < rows[j].t })
	enc, err := tsenc.NewEncoder(len(rows[0].vals))
	if err != nil {
		return nil, err
	}
	for i, p := range rows {
		if dropDuplicate(legal, i, len(rows), func(j int) int64 { return rows[j].t }) {
			continue
		}
		if err := enc.Append(p.t, p.vals...); err != nil {
			return nil, err
		}
	}
	return enc.Bytes(), nil
}

// dropDuplicate reports whether row i of a time-sorted run (timestamps
// from t) loses to another row of the same time: legal values keep the
// first committed, derived ones the latest.
func dropDuplicate(legal bool, i, n int, t func(int) int64) bool {
	if legal {
		return i > 0 && t(i-1) == t(i)
	}
	return i+1 < n && t(i+1) == t(i)
}

func tierBucket(tx *bolt.Tx, legal bool, tier string) *bolt.Bucket {
	top := bktDerived
	if legal {
		top = bktLegal
	}
	return tx.Bucket(top).Bucket([]byte(tier))
}

// Commit makes everything queued durable: the rows of all tiers go into
// ONE write-ahead-log record (append + fdatasync); the log moves into the
// bbolt tier buckets in batches (see wal.go). On failure the rows stay
// queued and the health condition storage_degraded is raised.
func (s *Store) Commit() error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.o.ReadOnly {
		return errors.New("storage: read-only")
	}
	var written int
	var through time.Time
	err := func() error {
		if s.o.BeforeCommit != nil {
			if err := s.o.BeforeCommit(); err != nil {
				return err
			}
		}
		if err := s.recoverRollupsLocked(); err != nil {
			return fmt.Errorf("storage: rebuild open rollups: %w", err)
		}
		if err := s.process(); err != nil {
			return err
		}
		// New series are rare: record them in bbolt first, so every WAL
		// record refers to known series.
		if len(s.unsaved) > 0 {
			err := s.db.Update(func(tx *bolt.Tx) error {
				for k, m := range s.unsaved {
					if err := tx.Bucket(bktSeries).Put(k.bytes(), m.bytes()); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			s.unsaved = nil
		}
		var secs []section
		for k, bySeries := range s.out {
			groups := map[int64]map[uint32][]point{}
			for id, rows := range bySeries {
				for _, p := range rows {
					ps := periodStart(k.tier, p.t)
					g := groups[ps]
					if g == nil {
						g = map[uint32][]point{}
						groups[ps] = g
					}
					g[id] = append(g[id], p)
				}
			}
			for ps, g := range groups {
				blocks := map[uint32][]byte{}
				for id, rows := range g {
					b, err := encodeRows(rows, k.legal)
					if err != nil {
						return fmt.Errorf("storage: encode: %w", err)
					}
					blocks[id] = b
					written += len(rows)
				}
				secs = append(secs, section{legal: k.legal, tier: k.tier, period: ps, chunk: encodeChunk(blocks)})
			}
		}
		if len(secs) > 0 {
			if err := s.walAppend(s.o.Clock.Now(), secs); err != nil {
				return err
			}
		}
		through = s.pendingThrough
		return nil
	}()
	now := s.o.Clock.Now()
	if err != nil {
		s.stats.CommitFailures++
		s.stats.LastCommitError = err.Error()
		// Rows and new series stay in memory (s.out, s.unsaved) and are
		// written by the next commit.
		if s.o.Health != nil {
			s.o.Health.Set(CondDegraded, fmt.Sprintf("commit failed, %d rows kept in memory: %v", s.outRows, err))
		}
		return fmt.Errorf("storage: commit: %w", err)
	}
	if s.stats.CommitFailures > 0 && s.stats.LastCommitError != "" && s.o.Health != nil {
		s.o.Health.Clear(CondDegraded)
	}
	s.stats.LastCommitError = ""
	s.stats.Commits++
	s.stats.ReadingsStored += int64(written)
	s.stats.LastCommit = now
	if through.After(s.stats.Through) {
		s.stats.Through = through
	}
	s.out = nil
	s.outRows = 0
	return nil
}

// Run is the group-commit loop: it takes reading batches from in (the
// bus's lossless subscription) and commits every CommitInterval, when the
// queue is half full, and once more when in is closed (shutdown), then
// returns. While the queue is full it stops taking batches: the bus then
// blocks its publishers (backpressure, never a silent drop).
func (s *Store) Run(ctx context.Context, in <-chan []energy.Reading) error {
	timer := s.o.Clock.NewTimer(s.o.CommitInterval)
	defer func() { timer.Stop() }()
	commit := func(why string) {
		t0 := time.Now()
		if err := s.Commit(); err != nil {
			s.o.Log.Warn("storage: commit failed; will retry", "err", err, "queued", s.Queued())
			return
		}
		st := s.Stats()
		s.o.Log.Debug("storage commit", "why", why, "through", st.Through.Format(time.RFC3339Nano), "took", time.Since(t0).String())
		// Retention and compaction in small steps after the commit.
		for i := 0; i < 16; i++ {
			did, err := s.Maintain()
			if err != nil {
				s.o.Log.Warn("storage: maintenance failed", "err", err)
				break
			}
			if !did {
				break
			}
		}
	}
	for {
		if s.o.Alive != nil {
			s.o.Alive()
		}
		src := in
		if s.Queued() >= s.o.QueueSize {
			src = nil // backpressure
		}
		select {
		case rs, ok := <-src:
			if !ok {
				commit("shutdown")
				if q := s.Queued(); q > 0 {
					return fmt.Errorf("storage: %d rows not committed at shutdown", q)
				}
				return nil
			}
			s.Append(rs)
			if s.Queued() >= s.o.QueueSize/2 {
				commit("queue half full")
			}
		case <-timer.C():
			commit("interval")
			timer = s.o.Clock.NewTimer(s.o.CommitInterval)
		case <-ctx.Done():
			// Hard stop without a closed channel: commit what we have.
			commit("cancel")
			return nil
		}
	}
}
