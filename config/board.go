package config

import (
	"fmt"
	"path"
	"slices"
	"time"
)

// Board is board: the appliance's own I/O by GPIO name (periph.io names
// such as GPIO17). Without GPIO hardware the daemon runs with these
// features off and says so (health condition board_io_unavailable).
type Board struct {
	// Relays are load-control contacts, switchable devices "relay:<id>".
	Relays []BoardRelay `yaml:"relays"`
	// LEDs are the status LEDs: roles link, han, dr, fault.
	LEDs []BoardLED `yaml:"leds"`
	// S0 is the pulse input from the meter's test output.
	S0 BoardS0 `yaml:"s0"`
}

// BoardRelay is one entry of board.relays.
type BoardRelay struct {
	ID        string `yaml:"id"`
	Name      string `yaml:"name"`
	Pin       string `yaml:"pin"`
	ActiveLow bool   `yaml:"active_low"`
	// RatedW is the switched load's power in W (0: unknown).
	RatedW int64 `yaml:"rated_w"`
}

// BoardLED is one entry of board.leds.
type BoardLED struct {
	Role      string `yaml:"role"`
	Pin       string `yaml:"pin"`
	ActiveLow bool   `yaml:"active_low"`
}

// BoardS0 is board.s0; an empty Pin disables it.
type BoardS0 struct {
	Pin string `yaml:"pin"`
	// ImpPerKWh is the meter's pulse constant. Default 1000.
	ImpPerKWh int64 `yaml:"imp_per_kwh"`
	// ActiveHigh: a pulse drives the pin high (default: pulls it low).
	ActiveHigh bool `yaml:"active_high"`
	// Debounce is the shortest time between pulses, 1ms..1s. Default 20ms.
	Debounce time.Duration `yaml:"debounce"`
	// Window of the plausibility check, 1m..24h. Default 15m.
	Window time.Duration `yaml:"window"`
	// TolerancePct is the allowed difference, 1..50 %. Default 5.
	TolerancePct int64 `yaml:"tolerance_pct"`
}

// Watchdog is watchdog: the hardware watchdog when systemd does not
// run the daemon (under systemd, WatchdogSec in the unit is used).
type Watchdog struct {
	// Device is the watchdog device, e.g. /dev/watchdog; empty = none.
	Device string `yaml:"device"`
	// Interval between keep-alives, 1s..1m. Default 10s.
	Interval time.Duration `yaml:"interval"`
}

// Update is update: the A/B update's boot-success mark.
type Update struct {
	// MarkGoodCommand runs once when the gateway has been healthy for
	// MarkGoodAfter (argv, no shell; e.g. [rauc, status, mark-good]).
	// Empty = no mark.
	MarkGoodCommand []string `yaml:"mark_good_command"`
	// MarkGoodAfter is how long the start must stay healthy, 10s..1h.
	// Default 5m.
	MarkGoodAfter time.Duration `yaml:"mark_good_after"`
}

func defaultBoard() Board {
	return Board{Relays: []BoardRelay{}, LEDs: []BoardLED{},
		S0: BoardS0{ImpPerKWh: 1000, Debounce: 20 * time.Millisecond, Window: 15 * time.Minute, TolerancePct: 5}}
}

func validateBoard(c *Config, fail func(key, format string, args ...any)) {
	b := c.Board
	pins := map[string]string{}
	usePin := func(key, pin string) {
		if pin == "" {
			fail(key, "must name a GPIO, e.g. GPIO17")
			return
		}
		if other, dup := pins[pin]; dup {
			fail(key, "GPIO %s is used by %s already", pin, other)
			return
		}
		pins[pin] = key
	}
	ids := map[string]bool{}
	for i, r := range b.Relays {
		key := fmt.Sprintf("board.relays[%d]", i)
		if r.ID == "" || ids[r.ID] {
			fail(key+".id", "must be a unique, non-empty name, not %q", r.ID)
		}
		ids[r.ID] = true
		usePin(key+".pin", r.Pin)
		if r.RatedW < 0 {
			fail(key+".rated_w", "must not be negative")
		}
	}
	roles := map[string]bool{}
	for i, l := range b.LEDs {
		key := fmt.Sprintf("board.leds[%d]", i)
		if !slices.Contains([]string{"link", "han", "dr", "fault"}, l.Role) || roles[l.Role] {
			fail(key+".role", "must be one of link, han, dr, fault, each once, not %q", l.Role)
		}
		roles[l.Role] = true
		usePin(key+".pin", l.Pin)
	}
	s := b.S0
	if s.Pin != "" {
		usePin("board.s0.pin", s.Pin)
	}
	if s.ImpPerKWh < 1 || s.ImpPerKWh > 100000 {
		fail("board.s0.imp_per_kwh", "must be 1 to 100000, not %d", s.ImpPerKWh)
	}
	if s.Debounce < time.Millisecond || s.Debounce > time.Second {
		fail("board.s0.debounce", "must be between 1ms and 1s, not %s", s.Debounce)
	}
	if s.Window < time.Minute || s.Window > 24*time.Hour {
		fail("board.s0.window", "must be between 1m and 24h, not %s", s.Window)
	}
	if s.TolerancePct < 1 || s.TolerancePct > 50 {
		fail("board.s0.tolerance_pct", "must be 1 to 50, not %d", s.TolerancePct)
	}
	if d := c.Watchdog.Device; d != "" && !path.IsAbs(d) {
		fail("watchdog.device", "must be an absolute path, not %q", d)
	}
	if i := c.Watchdog.Interval; i < time.Second || i > time.Minute {
		fail("watchdog.interval", "must be between 1s and 1m, not %s", i)
	}
	if u := c.Update; len(u.MarkGoodCommand) > 0 && u.MarkGoodCommand[0] == "" {
		fail("update.mark_good_command", "must start with the program to run")
	}
	if a := c.Update.MarkGoodAfter; a < 10*time.Second || a > time.Hour {
		fail("update.mark_good_after", "must be between 10s and 1h, not %s", a)
	}
}
