package storage

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// recoverRollups rebuilds the open rollup periods (today's minutes,
// quarters and day) from the raw tier after a restart or crash, so derived
// rollups never miss what was committed before. Rollups this emits that
// were already stored are rewritten with the same values; those a crash
// lost are written anew by the next commit.
//
// It runs once, at the first commit rather than in Open, so start-up (and
// the first legal reading) never waits for it; readings appended before
// are only processed after it. Callers hold s.mu.
func (s *Store) recoverRollupsLocked() error {
	if s.recovered {
		return nil
	}
	// What was committed before this process opened the store: from the
	// local midnight of the open to the open (later points are still
	// pending and follow in order).
	opened := s.opened.In(s.o.Location)
	from := time.Date(opened.Year(), opened.Month(), opened.Day(), 0, 0, 0, 0, s.o.Location).UnixMilli()
	to := opened.Add(time.Millisecond).UnixMilli()
	if s.out == nil {
		s.out = map[outKey]map[uint32][]point{}
	}
	emit := s.emitRollup
	err := s.db.View(func(tx *bolt.Tx) error {
		for k, m := range s.series {
			id := m.ID
			err := s.readRows(tx, k.Legal, "raw", id, from, to, func(t int64, v []int64) {
				s.roll.feed("minute", id, t, newAgg(v[0]), emit)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.recovered = true
	}
	return err
}
