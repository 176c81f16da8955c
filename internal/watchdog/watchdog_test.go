package watchdog

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) Keepalive() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return nil
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestStuckLoopStopsPings(t *testing.T) {
	clk := clocktest.New(t0)
	lv := NewLiveness(clk)
	meter := lv.Register("meter", 10*time.Second)
	store := lv.Register("storage", 150*time.Second)
	c := &counter{}
	var statuses []string
	status := "ok"
	k, err := NewKeeper(KeeperOptions{Liveness: lv, Interval: 5 * time.Second, Targets: []Target{c},
		Status: func() string { return status }, OnStatus: func(s string) { statuses = append(statuses, s) }, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for i := 0; i < 6; i++ { // both loops progress
		clk.Advance(5 * time.Second)
		meter()
		store()
		k.Tick(&last)
	}
	if c.get() != 6 {
		t.Fatalf("pings = %d, want 6", c.get())
	}
	// The meter loop hangs; storage keeps going.
	clk.Advance(5 * time.Second)
	store()
	k.Tick(&last)            // 5 s silent: still fine
	for i := 0; i < 3; i++ { // 10 s: the bound; 15 s, 20 s: stale
		clk.Advance(5 * time.Second)
		store()
		k.Tick(&last)
	}
	if c.get() != 8 || k.Missed() != 2 {
		t.Fatalf("pings %d missed %d, want 8 and 2", c.get(), k.Missed())
	}
	if s := lv.Stale(); len(s) != 1 || s[0] != "meter" {
		t.Fatalf("stale = %v", s)
	}
	// It recovers: pings resume.
	meter()
	status = "meter link down"
	k.Tick(&last)
	k.Tick(&last)
	if c.get() != 10 {
		t.Fatalf("pings after recovery = %d", c.get())
	}
	if len(statuses) != 2 || statuses[0] != "ok" || statuses[1] != "meter link down" {
		t.Fatalf("statuses %q: want each change once", statuses)
	}
}

func TestKeeperRun(t *testing.T) {
	clk := clocktest.New(t0)
	lv := NewLiveness(clk)
	beat := lv.Register("dr", time.Minute)
	c := &counter{}
	k, _ := NewKeeper(KeeperOptions{Liveness: lv, Interval: 30 * time.Second, Targets: []Target{c}, Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- k.Run(ctx) }()
	for i := 1; i <= 3; i++ {
		for clk.Timers() == 0 {
			time.Sleep(time.Millisecond)
		}
		beat()
		clk.Advance(30 * time.Second)
		for c.get() < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestDeviceFakeFile: a regular file stands in for /dev/watchdog: every
// keep-alive writes a byte, Close writes the magic 'V'.
func TestDeviceFakeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "watchdog")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDevice(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := d.Keepalive(); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "\x00\x00\x00V" {
		t.Fatalf("device saw %q", b)
	}
	if err := d.Keepalive(); err == nil {
		t.Fatal("keep-alive after close")
	}
	if _, err := OpenDevice(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("missing device opened")
	}
}

// TestDevicePTY: a character device (a pty's slave) as the watchdog.
func TestDevicePTY(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	name := tty.Name()
	tty.Close()
	d, err := OpenDevice(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Keepalive(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	_ = ptmx.SetReadDeadline(time.Now().Add(3 * time.Second))
	got := []byte{}
	for len(got) < 2 {
		n, err := ptmx.Read(buf)
		if err != nil {
			t.Fatalf("read %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if got[len(got)-1] != 'V' {
		t.Fatalf("pty saw %q, want a keep-alive then V", got)
	}
}

// BenchmarkBeat is what a main loop pays per iteration for the watchdog.
func BenchmarkBeat(b *testing.B) {
	lv := NewLiveness(clocktest.New(t0))
	beat := lv.Register("meter", time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		beat()
	}
}
