package homekit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/brutella/hap/accessory"
	"github.com/brutella/hap/characteristic"
	"github.com/brutella/hap/service"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Eve's custom types (ebaauw/homebridge-lib EveHomeKitTypes): the Eve app
// shows them; Apple Home does not.
const (
	TypeEvePower       = "E863F10D-079E-48FF-8F27-9C2605A29F52" // W
	TypeEveEnergy      = "E863F10C-079E-48FF-8F27-9C2605A29F52" // kWh
	TypeEveConsumption = "E863F008-079E-48FF-8F27-9C2605A29F52" // service holding both
)

// CommandReason is the Reason of every command the bridge sends: the
// events log says the household used Apple Home.
const CommandReason = "HomeKit"

// Registry is the device registry as the bridge uses it.
type Registry interface {
	Devices() []energy.Device
	Command(ctx context.Context, c energy.Command) error
}

// GridEvent is the actionable demand-response event in force now.
type GridEvent struct {
	ID       string
	OptedOut bool
}

// Grid is the demand-response engine as the bridge uses it.
type Grid interface {
	// ActiveEvent returns the actionable event active now, if any.
	ActiveEvent() (GridEvent, bool)
	// OptOut opts the household out of event id.
	OptOut(ctx context.Context, id string) error
}

// Style is how a device appears in HomeKit.
type Style string

// The styles.
const (
	StyleNone       Style = ""
	StyleThermostat Style = "thermostat"
	StyleOutlet     Style = "outlet"
	StyleSwitch     Style = "switch"
	StyleMeter      Style = "meter"
)

// StyleOf returns how a device is shown (see the package doc).
func StyleOf(info energy.DeviceInfo) Style {
	switchable := info.Caps.Has(energy.CapSwitch) || info.Caps.Has(energy.CapDeferrable)
	switch {
	case info.Caps.Has(energy.CapThermostat) || info.Kind == "air_conditioner":
		return StyleThermostat
	case switchable && info.Caps.Has(energy.CapMeter):
		return StyleOutlet
	case switchable:
		return StyleSwitch
	case info.Caps.Has(energy.CapMeter):
		return StyleMeter
	}
	return StyleNone
}

// eve is the pair of Eve characteristics on a service.
type eve struct {
	watts, kwh *characteristic.Float
}

func addEve(s *service.S, maxW float64) eve {
	mk := func(typ, unit string, maxV, step float64) *characteristic.Float {
		c := characteristic.NewFloat(typ)
		c.Format = characteristic.FormatFloat // NewFloat leaves it empty
		c.Permissions = []string{characteristic.PermissionRead, characteristic.PermissionEvents}
		c.Unit = unit
		c.SetMinValue(0)
		c.SetMaxValue(maxV)
		c.SetStepValue(step)
		c.SetValue(0)
		s.AddC(c.C)
		return c
	}
	return eve{watts: mk(TypeEvePower, "W", maxW, 0.1), kwh: mk(TypeEveEnergy, "kWh", 1e9, 0.01)}
}

func (e eve) set(w, wh int64) {
	if e.watts == nil {
		return
	}
	e.watts.SetValue(float64(w))
	e.kwh.SetValue(float64(wh) / 1000)
}

// devAcc is one device's accessory and the characteristics the bridge
// keeps current.
type devAcc struct {
	id     energy.DeviceID
	style  Style
	a      *accessory.A
	on     *characteristic.On
	inUse  *characteristic.OutletInUse
	thermo *service.Thermostat
	eve    eve
}

// tree is one build of the accessories: what one hap server serves.
type tree struct {
	accs   []*accessory.A // the bridge first
	devs   []*devAcc
	event  *accessory.ContactSensor
	optout *accessory.Switch
	meter  eve
	sig    string
}

// treeOptions are what a build needs besides the devices.
type treeOptions struct {
	name, serial, firmware string
	reg                    Registry
	grid                   Grid
	meter                  bool
	aids                   map[energy.DeviceID]uint64
}

// signature identifies a device set as far as the accessory tree goes:
// a different signature needs a rebuild.
func signature(devs []energy.Device, meter bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "meter=%t;", meter)
	for _, d := range devs {
		st := StyleOf(d.DeviceInfo)
		if st == StyleNone {
			continue
		}
		caps := make([]string, len(d.Caps))
		for i, c := range d.Caps {
			caps[i] = string(c)
		}
		slices.Sort(caps)
		fmt.Fprintf(&b, "%q %q %q %s %s;", d.ID, d.Name, d.Kind, st, strings.Join(caps, ","))
	}
	return b.String()
}

// shown returns the devices that get an accessory, at most the HAP limit.
func shown(devs []energy.Device) (out []energy.Device, dropped int) {
	room := MaxAccessories - AIDMeter // the bridge and the three fixed accessories
	for _, d := range devs {
		if StyleOf(d.DeviceInfo) == StyleNone {
			continue
		}
		if len(out) == room {
			dropped++
			continue
		}
		out = append(out, d)
	}
	return out, dropped
}

func buildTree(devs []energy.Device, o treeOptions) *tree {
	t := &tree{sig: signature(devs, o.meter)}
	br := accessory.NewBridge(accessory.Info{Name: o.name, Manufacturer: "gatewayd", Model: "gatewayd", SerialNumber: o.serial, Firmware: o.firmware})
	br.Id = AIDBridge
	t.accs = append(t.accs, br.A)

	t.event = accessory.NewContactSensor(accessory.Info{Name: "Grid event active", Manufacturer: "gatewayd", Model: "DR event", SerialNumber: "grid-event"})
	t.event.Id = AIDGridEvent
	t.event.ContactSensor.ContactSensorState.SetValue(characteristic.ContactSensorStateContactDetected)
	t.accs = append(t.accs, t.event.A)

	t.optout = accessory.NewSwitch(accessory.Info{Name: "Opt out of this event", Manufacturer: "gatewayd", Model: "DR opt-out", SerialNumber: "grid-optout"})
	t.optout.Id = AIDOptOut
	t.optout.Switch.On.SetValueRequestFunc = t.optOutWrite(o.grid)
	t.accs = append(t.accs, t.optout.A)

	if o.meter {
		m := accessory.New(accessory.Info{Name: "Electricity meter", Manufacturer: "gatewayd", Model: "legal meter", SerialNumber: "meter"}, accessory.TypeSensor)
		m.Id = AIDMeter
		s := service.New(TypeEveConsumption)
		t.meter = addEve(s, 100000)
		m.AddS(s)
		t.accs = append(t.accs, m)
	}

	for _, d := range devs {
		da := buildDevice(d, o)
		if da == nil {
			continue
		}
		t.devs = append(t.devs, da)
		t.accs = append(t.accs, da.a)
	}
	return t
}

func buildDevice(d energy.Device, o treeOptions) *devAcc {
	da := &devAcc{id: d.ID, style: StyleOf(d.DeviceInfo)}
	info := accessory.Info{Name: d.Name, Manufacturer: "gatewayd", Model: d.Kind, SerialNumber: string(d.ID)}
	if info.Name == "" {
		info.Name = string(d.ID)
	}
	if info.Model == "" {
		info.Model = d.Transport
	}
	metered := d.Caps.Has(energy.CapMeter)
	switch da.style {
	case StyleThermostat:
		th := accessory.NewThermostat(info)
		da.a, da.thermo = th.A, th.Thermostat
		ts := th.Thermostat.TargetHeatingCoolingState
		ts.ValidVals = []int{characteristic.TargetHeatingCoolingStateOff, characteristic.TargetHeatingCoolingStateAuto}
		if energy.Supports(d.Caps, energy.CmdOn) {
			ts.SetValueRequestFunc = writeCommand(o.reg, d.ID, func(v any) (bool, bool) {
				n, ok := v.(int)
				return n != characteristic.TargetHeatingCoolingStateOff, ok
			})
		} else {
			ts.Permissions = []string{characteristic.PermissionRead, characteristic.PermissionEvents}
		}
		// Setpoints are not a registry command: read-only.
		th.Thermostat.TargetTemperature.Permissions = []string{characteristic.PermissionRead, characteristic.PermissionEvents}
		th.Thermostat.TemperatureDisplayUnits.Permissions = []string{characteristic.PermissionRead, characteristic.PermissionEvents}
		if metered {
			da.eve = addEve(th.Thermostat.S, 12000)
		}
	case StyleOutlet:
		out := accessory.NewOutlet(info)
		da.a, da.on, da.inUse = out.A, out.Outlet.On, out.Outlet.OutletInUse
		da.eve = addEve(out.Outlet.S, 12000)
	case StyleSwitch:
		sw := accessory.NewSwitch(info)
		da.a, da.on = sw.A, sw.Switch.On
	case StyleMeter:
		da.a = accessory.New(info, accessory.TypeSensor)
		s := service.New(TypeEveConsumption)
		da.eve = addEve(s, 12000)
		da.a.AddS(s)
	default:
		return nil
	}
	if da.on != nil {
		da.on.SetValueRequestFunc = writeCommand(o.reg, d.ID, func(v any) (bool, bool) {
			b, ok := v.(bool)
			return b, ok
		})
	}
	da.a.Id = o.aids[d.ID]
	return da
}

// writeCommand turns a HomeKit write into CmdOn/CmdOff through the
// registry; a refused command answers -70402 (service communication
// failure) and hap keeps the old value.
func writeCommand(reg Registry, id energy.DeviceID, on func(v any) (bool, bool)) func(any, *http.Request) (any, int) {
	return func(v any, r *http.Request) (any, int) {
		want, ok := on(v)
		if !ok {
			return nil, -70410 // invalid value
		}
		kind := energy.CmdOff
		if want {
			kind = energy.CmdOn
		}
		ctx := context.Background()
		if r != nil {
			ctx = r.Context()
		}
		if err := reg.Command(ctx, energy.Command{Device: id, Kind: kind, Reason: CommandReason}); err != nil {
			return nil, -70402
		}
		return nil, 0
	}
}

// optOutWrite: on opts out of the active event; off, or on without an
// active event, is refused.
func (t *tree) optOutWrite(g Grid) func(any, *http.Request) (any, int) {
	return func(v any, r *http.Request) (any, int) {
		on, ok := v.(bool)
		if !ok {
			return nil, -70410
		}
		if g == nil || !on {
			return nil, -70402
		}
		ev, active := g.ActiveEvent()
		if !active {
			return nil, -70402
		}
		if ev.OptedOut {
			return nil, 0
		}
		ctx := context.Background()
		if r != nil {
			ctx = r.Context()
		}
		if err := g.OptOut(ctx, ev.ID); err != nil {
			return nil, -70402
		}
		return nil, 0
	}
}

// values is what an update pushes into the tree.
type values struct {
	devs     []energy.Device
	meter    *energy.MeterStatus
	event    GridEvent
	active   bool
	readings func(energy.DeviceID) []energy.Reading
}

// update pushes current values into the characteristics; hap notifies
// subscribed controllers of each change.
func (t *tree) update(v values) {
	state := characteristic.ContactSensorStateContactDetected
	if v.active && !v.event.OptedOut {
		state = characteristic.ContactSensorStateContactNotDetected
	}
	t.event.ContactSensor.ContactSensorState.SetValue(state)
	t.optout.Switch.On.SetValue(v.active && v.event.OptedOut)

	if v.meter != nil && t.meter.watts != nil {
		var w, wh int64
		if s, ok := v.meter.Values[energy.Power]; ok {
			w = int64(math.Round(s.Value.Float64()))
		}
		if s, ok := v.meter.Values[energy.ImportEnergy]; ok {
			wh = int64(math.Round(s.Value.Float64()))
		}
		t.meter.set(w, wh)
	}

	byID := make(map[energy.DeviceID]*energy.Device, len(v.devs))
	for i := range v.devs {
		byID[v.devs[i].ID] = &v.devs[i]
	}
	for _, da := range t.devs {
		d, ok := byID[da.id]
		if !ok {
			continue
		}
		st := d.State
		if da.on != nil {
			da.on.SetValue(st.On)
		}
		if da.inUse != nil {
			da.inUse.SetValue(st.On && st.PowerW > 0)
		}
		da.eve.set(st.PowerW, st.EnergyWh)
		if da.thermo != nil {
			target, current := characteristic.TargetHeatingCoolingStateOff, characteristic.CurrentHeatingCoolingStateOff
			if st.On {
				target = characteristic.TargetHeatingCoolingStateAuto
				current = characteristic.CurrentHeatingCoolingStateCool
				if d.Kind != "air_conditioner" {
					current = characteristic.CurrentHeatingCoolingStateHeat // heat pumps, water heaters
				}
			}
			_ = da.thermo.TargetHeatingCoolingState.SetValue(target)
			_ = da.thermo.CurrentHeatingCoolingState.SetValue(current)
			if v.readings != nil {
				for _, r := range v.readings(da.id) {
					switch r.Quantity {
					case energy.Temperature:
						da.thermo.CurrentTemperature.SetValue(r.Value.Float64())
					case energy.SetTemperature:
						da.thermo.TargetTemperature.SetValue(r.Value.Float64())
					}
				}
			}
		}
	}
}
