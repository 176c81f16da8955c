package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

func rd(q energy.Quantity, v int64, t time.Time) energy.Reading {
	return energy.Reading{Device: "meter", Quantity: q, Value: energy.D(v, 0), Measured: t}
}

func TestLosslessBackpressureAndLatest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := New(ctx)
	ch := b.SubscribeLossless(2)
	lat := b.SubscribeLatest()
	t0 := time.Unix(1_700_000_000, 0)
	for i := 0; i < 2; i++ {
		if err := b.Publish([]energy.Reading{rd(energy.Power, int64(i), t0.Add(time.Duration(i)*time.Second))}); err != nil {
			t.Fatal(err)
		}
	}
	// The queue is full: the third publish blocks until drained.
	done := make(chan error, 1)
	go func() { done <- b.Publish([]energy.Reading{rd(energy.Power, 2, t0.Add(2*time.Second))}) }()
	select {
	case <-done:
		t.Fatal("publish did not block on a full lossless queue")
	case <-time.After(50 * time.Millisecond):
	}
	for i := 0; i < 3; i++ {
		batch := <-ch
		if batch[0].Value.Coef != int64(i) {
			t.Fatalf("batch %d has %v: order or loss", i, batch[0].Value)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r, ok := lat.Get("meter", energy.Power); !ok || r.Value.Coef != 2 {
		t.Fatalf("latest %v %v", r, ok)
	}
	// An older (backfilled) value does not replace a newer latest one.
	b.Publish([]energy.Reading{rd(energy.Power, 99, t0)})
	<-ch
	if r, _ := lat.Get("meter", energy.Power); r.Value.Coef != 2 {
		t.Fatalf("older value replaced latest: %v", r.Value)
	}
	// Cancel releases a blocked publisher.
	b.Publish([]energy.Reading{rd(energy.Power, 3, t0)})
	b.Publish([]energy.Reading{rd(energy.Power, 4, t0)})
	go func() { done <- b.Publish([]energy.Reading{rd(energy.Power, 5, t0)}) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want Canceled, got %v", err)
	}
	b.Close()
	if err := b.Publish([]energy.Reading{rd(energy.Power, 6, t0)}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
