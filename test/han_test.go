package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type devJSON struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Class  string `json:"class"`
	Values []struct {
		Quantity string  `json:"quantity"`
		Value    float64 `json:"value"`
	} `json:"values"`
}

func (d devJSON) value(q string) (float64, bool) {
	for _, v := range d.Values {
		if v.Quantity == q {
			return v.Value, true
		}
	}
	return 0, false
}

func (g *gateway) post(path string, body any) (int, string) {
	g.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, g.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}

// The demo's HAN end to end, real binary: the Wi-SUN module emulator on a
// pty (gas and water meters behind SKSTACK-IP) and ECHONET Lite appliances
// on loopback UDP become devices with values; a household command reaches
// the battery and changes what it reports; the readings land in storage.
func TestDemoHANDevices(t *testing.T) {
	dir := t.TempDir()
	p := start(t, "demo", "--listen", "127.0.0.1:0", "--state", dir)
	tok := p.waitOutput(`token: (gwd_\S+)`, 10*time.Second)
	base := p.waitOutput(`API:\s+(http://127\.0\.0\.1:\d+)`, 10*time.Second)
	gw := &gateway{proc: p, base: base, token: tok}
	byID := map[string]devJSON{}
	want := []string{"wisun:gas_meter:", "wisun:water_meter:", "echonet-ip:air_conditioner:", "echonet-ip:water_heater:", "echonet-ip:battery:"}
	find := func(prefix string) (devJSON, bool) {
		for id, d := range byID {
			if strings.HasPrefix(id, prefix) {
				return d, true
			}
		}
		return devJSON{}, false
	}
	t0 := time.Now()
	waitUntil(t, "the HAN devices online with values", 40*time.Second, func() bool {
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
		for _, w := range want {
			if d, ok := find(w); !ok || d.State != "online" || len(d.Values) == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("HAN devices online with values %v after start", time.Since(t0).Round(time.Millisecond))
	gas, _ := find("wisun:gas_meter:")
	if v, ok := gas.value("gas_volume"); !ok || v <= 0 || gas.Class != "gas_meter" {
		t.Errorf("gas meter %+v", gas)
	}
	if code, body := gw.post("/api/v1/devices/"+gas.ID+"/command", map[string]any{"kind": "off"}); code != 409 {
		t.Errorf("command to a gas meter: %d %s", code, body)
	}
	bat, _ := find("echonet-ip:battery:")
	if code, body := gw.post("/api/v1/devices/"+bat.ID+"/command", map[string]any{"kind": "limit", "limit_w": 1000}); code != 200 {
		t.Fatalf("battery discharge command: %d %s", code, body)
	}
	// Discharge (DA 43): the battery reports negative power at its next poll.
	waitUntil(t, "the battery discharging", 30*time.Second, func() bool {
		var d devJSON
		if gw.get("/api/v1/devices/"+bat.ID, true, &d) != 200 {
			return false
		}
		p, ok := d.value("power")
		return ok && p < 0
	})
	if code, took := p.stop(); code != 0 || took > 5*time.Second {
		t.Fatalf("SIGTERM: exit %d after %v", code, took)
	}
	// Storage: the gas volume series was committed at shutdown.
	code, out := run(t, "export", "--state", dir, "--format", "csv", "--device", gas.ID, "--quantity", "gas_volume", "--tier", "raw")
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") < 1 {
		t.Fatalf("export of the gas meter: %d %s", code, out)
	}
}

// A route-B smart meter is the legal source: `gatewayd run` with
// metering.protocol echonet-routeb reads it through `gatewayd emulate
// wisun` (RL7023 dialect, hex ASCII) on a pty.
func TestRouteBLegalSource(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "wisun.tty")
	creds := filepath.Join(dir, "state", "routeb")
	em := start(t, "emulate", "wisun", "--link", link, "--dialect", "rl7023", "--credentials", creds, "--time-scale", "0.01")
	em.waitOutput(`wisun rl7023 on (\S+)`, 10*time.Second)
	if _, err := os.Stat(filepath.Join(creds, "password")); err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, dir, fmt.Sprintf(`http:
  listen: 127.0.0.1:0
  tls: off
metering:
  protocol: echonet-routeb
  port: %s
`, link))
	var m meterJSON
	t0 := time.Now()
	waitUntil(t, "a legal reading from the route-B meter", 30*time.Second, func() bool {
		m = meterJSON{}
		return gw.get("/api/v1/meter", true, &m) == 200 && m.PowerW != nil && m.ImportKWh != nil
	})
	t.Logf("first legal power and energy %v after start", time.Since(t0).Round(time.Millisecond))
	if !m.Legal || m.Protocol != "echonet-routeb" || m.Address == nil || len(*m.Address) != 16 {
		t.Errorf("meter %+v", m)
	}
	out := gw.output()
	for _, secret := range []string{readFile(t, filepath.Join(creds, "password")), readFile(t, filepath.Join(creds, "id"))} {
		if s := strings.TrimSpace(secret); s != "" && strings.Contains(out, s) {
			t.Errorf("a route-B credential is in the log")
		}
	}
	gw.stop()
	em.stop()
}

// The module's faults, set by flags of the real emulator: the session
// times out (EVENT 28) every 2 s between garbage lines; the gateway joins
// again each time and legal readings keep arriving.
func TestRouteBRecoversFromModuleFaults(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "wisun.tty")
	creds := filepath.Join(dir, "state", "routeb")
	em := start(t, "emulate", "wisun", "--link", link, "--dialect", "bp35c0", "--credentials", creds, "--time-scale", "0.01",
		"--event28-every", "2s", "--garbage")
	em.waitOutput(`wisun bp35c0 on (\S+)`, 10*time.Second)
	gw := startGateway(t, dir, fmt.Sprintf(`http:
  listen: 127.0.0.1:0
  tls: off
metering:
  protocol: echonet-routeb
  port: %s
`, link))
	waitUntil(t, "three joins (two after EVENT 28)", 20*time.Second, func() bool {
		return strings.Count(gw.output(), "wisun joined") >= 3
	})
	var m meterJSON
	waitUntil(t, "a fresh legal reading after the re-joins", 10*time.Second, func() bool {
		m = meterJSON{}
		return gw.get("/api/v1/meter", true, &m) == 200 && m.PowerW != nil && !m.Stale
	})
	gw.stop()
	em.stop()
}
