package echonet

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatewayd-project/gatewayd/energy"
)

func pmap(epcs ...byte) PropertyMap {
	var m PropertyMap
	for _, e := range epcs {
		m.Add(e)
	}
	return m
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		c    Class
		set  PropertyMap
		want energy.Capabilities
	}{
		{ClassSmartMeter, pmap(), energy.Capabilities{energy.CapMeter}},
		{ClassGasMeter, pmap(), nil},
		{ClassSolar, pmap(0xE5), energy.Capabilities{energy.CapMeter}},
		{ClassAirConditioner, pmap(0x80, 0xB0, 0xB3), energy.Capabilities{energy.CapSwitch, energy.CapCurtail, energy.CapThermostat}},
		{ClassAirConditioner, pmap(0x80), energy.Capabilities{energy.CapSwitch}},
		{ClassStorageBattery, pmap(0xDA), energy.Capabilities{energy.CapBattery, energy.CapCurtail}},
		{ClassStorageBattery, pmap(), energy.Capabilities{energy.CapBattery}},
		{ClassEVChargerV2H, pmap(0xDA), energy.Capabilities{energy.CapEV, energy.CapCurtail}},
		{ClassElectricWaterHtr, pmap(0xB0), energy.Capabilities{energy.CapSwitch}},
		{ClassElectricWaterHtr, pmap(), nil},
	}
	for _, tc := range tests {
		if got := Capabilities(tc.c, tc.set); !slices.Equal(got, tc.want) {
			t.Errorf("%s % X: %v, want %v", ClassName(tc.c), tc.set.EPCs(), got, tc.want)
		}
	}
}

func TestAction(t *testing.T) {
	acSet := pmap(0x80, 0xB0, 0xB3)
	cool := map[byte][]byte{0x80: {0x30}, 0xB0: {0x42}, 0xB3: {26}}
	heat := map[byte][]byte{0x80: {0x30}, 0xB0: {0x43}, 0xB3: {22}}
	auto := map[byte][]byte{0xB0: {0x41}, 0xB3: {22}, 0xBB: {18}}
	tests := []struct {
		name string
		c    Class
		set  PropertyMap
		kind energy.CommandKind
		cur  map[byte][]byte
		want string
	}{
		{"ac off", ClassAirConditioner, acSet, energy.CmdOff, cool, "80=31"},
		{"ac on", ClassAirConditioner, acSet, energy.CmdOn, nil, "80=30"},
		{"ac on restores", ClassAirConditioner, acSet, energy.CmdOn, map[byte][]byte{0xB3: {26}}, "80=30 B3=1A"},
		{"ac normal restores", ClassAirConditioner, acSet, energy.CmdNormal, map[byte][]byte{0xB3: {26}}, "B3=1A"},
		{"ac normal, nothing saved", ClassAirConditioner, acSet, energy.CmdNormal, nil, ""},
		{"ac limit cooling", ClassAirConditioner, acSet, energy.CmdLimit, cool, "B3=1C"},
		{"ac limit heating", ClassAirConditioner, acSet, energy.CmdLimit, heat, "B3=14"},
		{"ac limit auto heating", ClassAirConditioner, acSet, energy.CmdLimit, auto, "B3=14"},
		{"ac limit fan", ClassAirConditioner, acSet, energy.CmdLimit, map[byte][]byte{0xB0: {0x45}, 0xB3: {26}}, ""},
		{"ac limit clamps", ClassAirConditioner, acSet, energy.CmdLimit, map[byte][]byte{0xB0: {0x42}, 0xB3: {50}}, "B3=32"},
		{"battery limit", ClassStorageBattery, pmap(0xDA), energy.CmdLimit, nil, "DA=43"},
		{"battery normal", ClassStorageBattery, pmap(0xDA), energy.CmdNormal, nil, "DA=46"},
		{"v2h limit", ClassEVChargerV2H, pmap(0xDA), energy.CmdLimit, nil, "DA=44"},
		{"v2h normal", ClassEVChargerV2H, pmap(0xDA), energy.CmdNormal, nil, "DA=42"},
		{"heater off", ClassElectricWaterHtr, pmap(0x80, 0xB0), energy.CmdOff, nil, "B0=43"},
		{"heater limit", ClassElectricWaterHtr, pmap(0xB0), energy.CmdLimit, nil, "B0=43"},
		{"heater on", ClassElectricWaterHtr, pmap(0xB0), energy.CmdOn, nil, "B0=41"},
		{"heater off by 80", ClassElectricWaterHtr, pmap(0x80), energy.CmdOff, nil, "80=31"},
		{"heater normal by 80", ClassElectricWaterHtr, pmap(0x80), energy.CmdNormal, nil, "80=30"},
	}
	for _, tc := range tests {
		props, err := Action(tc.c, tc.set, energy.Command{Kind: tc.kind, LimitW: 1000}, tc.cur)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, p := range props {
			got = append(got, fmt.Sprintf("%02X=%X", p.EPC, p.EDT))
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, s, tc.want)
		}
	}
}

func TestActionRefused(t *testing.T) {
	tests := []struct {
		name string
		c    Class
		set  PropertyMap
		kind energy.CommandKind
		epc  string
	}{
		{"ac off without 80", ClassAirConditioner, pmap(0xB3), energy.CmdOff, "EPC 80"},
		{"ac limit without B3", ClassAirConditioner, pmap(0x80, 0xB0), energy.CmdLimit, "EPC B3"},
		{"battery without DA", ClassStorageBattery, pmap(0x80), energy.CmdLimit, "EPC DA"},
		{"heater without B0 or 80", ClassElectricWaterHtr, pmap(), energy.CmdOff, "EPC 80"},
	}
	cur := map[byte][]byte{0x80: {0x30}, 0xB0: {0x42}, 0xB3: {26}}
	for _, tc := range tests {
		_, err := Action(tc.c, tc.set, energy.Command{Kind: tc.kind}, cur)
		if !errors.Is(err, ErrNotSettable) || !errors.Is(err, energy.ErrNotCapable) || !strings.Contains(err.Error(), tc.epc) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Commands a class has no lever for.
	for _, tc := range []struct {
		c    Class
		kind energy.CommandKind
	}{{ClassSmartMeter, energy.CmdOff}, {ClassStorageBattery, energy.CmdOn}, {ClassSolar, energy.CmdLimit}} {
		if _, err := Action(tc.c, pmap(0x80, 0xDA, 0xE5), energy.Command{Kind: tc.kind}, nil); !errors.Is(err, energy.ErrNotCapable) {
			t.Errorf("%s %s: %v", ClassName(tc.c), tc.kind, err)
		}
	}
	// A limit needs to know the setpoint and the mode.
	if _, err := Action(ClassAirConditioner, pmap(0xB3), energy.Command{Kind: energy.CmdLimit}, map[byte][]byte{0xB0: {0x42}}); err == nil {
		t.Error("limit without a setpoint")
	}
	if _, err := Action(ClassAirConditioner, pmap(0xB3), energy.Command{Kind: energy.CmdLimit}, map[byte][]byte{0xB3: {26}}); err == nil {
		t.Error("limit without a mode")
	}
}
