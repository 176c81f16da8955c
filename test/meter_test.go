package test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type meterJSON struct {
	Protocol         string     `json:"protocol"`
	Address          *string    `json:"address"`
	Time             *string    `json:"time"`
	Received         *string    `json:"received"`
	Stale            bool       `json:"stale"`
	Legal            bool       `json:"legal"`
	PowerW           *float64   `json:"power_w"`
	ImportKWh        *float64   `json:"import_kwh"`
	ExportKWh        *float64   `json:"export_kwh"`
	ImportKWhTariffs []*float64 `json:"import_kwh_tariffs"`
	VoltageV         []*float64 `json:"voltage_v"`
	CurrentA         []*float64 `json:"current_a"`
	FrequencyHz      *float64   `json:"frequency_hz"`
	PowerFactor      *float64   `json:"power_factor"`
	Relay            string     `json:"relay"`
	LinkUp           bool       `json:"link_up"`
}

type healthJSON struct {
	Status     string `json:"status"`
	Conditions []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Since   string `json:"since"`
	} `json:"conditions"`
}

func configFor(protocol, port string, baud int) string {
	return fmt.Sprintf(`http:
  listen: 127.0.0.1:0
  tls: off
metering:
  protocol: %s
  port: %s
  baud: %d
  address: auto
  interval: 500ms
log:
  level: debug
`, protocol, port, baud)
}

func eq(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s is null, want %v", name, want)
		return
	}
	if math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", name, *got, want)
	}
}

// The values the API serves equal the emulated meter's registers, for both
// protocols, over a real pty, with auth enforced and a clean SIGTERM.
func TestGatewayReadsEmulatedMeter(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		baud     int
		res      float64 // register resolution in kWh
	}{
		{"dlt645", 9600, 0.01},
		{"iec62056-21", 9600, 0.001},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			dir := t.TempDir()
			em := startEmulator(t, dir, "--protocol", tc.protocol, "--baud", fmt.Sprint(tc.baud), "--address", "000012345678")
			em.post("/hold?on=true", "")
			want := em.state()
			gw := startGateway(t, dir, configFor(tc.protocol, em.link, tc.baud))

			if code := gw.get("/api/v1/meter", false, nil); code != 401 {
				t.Fatalf("no token: %d, want 401", code)
			}
			var m meterJSON
			waitUntil(t, "meter values", 20*time.Second, func() bool {
				m = meterJSON{}
				return gw.get("/api/v1/meter", true, &m) == 200 && m.ImportKWh != nil && m.PowerW != nil && m.Relay != "" && !m.Stale
			})
			if m.Protocol != tc.protocol || m.Address == nil || *m.Address != "000012345678" || !m.Legal || !m.LinkUp {
				t.Fatalf("header fields: %+v", m)
			}
			trunc := func(mwh int64) float64 {
				units := int64(math.Round(tc.res * 1e6)) // mWh per register step
				return float64(mwh/units) * tc.res
			}
			eq(t, "import_kwh", m.ImportKWh, trunc(want.ImportMWh[0]))
			eq(t, "export_kwh", m.ExportKWh, trunc(want.ExportMWh[0]))
			if len(m.ImportKWhTariffs) != 4 {
				t.Fatalf("tariffs %v", m.ImportKWhTariffs)
			}
			for i := 0; i < 4; i++ {
				eq(t, fmt.Sprintf("import_kwh_tariffs[%d]", i), m.ImportKWhTariffs[i], trunc(want.ImportMWh[i+1]))
			}
			eq(t, "power_w", m.PowerW, float64(want.PowerMW[0]/100)/10)
			if len(m.VoltageV) != 3 || len(m.CurrentA) != 3 {
				t.Fatalf("phases: %v %v", m.VoltageV, m.CurrentA)
			}
			for i := 0; i < 3; i++ {
				eq(t, fmt.Sprintf("voltage_v[%d]", i), m.VoltageV[i], float64(want.VoltageMV[i]/100)/10)
			}
			eq(t, "frequency_hz", m.FrequencyHz, float64(want.FrequencyMHz/10)/100)
			if tc.protocol == "dlt645" {
				eq(t, "current_a[0]", m.CurrentA[0], float64(want.CurrentMA[0])/1000)
				eq(t, "power_factor", m.PowerFactor, float64(want.PowerFactorMilli[0])/1000)
				if m.Relay != "closed" {
					t.Errorf("relay %q", m.Relay)
				}
			}
			var h healthJSON
			if code := gw.get("/api/v1/health", false, &h); code != 200 || h.Status != "ok" {
				t.Fatalf("health %d %+v", code, h)
			}
			code, took := gw.stop()
			if code != 0 || took > 5*time.Second {
				t.Fatalf("SIGTERM: exit %d after %v", code, took)
			}
			if !strings.Contains(gw.output(), "first legal reading") {
				t.Error("no 'first legal reading' log line")
			}
		})
	}
}

// Faults on the line take the link down after 3 failed transactions and it
// recovers by itself: silent meter, garbage, bad checksums, unplugged pty.
func TestGatewayRecoversFromLinkFaults(t *testing.T) {
	dir := t.TempDir()
	em := startEmulator(t, dir, "--baud", "9600")
	gw := startGateway(t, dir, configFor("dlt645", em.link, 9600))
	status := func() (string, bool) {
		var h healthJSON
		gw.get("/api/v1/health", false, &h)
		down := false
		for _, c := range h.Conditions {
			if c.Code == "meter_link_down" {
				down = true
			}
		}
		return h.Status, down
	}
	isUp := func() bool { s, d := status(); return s == "ok" && !d }
	isDown := func() bool { s, d := status(); return s == "degraded" && d }
	waitUntil(t, "link up", 15*time.Second, isUp)
	for _, f := range []string{`{"silent":true}`, `{"garbage":1}`, `{"bad_checksum":1}`} {
		em.post("/faults", f)
		waitUntil(t, f+": link down", 20*time.Second, isDown)
		var m meterJSON
		gw.get("/api/v1/meter", true, &m)
		if m.LinkUp || !m.Stale {
			t.Errorf("%s: meter shows link_up=%v stale=%v while down", f, m.LinkUp, m.Stale)
		}
		em.post("/faults", `{}`)
		waitUntil(t, f+": recovery", 20*time.Second, isUp)
	}
	em.post("/disconnect", "")
	waitUntil(t, "unplugged: link down", 20*time.Second, isDown)
	em.post("/reconnect", "")
	waitUntil(t, "plugged in: recovery", 20*time.Second, isUp)
	// Every link health change and the config seen at start are in the
	// events log.
	var ev struct {
		Events []struct {
			Kind, Subject string
			Details       map[string]string
		} `json:"events"`
	}
	if code := gw.get("/api/v1/events", true, &ev); code != 200 {
		t.Fatalf("events: %d", code)
	}
	raised, config := 0, 0
	for _, e := range ev.Events {
		if e.Kind == "link" && e.Subject == "meter_link_down" && e.Details["state"] == "raised" {
			raised++
		}
		if e.Kind == "config" {
			config++
		}
	}
	if raised != 4 || config != 1 {
		t.Errorf("events: %d meter_link_down raised (want 4), %d config (want 1): %+v", raised, config, ev.Events)
	}
	if code, _ := gw.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// The emulator process going away entirely (closed pty) and coming back on
// the same path is recovered without restarting the gateway.
func TestGatewaySurvivesEmulatorRestart(t *testing.T) {
	dir := t.TempDir()
	em := startEmulator(t, dir, "--baud", "9600")
	gw := startGateway(t, dir, configFor("dlt645", em.link, 9600))
	up := func() bool {
		var m meterJSON
		return gw.get("/api/v1/meter", true, &m) == 200 && m.LinkUp && !m.Stale
	}
	waitUntil(t, "link up", 15*time.Second, up)
	em.stop()
	waitUntil(t, "link down", 20*time.Second, func() bool { return !up() })
	startEmulator(t, dir, "--baud", "9600")
	waitUntil(t, "link up again", 20*time.Second, up)
}

func TestConfigErrorsNameFileLineKey(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ yaml, want string }{
		{"metering:\n  prot: dlt645\n", "gatewayd.yaml:2: metering.prot"},
		{"metering:\n  baud: fast\n", "gatewayd.yaml:2: metering.baud"},
		{"http:\n  listen: 127.0.0.1:8080\nmetering:\n  protocol: modbus\n", "gatewayd.yaml:4: metering.protocol"},
	} {
		p := filepath.Join(dir, "gatewayd.yaml")
		os.WriteFile(p, []byte(tc.yaml), 0o600)
		for _, args := range [][]string{{"config", "check", "--config", p}, {"run", "--config", p, "--state", dir}} {
			code, out := run(t, args...)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("%v on %q: exit %d, output %q; want 2 and %q", args, tc.yaml, code, out, tc.want)
			}
		}
	}
	p := filepath.Join(dir, "ok.yaml")
	os.WriteFile(p, []byte(configFor("dlt645", "/dev/ttyS1", 2400)), 0o600)
	if code, out := run(t, "config", "check", "--config", p); code != 0 {
		t.Fatalf("valid config: %d %s", code, out)
	}
	if code, _ := run(t, "frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
	if code, out := run(t, "version"); code != 0 || !strings.HasPrefix(out, "gatewayd ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestTokenCreateStoresOnlyHash(t *testing.T) {
	dir := t.TempDir()
	code, out := run(t, "token", "create", "--state", dir, "--name", "ops")
	if code != 0 {
		t.Fatal(out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := lines[len(lines)-1]
	if !strings.HasPrefix(tok, "gwd_") || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if strings.Contains(string(b), tok) || strings.Contains(string(b), tok[4:]) {
			t.Fatalf("%s contains the token itself", e.Name())
		}
		if st, _ := os.Stat(filepath.Join(dir, e.Name())); st.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s is readable by others: %v", e.Name(), st.Mode())
		}
	}
	if code, _ := run(t, "token", "create", "--state", dir, "--name", "ops"); code == 0 {
		t.Fatal("duplicate token name accepted")
	}
}

// The demo starts, serves the meter and stops cleanly on SIGTERM.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	p := start(t, "demo", "--listen", "127.0.0.1:0", "--state", dir)
	tok := p.waitOutput(`token: (gwd_\S+)`, 10*time.Second)
	base := p.waitOutput(`API:\s+(http://127\.0\.0\.1:\d+)`, 10*time.Second)
	gw := &gateway{proc: p, base: base, token: tok}
	var m meterJSON
	waitUntil(t, "demo meter values", 15*time.Second, func() bool {
		m = meterJSON{}
		return gw.get("/api/v1/meter", true, &m) == 200 && m.ImportKWh != nil && m.PowerW != nil
	})
	if *m.Address != "123456789012" {
		t.Fatalf("address %v", *m.Address)
	}
	if code, took := p.stop(); code != 0 || took > 5*time.Second {
		t.Fatalf("SIGTERM: exit %d after %v", code, took)
	}
}
