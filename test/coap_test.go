package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// coapClient finds Debian's libcoap3-bin coap-client built with GnuTLS.
// (The OpenSSL build refuses pion/dtls servers: OpenSSL 3 demands RFC 5746
// secure renegotiation and pion answers only the extension, not the SCSV
// OpenSSL sends.) A missing client fails the test: `make test` installs it.
func coapClient(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"coap-client-gnutls", "coap-client"} {
		p, err := exec.LookPath(name)
		if err == nil && (name != "coap-client" || strings.Contains(mustOut(exec.Command(p, "-h")), "GnuTLS")) {
			return p
		}
	}
	t.Fatal("coap-client-gnutls not found: install Debian's libcoap3-bin (make test-deps installs it)")
	return ""
}

func mustOut(c *exec.Cmd) string {
	out, _ := c.CombinedOutput()
	return string(out)
}

// An independent CoAP implementation (libcoap's coap-client over GnuTLS
// DTLS-PSK) against the real binary: discovery, registration, a SenML
// post, and an observation of /dev/{ep}/ctl that receives a command sent
// through the web API; another endpoint's resources answer 4.03.
func TestCoAPInteropLibcoap(t *testing.T) {
	client := coapClient(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	code, out := run(t, "appliance", "pair", "--state", state, "--name", "Interop heat pump")
	id := regexp.MustCompile(`(?m)^identity=(\S+)$`).FindStringSubmatch(out)
	psk := regexp.MustCompile(`(?m)^psk=([0-9a-f]{32})$`).FindStringSubmatch(out)
	if code != 0 || id == nil || psk == nil {
		t.Fatalf("appliance pair: %d %s", code, out)
	}
	ep := id[1]
	_, out = run(t, "appliance", "pair", "--state", state, "--name", "Other")
	other := regexp.MustCompile(`(?m)^identity=(\S+)$`).FindStringSubmatch(out)[1]
	code, out = run(t, "token", "create", "--state", state, "--name", "ctl", "--scope", "control")
	if code != 0 {
		t.Fatalf("token: %s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	ctlToken := lines[len(lines)-1]

	em := startEmulator(t, dir, "--baud", "9600")
	gw := startGateway(t, dir, configFor("dlt645", em.link, 9600)+`han:
  coap:
    enabled: true
    listen: 127.0.0.1:0
`)
	addr := gw.waitOutput(`coaps=(127\.0\.0\.1:\d+)`, 10*time.Second)
	if strings.Contains(gw.output(), psk[1]) {
		t.Fatal("the PSK is in the log")
	}
	coap := func(timeout time.Duration, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		all := append([]string{"-B", "5", "-u", ep, "-k", psk[1]}, args...)
		b, _ := exec.CommandContext(ctx, client, all...).CombinedOutput()
		return string(b)
	}
	base := "coaps://" + addr

	wk := coap(10*time.Second, base+"/.well-known/core")
	if !strings.Contains(wk, `</rd>;rt="core.rd"`) || !strings.Contains(wk, "</dev/"+ep+"/ctl>") {
		t.Fatalf("discovery: %s", wk)
	}
	if rd := coap(10*time.Second, base+"/.well-known/core?rt=core.rd"); strings.TrimSpace(rd) != `</rd>;rt="core.rd";ct=40` {
		t.Fatalf("rt filter: %q", rd)
	}
	coap(10*time.Second, "-m", "post", "-t", "40", "-e", `</meas>;rt="oic.r.energy.consumption";ct=110`,
		base+"/rd?ep="+ep+"&et=heatpump&lt=300")
	coap(10*time.Second, "-m", "post", "-t", "110", "-e", `[{"bn":"urn:dev:ep:`+ep+`:","n":"power","u":"W","v":1234.5}]`,
		base+"/dev/"+ep+"/meas")
	type dev struct {
		ID        string `json:"id"`
		State     string `json:"state"`
		Transport string `json:"transport"`
		Values    []struct {
			Quantity string  `json:"quantity"`
			Value    float64 `json:"value"`
		} `json:"values"`
	}
	waitUntil(t, "the appliance online with its power in the API", 15*time.Second, func() bool {
		var list struct {
			Devices []dev `json:"devices"`
		}
		gw.get("/api/v1/devices", true, &list)
		for _, d := range list.Devices {
			if d.ID == "coap:"+ep && d.State == "online" && d.Transport == "coap" {
				for _, v := range d.Values {
					if v.Quantity == "power" && v.Value == 1234 {
						return true
					}
				}
			}
		}
		return false
	})
	if bad := coap(10*time.Second, "-m", "post", "-t", "110", "-e", `[{"n":"power","u":"W","v":`, base+"/dev/"+ep+"/meas"); !strings.Contains(bad, "4.00") || !strings.Contains(bad, "senml") {
		t.Errorf("malformed SenML: %q", bad)
	}
	if forb := coap(10*time.Second, base+"/dev/"+other+"/ctl"); !strings.Contains(forb, "4.03") {
		t.Errorf("another endpoint's ctl: %q", forb)
	}

	// Observe /dev/{ep}/ctl, then command the device through the web API.
	var obsOut lockedBuf
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := exec.CommandContext(ctx, client, "-B", "30", "-s", "25", "-u", ep, "-k", psk[1], base+"/dev/"+ep+"/ctl")
	obs.Stdout, obs.Stderr = &obsOut, &obsOut
	if err := obs.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); obs.Wait() }()
	waitUntil(t, "the first ctl document", 10*time.Second, func() bool { return strings.Contains(obsOut.String(), `"mode":"NORMAL"`) })
	body, _ := json.Marshal(map[string]any{"kind": "limit", "limit_w": 800})
	req, _ := http.NewRequest(http.MethodPost, gw.base+"/api/v1/devices/coap:"+ep+"/command", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ctlToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("command: %s", resp.Status)
	}
	waitUntil(t, "the LIMIT notification at coap-client", 10*time.Second, func() bool {
		return strings.Contains(obsOut.String(), `"mode":"LIMIT","limitW":800`)
	})
	fmt.Fprintln(os.Stderr, "coap-client observed:", strings.TrimSpace(obsOut.String()))

	// Revocation by the CLI while the daemon runs: the key stops working.
	if code, out := run(t, "appliance", "revoke", "--state", state, "--id", ep); code != 0 {
		t.Fatalf("revoke: %s", out)
	}
	waitUntil(t, "the revoked appliance gone from the registry", 10*time.Second, func() bool {
		var list struct {
			Devices []dev `json:"devices"`
		}
		gw.get("/api/v1/devices", true, &list)
		for _, d := range list.Devices {
			if d.ID == "coap:"+ep {
				return false
			}
		}
		return true
	})
	if wk := coap(8*time.Second, base+"/.well-known/core"); strings.Contains(wk, "</rd>") {
		t.Errorf("a revoked key still reads: %s", wk)
	}
	gw.stop()
	em.stop()
}

// `gatewayd emulate appliance` (a separate process) against `gatewayd run`:
// it registers, reports its power, and obeys a command sent through the
// web API.
func TestEmulateApplianceProcess(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	_, out := run(t, "appliance", "pair", "--state", state, "--name", "EV")
	id := regexp.MustCompile(`(?m)^identity=(\S+)$`).FindStringSubmatch(out)
	psk := regexp.MustCompile(`(?m)^psk=(\S+)$`).FindStringSubmatch(out)
	if id == nil || psk == nil {
		t.Fatalf("pair: %s", out)
	}
	pskFile := filepath.Join(dir, "ev.psk")
	if err := os.WriteFile(pskFile, []byte(psk[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out = run(t, "token", "create", "--state", state, "--name", "ctl", "--scope", "control")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	ctlToken := lines[len(lines)-1]
	em := startEmulator(t, dir, "--baud", "9600")
	gw := startGateway(t, dir, configFor("dlt645", em.link, 9600)+"han:\n  coap:\n    enabled: true\n    listen: 127.0.0.1:0\n")
	addr := gw.waitOutput(`coaps=(127\.0\.0\.1:\d+)`, 10*time.Second)
	app := start(t, "emulate", "appliance", "--kind", "evcharger", "--gateway", addr, "--identity", id[1], "--psk-file", pskFile, "--interval", "200ms", "--cbor")
	app.waitOutput(`emulated (evcharger)`, 10*time.Second)
	power := func() float64 {
		var d struct {
			State  string `json:"state"`
			Values []struct {
				Quantity string  `json:"quantity"`
				Value    float64 `json:"value"`
			} `json:"values"`
		}
		if gw.get("/api/v1/devices/coap:"+id[1], true, &d) != 200 || d.State != "online" {
			return -1
		}
		for _, v := range d.Values {
			if v.Quantity == "power" {
				return v.Value
			}
		}
		return -1
	}
	waitUntil(t, "the EV charger online drawing 7.4 kW", 15*time.Second, func() bool { return power() == 7400 })
	body, _ := json.Marshal(map[string]any{"kind": "limit", "limit_w": 3000})
	req, _ := http.NewRequest(http.MethodPost, gw.base+"/api/v1/devices/coap:"+id[1]+"/command", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ctlToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	app.waitOutput(`ctl \S+ (LIMIT) limit=3000`, 10*time.Second)
	waitUntil(t, "the charger limited to 3 kW", 15*time.Second, func() bool { return power() == 3000 })
	app.stop()
	gw.stop()
	em.stop()
}
