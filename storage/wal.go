package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// The write-ahead log is what keeps group commits cheap on flash. bbolt
// dirties several pages per transaction (leaf, branches, root, meta); a
// commit instead appends ONE record holding every tier's chunks to a
// preallocated file and fdatasyncs it: about one or two 4 KiB pages per
// commit, and no file-size change (the file is zero-filled at creation).
// Every walFlushAge, or when the log is half full, or at shutdown, all
// records move into the bbolt tier buckets in a single transaction, each
// section becoming a chunk keyed (period, record sequence) so that
// precedence between equal timestamps stays the commit order. That
// transaction also advances the log generation in bbolt's meta bucket;
// records of older generations are ignored, so the log restarts at offset 0
// without being cleared.
//
// Record: magic "GWL1", generation (8), sequence (8), commit time (8, Unix
// ms), payload length (4), CRC-32C (4) of everything before it and the
// payload, then the payload: uvarint section count, then per section a
// flags byte (bit 0: legal), a tier byte, varint period start, uvarint
// chunk length and the chunk. A torn last record fails its CRC and is
// ignored: it was never acknowledged.

const (
	walMagic    = "GWL1"
	walHeader   = 4 + 8 + 8 + 8 + 4 + 4
	walSize     = 2 << 20
	walFlushAge = 6 * time.Hour
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type section struct {
	legal  bool
	tier   string
	period int64
	chunk  []byte
}

type walEntry struct {
	seq  uint64
	at   int64
	secs []section
}

type walLog struct {
	f   *os.File // O_DIRECT|O_DSYNC: records bypass the page cache
	gen uint64
	off int64
	buf []byte // 4 KiB-aligned staging buffer for direct I/O
}

// walBlock is the direct-I/O unit: records start on block boundaries.
const walBlock = 4096

func alignUp(n int64) int64 { return (n + walBlock - 1) / walBlock * walBlock }

// alignedBuf returns a zeroed, walBlock-aligned slice of n bytes.
func (w *walLog) alignedBuf(n int) []byte {
	if cap(w.buf) < n {
		raw := make([]byte, n+walBlock)
		off := int(walBlock - uintptr(unsafe.Pointer(&raw[0]))%walBlock)
		if off == walBlock {
			off = 0
		}
		w.buf = raw[off : off+n : off+n]
	}
	b := w.buf[:n]
	clear(b)
	return b
}

func tierIndex(tier string) byte {
	for i, t := range tierNames {
		if t == tier {
			return byte(i)
		}
	}
	return 255
}

func encodeSections(secs []section) []byte {
	n := 8
	for _, s := range secs {
		n += 24 + len(s.chunk)
	}
	b := make([]byte, 0, n)
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

var errWAL = errors.New("storage: corrupt log record")

func decodeSections(b []byte) ([]section, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return nil, errWAL
	}
	i := w
	var secs []section
	for j := uint64(0); j < n; j++ {
		if i+2 > len(b) {
			return nil, errWAL
		}
		f, ti := b[i], b[i+1]
		i += 2
		if int(ti) >= len(tierNames) || f > 1 {
			return nil, errWAL
		}
		p, w := binary.Varint(b[i:])
		if w <= 0 {
			return nil, errWAL
		}
		i += w
		l, w := binary.Uvarint(b[i:])
		if w <= 0 || l > uint64(len(b)-i-w) {
			return nil, errWAL
		}
		i += w
		if _, err := chunkIndex(b[i : i+int(l)]); err != nil {
			return nil, errWAL
		}
		secs = append(secs, section{legal: f == 1, tier: tierNames[ti], period: p, chunk: b[i : i+int(l)]})
		i += int(l)
	}
	if i != len(b) {
		return nil, errWAL
	}
	return secs, nil
}

func metaUint(tx *bolt.Tx, key string) uint64 {
	v := tx.Bucket(bktMeta).Get([]byte(key))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putMetaUint(tx *bolt.Tx, key string, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return tx.Bucket(bktMeta).Put([]byte(key), b[:])
}

// openWAL opens (creating, unless read-only) the log beside the database
// and loads the records of the current generation.
func (s *Store) openWAL() error {
	path := s.o.Path + ".wal"
	var gen, seq uint64
	if err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktMeta) != nil {
			gen, seq = metaUint(tx, "walgen"), metaUint(tx, "seq")
		}
		return nil
	}); err != nil {
		return err
	}
	s.seq = seq
	f, err := os.OpenFile(path, os.O_RDONLY, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if s.o.ReadOnly {
			return nil
		}
		if err = createWAL(path); err != nil {
			return err
		}
		f, err = os.OpenFile(path, os.O_RDONLY, 0o600)
	}
	if err != nil {
		return fmt.Errorf("storage: open log: %w", err)
	}
	defer f.Close()
	w := &walLog{gen: gen}
	// Load this generation's records.
	hdr := make([]byte, walHeader)
	for {
		if _, err := f.ReadAt(hdr, w.off); err != nil {
			break
		}
		if string(hdr[:4]) != walMagic || binary.BigEndian.Uint64(hdr[4:]) != gen {
			break
		}
		n := int64(binary.BigEndian.Uint32(hdr[28:]))
		if w.off+walHeader+n > walSize {
			break
		}
		payload := make([]byte, n)
		if _, err := f.ReadAt(payload, w.off+walHeader); err != nil {
			break
		}
		crc := crc32.Update(crc32.Checksum(hdr[:32], crcTable), crcTable, payload)
		if crc != binary.BigEndian.Uint32(hdr[32:]) {
			break // torn record: never acknowledged
		}
		secs, err := decodeSections(payload)
		if err != nil {
			break
		}
		e := walEntry{seq: binary.BigEndian.Uint64(hdr[12:]), at: int64(binary.BigEndian.Uint64(hdr[20:])), secs: secs}
		s.wal = append(s.wal, e)
		s.seq = max(s.seq, e.seq)
		w.off += alignUp(walHeader + n)
	}
	if s.o.ReadOnly {
		return nil
	}
	// Direct, synchronous writes: each record costs its own 4 KiB
	// blocks on the device and nothing else, whatever the page cache's
	// folio sizes (large folios would turn a 4 KiB write into a 2 MiB
	// writeback on kernels that use them for ext4).
	wf, err := os.OpenFile(path, os.O_WRONLY|unix.O_DIRECT|unix.O_DSYNC, 0o600)
	if err != nil {
		// Filesystems without O_DIRECT (tmpfs): plain synchronous writes.
		if wf, err = os.OpenFile(path, os.O_WRONLY|unix.O_DSYNC, 0o600); err != nil {
			return fmt.Errorf("storage: open log: %w", err)
		}
	}
	w.f = wf
	s.walLog = w
	return nil
}

func createWAL(path string) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("storage: create log: %w", err)
	}
	// Zero-filled, not sparse: later overwrites change no file metadata.
	zero := make([]byte, 64<<10)
	for off := 0; off < walSize; off += len(zero) {
		if _, err := f.Write(zero); err != nil {
			f.Close()
			return fmt.Errorf("storage: create log: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// walAppend makes secs durable as one log record. Callers hold s.mu.
func (s *Store) walAppend(at time.Time, secs []section) error {
	payload := encodeSections(secs)
	n := int64(walHeader + len(payload))
	if n > walSize/2 {
		return fmt.Errorf("storage: commit of %d bytes exceeds the log", n)
	}
	if s.walLog.off+alignUp(n) > walSize {
		// Full: move the log into bbolt first (a bigger transaction, but
		// only when commits are huge or the flush kept failing).
		if err := s.flushLocked(); err != nil {
			return err
		}
	}
	rec := s.walLog.alignedBuf(int(alignUp(n)))
	copy(rec, walMagic)
	binary.BigEndian.PutUint64(rec[4:], s.walLog.gen)
	binary.BigEndian.PutUint64(rec[12:], s.seq+1)
	binary.BigEndian.PutUint64(rec[20:], uint64(at.UnixMilli()))
	binary.BigEndian.PutUint32(rec[28:], uint32(len(payload)))
	copy(rec[walHeader:], payload)
	binary.BigEndian.PutUint32(rec[32:], crc32.Update(crc32.Checksum(rec[:32], crcTable), crcTable, payload))
	if s.walLog.off+int64(len(rec)) > walSize {
		return fmt.Errorf("storage: log full")
	}
	// O_DSYNC: the write returns once the record is on stable storage.
	if _, err := s.walLog.f.WriteAt(rec, s.walLog.off); err != nil {
		return fmt.Errorf("storage: log: %w", err)
	}
	s.seq++
	s.walLog.off += int64(len(rec))
	s.walMu.Lock()
	s.wal = append(s.wal, walEntry{seq: s.seq, at: at.UnixMilli(), secs: secs})
	s.walMu.Unlock()
	return nil
}

// flushLocked moves every log record into the tier buckets in one bbolt
// transaction and starts a new log generation. Callers hold s.mu.
func (s *Store) flushLocked() error {
	s.walMu.Lock()
	entries := s.wal
	s.walMu.Unlock()
	if len(entries) == 0 || s.walLog == nil {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, e := range entries {
			for _, sec := range e.secs {
				if err := tierBucket(tx, sec.legal, sec.tier).Put(chunkKey(sec.period, e.seq), sec.chunk); err != nil {
					return err
				}
			}
		}
		if err := putMetaUint(tx, "seq", s.seq); err != nil {
			return err
		}
		return putMetaUint(tx, "walgen", s.walLog.gen+1)
	})
	if err != nil {
		return fmt.Errorf("storage: flush log: %w", err)
	}
	s.walLog.gen++
	s.walLog.off = 0
	s.walMu.Lock()
	s.wal = s.wal[len(entries):]
	s.walMu.Unlock()
	return nil
}

// Flush moves the log into bbolt now (before a backup, at shutdown).
func (s *Store) Flush() error {
	if s.o.ReadOnly {
		return nil
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

// flushDue flushes when the oldest record is older than walFlushAge or the
// log is half full. Callers hold commitMu.
func (s *Store) flushDue(now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.walMu.Lock()
	due := len(s.wal) > 0 && (s.wal[0].at < now.Add(-walFlushAge).UnixMilli() || s.walLog.off > walSize/2)
	s.walMu.Unlock()
	if !due {
		return false, nil
	}
	return true, s.flushLocked()
}

// walRows feeds fn the blocks of series id in class/tier from log records
// whose sections cover periods [startP, endP].
func (s *Store) walRows(legal bool, tier string, id uint32, startP, endP int64, fn func(seq uint64, blk []byte) error) error {
	s.walMu.Lock()
	entries := s.wal
	s.walMu.Unlock()
	for _, e := range entries {
		for _, sec := range e.secs {
			if sec.legal != legal || sec.tier != tier || sec.period < startP || sec.period > endP {
				continue
			}
			blk, ok, err := chunkBlock(sec.chunk, id)
			if err != nil {
				return err
			}
			if ok {
				if err := fn(e.seq, blk); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
