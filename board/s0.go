package board

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Health is where the S0 check reports (health.Registry).
type Health interface {
	Set(code, message string)
	Clear(code string)
}

// S0Options configure the S0 pulse input.
type S0Options struct {
	// Pin is the GPIO name of the input.
	Pin string
	// ImpPerKWh is the meter's pulse constant (e.g. 1000 imp/kWh).
	ImpPerKWh int64
	// ActiveHigh: a pulse drives the pin high. Default (false): the S0
	// contact pulls a pulled-up pin low.
	ActiveHigh bool
	// Debounce is the shortest time between two counted pulses (default
	// 20 ms; DIN 43864 pulses last at least 30 ms).
	Debounce time.Duration
	// Window is how often the count is compared with the meter's import
	// register (default 15 min).
	Window time.Duration
	// TolerancePct is the allowed difference in percent of the meter's
	// increase over a window (default 5); at least two pulses are always
	// allowed for quantisation.
	TolerancePct int64
	// Meter returns the serial meter's import register in Wh, false while
	// unknown.
	Meter     func() (energy.Decimal, bool)
	Clock     energy.Clock
	Health    Health
	Publisher energy.Publisher
	Log       *slog.Logger
	// Device is the id of the derived series (default "s0").
	Device energy.DeviceID
}

// S0 counts the pulses of an S0 output and checks them against the meter.
type S0 struct {
	o      S0Options
	pin    gpio.PinIO
	active gpio.Level

	pulses  atomic.Int64
	bounced atomic.Int64

	mu       sync.Mutex
	last     time.Time // last counted edge
	winStart bool
	p0       int64 // pulses at window start
	m0       int64 // meter mWh at window start
}

// NewS0 configures the pin as an input with edge detection.
func NewS0(lookup Lookup, o S0Options) (*S0, error) {
	if o.ImpPerKWh <= 0 {
		return nil, fmt.Errorf("board: s0 on %s: imp_per_kwh must be > 0, not %d", o.Pin, o.ImpPerKWh)
	}
	if o.Clock == nil || o.Meter == nil {
		return nil, errors.New("board: s0: clock and meter are required")
	}
	if o.Debounce <= 0 {
		o.Debounce = 20 * time.Millisecond
	}
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.TolerancePct <= 0 {
		o.TolerancePct = 5
	}
	if o.Device == "" {
		o.Device = "s0"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	p, err := find(lookup, "s0", o.Pin)
	if err != nil {
		return nil, err
	}
	s := &S0{o: o, pin: p, active: gpio.Low}
	pull := gpio.PullUp
	if o.ActiveHigh {
		s.active, pull = gpio.High, gpio.PullDown
	}
	if err := p.In(pull, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("board: s0 on %s: %w", o.Pin, err)
	}
	return s, nil
}

// Pulses is the number of pulses counted since start.
func (s *S0) Pulses() int64 { return s.pulses.Load() }

// Bounced is the number of edges rejected as contact bounce.
func (s *S0) Bounced() int64 { return s.bounced.Load() }

// MilliWh is the energy counted since start in mWh.
func (s *S0) MilliWh() int64 { return s.pulses.Load() * 1_000_000 / s.o.ImpPerKWh }

// edge handles one edge at level l seen at now.
func (s *S0) edge(l gpio.Level, now time.Time) {
	if l != s.active {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && now.Sub(s.last) < s.o.Debounce {
		s.bounced.Add(1)
		return
	}
	s.last = now
	s.pulses.Add(1)
}

// Run counts pulses and checks each window until ctx ends.
func (s *S0) Run(ctx context.Context) error {
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			// Bounded waits so the loop sees ctx; periph has no cancel.
			if s.pin.WaitForEdge(100 * time.Millisecond) {
				s.edge(s.pin.Read(), s.o.Clock.Now())
			}
		}
	}()
	s.Check()
	for {
		t := s.o.Clock.NewTimer(s.o.Window)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
		s.Check()
	}
}

// Check ends the current window: it publishes the derived S0 counter and
// compares the pulse energy with the meter's increase since the window
// began, raising or clearing CondS0Mismatch. The first call (or one after
// the meter register went backwards, e.g. a replaced meter) only starts a
// window. It returns the two increases in mWh and whether it compared.
func (s *S0) Check() (s0mWh, meterMWh int64, compared bool) {
	now := s.o.Clock.Now()
	pulses := s.pulses.Load()
	mWh := pulses * 1_000_000 / s.o.ImpPerKWh
	if s.o.Publisher != nil {
		r := energy.Reading{Device: s.o.Device, Quantity: energy.ImportEnergy, Value: energy.D(mWh, -3),
			Measured: now, Received: now, Source: "s0"}
		if err := s.o.Publisher.Publish([]energy.Reading{r}); err != nil {
			s.o.Log.Warn("s0: reading not published", "err", err)
		}
	}
	mv, ok := s.o.Meter()
	var m int64
	if ok {
		m, ok = mv.Rescale(-3)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok {
		s.winStart = false
		return 0, 0, false
	}
	if !s.winStart || m < s.m0 || pulses < s.p0 {
		s.winStart, s.p0, s.m0 = true, pulses, m
		return 0, 0, false
	}
	ds0 := (pulses - s.p0) * 1_000_000 / s.o.ImpPerKWh
	dm := m - s.m0
	s.p0, s.m0 = pulses, m
	allowed := max(dm*s.o.TolerancePct/100, 2*1_000_000/s.o.ImpPerKWh)
	diff := ds0 - dm
	if diff < 0 {
		diff = -diff
	}
	if s.o.Health != nil {
		if diff > allowed {
			s.o.Health.Set(CondS0Mismatch, fmt.Sprintf("S0 pulses on %s counted %.3f kWh over %s, the meter's register rose %.3f kWh (tolerance %d %%): check the S0 wiring and imp_per_kwh",
				s.o.Pin, float64(ds0)/1e6, s.o.Window, float64(dm)/1e6, s.o.TolerancePct))
		} else {
			s.o.Health.Clear(CondS0Mismatch)
		}
	}
	return ds0, dm, true
}
