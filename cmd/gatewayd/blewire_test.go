package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/han/ble"
	"github.com/gatewayd-project/gatewayd/health"
)

// Without an adapter han.ble retries with a doubling backoff capped at
// bleRetryMax (no busy loop), keeps ble_no_adapter raised, and stops at
// once when the daemon does.
func TestBLEWithoutAdapterRetriesWithBackoff(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	cfg := config.Default()
	cfg.HAN.BLE.Enabled, cfg.HAN.BLE.HCI = true, "hci15"
	g := &gateway{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), clock: clock, health: health.New(clock.Now)}
	h := &hanBLE{g: g, log: g.log}
	var opens atomic.Int32
	h.openAdapter = func() (ble.Adapter, error) {
		opens.Add(1)
		return nil, fmt.Errorf("%w: hci15: not present", ble.ErrNoAdapter)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()

	waitTimer := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for clock.Timers() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("run armed no retry timer")
			}
			time.Sleep(time.Millisecond)
		}
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second}
	for i, d := range want {
		waitTimer()
		if n := opens.Load(); n != int32(i+1) {
			t.Fatalf("after %d waits: %d opens", i, n)
		}
		var cond bool
		for _, c := range g.health.Conditions() {
			cond = cond || c.Code == condBLENoAdapter
		}
		if !cond {
			t.Fatalf("no %s while the adapter is missing", condBLENoAdapter)
		}
		// Just short of the backoff nothing happens.
		clock.Advance(d - time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		if n := opens.Load(); n != int32(i+1) {
			t.Fatalf("retry %d came before %v", i+1, d)
		}
		clock.Advance(time.Millisecond)
	}
	waitTimer()
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop when cancelled")
	}
}
