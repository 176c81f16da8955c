package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Event kinds. Kinds are free strings; these are the ones gatewayd writes.
const (
	EventLink         = "link"         // metering or HAN link health changed
	EventDR           = "dr"           // demand-response event or price signal
	EventIntervention = "intervention" // a command sent to a device on behalf of the grid
	EventControl      = "control"      // a household's manual command to a device
	EventLogin        = "login"        // login success, failure, lockout
	EventConfig       = "config"       // configuration changed
	EventStorage      = "storage"      // storage degraded, recovered, backup, compaction
)

// Event is one entry of the events log.
type Event struct {
	// Time of the event (stored in UTC to the nanosecond); zero means now.
	Time time.Time `json:"time"`
	// Kind is one of the Event* constants or another short word; required,
	// at most 64 bytes.
	Kind string `json:"kind"`
	// Subject is what the event is about (device id, user, link); required,
	// at most 64 bytes.
	Subject string `json:"subject"`
	// Details are optional: at most 32 entries, keys 1..64 bytes, values at
	// most 1024 bytes.
	Details map[string]string `json:"details,omitempty"`
}

// Bounds of the events log.
const (
	MaxEventField     = 64   // bytes, Kind, Subject and detail keys
	MaxEventDetails   = 32   // entries
	MaxEventDetailVal = 1024 // bytes
	// MaxEventsLimit is the largest limit Events accepts; 0 means
	// DefaultEventsLimit.
	MaxEventsLimit     = 10000
	DefaultEventsLimit = 1000

	maxEvents   = 100000                   // events kept
	maxEventAge = 2 * 365 * 24 * time.Hour // relative to the event added
	pruneBatch  = 256                      // deletions per AddEvent at most
	eventKeyLen = 12                       // 8 bytes unix ns + 4 bytes sequence
)

// Times an event key can hold: unix nanoseconds as a non-negative int64.
var (
	minEventTime = time.Unix(0, 0)
	maxEventTime = time.Unix(0, math.MaxInt64)
)

// ErrEvent is returned (wrapped) for an event or query out of bounds.
var ErrEvent = errors.New("invalid event")

func checkEvent(e *Event) error {
	field := func(name, v string) error {
		switch {
		case v == "":
			return fmt.Errorf("%w: %s required", ErrEvent, name)
		case len(v) > MaxEventField:
			return fmt.Errorf("%w: %s of %d bytes, limit %d", ErrEvent, name, len(v), MaxEventField)
		case !utf8.ValidString(v):
			return fmt.Errorf("%w: %s not UTF-8", ErrEvent, name)
		}
		return nil
	}
	if err := field("kind", e.Kind); err != nil {
		return err
	}
	if err := field("subject", e.Subject); err != nil {
		return err
	}
	if len(e.Details) > MaxEventDetails {
		return fmt.Errorf("%w: %d details, limit %d", ErrEvent, len(e.Details), MaxEventDetails)
	}
	for k, v := range e.Details {
		if err := field("detail key", k); err != nil {
			return err
		}
		if len(v) > MaxEventDetailVal {
			return fmt.Errorf("%w: detail %q of %d bytes, limit %d", ErrEvent, k, len(v), MaxEventDetailVal)
		}
	}
	if e.Time.Before(minEventTime) || e.Time.After(maxEventTime) {
		return fmt.Errorf("%w: time %v out of range", ErrEvent, e.Time)
	}
	return nil
}

func eventKey(ns int64, seq uint32) []byte {
	k := make([]byte, eventKeyLen)
	binary.BigEndian.PutUint64(k, uint64(ns))
	binary.BigEndian.PutUint32(k[8:], seq)
	return k
}

func eventKeyTime(k []byte) (int64, bool) {
	if len(k) != eventKeyLen {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(k)), true
}

// AddEvent appends e to the events log in its own durable transaction
// (events are rare; they do not wait for the group commit). A zero
// e.Time is the store clock's now. Events with equal times keep the order
// in which they were added.
//
// Retention is bounded and incremental: each call deletes, oldest first,
// at most 256 events that are older than two years before e.Time or
// beyond the newest 100000, so no call grows into one huge transaction.
func (s *Store) AddEvent(e Event) error {
	return s.addEvent(e, maxEvents)
}

// addEvent is AddEvent with the count bound as a parameter (tests).
//
// The number of stored events is kept in the events bucket's sequence
// (bolt.Bucket.SetSequence), updated in the same transaction as every
// insert and delete, so pruning never has to count the bucket.
func (s *Store) addEvent(e Event, keep int) error {
	if e.Time.IsZero() {
		e.Time = s.o.Clock.Now()
	}
	e.Time = e.Time.Round(0).UTC()
	if err := checkEvent(&e); err != nil {
		return fmt.Errorf("storage: add event: %w", err)
	}
	val, err := json.Marshal(&e)
	if err != nil {
		return fmt.Errorf("storage: add event: %w", err)
	}
	ns := e.Time.UnixNano()
	cutoff := e.Time.Add(-maxEventAge).UnixNano()
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktEvents)
		n := b.Sequence()
		if n == 0 {
			// Counter never set (or lost): count once.
			n = uint64(b.Stats().KeyN)
		}
		// Sequence after the last event with the same time.
		var seq uint32
		c := b.Cursor()
		k, _ := c.Seek(eventKey(ns+1, 0))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		if t, ok := eventKeyTime(k); ok && t == ns {
			last := binary.BigEndian.Uint32(k[8:])
			if last == math.MaxUint32 {
				return fmt.Errorf("%w: too many events at %v", ErrEvent, e.Time)
			}
			seq = last + 1
		}
		if err := b.Put(eventKey(ns, seq), val); err != nil {
			return err
		}
		n++
		// Collect first, delete after: deleting under a cursor can skip keys.
		var old [][]byte
		c = b.Cursor()
		for k, _ := c.First(); k != nil && len(old) < pruneBatch; k, _ = c.Next() {
			t, _ := eventKeyTime(k)
			if n-uint64(len(old)) <= uint64(keep) && t >= cutoff {
				break
			}
			old = append(old, append([]byte{}, k...))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return b.SetSequence(n - uint64(len(old)))
	})
	if err != nil {
		return fmt.Errorf("storage: add event %s/%s: %w", e.Kind, e.Subject, err)
	}
	return nil
}

// Events returns the events with from <= Time < to, oldest first, at most
// limit of them (0 = 1000, at most 10000). kind "" selects all kinds. A
// zero to means no upper bound.
func (s *Store) Events(from, to time.Time, kind string, limit int) ([]Event, error) {
	if limit == 0 {
		limit = DefaultEventsLimit
	}
	if limit < 0 || limit > MaxEventsLimit {
		return nil, fmt.Errorf("storage: events: %w: limit %d not in 1..%d", ErrEvent, limit, MaxEventsLimit)
	}
	if len(kind) > MaxEventField {
		return nil, fmt.Errorf("storage: events: %w: kind of %d bytes", ErrEvent, len(kind))
	}
	if from.Before(minEventTime) {
		from = minEventTime
	}
	if from.After(maxEventTime) {
		return nil, nil
	}
	fromNS := from.UnixNano()
	toNS := int64(math.MaxInt64)
	if !to.IsZero() && to.Before(maxEventTime) {
		if !to.After(from) {
			return nil, nil
		}
		toNS = to.UnixNano()
	}
	// Cheap pre-filter on the encoded value before decoding: our encoding
	// always holds `"kind":<kind>,`. A details key named "kind" can match
	// too, so the decoded Kind is still checked.
	var needle []byte
	if kind != "" {
		q, err := json.Marshal(kind)
		if err != nil {
			return nil, fmt.Errorf("storage: events: %w", err)
		}
		needle = append(append([]byte(`"kind":`), q...), ',')
	}
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktEvents)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(eventKey(fromNS, 0)); k != nil && len(out) < limit; k, v = c.Next() {
			t, ok := eventKeyTime(k)
			if !ok {
				continue
			}
			if t >= toNS {
				break
			}
			if needle != nil && !bytes.Contains(v, needle) {
				continue
			}
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			if kind != "" && e.Kind != kind {
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: events: %w", err)
	}
	return out, nil
}
