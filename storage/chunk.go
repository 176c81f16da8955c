package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"
)

// A chunk is one bbolt value holding tsenc blocks of many series for one
// period of one tier: key = period start (8 bytes, big-endian Unix ms) +
// sequence (8 bytes). Every group commit writes at most one new chunk per
// (class, tier, period) it touches, so a commit dirties a handful of pages
// whatever the number of series; compaction later merges the chunks of a
// closed period into one.
//
// Value layout: version byte 1, uvarint series count, then per series
// (ascending ID) uvarint ID and uvarint block length, then the blocks.

const chunkVersion = 1

// tier periods: fixed durations aligned to the Unix epoch.
var tierPeriod = map[string]time.Duration{
	"raw":     time.Hour,
	"minute":  24 * time.Hour,
	"quarter": 32 * 24 * time.Hour,
	"day":     512 * 24 * time.Hour,
}

var tierNames = []string{"raw", "minute", "quarter", "day"}

func periodStart(tier string, t int64) int64 {
	p := tierPeriod[tier].Milliseconds()
	q := t / p
	if t < 0 && t%p != 0 {
		q--
	}
	return q * p
}

func chunkKey(period int64, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(period))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

func parseChunkKey(k []byte) (period int64, seq uint64, err error) {
	if len(k) != 16 {
		return 0, 0, fmt.Errorf("storage: chunk key of %d bytes", len(k))
	}
	return int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:]), nil
}

func encodeChunk(blocks map[uint32][]byte) []byte {
	ids := make([]uint32, 0, len(blocks))
	size := 1 + binary.MaxVarintLen64
	for id, b := range blocks {
		ids = append(ids, id)
		size += 2*binary.MaxVarintLen32 + len(b)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]byte, 0, size)
	out = append(out, chunkVersion)
	out = binary.AppendUvarint(out, uint64(len(ids)))
	for _, id := range ids {
		out = binary.AppendUvarint(out, uint64(id))
		out = binary.AppendUvarint(out, uint64(len(blocks[id])))
	}
	for _, id := range ids {
		out = append(out, blocks[id]...)
	}
	return out
}

var errChunk = errors.New("storage: corrupt chunk")

// chunkIndex parses a chunk's index: series ID -> block bytes (sub-slices
// of b, valid while b is).
func chunkIndex(b []byte) (map[uint32][]byte, error) {
	if len(b) < 2 || b[0] != chunkVersion {
		return nil, errChunk
	}
	i := 1
	n, w := binary.Uvarint(b[i:])
	if w <= 0 || n > uint64(len(b)) {
		return nil, errChunk
	}
	i += w
	type ent struct {
		id  uint32
		len int
	}
	ents := make([]ent, 0, n)
	total := 0
	for j := uint64(0); j < n; j++ {
		id, w := binary.Uvarint(b[i:])
		if w <= 0 || id > 1<<32-1 {
			return nil, errChunk
		}
		i += w
		l, w := binary.Uvarint(b[i:])
		if w <= 0 || l > uint64(len(b)) {
			return nil, errChunk
		}
		i += w
		ents = append(ents, ent{uint32(id), int(l)})
		total += int(l)
	}
	if total != len(b)-i {
		return nil, errChunk
	}
	out := make(map[uint32][]byte, len(ents))
	for _, e := range ents {
		out[e.id] = b[i : i+e.len]
		i += e.len
	}
	return out, nil
}

// chunkBlock returns the block of one series in a chunk without building
// the whole index.
func chunkBlock(b []byte, id uint32) ([]byte, bool, error) {
	if len(b) < 2 || b[0] != chunkVersion {
		return nil, false, errChunk
	}
	i := 1
	n, w := binary.Uvarint(b[i:])
	if w <= 0 || n > uint64(len(b)) {
		return nil, false, errChunk
	}
	i += w
	off, found, flen := 0, false, 0
	for j := uint64(0); j < n; j++ {
		sid, w := binary.Uvarint(b[i:])
		if w <= 0 {
			return nil, false, errChunk
		}
		i += w
		l, w := binary.Uvarint(b[i:])
		if w <= 0 || l > uint64(len(b)) {
			return nil, false, errChunk
		}
		i += w
		if uint32(sid) == id {
			found, flen = true, int(l)
		} else if !found {
			off += int(l)
		}
	}
	if !found {
		return nil, false, nil
	}
	if i+off+flen > len(b) {
		return nil, false, errChunk
	}
	return b[i+off : i+off+flen], true, nil
}
