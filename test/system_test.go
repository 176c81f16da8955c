package test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSystemd is a NOTIFY_SOCKET listener recording every datagram.
type fakeSystemd struct {
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []string
}

func newFakeSystemd(t *testing.T, path string) *fakeSystemd {
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSystemd{conn: c}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 8192)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			f.mu.Lock()
			f.msgs = append(f.msgs, string(buf[:n]))
			f.mu.Unlock()
		}
	}()
	return f
}

func (f *fakeSystemd) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.msgs {
		for _, l := range strings.Split(m, "\n") {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
	}
	return n
}

func (f *fakeSystemd) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

// TestSystemdContract runs gatewayd as systemd would (Type=notify,
// WatchdogSec) against a fake notify socket: READY=1 with a STATUS=,
// WATCHDOG=1 at half the interval while the loops progress, STOPPING=1 on
// SIGTERM. Its config names relays on a host without GPIO: the daemon
// runs with them off and says so. The boot-success command runs once
// after the start stayed healthy.
func TestSystemdContract(t *testing.T) {
	dir := t.TempDir()
	em := startEmulator(t, dir)
	marked := filepath.Join(dir, "marked")
	sd := newFakeSystemd(t, filepath.Join(dir, "notify"))
	cfg := configFor("dlt645", em.link, 2400) + `board:
  relays:
    - {id: boiler, pin: GPIO17}
update:
  mark_good_command: [sh, -c, "echo good >> ` + marked + `"]
  mark_good_after: 10s
`
	if err := os.WriteFile(filepath.Join(dir, "gatewayd.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	if code, out := run(t, "token", "create", "--state", state, "--name", "test"); code != 0 {
		t.Fatalf("token create: %d %s", code, out)
	}
	p := startEnv(t, []string{"NOTIFY_SOCKET=" + filepath.Join(dir, "notify"), "WATCHDOG_USEC=1000000"},
		"run", "--config", filepath.Join(dir, "gatewayd.yaml"), "--state", state)
	base := p.waitOutput(`url=(http://127\.0\.0\.1:\d+)`, 10*time.Second)
	gw := &gateway{proc: p, base: base}
	waitUntil(t, "READY=1", 10*time.Second, func() bool { return sd.count("READY=1") == 1 })
	if msgs := sd.all(); !strings.Contains(msgs[0], "READY=1\nSTATUS=") {
		t.Fatalf("first message %q: want READY=1 with a STATUS=", msgs[0])
	}
	waitUntil(t, "keep-alives", 10*time.Second, func() bool { return sd.count("WATCHDOG=1") >= 4 })
	var h healthJSON
	waitUntil(t, "board_io_unavailable", 10*time.Second, func() bool {
		gw.get("/api/v1/health", false, &h)
		for _, c := range h.Conditions {
			if c.Code == "board_io_unavailable" && strings.Contains(c.Message, "GPIO17") {
				return true
			}
		}
		return false
	})
	waitUntil(t, "a STATUS= naming the info condition", 10*time.Second, func() bool {
		for _, m := range sd.all() {
			if strings.Contains(m, "STATUS=healthy (info: board_io_unavailable)") {
				return true
			}
		}
		return false
	})
	waitUntil(t, "the boot-success mark", 30*time.Second, func() bool {
		b, _ := os.ReadFile(marked)
		return string(b) == "good\n"
	})
	p.waitOutput(`boot-success mark set`, 5*time.Second)
	if code, _ := gw.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if sd.count("STOPPING=1") != 1 {
		t.Fatalf("no STOPPING=1: %q", sd.all())
	}
	if b, _ := os.ReadFile(marked); string(b) != "good\n" {
		t.Fatalf("mark command ran %q, want once", b)
	}
}

// TestHardwareWatchdog: without systemd, watchdog.device is fed while the
// loops progress and disarmed with the magic 'V' on a clean stop.
func TestHardwareWatchdog(t *testing.T) {
	dir := t.TempDir()
	em := startEmulator(t, dir)
	dev := filepath.Join(dir, "watchdog")
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, dir, configFor("dlt645", em.link, 2400)+"watchdog: {device: "+dev+", interval: 1s}\n")
	waitUntil(t, "keep-alives", 10*time.Second, func() bool {
		b, _ := os.ReadFile(dev)
		return len(b) >= 3
	})
	if code, _ := gw.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, _ := os.ReadFile(dev)
	if b[len(b)-1] != 'V' || strings.Count(string(b), "V") != 1 {
		t.Fatalf("device saw %q: want keep-alives then one V", b)
	}
}
