package web

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
)

type cmdDriver struct {
	mu   sync.Mutex
	got  []energy.Command
	fail bool
}

func (d *cmdDriver) Command(_ context.Context, c energy.Command) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return errors.New("echonet: SetC 013001: refused B3")
	}
	d.got = append(d.got, c)
	return nil
}

type memLog struct {
	mu sync.Mutex
	ev []storage.Event
}

func (l *memLog) AddEvent(e storage.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, e)
	return nil
}

func TestDeviceRoutes(t *testing.T) {
	reg := devices.New()
	drv := &cmdDriver{}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, info := range []energy.DeviceInfo{
		{ID: "wisun:air_conditioner:021D129012345681-01", Name: "Air conditioner", Transport: "wisun", Kind: "air_conditioner",
			Caps: energy.Capabilities{energy.CapSwitch, energy.CapCurtail, energy.CapThermostat, energy.CapMeter}},
		{ID: "wisun:gas_meter:021D129012345679-01", Name: "Gas meter", Transport: "wisun", Kind: "gas_meter"},
		{ID: "plug", Name: "Plug", Transport: "ble", Kind: "plug", Caps: energy.Capabilities{energy.CapSwitch}},
	} {
		if err := reg.Add(info, drv); err != nil {
			t.Fatal(err)
		}
	}
	reg.Update("wisun:air_conditioner:021D129012345681-01", energy.DeviceState{Online: true, On: true, PowerW: 640, EnergyWh: 1234, Updated: now.Add(-10 * time.Second)})
	reg.Update("wisun:gas_meter:021D129012345679-01", energy.DeviceState{Online: true, Updated: now.Add(-10 * time.Minute)})
	latest := func(id energy.DeviceID) []energy.Reading {
		if id != "wisun:gas_meter:021D129012345679-01" {
			return nil
		}
		return []energy.Reading{{Device: id, Quantity: "gas_volume", Value: energy.D(1234567, -3), Measured: now.Add(-10 * time.Minute)}}
	}
	log := &memLog{}
	e := newAuthEnv(t, Options{Devices: reg, Latest: latest, Log: log})
	for _, u := range []struct {
		name string
		role string
	}{{"anna", RoleAdmin}, {"ben", RoleViewer}} {
		if err := e.users.Add(u.name, "correct horse battery", u.role, false); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client()
	c.login("anna", "correct horse battery")

	r := c.do("GET", "/api/v1/devices", nil)
	var list struct {
		Devices []deviceJSON `json:"devices"`
	}
	if r.code != 200 || json.Unmarshal([]byte(r.body), &list) != nil || len(list.Devices) != 3 {
		t.Fatalf("list: %d %s", r.code, r.body)
	}
	r = c.do("GET", "/api/v1/devices/wisun:gas_meter:021D129012345679-01", nil)
	var gas deviceJSON
	if r.code != 200 || json.Unmarshal([]byte(r.body), &gas) != nil {
		t.Fatalf("gas meter: %d %s", r.code, r.body)
	}
	if gas.Class != "gas_meter" || gas.Fresh || len(gas.Values) != 1 || gas.Values[0].Quantity != "gas_volume" || gas.Values[0].Value != 1234.567 {
		t.Errorf("gas meter %+v", gas)
	}
	r = c.do("GET", "/api/v1/devices/wisun:air_conditioner:021D129012345681-01", nil)
	var ac deviceJSON
	if r.code != 200 || json.Unmarshal([]byte(r.body), &ac) != nil || !ac.Fresh || ac.State != "online" || len(ac.Values) != 2 || len(ac.Capabilities) != 4 {
		t.Fatalf("AC: %d %s", r.code, r.body)
	}
	if r := c.do("GET", "/api/v1/devices/nope", nil); r.code != 404 || errCode(r) != "device_not_found" {
		t.Fatalf("unknown device: %d %s", r.code, r.body)
	}

	acPath := "/api/v1/devices/wisun:air_conditioner:021D129012345681-01/command"
	if r := c.do("POST", acPath, map[string]any{"kind": "limit", "limit_w": 400}); r.code != 200 {
		t.Fatalf("limit: %d %s", r.code, r.body)
	}
	if len(drv.got) != 1 || drv.got[0].Kind != energy.CmdLimit || drv.got[0].LimitW != 400 || drv.got[0].Reason != "manual command by anna" {
		t.Fatalf("driver got %+v", drv.got)
	}
	if last := log.ev[len(log.ev)-1]; last.Kind != storage.EventControl || last.Details["result"] != "ok" || last.Details["by"] != "anna" || last.Details["limit_w"] != "400" {
		t.Errorf("events log %+v", log.ev)
	}
	for _, tc := range []struct {
		path string
		body map[string]any
		code int
		err  string
	}{
		{acPath, map[string]any{"kind": "boost"}, 400, "bad_command"},
		{acPath, map[string]any{"kind": "limit"}, 400, "bad_limit"},
		{acPath, map[string]any{"kind": "limit", "limit_w": -5}, 400, "bad_limit"},
		{acPath, map[string]any{"kind": "off", "limit_w": 5}, 400, "bad_limit"},
		{acPath, map[string]any{"kind": "off", "speed": 5}, 400, "bad_json"},
		{"/api/v1/devices/wisun:gas_meter:021D129012345679-01/command", map[string]any{"kind": "off"}, 409, "not_capable"},
		{"/api/v1/devices/plug/command", map[string]any{"kind": "off"}, 409, "device_offline"},
		{"/api/v1/devices/nope/command", map[string]any{"kind": "off"}, 404, "device_not_found"},
	} {
		if r := c.do("POST", tc.path, tc.body); r.code != tc.code || errCode(r) != tc.err {
			t.Errorf("%s %v: %d %s, want %d %s", tc.path, tc.body, r.code, r.body, tc.code, tc.err)
		}
	}
	if len(drv.got) != 1 {
		t.Errorf("refused commands reached the driver: %+v", drv.got)
	}
	// A driver failure is a 502 and logged.
	drv.fail = true
	if r := c.do("POST", acPath, map[string]any{"kind": "off"}); r.code != 502 || errCode(r) != "command_failed" {
		t.Fatalf("failing driver: %d %s", r.code, r.body)
	}
	if last := log.ev[len(log.ev)-1]; last.Details["result"] == "ok" || last.Subject != "wisun:air_conditioner:021D129012345681-01" {
		t.Errorf("failure not logged: %+v", last)
	}
	// A viewer reads but does not command.
	v := e.client()
	v.login("ben", "correct horse battery")
	if r := v.do("GET", "/api/v1/devices/plug", nil); r.code != 200 {
		t.Fatalf("viewer read: %d", r.code)
	}
	if r := v.do("POST", acPath, map[string]any{"kind": "on"}); r.code != 403 {
		t.Fatalf("viewer command: %d", r.code)
	}
}
