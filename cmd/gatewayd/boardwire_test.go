package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/gatewayd-project/gatewayd/board"
	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/energy"
)

func fakePins(names ...string) board.Lookup {
	pins := map[string]*gpiotest.Pin{}
	for i, n := range names {
		pins[n] = &gpiotest.Pin{N: n, Num: i, EdgesChan: make(chan gpio.Level, 8)}
	}
	return func(name string) gpio.PinIO {
		if p, ok := pins[name]; ok {
			return p
		}
		return nil
	}
}

func boardGateway(t *testing.T, lookup board.Lookup) *gateway {
	t.Helper()
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	cfg.HTTP = config.HTTP{Listen: "127.0.0.1:0", TLS: config.TLS{Mode: config.TLSOff}}
	cfg.Metering.Port = filepath.Join(cfg.StateDir, "no-meter")
	cfg.Board.Relays = []config.BoardRelay{{ID: "boiler", Name: "Water heater", Pin: "GPIO17", RatedW: 2000}}
	cfg.Board.LEDs = []config.BoardLED{{Role: "fault", Pin: "GPIO5"}, {Role: "link", Pin: "GPIO6"}}
	cfg.Board.S0.Pin = "GPIO22"
	g, err := newGateway(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now(), gatewayOptions{gpio: lookup})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.store.Close() })
	return g
}

func TestBoardWiring(t *testing.T) {
	g := boardGateway(t, fakePins("GPIO17", "GPIO5", "GPIO6", "GPIO22"))
	d, ok := g.reg.Device("relay:boiler")
	if !ok || d.Transport != "relay" || !d.Caps.Has(energy.CapSwitch) || d.RatedW != 2000 {
		t.Fatalf("relay device %+v %v", d, ok)
	}
	if g.health.Active(board.CondUnavailable) {
		t.Fatal("board I/O reported unavailable with every pin present")
	}
	if st := g.ledState(); st[board.RoleFault] || st[board.RoleLink] {
		t.Fatalf("LEDs before start: %v", st)
	}
	g.health.Set("meter_link_down", "test")
	if st := g.ledState(); !st[board.RoleFault] {
		t.Fatal("a fault condition does not light the fault LED")
	}
	if len(g.han) != 3 {
		t.Fatalf("%d board loops, want relays, LEDs and S0", len(g.han))
	}
}

// TestBoardWithoutGPIO: a pin that does not exist turns that feature off,
// the daemon starts anyway, and an info condition (no fault LED) says so.
func TestBoardWithoutGPIO(t *testing.T) {
	g := boardGateway(t, fakePins("GPIO17", "GPIO5", "GPIO6"))
	if !g.health.Active(board.CondUnavailable) {
		t.Fatal("missing S0 pin not reported")
	}
	if _, ok := g.reg.Device("relay:boiler"); !ok {
		t.Fatal("the relays that exist are not registered")
	}
	if st := g.ledState(); st[board.RoleFault] {
		t.Fatal("board_io_unavailable lit the fault LED: it is information, not a fault")
	}
	if s := summary(g.health); s != "healthy (info: board_io_unavailable)" {
		t.Fatalf("summary %q", s)
	}
}
