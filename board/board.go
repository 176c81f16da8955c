package board

import (
	"errors"
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// Health condition codes.
const (
	// CondUnavailable: board I/O is configured but not usable here (no
	// GPIO driver, or a pin name not found); those features are off.
	CondUnavailable = "board_io_unavailable"
	// CondS0Mismatch: the S0 pulse count disagrees with the serial meter.
	CondS0Mismatch = "s0_mismatch"
)

// Lookup finds a GPIO by name; nil means not found.
type Lookup func(name string) gpio.PinIO

// ErrNoGPIO is returned (wrapped) when a pin is not found.
var ErrNoGPIO = errors.New("board: gpio not found")

// HostLookup initialises periph's host drivers and returns a Lookup over
// its GPIO registry. It fails when the host has no GPIO at all.
func HostLookup() (Lookup, error) {
	st, err := host.Init()
	if err != nil {
		return nil, fmt.Errorf("board: periph host init: %w", err)
	}
	if len(gpioreg.All()) == 0 {
		var failed []string
		for _, f := range st.Failed {
			failed = append(failed, f.String())
		}
		why := ""
		if len(failed) > 0 {
			why = " (drivers failed: " + strings.Join(failed, "; ") + ")"
		}
		return nil, fmt.Errorf("board: no GPIO on this host%s: %w", why, ErrNoGPIO)
	}
	return gpioreg.ByName, nil
}

func find(lookup Lookup, what, name string) (gpio.PinIO, error) {
	if lookup == nil {
		return nil, fmt.Errorf("board: %s %q: %w", what, name, ErrNoGPIO)
	}
	p := lookup(name)
	if p == nil {
		return nil, fmt.Errorf("board: %s %q: %w", what, name, ErrNoGPIO)
	}
	return p, nil
}

func level(on, activeLow bool) gpio.Level {
	return gpio.Level(on != activeLow)
}
