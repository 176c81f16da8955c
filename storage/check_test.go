package storage

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

func TestCheckFindsCorruption(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	s := openTest(t, clk, nil)
	for i := 0; i < 300; i++ {
		s.Append([]energy.Reading{reading(energy.Power, energy.D(int64(i), 0), t0.Add(time.Duration(i)*time.Second), true, false)})
	}
	clk.Advance(6 * time.Minute)
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Check(); err != nil || len(p) != 0 {
		t.Fatalf("clean db: %v %v", p, err)
	}
	// Corrupt one chunk behind the store's back, after the log moved
	// into the tier buckets.
	s2 := s
	if err := s2.Flush(); err != nil {
		t.Fatal(err)
	}
	if p, err := s2.Check(); err != nil || len(p) != 0 {
		t.Fatalf("clean db after flush: %v %v", p, err)
	}
	s = s2
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tierBucket(tx, true, "raw")
		k, v := b.Cursor().First()
		bad := append([]byte(nil), v...)
		bad[len(bad)-3] ^= 0xFF
		bad = bad[:len(bad)-1]
		return b.Put(append([]byte(nil), k...), bad)
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Check(); err != nil || len(p) == 0 {
		t.Fatalf("corruption not found: %v %v", p, err)
	}
}
