package test

import (
	"strings"
	"testing"
	"time"
)

// The demo's emulated BLE adapter: the four pre-adopted devices are
// online with values decoded from their advertisements (the power meter's
// through AES-CCM with the key in the state dir) or read over GATT (the
// plug), the thermo-hygrometer is not a device until adopted, the plug
// obeys a command, and the candidate list is for admins only.
func TestDemoBLEDevices(t *testing.T) {
	dir := t.TempDir()
	p := start(t, "demo", "--listen", "127.0.0.1:0", "--state", dir)
	tok := p.waitOutput(`token: (gwd_\S+)`, 10*time.Second)
	base := p.waitOutput(`API:\s+(http://127\.0\.0\.1:\d+)`, 10*time.Second)
	gw := &gateway{proc: p, base: base, token: tok}
	want := map[string]string{"ble:a4c138100001": "water_volume", "ble:a4c138100002": "gas_volume",
		"ble:a4c138100004": "power", "ble:a4c138100005": "energy_import"}
	byID := map[string]devJSON{}
	waitUntil(t, "the BLE devices online with values", 30*time.Second, func() bool {
		var list struct {
			Devices []devJSON `json:"devices"`
		}
		if gw.get("/api/v1/devices", true, &list) != 200 {
			return false
		}
		byID = map[string]devJSON{}
		for _, d := range list.Devices {
			byID[d.ID] = d
		}
		for id, q := range want {
			d, ok := byID[id]
			if !ok || d.State != "online" {
				return false
			}
			if _, ok := d.value(q); !ok {
				return false
			}
		}
		return true
	})
	if v, _ := byID["ble:a4c138100001"].value("water_volume"); v < 123.4 || v > 124 {
		t.Errorf("water %v m3", v)
	}
	if v, _ := byID["ble:a4c138100004"].value("voltage"); v < 220 || v > 240 {
		t.Errorf("power meter voltage %v V", v)
	}
	if _, ok := byID["ble:a4c138100003"]; ok {
		t.Error("the thermo-hygrometer is a device without adoption")
	}
	for id := range byID {
		if strings.HasPrefix(id, "ble:") && want[id] == "" {
			t.Errorf("unexpected BLE device %s", id)
		}
	}
	if code, body := gw.post("/api/v1/devices/ble:a4c138100005/command", map[string]string{"kind": "off"}); code != 200 {
		t.Fatalf("plug off: %d %s", code, body)
	}
	waitUntil(t, "plug power 0", 10*time.Second, func() bool {
		var d devJSON
		gw.get("/api/v1/devices/ble:a4c138100005", true, &d)
		v, ok := d.value("power")
		return ok && v == 0
	})
	if code := gw.get("/api/v1/ble/seen", true, nil); code != 403 {
		t.Errorf("seen with a token: %d, want 403 (admins only)", code)
	}
}
