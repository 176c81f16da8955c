package energy_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

func TestSleep(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	done := make(chan bool)
	go func() { done <- energy.Sleep(context.Background(), clk, time.Minute) }()
	advances := 0
	ok := false
wait:
	for {
		select {
		case ok = <-done:
			break wait
		case <-time.After(5 * time.Millisecond):
			clk.Advance(30 * time.Second)
			advances++
		}
	}
	if !ok || advances < 2 {
		t.Fatalf("Sleep = %v after %d advances of 30 s, want true after 2 or more", ok, advances)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if energy.Sleep(ctx, clk, time.Hour) {
		t.Fatal("Sleep with a done context reported the full wait")
	}
}
