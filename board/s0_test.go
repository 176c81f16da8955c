package board

import (
	"context"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/health"
)

type meterReg struct {
	mu sync.Mutex
	wh energy.Decimal
	ok bool
}

func (m *meterReg) set(coef int64, exp int8) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wh, m.ok = energy.D(coef, exp), true
}

func (m *meterReg) get() (energy.Decimal, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.wh, m.ok
}

type pubs struct {
	mu sync.Mutex
	rs []energy.Reading
}

func (p *pubs) Publish(rs []energy.Reading) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rs = append(p.rs, rs...)
	return nil
}

func TestS0Debounce(t *testing.T) {
	b := newFakeBoard("GPIO22")
	clk := clocktest.New(t0)
	s, err := NewS0(b.lookup, S0Options{Pin: "GPIO22", ImpPerKWh: 1000, Clock: clk, Meter: (&meterReg{}).get})
	if err != nil {
		t.Fatal(err)
	}
	if b["GPIO22"].P != gpio.PullUp {
		t.Fatalf("pull = %v, want up for an open-collector S0 output", b["GPIO22"].P)
	}
	at := t0
	s.edge(gpio.Low, at)                           // pulse 1
	s.edge(gpio.Low, at.Add(3*time.Millisecond))   // bounce
	s.edge(gpio.High, at.Add(35*time.Millisecond)) // release: not counted
	s.edge(gpio.Low, at.Add(100*time.Millisecond)) // pulse 2
	s.edge(gpio.Low, at.Add(119*time.Millisecond)) // bounce (19 ms)
	s.edge(gpio.Low, at.Add(121*time.Millisecond)) // pulse 3 (21 ms)
	if s.Pulses() != 3 || s.Bounced() != 2 || s.MilliWh() != 3000 {
		t.Fatalf("pulses %d bounced %d mWh %d, want 3 2 3000", s.Pulses(), s.Bounced(), s.MilliWh())
	}
}

// TestS0RunCountsEdges feeds edges through the fake pin's edge channel,
// as periph's sysfs/gpiochip driver delivers them.
func TestS0RunCountsEdges(t *testing.T) {
	b := newFakeBoard("GPIO22")
	clk := clocktest.New(t0)
	m := &meterReg{}
	s, err := NewS0(b.lookup, S0Options{Pin: "GPIO22", ImpPerKWh: 500, Clock: clk, Meter: m.get})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for i := 0; i < 10; i++ {
		b["GPIO22"].EdgesChan <- gpio.Low
		b["GPIO22"].EdgesChan <- gpio.High
		waitFor(t, func() bool { return s.Pulses() == int64(i+1) })
		clk.Advance(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.MilliWh() != 20000 { // 10 pulses at 500 imp/kWh = 20 Wh
		t.Fatalf("mWh = %d", s.MilliWh())
	}
}

func TestS0Plausibility(t *testing.T) {
	b := newFakeBoard("GPIO22")
	clk := clocktest.New(t0)
	h := health.New(clk.Now)
	m := &meterReg{}
	p := &pubs{}
	s, err := NewS0(b.lookup, S0Options{Pin: "GPIO22", ImpPerKWh: 1000, Clock: clk, Meter: m.get,
		Health: h, Publisher: p, TolerancePct: 5})
	if err != nil {
		t.Fatal(err)
	}
	pulse := func(n int) {
		for i := 0; i < n; i++ {
			clk.Advance(100 * time.Millisecond)
			s.edge(gpio.Low, clk.Now())
		}
	}
	if _, _, cmp := s.Check(); cmp {
		t.Fatal("compared without a meter reading")
	}
	m.set(1234567, -2) // 12345.67 Wh
	if _, _, cmp := s.Check(); cmp {
		t.Fatal("first window compared")
	}
	// 500 Wh on both: fine.
	pulse(500)
	m.set(1284567, -2)
	ds0, dm, cmp := s.Check()
	if !cmp || ds0 != 500_000 || dm != 500_000 || h.Active(CondS0Mismatch) {
		t.Fatalf("agreeing window: %d %d %v active=%v", ds0, dm, cmp, h.Active(CondS0Mismatch))
	}
	// 4 % off: within tolerance.
	pulse(520)
	m.set(1334567, -2)
	if _, _, _ = s.Check(); h.Active(CondS0Mismatch) {
		t.Fatal("4 % raised the condition")
	}
	// Half the pulses missing (wrong imp/kWh or a broken wire): raised.
	pulse(250)
	m.set(1384567, -2)
	if _, _, _ = s.Check(); !h.Active(CondS0Mismatch) {
		t.Fatal("50 % difference not raised")
	}
	// Low load: one pulse difference is quantisation, not a fault.
	pulse(1)
	m.set(1384767, -2) // +2 Wh
	if _, _, _ = s.Check(); h.Active(CondS0Mismatch) {
		t.Fatal("quantisation raised the condition")
	}
	// A replaced meter (register went down) restarts the window.
	m.set(100, 0)
	if _, _, cmp := s.Check(); cmp {
		t.Fatal("compared across a meter replacement")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	last := p.rs[len(p.rs)-1]
	if last.Legal || last.Device != "s0" || last.Quantity != energy.ImportEnergy || last.Value.Cmp(energy.D(1271, 0)) != 0 {
		t.Fatalf("derived reading %+v", last)
	}
}
