package board

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Role is what a status LED shows.
type Role string

// The status LEDs.
const (
	RoleLink  Role = "link"  // on: the meter link is up
	RoleHAN   Role = "han"   // on: every HAN device answers (off without HAN)
	RoleDR    Role = "dr"    // on: a demand-response event or limit is active
	RoleFault Role = "fault" // on: a health condition other than info is active
)

// Roles lists the LED roles in a fixed order.
func Roles() []Role { return []Role{RoleLink, RoleHAN, RoleDR, RoleFault} }

// LED is one status LED.
type LED struct {
	Role      Role
	Pin       string
	ActiveLow bool
}

// State is what the LEDs show, one bool per role.
type State map[Role]bool

// LEDs drives the status LEDs from a state function.
type LEDs struct {
	clock energy.Clock
	state func() State
	every time.Duration

	mu   sync.Mutex
	pins map[Role]ledPin
	lit  map[Role]bool
}

type ledPin struct {
	pin gpio.PinIO
	l   LED
}

// NewLEDs finds the LEDs' pins and switches them off. state is read every
// refresh (default 500 ms) by Run.
func NewLEDs(lookup Lookup, clock energy.Clock, leds []LED, state func() State, refresh time.Duration) (*LEDs, error) {
	if refresh <= 0 {
		refresh = 500 * time.Millisecond
	}
	x := &LEDs{clock: clock, state: state, every: refresh, pins: map[Role]ledPin{}, lit: map[Role]bool{}}
	for _, l := range leds {
		switch l.Role {
		case RoleLink, RoleHAN, RoleDR, RoleFault:
		default:
			return nil, fmt.Errorf("board: led on %s: unknown role %q", l.Pin, l.Role)
		}
		if _, dup := x.pins[l.Role]; dup {
			return nil, fmt.Errorf("board: led %s: configured twice", l.Role)
		}
		p, err := find(lookup, "led", l.Pin)
		if err != nil {
			return nil, err
		}
		if err := p.Out(level(false, l.ActiveLow)); err != nil {
			return nil, fmt.Errorf("board: led %s on %s: %w", l.Role, l.Pin, err)
		}
		x.pins[l.Role] = ledPin{p, l}
	}
	return x, nil
}

// Refresh sets every LED from the state function now.
func (x *LEDs) Refresh() error {
	st := x.state()
	x.mu.Lock()
	defer x.mu.Unlock()
	for role, lp := range x.pins {
		on := st[role]
		if err := lp.pin.Out(level(on, lp.l.ActiveLow)); err != nil {
			return fmt.Errorf("board: led %s on %s: %w", role, lp.l.Pin, err)
		}
		x.lit[role] = on
	}
	return nil
}

// Lit reports whether the LED of role is on.
func (x *LEDs) Lit(r Role) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.lit[r]
}

// Run refreshes the LEDs until ctx ends, then switches them off.
func (x *LEDs) Run(ctx context.Context) error {
	defer func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		for role, lp := range x.pins {
			_ = lp.pin.Out(level(false, lp.l.ActiveLow))
			x.lit[role] = false
		}
	}()
	for {
		if err := x.Refresh(); err != nil {
			return err
		}
		t := x.clock.NewTimer(x.every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}
