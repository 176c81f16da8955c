package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/energy"
)

// seriesKey names a series. Legal and derived values of the same quantity
// are different series.
type seriesKey struct {
	Device   energy.DeviceID
	Quantity energy.Quantity
	Legal    bool
}

func (k seriesKey) bytes() []byte {
	c := byte('D')
	if k.Legal {
		c = 'L'
	}
	return []byte(string(k.Device) + "\x00" + string(k.Quantity) + "\x00" + string(c))
}

func parseSeriesKey(b []byte) (seriesKey, error) {
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || (parts[2] != "L" && parts[2] != "D") {
		return seriesKey{}, fmt.Errorf("storage: bad series key %q", b)
	}
	return seriesKey{Device: energy.DeviceID(parts[0]), Quantity: energy.Quantity(parts[1]), Legal: parts[2] == "L"}, nil
}

// seriesMeta is fixed when a series is created.
type seriesMeta struct {
	ID uint32
	// Exp is the decimal exponent of stored coefficients (values are
	// Coef × 10^Exp in the quantity's SI unit).
	Exp int8
}

const seriesMetaLen = 5

func (m seriesMeta) bytes() []byte {
	b := make([]byte, seriesMetaLen)
	binary.BigEndian.PutUint32(b, m.ID)
	b[4] = byte(m.Exp)
	return b
}

func parseSeriesMeta(b []byte) (seriesMeta, error) {
	if len(b) != seriesMetaLen {
		return seriesMeta{}, errors.New("storage: bad series record")
	}
	return seriesMeta{ID: binary.BigEndian.Uint32(b), Exp: int8(b[4])}, nil
}

// defaultExp is the finest resolution a series of this unit keeps unless
// its first reading is finer still: 0.1 Wh, 0.1 W, 0.1 V, 1 mA, 0.01 Hz,
// 0.001 for dimensionless values.
func defaultExp(q energy.Quantity) int8 {
	switch q.Unit() {
	case "Wh", "varh", "W", "var", "VA", "V":
		return -1
	case "A", "s":
		return -3
	case "Hz":
		return -2
	}
	return -3
}

func (s *Store) loadSeries() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadSeriesLocked()
}

func (s *Store) loadSeriesLocked() error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktSeries)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			key, err := parseSeriesKey(k)
			if err != nil {
				return err
			}
			m, err := parseSeriesMeta(v)
			if err != nil {
				return fmt.Errorf("%w: %q", err, k)
			}
			s.series[key] = &m
			if m.ID >= s.nextID {
				s.nextID = m.ID + 1
			}
			return nil
		})
	})
}

// seriesFor returns the meta of key, creating it if needed. A new series
// is written by the next successful commit (s.unsaved) so that a failed
// commit never frees an ID that queued rows already use. Callers hold s.mu.
func (s *Store) seriesFor(key seriesKey, first energy.Decimal) *seriesMeta {
	if m, ok := s.series[key]; ok {
		return m
	}
	if s.nextID == 0 {
		s.nextID = 1
	}
	m := &seriesMeta{ID: s.nextID, Exp: min(defaultExp(key.Quantity), first.Exp)}
	s.nextID++
	s.series[key] = m
	if s.unsaved == nil {
		s.unsaved = map[seriesKey]*seriesMeta{}
	}
	s.unsaved[key] = m
	return m
}
