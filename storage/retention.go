package storage

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/storage/tsenc"
)

// maintBatch bounds the chunks one maintenance transaction deletes, so
// retention never becomes one huge transaction.
const maintBatch = 64

// compactAfter is how long after its end a period is left alone before
// its chunks are merged (late commits still land in it).
const compactAfter = 2 * time.Minute

// Maintain runs one bounded step of retention and compaction. It returns
// whether it did something (call it again until it returns false).
func (s *Store) Maintain() (bool, error) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	now := s.o.Clock.Now()
	did := false
	if flushed, err := s.flushDue(now); err != nil || flushed {
		return flushed, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, legal := range []bool{true, false} {
			for _, tier := range tierNames {
				b := tierBucket(tx, legal, tier)
				n, err := s.expire(b, tier, now)
				if err != nil {
					return err
				}
				if n > 0 {
					did = true
					return nil
				}
			}
		}
		for _, legal := range []bool{true, false} {
			for _, tier := range tierNames {
				ok, err := compactOne(tierBucket(tx, legal, tier), tier, legal, now)
				if err != nil {
					return fmt.Errorf("storage: compact %s/%s: %w", class(legal), tier, err)
				}
				if ok {
					did = true
					return nil
				}
			}
		}
		return nil
	})
	return did, err
}

// expire deletes up to maintBatch chunks whose whole period is older than
// the tier's retention.
func (s *Store) expire(b *bolt.Bucket, tier string, now time.Time) (int, error) {
	r := s.retention(tier)
	if r == 0 {
		return 0, nil
	}
	cut := now.Add(-r).UnixMilli()
	var dead [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(dead) < maintBatch; k, _ = c.Next() {
		p, _, err := parseChunkKey(k)
		if err != nil {
			return 0, err
		}
		if p+tierPeriod[tier].Milliseconds() > cut {
			break
		}
		dead = append(dead, append([]byte(nil), k...))
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}

// compactOne merges the chunks of the oldest closed period that has more
// than one into a single chunk. Values are never changed: for legal data
// the earliest committed value of a timestamp wins (as in queries), for
// derived data the latest.
func compactOne(b *bolt.Bucket, tier string, legal bool, now time.Time) (bool, error) {
	c := b.Cursor()
	closedBefore := now.Add(-tierPeriod[tier] - compactAfter).UnixMilli()
	var keys [][]byte
	var vals [][]byte
	var period int64 = -1 << 62
	for k, v := c.First(); k != nil; k, v = c.Next() {
		p, _, err := parseChunkKey(k)
		if err != nil {
			return false, err
		}
		if p > closedBefore {
			break
		}
		if p != period {
			if len(keys) > 1 {
				break
			}
			keys, vals, period = nil, nil, p
		}
		keys = append(keys, append([]byte(nil), k...))
		vals = append(vals, v)
	}
	if len(keys) < 2 {
		return false, nil
	}
	merged := map[uint32][]byte{}
	for _, v := range vals { // ascending seq
		idx, err := chunkIndex(v)
		if err != nil {
			return false, err
		}
		for id, blk := range idx {
			prev, ok := merged[id]
			if !ok {
				merged[id] = append([]byte(nil), blk...)
				continue
			}
			var m []byte
			if legal {
				m, err = tsenc.Merge(blk, prev) // earlier (prev) wins
			} else {
				m, err = tsenc.Merge(prev, blk)
			}
			if err != nil {
				return false, err
			}
			merged[id] = m
		}
	}
	out := encodeChunk(merged)
	last := keys[len(keys)-1]
	for _, k := range keys[:len(keys)-1] {
		if err := b.Delete(k); err != nil {
			return false, err
		}
	}
	if err := b.Put(last, out); err != nil {
		return false, err
	}
	return true, nil
}
