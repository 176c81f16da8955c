// Package watchdog keeps the process's watchdogs (systemd's WatchdogSec,
// /dev/watchdog) fed only while the main loops make progress.
//
// Each main loop (meter link, storage, DR) registers with [Liveness] and
// calls its beat function on every iteration. [Keeper] pings its targets
// every interval only when no loop has been silent for longer than its
// bound: a stuck meter loop stops the pings and systemd (or the hardware
// watchdog) restarts the daemon (or the board). A free-running goroutine
// that pings regardless would hide exactly the hang the watchdog is for.
//
// Concurrency: Liveness and Keeper are safe for concurrent use; beat
// functions are a single atomic store.
package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Liveness tracks the main loops' progress.
type Liveness struct {
	clock energy.Clock

	mu    sync.Mutex
	loops map[string]*loop
}

type loop struct {
	max  time.Duration
	last atomic.Int64 // UnixNano of the last beat
}

// NewLiveness returns an empty tracker on clock.
func NewLiveness(clock energy.Clock) *Liveness {
	return &Liveness{clock: clock, loops: map[string]*loop{}}
}

// Register adds a loop that must beat at least every maxSilence and
// returns its beat function. Registration counts as the first beat.
func (l *Liveness) Register(name string, maxSilence time.Duration) func() {
	lp := &loop{max: maxSilence}
	lp.last.Store(l.clock.Now().UnixNano())
	l.mu.Lock()
	l.loops[name] = lp
	l.mu.Unlock()
	return func() { lp.last.Store(l.clock.Now().UnixNano()) }
}

// Stale returns the loops silent for longer than their bound, sorted.
func (l *Liveness) Stale() []string {
	now := l.clock.Now().UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for name, lp := range l.loops {
		if time.Duration(now-lp.last.Load()) > lp.max {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Target is a watchdog to feed.
type Target interface {
	Keepalive() error
}

// KeeperOptions configure a Keeper.
type KeeperOptions struct {
	Liveness *Liveness
	// Interval between pings: half of systemd's WatchdogSec, or of the
	// hardware watchdog's timeout.
	Interval time.Duration
	Targets  []Target
	// Status, if set, is sent (through OnStatus) when it changes.
	Status   func() string
	OnStatus func(string)
	Clock    energy.Clock
	Log      *slog.Logger
}

// Keeper feeds the targets while the loops live.
type Keeper struct {
	o      KeeperOptions
	pings  atomic.Int64
	missed atomic.Int64
}

// NewKeeper returns a Keeper; Interval must be positive.
func NewKeeper(o KeeperOptions) (*Keeper, error) {
	if o.Interval <= 0 || o.Liveness == nil || o.Clock == nil {
		return nil, fmt.Errorf("watchdog: interval %s, liveness and clock are required", o.Interval)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Keeper{o: o}, nil
}

// Pings is how many rounds fed the targets; Missed how many were held
// back because a loop was stale.
func (k *Keeper) Pings() int64  { return k.pings.Load() }
func (k *Keeper) Missed() int64 { return k.missed.Load() }

// Tick runs one round now: it feeds the targets unless a loop is stale,
// and sends the status when it changed.
func (k *Keeper) Tick(lastStatus *string) {
	if stale := k.o.Liveness.Stale(); len(stale) > 0 {
		k.missed.Add(1)
		k.o.Log.Error("watchdog: main loops not making progress; keep-alives withheld", "stale", strings.Join(stale, ","))
	} else {
		k.pings.Add(1)
		for _, t := range k.o.Targets {
			if err := t.Keepalive(); err != nil {
				k.o.Log.Warn("watchdog: keep-alive failed", "err", err)
			}
		}
	}
	if k.o.Status != nil && k.o.OnStatus != nil {
		if s := k.o.Status(); s != *lastStatus {
			*lastStatus = s
			k.o.OnStatus(s)
		}
	}
}

// Run ticks every Interval until ctx ends.
func (k *Keeper) Run(ctx context.Context) error {
	var last string
	for {
		k.Tick(&last)
		t := k.o.Clock.NewTimer(k.o.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}

// Device is a Linux watchdog device (/dev/watchdog): every write feeds
// it; Close writes the magic 'V' first so a clean stop disarms it (with
// nowayout set in the kernel, nothing disarms it).
type Device struct {
	mu sync.Mutex
	f  *os.File
}

// OpenDevice opens path for writing. Opening arms the watchdog.
func OpenDevice(path string) (*Device, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("watchdog: open %s: %w", path, err)
	}
	return &Device{f: f}, nil
}

// Keepalive feeds the device.
func (d *Device) Keepalive() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return fmt.Errorf("watchdog: closed")
	}
	if _, err := d.f.Write([]byte{0}); err != nil {
		return fmt.Errorf("watchdog: feed %s: %w", d.f.Name(), err)
	}
	return nil
}

// Close disarms (magic close) and closes the device.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	_, werr := d.f.Write([]byte("V"))
	cerr := d.f.Close()
	d.f = nil
	if werr != nil {
		return fmt.Errorf("watchdog: magic close: %w", werr)
	}
	return cerr
}
