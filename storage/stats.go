package storage

import (
	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/storage/tsenc"
)

// TierStat is the size of one class/tier.
type TierStat struct {
	Class  string `json:"class"`
	Tier   string `json:"tier"`
	Chunks int    `json:"chunks"`
	Bytes  int64  `json:"bytes"`
	Points int64  `json:"points"`
}

// BytesPerPoint is the stored size per point, chunk index included.
func (t TierStat) BytesPerPoint() float64 {
	if t.Points == 0 {
		return 0
	}
	return float64(t.Bytes) / float64(t.Points)
}

// TierStats measures every class/tier (for benchmarks and the status API).
func (s *Store) TierStats() ([]TierStat, error) {
	var out []TierStat
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, legal := range []bool{true, false} {
			for _, tier := range tierNames {
				st := TierStat{Class: class(legal), Tier: tier}
				err := tierBucket(tx, legal, tier).ForEach(func(k, v []byte) error {
					st.Chunks++
					st.Bytes += int64(len(k) + len(v))
					idx, err := chunkIndex(v)
					if err != nil {
						return err
					}
					for _, blk := range idx {
						_, _, n, err := tsenc.FirstLast(blk)
						if err != nil {
							return err
						}
						st.Points += int64(n)
					}
					return nil
				})
				if err != nil {
					return err
				}
				out = append(out, st)
			}
		}
		st := TierStat{Class: "log", Tier: "all"}
		s.walMu.Lock()
		entries := s.wal
		s.walMu.Unlock()
		var err error
		for _, e := range entries {
			st.Chunks++
			for _, sec := range e.secs {
				st.Bytes += int64(len(sec.chunk))
				idx, ierr := chunkIndex(sec.chunk)
				if ierr != nil {
					err = ierr
					continue
				}
				for _, blk := range idx {
					_, _, n, _ := tsenc.FirstLast(blk)
					st.Points += int64(n)
				}
			}
		}
		out = append(out, st)
		return err
	})
	return out, err
}
