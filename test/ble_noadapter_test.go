package test

import (
	"os"
	"strings"
	"testing"
	"time"
)

// han.ble on with an adapter the machine does not have: the daemon keeps
// reading the meter, says ble_no_adapter in its health, retries with a
// backoff (not in a busy loop) and stops cleanly. An index out of range
// is a config error, named by key.
func TestGatewayRunsWithoutBLEAdapter(t *testing.T) {
	dir := t.TempDir()
	em := startEmulator(t, dir, "--baud", "9600")
	gw := startGateway(t, dir, configFor("dlt645", em.link, 9600)+"han:\n  ble:\n    enabled: true\n    hci: hci15\n")
	var cond string
	waitUntil(t, "ble_no_adapter in health", 15*time.Second, func() bool {
		var h healthJSON
		gw.get("/api/v1/health", false, &h)
		for _, c := range h.Conditions {
			if c.Code == "ble_no_adapter" {
				cond = c.Message
				return h.Status == "degraded"
			}
		}
		return false
	})
	if !strings.Contains(cond, "hci15") {
		t.Errorf("condition message %q does not name the adapter", cond)
	}
	meterAt := func() string {
		var m struct {
			Received string `json:"received"`
		}
		if gw.get("/api/v1/meter", true, &m) != 200 {
			return ""
		}
		return m.Received
	}
	waitUntil(t, "meter values", 20*time.Second, func() bool { return meterAt() != "" })
	first := meterAt()
	// Past the first retry (5 s) the meter is still read and BLE retried
	// once or twice, not in a loop.
	time.Sleep(7 * time.Second)
	waitUntil(t, "a newer meter reading", 10*time.Second, func() bool { m := meterAt(); return m != "" && m != first })
	if n := strings.Count(gw.output(), "ble: adapter session ended; retrying"); n < 2 || n > 3 {
		t.Errorf("%d BLE retries in ~7 s, want 2 or 3 (5 s then 10 s backoff)\n%s", n, gw.output())
	}
	if strings.Contains(gw.output(), "panic") {
		t.Fatalf("panic in the output:\n%s", gw.output())
	}
	if code, took := gw.stop(); code != 0 || took > 5*time.Second {
		t.Fatalf("SIGTERM: exit %d after %v", code, took)
	}

	cfg := dir + "/bad.yaml"
	if err := os.WriteFile(cfg, []byte(configFor("dlt645", em.link, 9600)+"han:\n  ble:\n    enabled: true\n    hci: 99\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, "config", "check", "--config", cfg)
	if code == 0 || !strings.Contains(out, "han.ble.hci") {
		t.Fatalf("config check with hci: 99: exit %d\n%s", code, out)
	}
}
