// Package emul emulates an SKSTACK-IP Wi-SUN module (BP35A1, BP35C0,
// RL7023) behind a pseudo-terminal, with an in-memory PAN behind it, so the
// wisun driver can be tested end to end through a real tty.
//
// Concurrency: Run serves the pty from one goroutine; Faults, Stats and
// SetCredentials are safe for concurrent use.
package emul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Dialect of the emulated module.
type Dialect string

// Dialects.
const (
	BP35A1 Dialect = "bp35a1"
	BP35C0 Dialect = "bp35c0"
	RL7023 Dialect = "rl7023"
)

// Node is one device in the PAN.
type Node struct {
	MAC string // 16 hex digits
}

// Datagram is a UDP datagram a node sends back (port 3610 both ways).
type Datagram struct {
	Src  string // IPv6, full 8×4 form
	Data []byte
}

// Network is the PAN behind the module.
type Network interface {
	// Nodes lists the devices; the first is the PAN coordinator (the
	// route-B meter).
	Nodes() []Node
	// Deliver hands a datagram from src to dst (a node or FF02::1 in full
	// form) and returns the replies.
	Deliver(dst, src string, payload []byte) []Datagram
}

// Config of an emulated module.
type Config struct {
	// Link is where the pty slave path is symlinked.
	Link    string
	Dialect Dialect // default BP35A1
	// ID and Password are the route-B credentials the PAN accepts; a join
	// with others fails with EVENT 24.
	ID, Password string
	// Channel (default 0x21) and PanID (default 0x8888) of the PAN.
	Channel, PanID int
	// MAC is the module's own 64-bit address (default 001D129012340001).
	MAC     string
	Network Network
	Clock   energy.Clock // default system clock
	Log     *slog.Logger // default discard
	Faults  *Faults      // default none (New allocates one)
	// TimeScale multiplies the realistic delays (scan 0.01 s × (2^D+1)
	// per channel, join 2.5 s, reply 300 ms); 0 means 1. Tests use ~0.005.
	TimeScale float64
	// MinScanDuration: beacons are heard only by scans of at least this
	// duration (0: any).
	MinScanDuration int
	Seed            uint64
}

// Stats counts what the module did.
type Stats struct {
	Joins       int // SKJOIN received
	JoinsOK     int // EVENT 25 sent
	Scans       int // SKSCAN accepted
	FlashWrites int // WOPT accepted
	Sends       int // SKSENDTO accepted
	Resets      int // SKRESET or ResetModule
}

// Module is a running emulated module.
type Module struct {
	cfg   Config
	log   *slog.Logger
	clk   energy.Clock
	pty   *ptyPair
	rng   *rand.Rand
	coord string // coordinator MAC
	ownLL string

	mu    sync.Mutex
	id    string // accepted credentials (SetCredentials)
	pw    string
	stats Stats

	// Owned by the Run goroutine.
	st      state
	wopt    byte // in flash: survives resets
	in      []byte
	hdr     []string // SKSENDTO header while its data is read
	need    int
	data    []byte
	sched   []scheduled
	txLimit bool // EVENT 32 sent, 33 not yet
}

// state is what a reset forgets.
type state struct {
	echo    bool
	pwd     string
	rbid    string
	s2, s3  int
	session bool
	gen     int // bumps on reset; stale scheduled work is dropped
	// side is the BP35C0 side last named by SKSCAN or SKSENDTO ("0"
	// B-route, "1" HAN; "" = 0): events and ERXUDP report it.
	side string
}

type scheduled struct {
	at  time.Time
	gen int
	fn  func()
}

// New validates cfg and creates the pty; Run serves it.
func New(cfg Config) (*Module, error) {
	switch cfg.Dialect {
	case "":
		cfg.Dialect = BP35A1
	case BP35A1, BP35C0, RL7023:
	default:
		return nil, fmt.Errorf("emul: unknown dialect %q", cfg.Dialect)
	}
	if cfg.Link == "" {
		return nil, errors.New("emul: Link path required")
	}
	if cfg.Channel == 0 {
		cfg.Channel = 0x21
	}
	if cfg.PanID == 0 {
		cfg.PanID = 0x8888
	}
	if cfg.MAC == "" {
		cfg.MAC = "001D129012340001"
	}
	own, err := linkLocal(cfg.MAC)
	if err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = energy.SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Faults == nil {
		cfg.Faults = &Faults{}
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	coord := "001D129012345678"
	if cfg.Network != nil {
		if n := cfg.Network.Nodes(); len(n) > 0 {
			coord = n[0].MAC
		}
	}
	if _, err := linkLocal(coord); err != nil {
		return nil, fmt.Errorf("emul: coordinator: %w", err)
	}
	p, err := openPTY(cfg.Link)
	if err != nil {
		return nil, err
	}
	m := &Module{
		cfg: cfg, log: cfg.Log, clk: cfg.Clock, pty: p, coord: coord, ownLL: own,
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5DEECE66D)),
		id:  cfg.ID, pw: cfg.Password,
	}
	if cfg.Dialect == RL7023 {
		m.wopt = 1
	}
	m.powerOn()
	return m, nil
}

// Path is the symlink the driver opens.
func (m *Module) Path() string { return m.pty.path }

// Faults returns the live fault settings.
func (m *Module) Faults() *Faults { return m.cfg.Faults }

// Stats returns the counters.
func (m *Module) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// SetCredentials changes the credentials the PAN accepts.
func (m *Module) SetCredentials(id, password string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.id, m.pw = id, password
}

func (m *Module) count(f func(*Stats)) {
	m.mu.Lock()
	f(&m.stats)
	m.mu.Unlock()
}

func (m *Module) powerOn() {
	m.st = state{echo: true, gen: m.st.gen + 1}
	m.in, m.need, m.hdr, m.data = m.in[:0], 0, nil, nil
}

func (m *Module) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * m.cfg.TimeScale)
}

// Run serves the pty until ctx is done, then closes it and removes the
// link.
func (m *Module) Run(ctx context.Context) error {
	defer m.pty.close()
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		m.applyFaults()
		wait := 20 * time.Millisecond
		now := m.clk.Now()
		for len(m.sched) > 0 && !m.sched[0].at.After(now) {
			s := m.sched[0]
			m.sched = m.sched[1:]
			if s.gen == m.st.gen {
				s.fn()
			}
		}
		if len(m.sched) > 0 {
			wait = min(wait, max(m.sched[0].at.Sub(now), time.Millisecond))
		}
		m.pty.master.SetReadDeadline(time.Now().Add(wait))
		n, err := m.pty.master.Read(buf)
		for _, c := range buf[:n] {
			m.feed(c)
		}
		switch {
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		case errors.Is(err, unix.EIO):
			time.Sleep(5 * time.Millisecond) // no reader on the slave side yet
		default:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("emul: read: %w", err)
		}
	}
	return nil
}

// after runs fn at now+d unless the module is reset meanwhile.
func (m *Module) after(d time.Duration, fn func()) {
	s := scheduled{at: m.clk.Now().Add(d), gen: m.st.gen, fn: fn}
	i := sort.Search(len(m.sched), func(i int) bool { return m.sched[i].at.After(s.at) })
	m.sched = append(m.sched, scheduled{})
	copy(m.sched[i+1:], m.sched[i:])
	m.sched[i] = s
}

// write sends b to the driver, with junk lines before it when asked.
func (m *Module) write(b []byte) {
	if m.cfg.Faults.garbageOn() && m.rng.IntN(2) == 0 {
		m.rawWrite(m.junk())
	}
	m.rawWrite(b)
}

func (m *Module) rawWrite(b []byte) {
	m.pty.master.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := m.pty.master.Write(b); err != nil {
		m.log.Debug("emul: write dropped", "err", err)
	}
}

// lines writes each line with CRLF, after SlowReplies.
func (m *Module) lines(ls ...string) {
	var b []byte
	for _, l := range ls {
		b = append(b, l...)
		b = append(b, '\r', '\n')
	}
	if d := m.cfg.Faults.slow(); d > 0 {
		m.after(d, func() { m.write(b) })
		return
	}
	m.write(b)
}

// junk is a line of random bytes that is no valid module output.
func (m *Module) junk() []byte {
	b := make([]byte, 1+m.rng.IntN(60))
	for i := range b {
		c := byte(m.rng.IntN(256))
		for c == '\r' || c == '\n' {
			c = byte(m.rng.IntN(256))
		}
		b[i] = c
	}
	b[0] = '#' // never OK, FAIL, EVENT, ERXUDP, an echo or a PAN field
	return append(b, '\r', '\n')
}

func (m *Module) applyFaults() {
	reset, ev24, ev28, txLimit := m.cfg.Faults.take()
	if txLimit != m.txLimit {
		m.txLimit = txLimit
		code := map[bool]string{true: "32", false: "33"}[txLimit]
		m.rawWrite([]byte(m.event(code, m.ownLL, "") + "\r\n"))
	}
	if reset {
		m.log.Info("emul: module reset (fault)")
		m.count(func(s *Stats) { s.Resets++ })
		m.powerOn()
	}
	for _, code := range []struct {
		on   bool
		code string
	}{{ev24, "24"}, {ev28, "28"}} {
		if code.on && m.st.session {
			m.st.session = false
			m.rawWrite([]byte(m.event(code.code, m.coordLL(), "") + "\r\n"))
		}
	}
}

// Faults are injected at run time; the zero value injects none. Safe for
// concurrent use.
type Faults struct {
	mu      sync.Mutex
	garbage bool
	slowBy  time.Duration
	drop    bool
	reset   bool
	ev24    bool
	ev28    bool
	txLimit bool
}

// ResetModule makes the module forget its configuration and session, as
// after power-on (it prints nothing).
func (f *Faults) ResetModule() { f.set(func() { f.reset = true }) }

// Event24 drops the session and emits EVENT 24.
func (f *Faults) Event24() { f.set(func() { f.ev24 = true }) }

// Event28 drops the session and emits EVENT 28.
func (f *Faults) Event28() { f.set(func() { f.ev28 = true }) }

// SetGarbageLines injects random junk lines between replies.
func (f *Faults) SetGarbageLines(on bool) { f.set(func() { f.garbage = on }) }

// SetSlowReplies delays every command reply by d.
func (f *Faults) SetSlowReplies(d time.Duration) { f.set(func() { f.slowBy = d }) }

// SetTxLimit emits EVENT 32 (transmit-time limit reached) when on and
// EVENT 33 (released) when turned off again.
func (f *Faults) SetTxLimit(on bool) { f.set(func() { f.txLimit = on }) }

// SetDropReplies suppresses the network's ERXUDP replies.
func (f *Faults) SetDropReplies(on bool) { f.set(func() { f.drop = on }) }

func (f *Faults) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *Faults) take() (reset, ev24, ev28, txLimit bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reset, ev24, ev28, txLimit = f.reset, f.ev24, f.ev28, f.txLimit
	f.reset, f.ev24, f.ev28 = false, false, false
	return
}

func (f *Faults) garbageOn() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.garbage
}

func (f *Faults) slow() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slowBy
}

func (f *Faults) dropOn() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drop
}
