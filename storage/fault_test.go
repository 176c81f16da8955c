package storage

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/health"
)

// Disk full or failing on commit: the store raises storage_degraded, keeps
// the rows in memory (bounded: the bus then blocks), and writes them all
// once the disk works again.
func TestDiskFaultsKeepDataAndRecover(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	h := health.New(clk.Now)
	var mu sync.Mutex
	var failErr error
	setFail := func(err error) { mu.Lock(); failErr = err; mu.Unlock() }
	s := openTest(t, clk, func(o *Options) {
		o.Health = h
		o.QueueSize = 400
		o.CommitInterval = time.Second
		o.BeforeCommit = func() error {
			mu.Lock()
			defer mu.Unlock()
			return failErr
		}
	})
	in := make(chan []energy.Reading)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in) }()
	send := func(i int) bool {
		at := t0.Add(time.Duration(i) * time.Second)
		select {
		case in <- []energy.Reading{reading(energy.Power, energy.D(int64(i), 0), at, true, false)}:
			return true
		case <-time.After(200 * time.Millisecond):
			return false
		}
	}
	for i := 0; i < 50; i++ {
		if !send(i) {
			t.Fatal("store not taking readings")
		}
	}
	for _, ferr := range []error{syscall.ENOSPC, syscall.EIO} {
		setFail(ferr)
		// Readings keep coming while commits fail...
		sent := 50
		blocked := false
		for i := 50; i < 2000; i++ {
			clk.Advance(time.Second) // commit attempts fail
			if !send(i) {
				blocked = true
				break
			}
			sent++
		}
		if !h.Active(CondDegraded) {
			t.Fatalf("%v: no storage_degraded", ferr)
		}
		// ...until the queue bound: then the store stops taking (the bus
		// blocks its publishers); nothing was dropped.
		if !blocked || s.Queued() < 400 {
			t.Fatalf("%v: no backpressure: blocked=%v queued=%d", ferr, blocked, s.Queued())
		}
		setFail(nil)
		clk.Advance(2 * time.Second)
		waitQueued(t, s, 0)
		if h.Active(CondDegraded) {
			t.Fatalf("%v: storage_degraded not cleared", ferr)
		}
		r, err := s.QuerySeries("meter", energy.Power, t0, t0.Add(time.Hour), 3600)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Points) < sent {
			t.Fatalf("%v: %d points stored, %d sent", ferr, len(r.Points), sent)
		}
		// Start the next round with fresh timestamps.
		t0 = t0.Add(time.Hour)
		clk.Set(t0)
		for i := 0; i < 50; i++ {
			send(i)
		}
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p, err := s.Check(); err != nil || len(p) > 0 {
		t.Fatalf("check: %v %v", p, err)
	}
}

func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Queued() > n {
		if time.Now().After(deadline) {
			t.Fatalf("queue still %d", s.Queued())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
