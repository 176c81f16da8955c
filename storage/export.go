package storage

import (
	"errors"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/energy"
)

// ExportRow is one stored point. Value is set for raw and legal rows;
// rollups (derived minute, quarter, day) set Min, Max, Mean, First, Last.
type ExportRow struct {
	Time     time.Time       `json:"time"`
	Device   energy.DeviceID `json:"device"`
	Quantity energy.Quantity `json:"quantity"`
	Unit     string          `json:"unit"`
	Tier     string          `json:"tier"`
	Legal    bool            `json:"legal"`
	Value    *energy.Decimal `json:"value,omitempty"`
	Min      *energy.Decimal `json:"min,omitempty"`
	Max      *energy.Decimal `json:"max,omitempty"`
	Mean     *float64        `json:"mean,omitempty"`
	First    *energy.Decimal `json:"first,omitempty"`
	Last     *energy.Decimal `json:"last,omitempty"`
	N        int64           `json:"n,omitempty"`
}

// ErrTier is returned for a tier name other than raw, minute, quarter, day.
var ErrTier = errors.New("tier must be raw, minute, quarter or day")

// Export calls fn for every stored point of tier in [from, to), series by
// series (device and quantity "" match all), legal rows before derived
// ones. It reads one series at a time, so memory stays bounded by one
// series' range.
func (s *Store) Export(d energy.DeviceID, q energy.Quantity, tier string, from, to time.Time, fn func(ExportRow) error) error {
	if _, ok := tierPeriod[tier]; !ok {
		return ErrTier
	}
	if !from.Before(to) {
		return ErrRange
	}
	s.mu.Lock()
	type sk struct {
		k  seriesKey
		id uint32
		ex int8
	}
	var list []sk
	for k, m := range s.series {
		if _, unsaved := s.unsaved[k]; unsaved {
			continue
		}
		if (d == "" || k.Device == d) && (q == "" || k.Quantity == q) {
			list = append(list, sk{k, m.ID, m.Exp})
		}
	}
	s.mu.Unlock()
	if len(list) == 0 && (d != "" || q != "") {
		return ErrUnknownSeries
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i].k, list[j].k
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		return a.Quantity < b.Quantity
	})
	f, t := from.UnixMilli(), to.UnixMilli()
	for _, e := range list {
		for _, legal := range []bool{true, false} {
			if legal && !e.k.Legal {
				continue
			}
			// One storage period at a time keeps memory bounded.
			per := tierPeriod[tier].Milliseconds()
			for ps := periodStart(tier, f); ps < t; ps += per {
				if err := s.exportPeriod(e.k, e.id, e.ex, legal, tier, max(ps, f), min(ps+per, t), fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Store) exportPeriod(k seriesKey, id uint32, exp int8, legal bool, tier string, f, t int64, fn func(ExportRow) error) error {
	var rows []ExportRow
	dec := func(x int64) *energy.Decimal { d := energy.D(x, exp); return &d }
	err := s.db.View(func(tx *bolt.Tx) error {
		return s.readRows(tx, legal, tier, id, f, t, func(ts int64, v []int64) {
			r := ExportRow{Time: time.UnixMilli(ts).UTC(), Device: k.Device, Quantity: k.Quantity, Unit: k.Quantity.Unit(), Tier: tier, Legal: legal}
			if len(v) == rollupCols {
				mean := energy.D(v[colSum], exp).Float64() / float64(max(v[colN], 1))
				r.Min, r.Max, r.First, r.Last, r.Mean, r.N = dec(v[colMin]), dec(v[colMax]), dec(v[colFirst]), dec(v[colLast]), &mean, v[colN]
			} else {
				r.Value = dec(v[0])
			}
			rows = append(rows, r)
		})
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
