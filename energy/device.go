package energy

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Capability is one thing a controllable device can do. A device carries an
// explicit set of them; consumers test the set, never the driver's type.
type Capability string

// The capabilities the demand-response side knows.
const (
	// CapMeter: the device reports its own electric power (and energy):
	// it has history and costs of its own. Gas and water meters do not.
	CapMeter Capability = "meter"
	// CapSwitch: the device obeys CmdOn and CmdOff.
	CapSwitch Capability = "switch"
	// CapCurtail: the device obeys CmdLimit (a power cap in W) and CmdNormal.
	CapCurtail Capability = "curtail"
	// CapDeferrable: the device has jobs (energy by a deadline) whose start
	// the gateway may choose; CmdOn runs the job, CmdOff holds it.
	CapDeferrable Capability = "deferrable"
	// CapThermostat: a heating or cooling appliance with a setpoint.
	CapThermostat Capability = "thermostat"
	// CapBattery: a storage battery.
	CapBattery Capability = "battery"
	// CapEV: an electric-vehicle charger.
	CapEV Capability = "ev"
)

// Capabilities is a device's capability set.
type Capabilities []Capability

// Has reports whether c contains x.
func (c Capabilities) Has(x Capability) bool { return slices.Contains(c, x) }

// DeviceInfo is what does not change while a device exists.
type DeviceInfo struct {
	ID DeviceID `json:"id"`
	// Name is the household's name for it ("Dishwasher").
	Name string `json:"name"`
	// Transport is how the gateway reaches it: "sim", "relay", "coap",
	// "wisun", "echonet-ip", "ble".
	Transport string `json:"transport"`
	// Kind is what it is: "evcharger", "dishwasher", "waterheater",
	// "heatpump", "relay", ...
	Kind string       `json:"kind"`
	Caps Capabilities `json:"capabilities"`
	// RatedW is the power drawn when on and unrestricted.
	RatedW int64 `json:"rated_w"`
	// OwnReadings: the driver publishes the device's readings on the bus
	// itself (every quantity it has), so the registry does not sample its
	// power and energy (devices.Registry.Readings).
	OwnReadings bool `json:"-"`
}

// Job is the work a deferrable device waits to do: RemainingWh more energy,
// finished by Deadline (zero: no deadline).
type Job struct {
	RemainingWh int64     `json:"remaining_wh"`
	Deadline    time.Time `json:"deadline,omitzero"`
}

// DeviceState is a device's last known state.
type DeviceState struct {
	Online bool `json:"online"`
	// On is the switch state (for a deferrable device: the job may run).
	On bool `json:"on"`
	// PowerW is the power drawn now (measured where the device meters it).
	PowerW int64 `json:"power_w"`
	// LimitW is the power cap in force, 0 for none.
	LimitW int64 `json:"limit_w"`
	// EnergyWh is the device's own energy counter, if it meters.
	EnergyWh int64 `json:"energy_wh"`
	// Job is the pending deferrable work, nil for none.
	Job *Job `json:"job"`
	// Updated is when this state was last confirmed by the device.
	Updated time.Time `json:"updated"`
}

// Device is one controllable device: identity plus its last known state.
type Device struct {
	DeviceInfo
	State DeviceState `json:"state"`
}

// CommandKind is what a [Command] asks of a device.
type CommandKind string

// The commands.
const (
	CmdOn     CommandKind = "on"     // CapSwitch, CapDeferrable: run
	CmdOff    CommandKind = "off"    // CapSwitch, CapDeferrable: stop or hold
	CmdLimit  CommandKind = "limit"  // CapCurtail: cap the power at LimitW
	CmdNormal CommandKind = "normal" // CapCurtail: lift the cap
)

// Command is an instruction to one device. Reason says why in words the
// household can read in the events log ("DR event peak-17: import limit
// 3.0 kW").
type Command struct {
	Device DeviceID    `json:"device"`
	Kind   CommandKind `json:"kind"`
	LimitW int64       `json:"limit_w,omitempty"`
	Reason string      `json:"reason,omitempty"`
}

// Errors a [Commander] returns (wrapped).
var (
	ErrUnknownDevice = errors.New("unknown device")
	ErrNotCapable    = errors.New("device cannot do that")
	ErrOffline       = errors.New("device offline")
)

// Supports reports whether a device with caps accepts a command of kind k.
func Supports(caps Capabilities, k CommandKind) bool {
	switch k {
	case CmdOn, CmdOff:
		return caps.Has(CapSwitch) || caps.Has(CapDeferrable)
	case CmdLimit, CmdNormal:
		return caps.Has(CapCurtail)
	}
	return false
}

// DeviceLister lists the controllable devices with their state.
type DeviceLister interface {
	Devices() []Device
}

// Commander sends a command to the driver that owns the device.
type Commander interface {
	Command(ctx context.Context, c Command) error
}

// DeviceRegistry is the device registry as consumers (dr, web, HomeKit)
// see it: commands flow back to drivers only through it.
type DeviceRegistry interface {
	DeviceLister
	Commander
}
