package homekit

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/brutella/hap"
	"github.com/brutella/hap/characteristic"
	"github.com/brutella/hap/service"

	"github.com/gatewayd-project/gatewayd/energy"
)

// wire is the /accessories document as a controller reads it.
type wire struct {
	Accessories []struct {
		Aid      uint64 `json:"aid"`
		Services []struct {
			Iid   uint64 `json:"iid"`
			Type  string `json:"type"`
			Chars []struct {
				Iid   uint64   `json:"iid"`
				Type  string   `json:"type"`
				Value any      `json:"value"`
				Perms []string `json:"perms"`
				Unit  string   `json:"unit"`
			} `json:"characteristics"`
		} `json:"services"`
	} `json:"accessories"`
}

func document(t *testing.T, tr *tree) wire {
	t.Helper()
	b, err := json.Marshal(struct {
		A any `json:"accessories"`
	}{tr.accs})
	if err != nil {
		t.Fatal(err)
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func newTestBridge(t *testing.T, reg Registry, o Options) *Bridge {
	t.Helper()
	o.Registry = reg
	if o.Store == nil {
		o.Store = newStore()
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runBridge runs b until the test ends; Run must return without error.
func runBridge(t *testing.T, b *Bridge) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func TestAccessoryDatabaseMatchesDevices(t *testing.T) {
	reg, _ := home(devPlug, devRelay, devAC, devSolar, devGas, devDW)
	reg.Update("plug", energy.DeviceState{Online: true, On: true, PowerW: 2950, EnergyWh: 123456, Updated: time.Unix(1e9, 0)})
	reg.Update("solar", energy.DeviceState{Online: true, PowerW: 1800, EnergyWh: 5000, Updated: time.Unix(1e9, 0)})
	grid := &fakeGrid{ev: GridEvent{ID: "peak-1"}, active: true}
	b := newTestBridge(t, reg, Options{Grid: grid, Meter: fakeMeter{w: 4321, wh: 9876543},
		Readings: func(id energy.DeviceID) []energy.Reading {
			if id != "ac" {
				return nil
			}
			return []energy.Reading{{Device: id, Quantity: energy.Temperature, Value: energy.D(265, -1)},
				{Device: id, Quantity: energy.SetTemperature, Value: energy.D(24, 0)}}
		}})
	tr, _, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	w := document(t, tr)

	// Accessories: bridge, grid event, opt-out, meter, then one per shown
	// device (gas has no capability HomeKit can show).
	type want struct {
		service string
		chars   map[string]any // type -> value
	}
	acID := map[string]uint64{}
	aids, err := assignAIDs(b.o.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = aids
	m, _ := loadAIDs(b.o.Store)
	for id, aid := range m.IDs {
		acID[string(id)] = aid
	}
	if _, ok := acID["gas"]; ok {
		t.Fatal("the gas meter got an aid")
	}
	wants := map[uint64]want{
		AIDBridge:     {service: service.TypeAccessoryInformation},
		AIDGridEvent:  {service: service.TypeContactSensor, chars: map[string]any{characteristic.TypeContactSensorState: float64(characteristic.ContactSensorStateContactNotDetected)}},
		AIDOptOut:     {service: service.TypeSwitch, chars: map[string]any{characteristic.TypeOn: false}},
		AIDMeter:      {service: TypeEveConsumption, chars: map[string]any{TypeEvePower: 4321.0, TypeEveEnergy: 9876.543}},
		acID["plug"]:  {service: service.TypeOutlet, chars: map[string]any{characteristic.TypeOn: true, characteristic.TypeOutletInUse: true, TypeEvePower: 2950.0, TypeEveEnergy: 123.456}},
		acID["relay"]: {service: service.TypeSwitch, chars: map[string]any{characteristic.TypeOn: false}},
		acID["ac"]: {service: service.TypeThermostat, chars: map[string]any{characteristic.TypeCurrentTemperature: 26.5, characteristic.TypeTargetTemperature: 24.0,
			characteristic.TypeTargetHeatingCoolingState: 0.0}},
		acID["solar"]: {service: TypeEveConsumption, chars: map[string]any{TypeEvePower: 1800.0, TypeEveEnergy: 5.0}},
		acID["dw"]:    {service: service.TypeOutlet, chars: map[string]any{characteristic.TypeOn: false}},
	}
	if len(w.Accessories) != len(wants) {
		t.Fatalf("%d accessories, want %d", len(w.Accessories), len(wants))
	}
	var got []uint64
	for _, a := range w.Accessories {
		got = append(got, a.Aid)
		wa, ok := wants[a.Aid]
		if !ok {
			t.Fatalf("unexpected aid %d", a.Aid)
		}
		if a.Services[0].Type != service.TypeAccessoryInformation {
			t.Errorf("aid %d: first service %s", a.Aid, a.Services[0].Type)
		}
		found := false
		for _, s := range a.Services {
			if s.Type != wa.service {
				continue
			}
			found = true
			vals := map[string]any{}
			for _, c := range s.Chars {
				vals[c.Type] = c.Value
				if c.Type == TypeEvePower && (c.Unit != "W" || slices.Contains(c.Perms, characteristic.PermissionWrite)) {
					t.Errorf("aid %d: Eve power unit %q perms %v", a.Aid, c.Unit, c.Perms)
				}
			}
			for typ, v := range wa.chars {
				if vals[typ] != v {
					t.Errorf("aid %d %s: characteristic %s = %v, want %v", a.Aid, s.Type, typ, vals[typ], v)
				}
			}
		}
		if !found {
			t.Errorf("aid %d: no %s service", a.Aid, wa.service)
		}
	}
	if got[0] != AIDBridge {
		t.Fatalf("first accessory %d, want the bridge", got[0])
	}
	// Device aids are from FirstDeviceAID on and distinct.
	seen := map[uint64]bool{}
	for _, id := range []string{"plug", "relay", "ac", "solar", "dw"} {
		if a := acID[id]; a < FirstDeviceAID || seen[a] {
			t.Fatalf("aid of %s: %d", id, a)
		}
		seen[acID[id]] = true
	}
	// The whole tree is accepted by hap (unique iids, names).
	if _, err := hap.NewServer(hap.NewMemStore(), tr.accs[0], tr.accs[1:]...); err != nil {
		t.Fatal(err)
	}
}

// write is what hap's PUT /characteristics does with a controller's value.
func write(c *characteristic.C, v any) int {
	_, code := c.SetValueRequest(v, httptest.NewRequest("PUT", "/characteristics", nil))
	return code
}

func TestWritesReachTheRegistry(t *testing.T) {
	reg, drv := home(devPlug, devRelay, devAC, devSolar)
	reg.Update("solar", energy.DeviceState{Online: false})
	b := newTestBridge(t, reg, Options{})
	tr, _, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	acc := map[energy.DeviceID]*devAcc{}
	for _, d := range tr.devs {
		acc[d.id] = d
	}
	if code := write(acc["plug"].on.C, true); code != 0 {
		t.Fatalf("on plug: status %d", code)
	}
	if code := write(acc["relay"].on.C, true); code != 0 {
		t.Fatalf("on relay: status %d", code)
	}
	if code := write(acc["relay"].on.C, false); code != 0 {
		t.Fatalf("off relay: status %d", code)
	}
	if code := write(acc["ac"].thermo.TargetHeatingCoolingState.C, characteristic.TargetHeatingCoolingStateAuto); code != 0 {
		t.Fatalf("ac auto: status %d", code)
	}
	// Heat is not offered: the registry has no mode command.
	if code := write(acc["ac"].thermo.TargetHeatingCoolingState.C, characteristic.TargetHeatingCoolingStateHeat); code != -70410 {
		t.Fatalf("ac heat: status %d, want -70410", code)
	}
	// The setpoint is read-only.
	if code := write(acc["ac"].thermo.TargetTemperature.C, 19.0); code != -70404 {
		t.Fatalf("ac setpoint: status %d, want -70404", code)
	}
	want := []energy.Command{
		{Device: "plug", Kind: energy.CmdOn, Reason: CommandReason},
		{Device: "relay", Kind: energy.CmdOn, Reason: CommandReason},
		{Device: "relay", Kind: energy.CmdOff, Reason: CommandReason},
		{Device: "ac", Kind: energy.CmdOn, Reason: CommandReason},
	}
	if got := drv.commands(); !slices.Equal(got, want) {
		t.Fatalf("driver saw %+v\nwant %+v", got, want)
	}
	// The registry's state follows and the next refresh shows it.
	b.refresh(tr)
	if !acc["plug"].on.Value() || acc["relay"].on.Value() || acc["ac"].thermo.TargetHeatingCoolingState.Value() != characteristic.TargetHeatingCoolingStateAuto {
		t.Fatal("refresh did not show the registry's state")
	}
	// An offline device refuses through the registry: -70402 and the value stays.
	reg.Update("plug", energy.DeviceState{Online: false, On: true})
	if code := write(acc["plug"].on.C, false); code != -70402 {
		t.Fatalf("offline plug: status %d, want -70402", code)
	}
	if !acc["plug"].on.Value() {
		t.Fatal("a refused write changed the value")
	}
	if n := len(drv.commands()); n != 4 {
		t.Fatalf("the driver saw a command for an offline device (%d)", n)
	}
}

func TestGridEventAndOptOut(t *testing.T) {
	reg, _ := home(devPlug)
	grid := &fakeGrid{}
	b := newTestBridge(t, reg, Options{Grid: grid})
	tr, _, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	state := func() int { return tr.event.ContactSensor.ContactSensorState.Value() }
	if state() != characteristic.ContactSensorStateContactDetected {
		t.Fatal("event shown with no event")
	}
	// No event: opting out is refused.
	if code := write(tr.optout.Switch.On.C, true); code != -70402 {
		t.Fatalf("opt out without event: %d", code)
	}
	grid.mu.Lock()
	grid.ev, grid.active = GridEvent{ID: "peak-7"}, true
	grid.mu.Unlock()
	b.refresh(tr)
	if state() != characteristic.ContactSensorStateContactNotDetected {
		t.Fatal("active event not shown")
	}
	if code := write(tr.optout.Switch.On.C, true); code != 0 {
		t.Fatalf("opt out: %d", code)
	}
	if ev, _ := grid.ActiveEvent(); !ev.OptedOut {
		t.Fatal("opt-out did not reach the DR engine")
	}
	b.refresh(tr)
	if state() != characteristic.ContactSensorStateContactDetected || !tr.optout.Switch.On.Value() {
		t.Fatal("after opt-out: sensor should close, switch stay on")
	}
	// Taking an opt-out back is refused.
	if code := write(tr.optout.Switch.On.C, false); code != -70402 {
		t.Fatalf("undo opt-out: %d", code)
	}
}

func TestStyleOf(t *testing.T) {
	for _, c := range []struct {
		info energy.DeviceInfo
		want Style
	}{
		{devPlug, StyleOutlet}, {devRelay, StyleSwitch}, {devAC, StyleThermostat}, {devSolar, StyleMeter}, {devGas, StyleNone}, {devDW, StyleOutlet},
		{energy.DeviceInfo{Kind: "air_conditioner"}, StyleThermostat},
		{energy.DeviceInfo{Caps: energy.Capabilities{energy.CapCurtail, energy.CapBattery}}, StyleNone},
	} {
		if got := StyleOf(c.info); got != c.want {
			t.Errorf("%s: %q, want %q", c.info.ID, got, c.want)
		}
	}
}

func TestTooManyDevicesAreCapped(t *testing.T) {
	var infos []energy.DeviceInfo
	for i := range 200 {
		infos = append(infos, energy.DeviceInfo{ID: energy.DeviceID(rune('a'+i/26)) + energy.DeviceID(rune('a'+i%26)), Name: "r", Caps: energy.Capabilities{energy.CapSwitch}})
	}
	reg, _ := home(infos...)
	b := newTestBridge(t, reg, Options{Meter: fakeMeter{}})
	tr, _, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.accs) != MaxAccessories {
		t.Fatalf("%d accessories, limit %d", len(tr.accs), MaxAccessories)
	}
}
