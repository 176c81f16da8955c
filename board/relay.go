package board

import (
	"context"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
)

// Relay is one relay output.
type Relay struct {
	// ID is the device id ("relay:" is prefixed when missing).
	ID energy.DeviceID
	// Name is the household's name ("Water heater contact").
	Name string
	// Pin is the GPIO name driving the relay.
	Pin string
	// ActiveLow: the relay closes when the pin is low.
	ActiveLow bool
	// RatedW is the switched load's power when on (0: unknown).
	RatedW int64
}

// Relays owns the relay outputs and is their driver in the registry.
type Relays struct {
	reg   *devices.Registry
	clock energy.Clock

	mu   sync.Mutex
	pins map[energy.DeviceID]relayPin
	on   map[energy.DeviceID]bool
}

type relayPin struct {
	pin gpio.PinIO
	r   Relay
}

var _ devices.Driver = (*Relays)(nil)

// NewRelays finds every relay's pin, drives it off and adds the relays
// to reg as switchable devices (transport "relay").
func NewRelays(lookup Lookup, reg *devices.Registry, clock energy.Clock, rs []Relay) (*Relays, error) {
	x := &Relays{reg: reg, clock: clock, pins: map[energy.DeviceID]relayPin{}, on: map[energy.DeviceID]bool{}}
	for _, r := range rs {
		if r.ID == "" {
			return nil, fmt.Errorf("board: relay on %s: empty id", r.Pin)
		}
		r.ID = relayID(r.ID)
		p, err := find(lookup, "relay", r.Pin)
		if err != nil {
			return nil, err
		}
		if err := p.Out(level(false, r.ActiveLow)); err != nil {
			return nil, fmt.Errorf("board: relay %s on %s: %w", r.ID, r.Pin, err)
		}
		x.pins[r.ID] = relayPin{p, r}
	}
	for _, r := range rs {
		rp := x.pins[relayID(r.ID)]
		info := energy.DeviceInfo{ID: rp.r.ID, Name: rp.r.Name, Transport: "relay", Kind: "relay",
			Caps: energy.Capabilities{energy.CapSwitch}, RatedW: rp.r.RatedW}
		if info.Name == "" {
			info.Name = string(rp.r.ID)
		}
		if err := reg.Add(info, x); err != nil {
			x.Close()
			return nil, fmt.Errorf("board: relay %s: %w", rp.r.ID, err)
		}
		reg.Update(rp.r.ID, energy.DeviceState{Online: true, Updated: clock.Now()})
	}
	return x, nil
}

func relayID(id energy.DeviceID) energy.DeviceID {
	if len(id) < 6 || id[:6] != "relay:" {
		return "relay:" + id
	}
	return id
}

// Command switches a relay (CmdOn closes it, CmdOff opens it).
func (x *Relays) Command(_ context.Context, c energy.Command) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	rp, ok := x.pins[c.Device]
	if !ok {
		return fmt.Errorf("board: relay %s: %w", c.Device, energy.ErrUnknownDevice)
	}
	var on bool
	switch c.Kind {
	case energy.CmdOn:
		on = true
	case energy.CmdOff:
	default:
		return fmt.Errorf("board: relay %s: %s: %w", c.Device, c.Kind, energy.ErrNotCapable)
	}
	if err := rp.pin.Out(level(on, rp.r.ActiveLow)); err != nil {
		return fmt.Errorf("board: relay %s on %s: %w", c.Device, rp.r.Pin, err)
	}
	x.on[c.Device] = on
	st := energy.DeviceState{Online: true, On: on, Updated: x.clock.Now()}
	if on {
		st.PowerW = rp.r.RatedW
	}
	x.reg.Update(c.Device, st)
	return nil
}

// On reports whether the relay id is closed.
func (x *Relays) On(id energy.DeviceID) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.on[id]
}

// Close opens every relay and removes the devices: a stopped daemon
// leaves no load switched by it.
func (x *Relays) Close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for id, rp := range x.pins {
		_ = rp.pin.Out(level(false, rp.r.ActiveLow))
		x.on[id] = false
		x.reg.Remove(id)
	}
}
