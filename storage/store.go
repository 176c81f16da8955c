package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Health condition raised while commits fail.
const CondDegraded = "storage_degraded"

// HealthReporter is the narrow health interface the store needs.
type HealthReporter interface {
	Set(code, message string)
	Clear(code string)
}

// Retention of each tier; zero keeps forever.
type Retention struct {
	Raw     time.Duration // default 7 days
	Minute  time.Duration // default 2 years
	Quarter time.Duration // default 15 years
	Day     time.Duration // default 0: forever
}

// DefaultRetention returns the defaults above.
func DefaultRetention() Retention {
	return Retention{Raw: 7 * 24 * time.Hour, Minute: 2 * 365 * 24 * time.Hour, Quarter: 15 * 365 * 24 * time.Hour}
}

// Options configure a Store.
type Options struct {
	// Path of the database file (created 0600).
	Path string
	// CommitInterval is the longest time readings wait in memory before a
	// commit (default 60 s). Commits also happen when the queue is half
	// full and on shutdown.
	CommitInterval time.Duration
	// QueueSize bounds the readings held in memory (default 200000). When
	// full, the store stops taking readings from the bus: backpressure.
	QueueSize int
	Retention Retention
	// Location is the local time zone for days and months (default time.Local).
	Location *time.Location
	Clock    energy.Clock
	Log      *slog.Logger
	Health   HealthReporter
	// BeforeCommit, if set, runs before every series commit; an error it
	// returns fails that commit (fault injection in tests).
	BeforeCommit func() error
	// Wrap returns the modulus of a counter that rolls over (e.g. 1e9 Wh
	// for a DL/T 645 register of XXXXXX.XX kWh); nil or false: unknown, a
	// drop is then treated as a reset.
	Wrap func(d energy.DeviceID, q energy.Quantity) (energy.Decimal, bool)
	// ReadOnly opens the database for inspection (db check, export).
	ReadOnly bool
	// Alive, if set, is called by Run on every batch and every commit
	// timer: the watchdog's proof that the ingest loop makes progress.
	Alive func()
}

// Store is the only owner of the bbolt database.
type Store struct {
	o  Options
	db *bolt.DB

	mu      sync.Mutex // guards the fields below
	series  map[seriesKey]*seriesMeta
	nextID  uint32
	pending []energy.Reading
	// pendingThrough is the newest Received among processed readings.
	pendingThrough time.Time
	// out holds rows processed but not yet committed, outRows their count.
	out     map[outKey]map[uint32][]point
	outRows int
	roll    *rollups
	unsaved map[seriesKey]*seriesMeta
	// recovered: open rollup periods were rebuilt (recover.go) from what
	// was committed before opened.
	recovered bool
	opened    time.Time
	seq       uint64     // newest commit sequence
	walLog    *walLog    // nil when read-only without a log file
	walMu     sync.Mutex // guards wal (queries read it without s.mu)
	wal       []walEntry // records not yet moved into bbolt

	commitMu sync.Mutex // one commit or compaction at a time
	stats    Stats
}

// Stats are counters for tests, benchmarks and the status API.
type Stats struct {
	Commits         int64
	CommitFailures  int64
	ReadingsStored  int64
	LastCommit      time.Time
	LastCommitError string
	// Through is the newest Received time of committed readings.
	Through time.Time
}

// Bucket names. Legal data (as read from the metrology core) and derived
// data (rollups, everything not legal) live in separate top-level buckets.
var (
	bktMeta    = []byte("meta")
	bktSeries  = []byte("series")
	bktLegal   = []byte("legal")
	bktDerived = []byte("derived")
	bktEvents  = []byte("events")
	bktKV      = []byte("kv")
	// Tiers inside legal and derived.
	bktRaw     = []byte("raw")
	bktMinute  = []byte("minute")
	bktQuarter = []byte("quarter")
	bktDay     = []byte("day")
)

const schemaVersion = 1

// Open opens (creating if needed) the database.
func Open(o Options) (*Store, error) {
	if o.Path == "" {
		return nil, errors.New("storage: no path")
	}
	if o.CommitInterval <= 0 {
		o.CommitInterval = 60 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 200000
	}
	if o.Retention == (Retention{}) {
		o.Retention = DefaultRetention()
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Clock == nil {
		o.Clock = energy.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if !o.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(o.Path), 0o700); err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
	}
	// Options chosen on purpose (never bolt.DefaultOptions):
	//   - Timeout: a second gatewayd (or `db` command) on the same file
	//     fails after 1 s instead of blocking forever on the flock.
	//   - NoFreelistSync + hashmap freelist: the freelist is not written on
	//     every commit (measured: 278 KiB -> 14 KiB per commit after large
	//     deletes); it is rebuilt by scanning at open, which takes
	//     milliseconds for our size.
	//   - NoSync stays false and NoGrowSync false: every commit is durable,
	//     the group commit is what spares the flash.
	bo := &bolt.Options{
		Timeout:        time.Second,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		ReadOnly:       o.ReadOnly,
	}
	if err := checkSize(o.Path); err != nil {
		return nil, err
	}
	db, err := bolt.Open(o.Path, 0o600, bo)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", o.Path, err)
	}
	s := &Store{o: o, db: db, series: map[seriesKey]*seriesMeta{}, roll: newRollups(o.Location), opened: o.Clock.Now()}
	if !o.ReadOnly {
		if err := s.init(); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := s.loadSeries(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.openWAL(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bktMeta)
		if err != nil {
			return err
		}
		if v := meta.Get([]byte("schema")); v != nil {
			if len(v) != 1 || v[0] != schemaVersion {
				return fmt.Errorf("storage: schema version %v, this build reads %d", v, schemaVersion)
			}
		} else if err := meta.Put([]byte("schema"), []byte{schemaVersion}); err != nil {
			return err
		}
		for _, name := range [][]byte{bktSeries, bktEvents, bktKV} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		for _, top := range [][]byte{bktLegal, bktDerived} {
			b, err := tx.CreateBucketIfNotExists(top)
			if err != nil {
				return err
			}
			for _, tier := range [][]byte{bktRaw, bktMinute, bktQuarter, bktDay} {
				if _, err := b.CreateBucketIfNotExists(tier); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Close moves the log into bbolt (a clean shutdown leaves it empty) and
// closes the files. Queued rows not yet committed are not written: Run's
// shutdown path commits them first.
func (s *Store) Close() error {
	err := s.Flush()
	if s.walLog != nil {
		s.walLog.f.Close()
	}
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// Path is the database file.
func (s *Store) Path() string { return s.o.Path }

// Stats returns commit counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}
