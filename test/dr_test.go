package test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/tlsutil"
)

type drEvent struct {
	ID       string `json:"id"`
	Program  string `json:"program"`
	Status   string `json:"status"`
	Level    *int   `json:"level"`
	OptedOut bool   `json:"opted_out"`
}

// The real binaries end to end: `gatewayd emulate vtn` (OpenADR 3.1 over
// HTTPS) and `gatewayd run` configured with dr.vtn: the gateway polls the
// scenario's events, a business-logic client adds and deletes an event over
// the VTN's HTTP API and the gateway follows, and when the VTN goes away the
// known events stay while vtn_unreachable is raised.
func TestGatewayFollowsEmulatedVTN(t *testing.T) {
	dir := t.TempDir()
	em := startEmulator(t, dir)
	vtnProc := start(t, "emulate", "vtn", "--listen", "127.0.0.1:0", "--version", "3.1", "--dir", filepath.Join(dir, "vtn"), "--ven-name", "gw-test")
	line := vtnProc.waitOutput(`(vtn https://127\.0\.0\.1:\d+ .*)`, 10*time.Second)
	m := regexp.MustCompile(`vtn (\S+) version=3\.1 ca=(\S+) client_id=(\S+) client_secret_file=(\S+) bl_client_id=(\S+) bl_client_secret_file=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("emulate vtn printed %q", line)
	}
	vtnURL, ca, clientID, secretFile, blID, blSecretFile := m[1], m[2], m[3], m[4], m[5], m[6]

	cfg := configFor("dlt645", em.link, 9600) + fmt.Sprintf(`dr:
  vtn:
    url: %s
    client_id: %s
    client_secret_file: %s
    ca_file: %s
    ven_name: gw-test
    poll: 5s
`, vtnURL, clientID, secretFile, ca)
	g := startGateway(t, dir, cfg)

	events := func() map[string]drEvent {
		var out struct{ Events []drEvent }
		if code := g.get("/api/v1/dr/events", true, &out); code != 200 {
			t.Fatalf("GET /dr/events: %d", code)
		}
		m := map[string]drEvent{}
		for _, e := range out.Events {
			m[e.ID] = e
		}
		return m
	}
	waitUntil(t, "the scenario's events at the gateway", 15*time.Second, func() bool {
		n := 0
		for _, e := range events() {
			if e.Program == "peak-relief" || e.Program == "dynamic-prices" {
				n++
			}
		}
		return n >= 2
	})

	// A business-logic client adds an event in force now over HTTPS.
	pool, err := tlsutil.CertPool(ca)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	blSecret := strings.TrimSpace(readFile(t, blSecretFile))
	resp, err := hc.PostForm(vtnURL+"/auth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {blID}, "client_secret": {blSecret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("BL token: %v %+v", err, tok)
	}
	resp.Body.Close()
	bl := func(method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, vtnURL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	start := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	code, body := bl("POST", "/events", fmt.Sprintf(`{"id":"evt-test","programID":"prg-peak-relief","eventName":"test","priority":0,
		"targets":["gw-test"],"intervalPeriod":{"start":%q,"duration":"PT1H"},
		"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[1]}]}]}`, start))
	if code != http.StatusCreated {
		t.Fatalf("BL POST /events: %d %s", code, body)
	}
	waitUntil(t, "the new event active at the gateway", 15*time.Second, func() bool {
		e, ok := events()["evt-test"]
		return ok && e.Status == "active" && e.Level != nil && *e.Level == 1
	})
	if code, body := bl("DELETE", "/events/evt-test", ""); code >= 300 {
		t.Fatalf("BL DELETE: %d %s", code, body)
	}
	waitUntil(t, "the deleted event cancelled at the gateway", 15*time.Second, func() bool {
		return events()["evt-test"].Status == "cancelled"
	})

	// The VTN goes away: events stay, the health condition says so.
	known := len(events())
	vtnProc.stop()
	waitUntil(t, "vtn_unreachable", 20*time.Second, func() bool {
		var h struct {
			Conditions []struct{ Code string } `json:"conditions"`
		}
		g.get("/api/v1/health", false, &h)
		for _, c := range h.Conditions {
			if c.Code == "vtn_unreachable" {
				return true
			}
		}
		return false
	})
	if n := len(events()); n != known {
		t.Fatalf("%d events known after the VTN went away, %d before", n, known)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
