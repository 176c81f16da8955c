package board

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// fakeBoard is a set of periph fake pins found by name.
type fakeBoard map[string]*gpiotest.Pin

func newFakeBoard(names ...string) fakeBoard {
	b := fakeBoard{}
	for i, n := range names {
		b[n] = &gpiotest.Pin{N: n, Num: i, EdgesChan: make(chan gpio.Level, 64)}
	}
	return b
}

func (b fakeBoard) lookup(name string) gpio.PinIO {
	if p, ok := b[name]; ok {
		return p
	}
	return nil
}

func (b fakeBoard) level(name string) gpio.Level { return b[name].Read() }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRelaysAreSwitchableDevices(t *testing.T) {
	b := newFakeBoard("GPIO17", "GPIO27")
	b["GPIO27"].L = gpio.Low
	b["GPIO17"].L = gpio.High // must be driven off at start
	reg := devices.New()
	clk := clocktest.New(t0)
	x, err := NewRelays(b.lookup, reg, clk, []Relay{
		{ID: "boiler", Name: "Water heater", Pin: "GPIO17", RatedW: 2000},
		{ID: "relay:pump", Pin: "GPIO27", ActiveLow: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.level("GPIO17") != gpio.Low || b.level("GPIO27") != gpio.High {
		t.Fatalf("relays not off at start: %v %v", b.level("GPIO17"), b.level("GPIO27"))
	}
	d, ok := reg.Device("relay:boiler")
	if !ok || d.Transport != "relay" || !d.Caps.Has(energy.CapSwitch) || !d.State.Online || d.State.On || d.Name != "Water heater" {
		t.Fatalf("relay:boiler = %+v, %v", d, ok)
	}
	ctx := context.Background()
	if err := reg.Command(ctx, energy.Command{Device: "relay:boiler", Kind: energy.CmdOn}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Command(ctx, energy.Command{Device: "relay:pump", Kind: energy.CmdOn}); err != nil {
		t.Fatal(err)
	}
	if b.level("GPIO17") != gpio.High || b.level("GPIO27") != gpio.Low {
		t.Fatalf("relays not on: %v %v", b.level("GPIO17"), b.level("GPIO27"))
	}
	if d, _ := reg.Device("relay:boiler"); !d.State.On || d.State.PowerW != 2000 || !x.On("relay:boiler") {
		t.Fatalf("state after on: %+v", d.State)
	}
	if err := reg.Command(ctx, energy.Command{Device: "relay:boiler", Kind: energy.CmdLimit, LimitW: 5}); !errors.Is(err, energy.ErrNotCapable) {
		t.Fatalf("limit on a relay: %v", err)
	}
	if err := reg.Command(ctx, energy.Command{Device: "relay:boiler", Kind: energy.CmdOff}); err != nil {
		t.Fatal(err)
	}
	if b.level("GPIO17") != gpio.Low {
		t.Fatal("relay not off")
	}
	x.Close()
	if b.level("GPIO27") != gpio.High {
		t.Fatal("Close left the active-low relay closed")
	}
	if _, ok := reg.Device("relay:pump"); ok {
		t.Fatal("Close left the device registered")
	}
}

func TestMissingPins(t *testing.T) {
	b := newFakeBoard("GPIO17")
	reg := devices.New()
	clk := clocktest.New(t0)
	if _, err := NewRelays(b.lookup, reg, clk, []Relay{{ID: "x", Pin: "GPIO99"}}); !errors.Is(err, ErrNoGPIO) || !strings.Contains(err.Error(), "GPIO99") {
		t.Fatalf("missing relay pin: %v", err)
	}
	if _, err := NewRelays(nil, reg, clk, []Relay{{ID: "x", Pin: "GPIO17"}}); !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("no gpio at all: %v", err)
	}
	if len(reg.Devices()) != 0 {
		t.Fatal("a failed relay setup left devices")
	}
	if _, err := NewLEDs(b.lookup, clk, []LED{{Role: RoleLink, Pin: "nope"}}, nil, 0); !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("missing led pin: %v", err)
	}
	if _, err := NewLEDs(b.lookup, clk, []LED{{Role: "disco", Pin: "GPIO17"}}, nil, 0); err == nil {
		t.Fatal("unknown role accepted")
	}
	if _, err := NewS0(b.lookup, S0Options{Pin: "nope", ImpPerKWh: 1000, Clock: clk, Meter: func() (energy.Decimal, bool) { return energy.Decimal{}, false }}); !errors.Is(err, ErrNoGPIO) {
		t.Fatalf("missing s0 pin: %v", err)
	}
}

func TestLEDsFollowState(t *testing.T) {
	b := newFakeBoard("L1", "L2", "L3", "L4")
	clk := clocktest.New(t0)
	var mu sync.Mutex
	st := State{RoleLink: true}
	state := func() State {
		mu.Lock()
		defer mu.Unlock()
		out := State{}
		for k, v := range st {
			out[k] = v
		}
		return out
	}
	x, err := NewLEDs(b.lookup, clk, []LED{{Role: RoleLink, Pin: "L1"}, {Role: RoleHAN, Pin: "L2"},
		{Role: RoleDR, Pin: "L3"}, {Role: RoleFault, Pin: "L4", ActiveLow: true}}, state, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- x.Run(ctx) }()
	waitFor(t, func() bool { return b.level("L1") == gpio.High })
	if b.level("L3") != gpio.Low || b.level("L4") != gpio.High {
		t.Fatalf("dr/fault lit: %v %v", b.level("L3"), b.level("L4"))
	}
	mu.Lock()
	st = State{RoleDR: true, RoleFault: true}
	mu.Unlock()
	for clk.Timers() == 0 {
		time.Sleep(time.Millisecond)
	}
	clk.Advance(time.Second)
	waitFor(t, func() bool { return b.level("L4") == gpio.Low })
	if b.level("L1") != gpio.Low || b.level("L3") != gpio.High || !x.Lit(RoleFault) {
		t.Fatalf("after change: link %v dr %v", b.level("L1"), b.level("L3"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b.level("L3") != gpio.Low || b.level("L4") != gpio.High {
		t.Fatal("LEDs left lit after Run ended")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
