package storage

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/storage/tsenc"
)

// maxProblems bounds the report of Check.
const maxProblems = 100

// Check verifies the database: bbolt's own consistency (pages, freelist)
// and our invariants: a known schema, parseable series records with unique
// IDs, chunk keys aligned to their tier's period, chunks that decode, blocks
// of registered series whose points lie inside the chunk's period with the
// tier's column count, and rollups with min <= first, last <= max and n >= 1.
// It returns the problems found (empty when clean).
func (s *Store) Check() ([]string, error) {
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			add("bbolt: %v", err)
		}
		meta := tx.Bucket(bktMeta)
		if meta == nil {
			add("meta bucket missing")
			return nil
		}
		if v := meta.Get([]byte("schema")); len(v) != 1 || v[0] != schemaVersion {
			add("schema version %v, want %d", v, schemaVersion)
		}
		ids := map[uint32]string{}
		if b := tx.Bucket(bktSeries); b == nil {
			add("series bucket missing")
		} else {
			b.ForEach(func(k, v []byte) error {
				if _, err := parseSeriesKey(k); err != nil {
					add("%v", err)
				}
				m, err := parseSeriesMeta(v)
				if err != nil {
					add("series %q: %v", k, err)
					return nil
				}
				if other, dup := ids[m.ID]; dup {
					add("series %q and %q share ID %d", k, other, m.ID)
				}
				ids[m.ID] = string(k)
				return nil
			})
		}
		for _, legal := range []bool{true, false} {
			for _, tier := range tierNames {
				b := tierBucket(tx, legal, tier)
				if b == nil {
					add("bucket %s/%s missing", class(legal), tier)
					continue
				}
				wantCols := 1
				if !legal && tier != "raw" {
					wantCols = rollupCols
				}
				per := tierPeriod[tier].Milliseconds()
				b.ForEach(func(k, v []byte) error {
					where := fmt.Sprintf("%s/%s chunk %x", class(legal), tier, k)
					p, _, err := parseChunkKey(k)
					if err != nil {
						add("%s: %v", where, err)
						return nil
					}
					if periodStart(tier, p) != p {
						add("%s: period not aligned", where)
					}
					idx, err := chunkIndex(v)
					if err != nil {
						add("%s: %v", where, err)
						return nil
					}
					for id, blk := range idx {
						if _, ok := ids[id]; !ok {
							add("%s: block of unknown series %d", where, id)
						}
						it, err := tsenc.NewIter(blk)
						if err != nil {
							add("%s series %d: %v", where, id, err)
							continue
						}
						if it.Cols() != wantCols {
							add("%s series %d: %d columns, want %d", where, id, it.Cols(), wantCols)
						}
						for it.Next() {
							t, vals := it.At()
							if t < p || t >= p+per {
								add("%s series %d: point at %d outside the period", where, id, t)
							}
							if len(vals) == rollupCols && wantCols == rollupCols {
								if vals[colN] < 1 || vals[colMin] > vals[colMax] ||
									vals[colFirst] < vals[colMin] || vals[colFirst] > vals[colMax] ||
									vals[colLast] < vals[colMin] || vals[colLast] > vals[colMax] {
									add("%s series %d: rollup at %d inconsistent: %v", where, id, t, vals)
								}
							}
						}
						if err := it.Err(); err != nil {
							add("%s series %d: %v", where, id, err)
						}
					}
					return nil
				})
			}
		}
		// Log records not yet in bbolt (their CRC was checked at open).
		s.walMu.Lock()
		entries := s.wal
		s.walMu.Unlock()
		for _, e := range entries {
			for _, sec := range e.secs {
				idx, err := chunkIndex(sec.chunk)
				if err != nil {
					add("log record %d %s/%s: %v", e.seq, class(sec.legal), sec.tier, err)
					continue
				}
				for id, blk := range idx {
					if _, ok := ids[id]; !ok {
						add("log record %d: block of unknown series %d", e.seq, id)
					}
					if _, _, err := tsenc.Decode(blk); err != nil {
						add("log record %d series %d: %v", e.seq, id, err)
					}
				}
			}
		}
		return s.checkEvents(tx, add)
	})
	return problems, err
}

func (s *Store) checkEvents(tx *bolt.Tx, add func(string, ...any)) error {
	b := tx.Bucket(bktEvents)
	if b == nil {
		add("events bucket missing")
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if _, ok := eventKeyTime(k); !ok {
			add("event key %x malformed", k)
			return nil
		}
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			add("event %x: %v", k, err)
		}
		return nil
	})
}
