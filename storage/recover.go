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
func (s *Store) recoverRollups() error {
	now := s.o.Clock.Now().In(s.o.Location)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.o.Location).UnixMilli()
	to := now.Add(time.Hour).UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		s.out = map[outKey]map[uint32][]point{}
	}
	emit := s.emitRollup
	return s.db.View(func(tx *bolt.Tx) error {
		for k, m := range s.series {
			id := m.ID
			err := s.readRows(tx, k.Legal, "raw", id, from, to, func(t int64, v []int64) {
				s.roll.feed("minute", id, t, newAgg(v[0]), emit)
			})
			if err != nil {
				return err
			}
		}
		s.roll.closeDue(s.o.Clock.Now().UnixMilli(), rollupGrace.Milliseconds(), emit)
		return nil
	})
}
