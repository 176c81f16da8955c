package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
)

// fakeBLE is an in-memory BLE driver: candidates heard nearby, adoption
// into a real device registry with the rules of han/ble's hub (heard
// first, a key for an encrypted device, once only).
type fakeBLE struct {
	mu        sync.Mutex
	reg       *devices.Registry
	seen      []BLESeen
	keys      map[string]string // MAC -> the key that decrypts it
	noAdapter bool
	calls     int
}

func (f *fakeBLE) Seen() []BLESeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]BLESeen(nil), f.seen...)
}

func (f *fakeBLE) Adopt(mac, name, key string) (energy.DeviceID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.noAdapter {
		return "", ErrBLENoAdapter
	}
	mac = strings.ToUpper(mac)
	for i, s := range f.seen {
		if s.MAC != mac {
			continue
		}
		if s.Adopted {
			return "", fmt.Errorf("%w: %s", ErrBLEAdopted, mac)
		}
		if want, enc := f.keys[mac]; enc {
			if key == "" {
				return "", fmt.Errorf("%w: %s", ErrBLEKeyRequired, mac)
			}
			if key != want {
				return "", fmt.Errorf("%w: %s", ErrBLEKey, mac)
			}
		}
		id := energy.DeviceID("ble:" + strings.ToLower(strings.ReplaceAll(mac, ":", "")))
		if err := f.reg.Add(energy.DeviceInfo{ID: id, Name: name, Transport: "ble", Kind: s.Kind}, &cmdDriver{}); err != nil {
			return "", err
		}
		f.seen[i].Adopted, f.seen[i].Device = true, string(id)
		return id, nil
	}
	return "", fmt.Errorf("%w: %s", ErrBLENotSeen, mac)
}

func (f *fakeBLE) Forget(id energy.DeviceID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.noAdapter {
		return ErrBLENoAdapter
	}
	for i, s := range f.seen {
		if s.Device == string(id) {
			f.reg.Remove(id)
			f.seen[i].Adopted, f.seen[i].Device = false, ""
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrBLENotAdopted, id)
}

type bleEnv struct {
	*authEnv
	ble   *fakeBLE
	reg   *devices.Registry
	log   *memLog
	admin *client
}

const (
	thermoMAC = "A4:C1:38:10:00:03"
	powerMAC  = "A4:C1:38:10:00:04"
	powerKey  = "231d39c1d7cc1ab1aee224cd096db932"
)

func newBLEEnv(t *testing.T, withBLE bool) *bleEnv {
	t.Helper()
	reg := devices.New()
	if err := reg.Add(energy.DeviceInfo{ID: "wisun:gas_meter:021D129012345679-01", Name: "Gas meter", Transport: "wisun", Kind: "gas_meter"}, &cmdDriver{}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	f := &fakeBLE{reg: reg, keys: map[string]string{powerMAC: powerKey}, seen: []BLESeen{
		{MAC: thermoMAC, Name: "ATC_100003", RSSI: -58, LastSeen: at, Advertises: []string{"bthome"}, Quantities: []string{"temperature", "humidity"}, Kind: "thermometer"},
		{MAC: powerMAC, Name: "PM_100004", RSSI: -71, LastSeen: at, Advertises: []string{"bthome", "encrypted"}, Kind: "power_meter"},
	}}
	log := &memLog{}
	opts := Options{Devices: reg, Log: log}
	if withBLE {
		opts.BLE = f
	}
	e := &bleEnv{authEnv: newAuthEnv(t, opts), ble: f, reg: reg, log: log}
	for _, u := range []struct{ name, role string }{{"anna", RoleAdmin}, {"ben", RoleViewer}} {
		if err := e.users.Add(u.name, "correct horse battery", u.role, false); err != nil {
			t.Fatal(err)
		}
	}
	e.admin = e.client()
	if r := e.admin.login("anna", "correct horse battery"); r.code != 200 {
		t.Fatalf("login: %d %s", r.code, r.body)
	}
	return e
}

// The three BLE routes are for an admin's login session only: a viewer
// and any token (even with scope control) are refused, strangers are 401.
func TestBLERoutesNeedAnAdminSession(t *testing.T) {
	e := newBLEEnv(t, true)
	ctl, err := e.tokens.Create("ha", ScopeControl)
	if err != nil {
		t.Fatal(err)
	}
	v := e.client()
	v.login("ben", "correct horse battery")
	anon := e.client()
	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/ble/seen", nil},
		{"POST", "/api/v1/devices", map[string]string{"ble": thermoMAC, "name": "Bedroom"}},
		{"DELETE", "/api/v1/devices/ble:a4c138100003", nil},
	}
	for _, rt := range routes {
		if r := v.do(rt.method, rt.path, rt.body); r.code != 403 {
			t.Errorf("viewer %s %s: %d %s", rt.method, rt.path, r.code, r.body)
		}
		if r := anon.do(rt.method, rt.path, rt.body, "Authorization", "Bearer "+ctl); r.code != 403 {
			t.Errorf("control token %s %s: %d %s", rt.method, rt.path, r.code, r.body)
		}
		if r := anon.do(rt.method, rt.path, rt.body); r.code != 401 {
			t.Errorf("anonymous %s %s: %d %s", rt.method, rt.path, r.code, r.body)
		}
	}
	if e.ble.calls != 0 {
		t.Errorf("refused requests reached the driver %d times", e.ble.calls)
	}
	if _, ok := e.reg.Device("ble:a4c138100003"); ok {
		t.Error("a refused adoption added the device")
	}
}

func TestBLESeenAdoptForget(t *testing.T) {
	e := newBLEEnv(t, true)
	c := e.admin

	r := c.do("GET", "/api/v1/ble/seen", nil)
	var seen struct {
		Enabled bool      `json:"enabled"`
		Seen    []BLESeen `json:"seen"`
	}
	if r.code != 200 || json.Unmarshal([]byte(r.body), &seen) != nil || !seen.Enabled || len(seen.Seen) != 2 {
		t.Fatalf("seen: %d %s", r.code, r.body)
	}
	if s := seen.Seen[0]; s.MAC != thermoMAC || s.RSSI != -58 || s.Adopted || s.Kind != "thermometer" || !s.LastSeen.Equal(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("candidate %+v", s)
	}

	for _, tc := range []struct {
		name  string
		body  any
		code  int
		err   string
		param string
	}{
		{"not an object", []int{1}, 400, "bad_json", ""},
		{"unknown field", map[string]string{"ble": thermoMAC, "pin": "1234"}, 400, "bad_json", ""},
		{"no MAC", map[string]string{"name": "x"}, 400, "bad_adoption", "ble"},
		{"bad MAC", map[string]string{"ble": "A4:C1:38:10:00"}, 400, "bad_mac", "ble"},
		{"not hex", map[string]string{"ble": "A4:C1:38:10:00:ZZ"}, 400, "bad_mac", "ble"},
		{"unknown device", map[string]string{"ble": "11:22:33:44:55:66"}, 404, "ble_not_found", "ble"},
		{"missing key", map[string]string{"ble": powerMAC, "name": "Heat pump"}, 400, "ble_key_required", "key"},
		{"wrong key", map[string]string{"ble": powerMAC, "key": strings.Repeat("00", 16)}, 400, "ble_key", "key"},
	} {
		r := c.do("POST", "/api/v1/devices", tc.body)
		var ae apiError
		_ = json.Unmarshal([]byte(r.body), &ae)
		if r.code != tc.code || ae.Code != tc.err || ae.Param != tc.param || ae.Error == "" {
			t.Errorf("%s: %d %s, want %d %s param %q", tc.name, r.code, r.body, tc.code, tc.err, tc.param)
		}
	}
	if n := len(e.reg.Devices()); n != 1 {
		t.Fatalf("refused adoptions changed the registry: %d devices", n)
	}
	// The bad MACs never reached the driver.
	if e.ble.calls != 3 {
		t.Errorf("driver called %d times, want 3 (unknown, missing key, wrong key)", e.ble.calls)
	}

	// Success: the device joins the registry and is answered in full.
	r = c.do("POST", "/api/v1/devices", map[string]string{"ble": strings.ToLower(thermoMAC), "name": "Bedroom"})
	var d deviceJSON
	if r.code != 201 || json.Unmarshal([]byte(r.body), &d) != nil || d.ID != "ble:a4c138100003" || d.Name != "Bedroom" || d.Transport != "ble" {
		t.Fatalf("adopt: %d %s", r.code, r.body)
	}
	if last := e.log.ev[len(e.log.ev)-1]; last.Kind != storage.EventControl || last.Subject != "ble:a4c138100003" || last.Details["action"] != "adopted" || last.Details["by"] != "anna" {
		t.Errorf("events log %+v", last)
	}
	if r := c.do("GET", "/api/v1/devices/ble:a4c138100003", nil); r.code != 200 {
		t.Errorf("adopted device: %d %s", r.code, r.body)
	}
	if r := c.do("POST", "/api/v1/devices", map[string]string{"ble": thermoMAC}); r.code != 409 || errCode(r) != "ble_adopted" {
		t.Errorf("adopted twice: %d %s", r.code, r.body)
	}
	// The encrypted one with its key.
	if r := c.do("POST", "/api/v1/devices", map[string]string{"ble": powerMAC, "key": powerKey}); r.code != 201 {
		t.Errorf("adopt with key: %d %s", r.code, r.body)
	}
	c.do("GET", "/api/v1/ble/seen", nil)
	if s := e.ble.Seen(); !s[0].Adopted || s[0].Device != "ble:a4c138100003" {
		t.Errorf("seen after adoption %+v", s[0])
	}

	// DELETE: only BLE devices.
	if r := c.do("DELETE", "/api/v1/devices/wisun:gas_meter:021D129012345679-01", nil); r.code != 409 || errCode(r) != "not_ble_device" {
		t.Errorf("delete the gas meter: %d %s", r.code, r.body)
	}
	if _, ok := e.reg.Device("wisun:gas_meter:021D129012345679-01"); !ok {
		t.Fatal("the gas meter was removed")
	}
	if r := c.do("DELETE", "/api/v1/devices/ble:ffffffffffff", nil); r.code != 404 || errCode(r) != "ble_not_adopted" {
		t.Errorf("delete unknown: %d %s", r.code, r.body)
	}
	if r := c.do("DELETE", "/api/v1/devices/ble:a4c138100003", nil); r.code != 204 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if last := e.log.ev[len(e.log.ev)-1]; last.Subject != "ble:a4c138100003" || last.Details["action"] != "forgotten" {
		t.Errorf("events log %+v", last)
	}
	if r := c.do("GET", "/api/v1/devices/ble:a4c138100003", nil); r.code != 404 {
		t.Errorf("forgotten device still there: %d", r.code)
	}
	// Forgotten, it is a candidate again.
	if r := c.do("POST", "/api/v1/devices", map[string]string{"ble": thermoMAC, "name": "Bedroom"}); r.code != 201 {
		t.Errorf("adopt again: %d %s", r.code, r.body)
	}

	// Without an adapter (the hub is down) adoption and removal are 503.
	e.ble.mu.Lock()
	e.ble.noAdapter = true
	e.ble.mu.Unlock()
	if r := c.do("POST", "/api/v1/devices", map[string]string{"ble": "11:22:33:44:55:66"}); r.code != 503 || errCode(r) != "ble_no_adapter" {
		t.Errorf("no adapter: %d %s", r.code, r.body)
	}
	if r := c.do("DELETE", "/api/v1/devices/ble:a4c138100004", nil); r.code != 503 || errCode(r) != "ble_no_adapter" {
		t.Errorf("no adapter delete: %d %s", r.code, r.body)
	}
}

func TestBLEOff(t *testing.T) {
	e := newBLEEnv(t, false)
	c := e.admin
	if r := c.do("GET", "/api/v1/ble/seen", nil); r.code != 503 || errCode(r) != "ble_disabled" {
		t.Errorf("seen: %d %s", r.code, r.body)
	}
	if r := c.do("POST", "/api/v1/devices", map[string]string{"ble": thermoMAC}); r.code != 503 || errCode(r) != "ble_disabled" {
		t.Errorf("adopt: %d %s", r.code, r.body)
	}
	if r := c.do("DELETE", "/api/v1/devices/ble:a4c138100003", nil); r.code != 503 || errCode(r) != "ble_disabled" {
		t.Errorf("delete: %d %s", r.code, r.body)
	}
	// A device of another transport is refused as such, BLE or not.
	if r := c.do("DELETE", "/api/v1/devices/wisun:gas_meter:021D129012345679-01", nil); r.code != 409 || errCode(r) != "not_ble_device" {
		t.Errorf("delete the gas meter: %d %s", r.code, r.body)
	}
	// Messages are localised.
	c.lang = "zh-CN"
	if r := c.do("GET", "/api/v1/ble/seen", nil); !strings.Contains(r.body, "蓝牙未启用") {
		t.Errorf("zh: %s", r.body)
	}
}

func TestValidMAC(t *testing.T) {
	for s, want := range map[string]bool{
		"A4:C1:38:10:00:03": true, "a4-c1-38-10-00-03": true, "a4c138100003": true,
		"": false, "A4:C1:38:10:00": false, "A4:C1:38:10:00:0G": false, "A4::C1:38:10:00:03:::::::": false,
	} {
		if validMAC(s) != want {
			t.Errorf("validMAC(%q) = %v", s, !want)
		}
	}
}
