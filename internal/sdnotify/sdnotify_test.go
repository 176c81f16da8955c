package sdnotify

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listen is a fake systemd: a unixgram socket in a temp dir (or the
// abstract namespace).
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 8192)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestNotifyPathAndAbstract(t *testing.T) {
	for _, name := range []string{filepath.Join(t.TempDir(), "notify"), "@gatewayd-test-" + strings.ReplaceAll(t.Name(), "/", "-")} {
		sock := listen(t, name)
		n, err := New(env(map[string]string{"NOTIFY_SOCKET": name}))
		if err != nil || n == nil {
			t.Fatal(name, n, err)
		}
		if err := n.Send(Ready, Status("meter link up; 0 conditions")); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, sock); got != "READY=1\nSTATUS=meter link up; 0 conditions" {
			t.Fatalf("%s: got %q", name, got)
		}
		if err := n.Keepalive(); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, sock); got != "WATCHDOG=1" {
			t.Fatalf("got %q", got)
		}
		n.Close()
	}
}

func TestNotifyOff(t *testing.T) {
	n, err := New(env(nil))
	if n != nil || err != nil {
		t.Fatal(n, err)
	}
	if err := n.Send(Ready); err != nil { // nil notifier: no-op
		t.Fatal(err)
	}
	if _, err := New(env(map[string]string{"NOTIFY_SOCKET": "relative"})); err == nil {
		t.Fatal("relative socket accepted")
	}
	n, _ = New(env(map[string]string{"NOTIFY_SOCKET": filepath.Join(t.TempDir(), "nobody")}))
	if err := n.Send(Ready); err == nil {
		t.Fatal("send to a missing socket succeeded")
	}
	if err := n.Send(strings.Repeat("x", MaxMessage+1)); err == nil {
		t.Fatal("oversized message sent")
	}
}

func TestStatusOneLine(t *testing.T) {
	if s := Status("a\nb"); s != "STATUS=a; b" {
		t.Fatal(s)
	}
	if s := Status(strings.Repeat("y", 5000)); len(s) != len("STATUS=")+1024 {
		t.Fatal(len(s))
	}
}

func TestWatchdogInterval(t *testing.T) {
	d, err := WatchdogInterval(env(map[string]string{"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "42"}), 42)
	if err != nil || d != time.Minute {
		t.Fatal(d, err)
	}
	if _, err := WatchdogInterval(env(map[string]string{"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "43"}), 42); !errors.Is(err, ErrWatchdogOtherPID) {
		t.Fatal(err)
	}
	if d, err := WatchdogInterval(env(nil), 42); d != 0 || err != nil {
		t.Fatal(d, err)
	}
	if _, err := WatchdogInterval(env(map[string]string{"WATCHDOG_USEC": "-5"}), 42); err == nil {
		t.Fatal("negative accepted")
	}
}
