package storage

import "testing"

// FuzzDecodeStored: the decoders of what storage reads back from disk
// (chunks, log records, series records, journal keys) never panic, and a
// chunk that parses yields blocks inside its bounds.
func FuzzDecodeStored(f *testing.F) {
	blk, _ := encodeRows([]point{{t: 60000, vals: []int64{5}}, {t: 120000, vals: []int64{7}}}, false)
	chunk := encodeChunk(map[uint32][]byte{1: blk, 9: blk})
	f.Add(chunk)
	f.Add(encodeSections([]section{{legal: true, tier: "minute", period: 0, chunk: chunk}}))
	f.Add(seriesKey{"meter", "power", true}.bytes())
	f.Add(chunkKey(1700000000000, 42))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if idx, err := chunkIndex(b); err == nil {
			for id, blk := range idx {
				if got, ok, err := chunkBlock(b, id); err != nil || !ok || string(got) != string(blk) {
					t.Fatalf("chunkBlock(%d) disagrees with chunkIndex", id)
				}
			}
		}
		_, _, _ = chunkBlock(b, 1)
		if secs, err := decodeSections(b); err == nil {
			_ = encodeSections(secs)
		}
		_, _ = parseSeriesKey(b)
		_, _ = parseSeriesMeta(b)
		_, _, _ = parseChunkKey(b)
	})
}
