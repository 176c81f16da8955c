package board

import (
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// BenchmarkS0Edge is the cost of one counted pulse; S0 outputs pulse at
// most ~20/s (DIN 43864 minimum 30 ms on), so anything under ~1 ms is fine.
func BenchmarkS0Edge(b *testing.B) {
	bd := newFakeBoard("GPIO22")
	s, err := NewS0(bd.lookup, S0Options{Pin: "GPIO22", ImpPerKWh: 1000, Clock: clocktest.New(t0),
		Meter: func() (energy.Decimal, bool) { return energy.Decimal{}, false }})
	if err != nil {
		b.Fatal(err)
	}
	at := t0
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(50 * time.Millisecond)
		s.edge(gpio.Low, at)
	}
	if s.Pulses() != int64(b.N) {
		b.Fatalf("pulses %d, want %d", s.Pulses(), b.N)
	}
}
