package storage

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The journal is what keeps group commits cheap on flash: every commit
// writes ONE value (key = sequence) holding all its chunks, whatever tiers
// and classes they belong to, so a commit dirties a leaf, an overflow run
// and a branch instead of a leaf per tier bucket. Every journalFlush the
// entries move into the tier buckets, each section becoming a chunk that
// keeps the entry's sequence (so precedence between equal timestamps
// stays the commit order), and compaction later merges closed periods.
// Queries read the journal as well as the tier buckets.
//
// Value layout: version byte 2, varint commit time (Unix ms), uvarint
// section count, then per section: a flags byte (bit 0: legal), a tier
// byte (index into tierNames), varint period start, uvarint chunk length
// and the chunk.

var bktJournal = []byte("journal")

const journalVersion = 2

// journalFlush is how long entries stay in the journal.
const journalFlush = 15 * time.Minute

type section struct {
	legal  bool
	tier   string
	period int64
	chunk  []byte
}

func tierIndex(tier string) byte {
	for i, t := range tierNames {
		if t == tier {
			return byte(i)
		}
	}
	return 255
}

func encodeJournal(at time.Time, secs []section) []byte {
	n := 16
	for _, s := range secs {
		n += 24 + len(s.chunk)
	}
	b := make([]byte, 0, n)
	b = append(b, journalVersion)
	b = binary.AppendVarint(b, at.UnixMilli())
	b = binary.AppendUvarint(b, uint64(len(secs)))
	for _, s := range secs {
		var f byte
		if s.legal {
			f = 1
		}
		b = append(b, f, tierIndex(s.tier))
		b = binary.AppendVarint(b, s.period)
		b = binary.AppendUvarint(b, uint64(len(s.chunk)))
		b = append(b, s.chunk...)
	}
	return b
}

func decodeJournal(b []byte) (at int64, secs []section, err error) {
	bad := fmt.Errorf("storage: corrupt journal entry")
	if len(b) < 2 || b[0] != journalVersion {
		return 0, nil, bad
	}
	i := 1
	at, w := binary.Varint(b[i:])
	if w <= 0 {
		return 0, nil, bad
	}
	i += w
	n, w := binary.Uvarint(b[i:])
	if w <= 0 || n > uint64(len(b)) {
		return 0, nil, bad
	}
	i += w
	for j := uint64(0); j < n; j++ {
		if i+2 > len(b) {
			return 0, nil, bad
		}
		f, ti := b[i], b[i+1]
		i += 2
		if int(ti) >= len(tierNames) || f > 1 {
			return 0, nil, bad
		}
		p, w := binary.Varint(b[i:])
		if w <= 0 {
			return 0, nil, bad
		}
		i += w
		l, w := binary.Uvarint(b[i:])
		if w <= 0 || l > uint64(len(b)-i-w) {
			return 0, nil, bad
		}
		i += w
		secs = append(secs, section{legal: f == 1, tier: tierNames[ti], period: p, chunk: b[i : i+int(l)]})
		i += int(l)
	}
	if i != len(b) {
		return 0, nil, bad
	}
	return at, secs, nil
}

func journalKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// flushJournal moves every journal entry into the tier buckets once the
// oldest is older than cut (in one batch: a leaf per tier bucket is
// rewritten once per flush, not once per commit). It returns how many it
// moved.
func flushJournal(tx *bolt.Tx, cut time.Time) (int, error) {
	j := tx.Bucket(bktJournal)
	if k, v := j.Cursor().First(); k == nil {
		return 0, nil
	} else if at, _, err := decodeJournal(v); err != nil {
		return 0, fmt.Errorf("%w: key %x", err, k)
	} else if at >= cut.UnixMilli() {
		return 0, nil
	}
	var keys [][]byte
	c := j.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		at, secs, err := decodeJournal(v)
		if err != nil {
			return 0, fmt.Errorf("%w: key %x", err, k)
		}
		_ = at
		seq := binary.BigEndian.Uint64(k)
		for _, s := range secs {
			if err := tierBucket(tx, s.legal, s.tier).Put(chunkKey(s.period, seq), append([]byte(nil), s.chunk...)); err != nil {
				return 0, err
			}
		}
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := j.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// journalRows feeds fn the rows of series id in class/tier from journal
// entries whose sections cover periods [startP, endP].
func journalRows(tx *bolt.Tx, legal bool, tier string, id uint32, startP, endP int64, fn func(seq uint64, blk []byte) error) error {
	j := tx.Bucket(bktJournal)
	if j == nil {
		return nil
	}
	return j.ForEach(func(k, v []byte) error {
		_, secs, err := decodeJournal(v)
		if err != nil {
			return fmt.Errorf("%w: key %x", err, k)
		}
		seq := binary.BigEndian.Uint64(k)
		for _, s := range secs {
			if s.legal != legal || s.tier != tier || s.period < startP || s.period > endP {
				continue
			}
			blk, ok, err := chunkBlock(s.chunk, id)
			if err != nil {
				return err
			}
			if ok {
				if err := fn(seq, blk); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
