package echonet

import (
	"fmt"

	"github.com/gatewayd-project/gatewayd/energy"
)

// ErrNotSettable is returned (wrapped, naming the EPC) when a command needs
// a property the object's Set property map (9E) lacks. It wraps
// [energy.ErrNotCapable].
var ErrNotSettable = fmt.Errorf("echonet: property not settable: %w", energy.ErrNotCapable)

// SetpointShift is how far a limit moves an air conditioner's setpoint
// away from the demand, °C.
const SetpointShift = 2

// Operation modes and codes the actions use.
const (
	on         = 0x30
	off        = 0x31
	acAuto     = 0x41
	acCool     = 0x42
	acHeat     = 0x43
	acDry      = 0x44
	acFan      = 0x45
	batCharge  = 0x42
	batDischg  = 0x43
	batStandby = 0x44
	batAuto    = 0x46
	whAuto     = 0x41
	whStop     = 0x43
)

// Capabilities returns what an object of class c whose Set property map is
// set can do. Meters and solar report (CapMeter); an air conditioner
// switches when 80 is settable and curtails through its setpoint
// (CapCurtail, CapThermostat) when B3 is; a battery or V2H charger
// curtails when DA is settable; a water heater switches when B0 or 80 is.
func Capabilities(c Class, set PropertyMap) energy.Capabilities {
	var caps energy.Capabilities
	switch c {
	case ClassSmartMeter, ClassSolar:
		// Electricity meters. Gas and water meters have no capability:
		// CapMeter means electric power and energy of its own.
		caps = append(caps, energy.CapMeter)
	case ClassAirConditioner:
		if set.Has(0x80) {
			caps = append(caps, energy.CapSwitch)
		}
		if set.Has(0xB3) {
			caps = append(caps, energy.CapCurtail, energy.CapThermostat)
		}
	case ClassStorageBattery, ClassEVChargerV2H:
		if c == ClassStorageBattery {
			caps = append(caps, energy.CapBattery)
		} else {
			caps = append(caps, energy.CapEV)
		}
		if set.Has(0xDA) {
			caps = append(caps, energy.CapCurtail)
		}
	case ClassElectricWaterHtr:
		if set.Has(0xB0) || set.Has(0x80) {
			caps = append(caps, energy.CapSwitch)
		}
	}
	return caps
}

// Action returns the properties to SetC on an object of class c (Set
// property map set) to carry out cmd, given the object's current
// properties cur. Every property is checked against set first.
//
//   - Air conditioner: off 80=31; on 80=30; limit moves B3 by
//     [SetpointShift] away from the demand (cooling or dry +2, heating -2,
//     auto by the room temperature BB against B3, fan: nothing); on and
//     normal restore cur[B3] when present: the caller passes the setpoint
//     saved when the limit began, and leaves B3 out when there is nothing
//     to restore. Normal does not switch the unit on: an air conditioner
//     the household left off stays off after a DR event.
//   - Battery: limit DA=43 (discharge), normal DA=46 (auto).
//   - V2H: limit DA=44 (standby), normal DA=42 (charge).
//   - Water heater: off and limit B0=43, on and normal B0=41; 80=31/30
//     when B0 is not settable.
//
// An empty result with a nil error means there is nothing to change.
// cmd.LimitW is not used: ECHONET levers are modes and setpoints, not caps.
func Action(c Class, set PropertyMap, cmd energy.Command, cur map[byte][]byte) ([]Property, error) {
	props, err := action(c, set, cmd, cur)
	if err != nil {
		return nil, fmt.Errorf("echonet: %s %s: %w", className(c), cmd.Kind, err)
	}
	return props, nil
}

func action(c Class, set PropertyMap, cmd energy.Command, cur map[byte][]byte) ([]Property, error) {
	var props []Property
	need := func(epc, v byte) error {
		if !set.Has(epc) {
			return fmt.Errorf("%w: EPC %02X", ErrNotSettable, epc)
		}
		props = append(props, Property{EPC: epc, EDT: []byte{v}})
		return nil
	}
	notCapable := func() ([]Property, error) {
		return nil, fmt.Errorf("%w: no %s action", energy.ErrNotCapable, cmd.Kind)
	}
	switch c {
	case ClassAirConditioner:
		return acAction(set, cmd, cur)
	case ClassStorageBattery, ClassEVChargerV2H:
		limit, normal := byte(batDischg), byte(batAuto)
		if c == ClassEVChargerV2H {
			limit, normal = batStandby, batCharge
		}
		switch cmd.Kind {
		case energy.CmdLimit:
			return props, need(0xDA, limit)
		case energy.CmdNormal:
			return props, need(0xDA, normal)
		}
		return notCapable()
	case ClassElectricWaterHtr:
		stop := cmd.Kind == energy.CmdOff || cmd.Kind == energy.CmdLimit
		if !stop && cmd.Kind != energy.CmdOn && cmd.Kind != energy.CmdNormal {
			return notCapable()
		}
		switch {
		case set.Has(0xB0) && stop:
			return props, need(0xB0, whStop)
		case set.Has(0xB0):
			return props, need(0xB0, whAuto)
		case stop:
			return props, need(0x80, off)
		}
		return props, need(0x80, on)
	}
	return notCapable()
}

func acAction(set PropertyMap, cmd energy.Command, cur map[byte][]byte) ([]Property, error) {
	var props []Property
	need := func(epc byte) error {
		if !set.Has(epc) {
			return fmt.Errorf("%w: EPC %02X", ErrNotSettable, epc)
		}
		return nil
	}
	restore := func() {
		if sp, ok := cur[0xB3]; ok && len(sp) == 1 && sp[0] <= 50 && set.Has(0xB3) {
			props = append(props, Property{EPC: 0xB3, EDT: []byte{sp[0]}})
		}
	}
	switch cmd.Kind {
	case energy.CmdOff:
		if err := need(0x80); err != nil {
			return nil, err
		}
		return []Property{{EPC: 0x80, EDT: []byte{off}}}, nil
	case energy.CmdOn:
		if err := need(0x80); err != nil {
			return nil, err
		}
		props = append(props, Property{EPC: 0x80, EDT: []byte{on}})
		restore()
		return props, nil
	case energy.CmdNormal:
		if err := need(0xB3); err != nil {
			return nil, err
		}
		restore()
		return props, nil
	case energy.CmdLimit:
		if err := need(0xB3); err != nil {
			return nil, err
		}
		sp, ok := cur[0xB3]
		if !ok || len(sp) != 1 || sp[0] > 50 {
			return nil, fmt.Errorf("setpoint B3 unknown (% X)", sp)
		}
		mode, ok := cur[0xB0]
		if !ok || len(mode) != 1 {
			return nil, fmt.Errorf("operation mode B0 unknown")
		}
		shift := 0
		switch mode[0] {
		case acCool, acDry:
			shift = SetpointShift
		case acHeat:
			shift = -SetpointShift
		case acAuto:
			shift = SetpointShift
			if room, ok := cur[0xBB]; ok && len(room) == 1 && int(int8(room[0])) < int(sp[0]) {
				shift = -SetpointShift
			}
		case acFan:
			return nil, nil
		default:
			return nil, fmt.Errorf("operation mode %02X has no setpoint lever", mode[0])
		}
		v := min(max(int(sp[0])+shift, 0), 50)
		return []Property{{EPC: 0xB3, EDT: []byte{byte(v)}}}, nil
	}
	return nil, fmt.Errorf("%w: no %s action", energy.ErrNotCapable, cmd.Kind)
}
