package test

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/netnstest"
)

// The daemon with homekit.enabled, run in a network namespace of the
// test's own (the bridge announces over mDNS on every interface): the HAP
// server answers pair-setup with the per-gateway code, the libraries'
// log lines stay out of stdout, and `gatewayd homekit code` prints the
// same code afterwards.
func TestDaemonHomeKitBridge(t *testing.T) {
	if !netnstest.Run(t) {
		return
	}
	dir := t.TempDir()
	em := startEmulator(t, dir, "--protocol", "dlt645", "--baud", "9600")
	cfg := configFor("dlt645", em.link, 9600) + `homekit:
  enabled: true
  name: Test Home
  port: 51827
`
	gw := startGateway(t, dir, cfg)
	var resp *http.Response
	waitUntil(t, "HAP server", 15*time.Second, func() bool {
		var err error
		resp, err = http.Post("http://127.0.0.1:51827/pair-setup", "application/pairing+tlv8",
			bytes.NewReader([]byte{0x00, 0x01, 0x00, 0x06, 0x01, 0x01}))
		return err == nil
	})
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pairing+tlv8" || len(body) < 400 {
		t.Fatalf("pair-setup M1: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(body))
	}
	// Unpaired: the accessory database is refused (and hap logs it).
	resp, err := http.Get("http://127.0.0.1:51827/accessories")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unauthenticated /accessories: %s", resp.Status)
	}
	if code, _ := gw.stop(); code != 0 {
		t.Fatalf("gatewayd exit %d:\n%s", code, gw.output())
	}
	for _, line := range strings.Split(gw.output(), "\n") {
		if strings.HasPrefix(line, "INFO ") {
			t.Errorf("a library wrote to stdout past slog: %q", line)
		}
	}
	code, out := run(t, "homekit", "code", "--state", filepath.Join(dir, "state"))
	if code != 0 || !regexp.MustCompile(`\d{3}-\d{2}-\d{3}`).MatchString(out) || strings.Contains(out, "031-45-154") {
		t.Fatalf("homekit code: %d %q", code, out)
	}
}
