package wisun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/health"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// Dialect is the module family; it decides the side arguments and whether
// ROPT/WOPT exist.
type Dialect string

// Dialects.
const (
	BP35A1 Dialect = "bp35a1" // ROHM BP35A1
	BP35C0 Dialect = "bp35c0" // ROHM BP35C0: side argument on SKSCAN/SKSENDTO/EVENT/ERXUDP
	RL7023 Dialect = "rl7023" // Tessera RL7023 Stick-D: no ROPT/WOPT, always hex ASCII
)

// Role is the network the module joins; on the BP35C0 it is the side.
type Role string

// Roles.
const (
	RouteB Role = "routeb" // side 0: the smart meter's route B
	HAN    Role = "han"    // side 1: home area network
)

// HealthNotJoined is the health condition raised while no PANA session is
// up.
const HealthNotJoined = "wisun_not_joined"

// MulticastAddr is the all-nodes link-local multicast address, as the
// module prints it.
const MulticastAddr = "FF02:0000:0000:0000:0000:0000:0000:0001"

// Errors.
var (
	ErrNotJoined  = errors.New("wisun: not joined")
	ErrStopped    = errors.New("wisun: module stopped")
	ErrTimeout    = errors.New("wisun: no answer from module")
	ErrJoinFailed = errors.New("wisun: PANA authentication failed (EVENT 24)")
	ErrNoPAN      = errors.New("wisun: no matching PAN found by scan")
)

// Config of a Module. Zero values take the defaults noted.
type Config struct {
	// Dialect of the module; "" detects it (see the package doc).
	Dialect Dialect
	// Role is RouteB (default) or HAN; it selects the BP35C0 side.
	Role Role
	// ID (32 characters) and Password (1-32 characters) are the route-B
	// credentials. They are never logged nor put into errors.
	ID, Password string
	// Channel (33-60) and PanID, when both set together with
	// CoordinatorMAC (16 hex), skip the scan. Channel alone restricts the
	// scan to that channel; PanID alone filters beacons.
	Channel, PanID int
	CoordinatorMAC string
	// ScanDurations are the SKSCAN durations tried in turn (default
	// 4, 5, 6, 7).
	ScanDurations []int
	// BinaryRX keeps ERXUDP data binary (WOPT 00) instead of hex ASCII
	// (WOPT 01, the default); ignored on the RL7023 (always ASCII).
	BinaryRX bool
	// ResetOnStart sends SKRESET before the first configuration.
	ResetOnStart bool
	// Clock times timeouts and backoff (default the system clock).
	Clock energy.Clock
	// Log receives diagnostics (default: discarded).
	Log *slog.Logger
	// CommandTimeout bounds one command (default 2 s).
	CommandTimeout time.Duration
	// JoinTimeout bounds SKJOIN until EVENT 25/24 (default 60 s).
	JoinTimeout time.Duration
	// RetryBackoff is the first delay after a failed join; it doubles up
	// to MaxBackoff (defaults 2 s and 2 min).
	RetryBackoff, MaxBackoff time.Duration
	// ProbeInterval is how often a joined module is asked SKINFO, to spot a
	// silent reset (default 60 s).
	ProbeInterval time.Duration
	// PacketQueue is the capacity of Packets() (default 32); when the
	// consumer is slow the oldest packet is dropped and counted.
	PacketQueue int
	// Health, when set, carries HealthNotJoined.
	Health *health.Registry
}

// Stats counts what went wrong on the line.
type Stats struct {
	BadInput       int64 // malformed, truncated or overlong input discarded
	PacketsDropped int64 // datagrams dropped because Packets() was full
	EventsDropped  int64 // asynchronous events dropped (control loop behind)
	SessionsLost   int64 // sessions lost after having joined
	JoinAttempts   int64 // SKJOIN sent
}

// Module drives one SKSTACK-IP module and is an [echonet.Transport].
type Module struct {
	port serialport.Port
	cfg  Config
	log  *slog.Logger
	clk  energy.Clock
	side int

	packets chan echonet.Packet
	async   chan asyncMsg // reader -> control loop
	lost    chan error    // reader/commands -> control loop: re-join now
	sem     chan struct{} // one outstanding command
	dead    chan struct{} // closed when the reader has exited

	asciiRX  atomic.Bool
	echoOff  atomic.Bool
	silent   atomic.Int32 // consecutive command timeouts
	badInput atomic.Int64
	pktDrop  atomic.Int64
	evDrop   atomic.Int64
	lostN    atomic.Int64
	joinN    atomic.Int64

	mu       sync.Mutex
	started  bool
	readErr  error
	pending  *pending
	panBlock []string // open EPANDESC block, nil when none
	dialect  Dialect
	joined   bool
	joinedCh chan struct{} // closed while joined
	peer     string
	paused   bool
	resumeCh chan struct{} // closed when sending may resume
}

var _ echonet.Transport = (*Module)(nil)

type asyncMsg struct {
	ev  Event
	pan *PANDesc
}

// New checks cfg and returns a module on p. Run takes ownership of p and
// closes it when it returns.
func New(p serialport.Port, cfg Config) (*Module, error) {
	if p == nil {
		return nil, errors.New("wisun: nil port")
	}
	switch cfg.Dialect {
	case "", BP35A1, BP35C0, RL7023:
	default:
		return nil, fmt.Errorf("wisun: unknown dialect %q", cfg.Dialect)
	}
	side := 0
	switch cfg.Role {
	case "":
		cfg.Role = RouteB
	case RouteB:
	case HAN:
		side = 1
	default:
		return nil, fmt.Errorf("wisun: unknown role %q (want routeb or han)", cfg.Role)
	}
	if len(cfg.ID) != 32 || !printable(cfg.ID) {
		return nil, errors.New("wisun: route-B ID must be 32 printable characters without spaces")
	}
	if len(cfg.Password) == 0 || len(cfg.Password) > 32 || !printable(cfg.Password) {
		return nil, errors.New("wisun: password must be 1-32 printable characters without spaces")
	}
	if cfg.Channel != 0 && (cfg.Channel < 33 || cfg.Channel > 60) {
		return nil, fmt.Errorf("wisun: channel %d out of range 33-60", cfg.Channel)
	}
	if cfg.PanID < 0 || cfg.PanID > 0xFFFF {
		return nil, fmt.Errorf("wisun: PAN ID %d out of range", cfg.PanID)
	}
	if cfg.CoordinatorMAC != "" && !isHex(cfg.CoordinatorMAC, 16) {
		return nil, errors.New("wisun: coordinator MAC must be 16 hex digits")
	}
	if len(cfg.ScanDurations) == 0 {
		cfg.ScanDurations = []int{4, 5, 6, 7}
	}
	for _, d := range cfg.ScanDurations {
		if d < 0 || d > 14 {
			return nil, fmt.Errorf("wisun: scan duration %d out of range 0-14", d)
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = energy.SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.CommandTimeout, 2*time.Second)
	def(&cfg.JoinTimeout, 60*time.Second)
	def(&cfg.RetryBackoff, 2*time.Second)
	def(&cfg.MaxBackoff, 2*time.Minute)
	def(&cfg.ProbeInterval, 60*time.Second)
	if cfg.PacketQueue <= 0 {
		cfg.PacketQueue = 32
	}
	m := &Module{
		port:     p,
		cfg:      cfg,
		log:      cfg.Log.With("module", "wisun", "id", idTail(cfg.ID)),
		clk:      cfg.Clock,
		side:     side,
		packets:  make(chan echonet.Packet, cfg.PacketQueue),
		async:    make(chan asyncMsg, 64),
		lost:     make(chan error, 1),
		sem:      make(chan struct{}, 1),
		dead:     make(chan struct{}),
		dialect:  cfg.Dialect,
		joinedCh: make(chan struct{}),
	}
	m.setNotJoined("not started")
	return m, nil
}

// Run configures the module, joins the PAN and keeps it joined until ctx is
// done; then it closes the port. It returns nil after ctx is cancelled and
// an error when the port fails. Run may be called once.
func (m *Module) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("wisun: Run called twice")
	}
	m.started = true
	m.mu.Unlock()
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	go m.readLoop(inner, cancel)
	m.control(inner)
	cancel()
	m.port.Close() // unblocks a pending read
	<-m.dead
	m.setNotJoined("stopped")
	m.mu.Lock()
	err := m.readErr
	m.mu.Unlock()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Joined reports whether a PANA session is up.
func (m *Module) Joined() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.joined
}

// WaitJoined blocks until the module is joined, ctx is done or Run ended.
func (m *Module) WaitJoined(ctx context.Context) error {
	for {
		m.mu.Lock()
		joined, ch := m.joined, m.joinedCh
		m.mu.Unlock()
		if joined {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-m.dead:
			return ErrStopped
		}
	}
}

// Peer is the PAN coordinator's link-local address ("" before the first
// join).
func (m *Module) Peer() echonet.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	return echonet.Addr(m.peer)
}

// Dialect is the configured or detected dialect ("" until detected).
func (m *Module) Dialect() Dialect {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dialect
}

// Stats returns the error counters.
func (m *Module) Stats() Stats {
	return Stats{
		BadInput:       m.badInput.Load(),
		PacketsDropped: m.pktDrop.Load(),
		EventsDropped:  m.evDrop.Load(),
		SessionsLost:   m.lostN.Load(),
		JoinAttempts:   m.joinN.Load(),
	}
}

// Packets delivers ECHONET datagrams (UDP 3610) received from the PAN; it
// is closed when Run ends.
func (m *Module) Packets() <-chan echonet.Packet { return m.packets }

// Multicast sends frame to all nodes (FF02::1).
func (m *Module) Multicast(ctx context.Context, frame []byte) error {
	return m.Send(ctx, MulticastAddr, frame)
}

// Send transmits frame to dst (full 8×4 IPv6 form) on UDP 3610 with
// SKSENDTO, header and payload in one write. It waits while transmission
// is suspended (EVENT 32) and fails with ErrNotJoined without a session.
func (m *Module) Send(ctx context.Context, dst echonet.Addr, frame []byte) error {
	if len(frame) == 0 || len(frame) > MaxData {
		return fmt.Errorf("wisun: send: frame of %d bytes (want 1-%d)", len(frame), MaxData)
	}
	if !ValidIPv6(string(dst)) {
		return fmt.Errorf("wisun: send: destination %q is not a full IPv6 address", dst)
	}
	if err := m.waitSendable(ctx); err != nil {
		return err
	}
	sideArg := ""
	if m.Dialect() == BP35C0 {
		sideArg = fmt.Sprintf("%d ", m.side)
	}
	hdr := fmt.Sprintf("SKSENDTO 1 %s %04X 1 %s%04X ", strings.ToUpper(string(dst)), echonet.Port, sideArg, len(frame))
	r, err := m.command(ctx, hdr, frame, m.cfg.CommandTimeout, false)
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && ce.Code == 10 {
			m.signalLost(errors.New("SKSENDTO failed with ER10: no session"))
		}
		return fmt.Errorf("wisun: send to %s: %w", dst, err)
	}
	if r.ev21 > 0 {
		return fmt.Errorf("wisun: send to %s: EVENT 21 reports failure %02X", dst, r.ev21)
	}
	return nil
}

func (m *Module) waitSendable(ctx context.Context) error {
	for {
		m.mu.Lock()
		joined, paused, ch := m.joined, m.paused, m.resumeCh
		m.mu.Unlock()
		if !joined {
			return ErrNotJoined
		}
		if !paused {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wisun: send suspended (EVENT 32): %w", ctx.Err())
		case <-m.dead:
			return ErrStopped
		}
	}
}

func (m *Module) setJoined(peer string) {
	// Health first: whoever WaitJoined wakes sees a consistent state
	// (seen under qemu-user, where the gap between the two is wide).
	if m.cfg.Health != nil {
		m.cfg.Health.Clear(HealthNotJoined)
	}
	m.mu.Lock()
	if !m.joined {
		m.joined = true
		close(m.joinedCh)
	}
	m.peer = peer
	m.mu.Unlock()
}

func (m *Module) setNotJoined(why string) {
	m.mu.Lock()
	if m.joined {
		m.joined = false
		m.joinedCh = make(chan struct{})
	}
	if m.paused {
		m.paused = false
		close(m.resumeCh)
	}
	m.mu.Unlock()
	if m.cfg.Health != nil {
		m.cfg.Health.Set(HealthNotJoined, "Wi-SUN module not joined: "+why)
	}
}

// signalLost asks the control loop to re-join (at most one pending).
func (m *Module) signalLost(why error) {
	select {
	case m.lost <- why:
	default:
	}
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// idTail is what may be logged of the route-B ID: its last 4 characters.
func idTail(id string) string {
	if len(id) < 4 {
		return "…"
	}
	return "…" + id[len(id)-4:]
}
