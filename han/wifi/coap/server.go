package coap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	piondtls "github.com/pion/dtls/v3"
	"github.com/plgd-dev/go-coap/v3/dtls"
	dtlsserver "github.com/plgd-dev/go-coap/v3/dtls/server"
	"github.com/plgd-dev/go-coap/v3/mux"
	coapnet "github.com/plgd-dev/go-coap/v3/net"
	"github.com/plgd-dev/go-coap/v3/options"
	"github.com/plgd-dev/go-coap/v3/udp"
	udpclient "github.com/plgd-dev/go-coap/v3/udp/client"
	udpserver "github.com/plgd-dev/go-coap/v3/udp/server"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/health"
	"github.com/gatewayd-project/gatewayd/internal/loopback"
)

// Limits.
const (
	// MaxSessions bounds concurrent DTLS sessions (and plain peers).
	MaxSessions = 512
	// MaxObservers bounds observations in all; MaxObserversPerSession
	// bounds one session's (an appliance needs 3: ctl, price, limit).
	MaxObservers           = 2048
	MaxObserversPerSession = 8
	// maxMessage bounds a CoAP message, also a block-wise assembled one.
	maxMessage = 16 << 10
	// handshakeTimeout bounds a DTLS handshake.
	handshakeTimeout = 10 * time.Second
)

// Defaults of [Options].
const (
	DefaultMaxLifetime = time.Hour
	DefaultLifetime    = 10 * time.Minute
)

// HealthStale is the health condition raised while a registered
// appliance's registration has expired (it stopped refreshing).
const HealthStale = "coap_appliance_expired"

// Options configure a [Server].
type Options struct {
	// Listen is the coaps (DTLS 1.2, PSK) UDP address; "" disables it.
	Listen string
	// PlainListen is a plain coap address, loopback only; "" disables.
	// A plain peer has no identity: it may act for any paired endpoint
	// (loopback: tools and emulators on the gateway itself).
	PlainListen string
	Store       *Store
	Registry    *devices.Registry
	Clock       energy.Clock
	Log         *slog.Logger
	Health      *health.Registry
	// MaxLifetime caps a registration's lifetime (default 1 h; lifetimes
	// asked above it are granted as MaxLifetime). Inactivity is how long a
	// silent session is kept (default MaxLifetime + 5 min): it must be
	// above MaxLifetime, so a session outlives any refresh interval an
	// appliance may use (it refreshes at the latest when its lifetime
	// ends).
	MaxLifetime time.Duration
	Inactivity  time.Duration
	// ReloadEvery is how often the pairing file is checked for changes by
	// other processes (default 2 s).
	ReloadEvery time.Duration
}

// endpoint is the gateway's state of one registered appliance.
type endpoint struct {
	ep       string
	kind     string
	rdID     int
	lifetime time.Duration
	expires  time.Time
	added    bool // its device is in the registry
	online   bool
	info     Info
	ctl      Ctl
	status   Status
	meas     Measurement
	measAt   time.Time
}

type session struct {
	identity string // "" for plain
	cc       *udpclient.Conn
}

// Server is the CoAP appliance API. It is safe for concurrent use.
type Server struct {
	o   Options
	log *slog.Logger

	router *mux.Router
	dtls   *dtlsserver.Server
	plain  *udpserver.Server
	dl     *coapnet.DTLSListener
	pl     *coapnet.UDPConn

	seq atomic.Uint64 // command ids and observe sequence numbers

	mu       sync.Mutex
	eps      map[string]*endpoint
	rds      map[int]string // rd id -> ep
	nextRD   int
	sessions map[*udpclient.Conn]*session
	obs      *observers
	price    []byte
	limit    []byte
}

type identityKey struct{}

// New builds a server; Listen binds it.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Registry == nil {
		return nil, errors.New("coap: store and registry are required")
	}
	if o.Clock == nil {
		o.Clock = energy.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = DefaultMaxLifetime
	}
	if o.Inactivity <= 0 {
		o.Inactivity = o.MaxLifetime + 5*time.Minute
	}
	if o.Inactivity <= o.MaxLifetime {
		return nil, fmt.Errorf("coap: inactivity timeout %v must be above the longest lifetime %v", o.Inactivity, o.MaxLifetime)
	}
	if o.ReloadEvery <= 0 {
		o.ReloadEvery = 2 * time.Second
	}
	if o.PlainListen != "" && !loopback.HostPort(o.PlainListen) {
		return nil, fmt.Errorf("coap: plain listen %s: plain coap is allowed on loopback only", o.PlainListen)
	}
	s := &Server{o: o, log: o.Log, eps: map[string]*endpoint{}, rds: map[int]string{},
		sessions: map[*udpclient.Conn]*session{}, price: []byte("{}"), limit: []byte(`{"simple":0,"importLimitW":0,"exportLimitW":0}`)}
	s.obs = newObservers(s.log, &s.seq, s.o.Clock.Now)
	s.router = s.routes()
	return s, nil
}

// Listen binds the configured sockets.
func (s *Server) Listen() error {
	if s.o.Listen != "" {
		cfg := &piondtls.Config{
			PSK:             s.psk,
			PSKIdentityHint: []byte("gatewayd"),
			CipherSuites: []piondtls.CipherSuiteID{piondtls.TLS_PSK_WITH_AES_128_CCM_8, piondtls.TLS_PSK_WITH_AES_128_GCM_SHA256,
				piondtls.TLS_PSK_WITH_AES_128_CBC_SHA256},
			ExtendedMasterSecret: piondtls.RequestExtendedMasterSecret,
		}
		l, err := coapnet.NewDTLSListener("udp", s.o.Listen, cfg)
		if err != nil {
			return fmt.Errorf("coap: listen %s: %w", s.o.Listen, err)
		}
		s.dl = l
	}
	if s.o.PlainListen != "" {
		l, err := coapnet.NewListenUDP("udp", s.o.PlainListen)
		if err != nil {
			if s.dl != nil {
				s.dl.Close()
			}
			return fmt.Errorf("coap: plain listen %s: %w", s.o.PlainListen, err)
		}
		s.pl = l
	}
	return nil
}

// Addr is the bound coaps address (nil when disabled).
func (s *Server) Addr() net.Addr {
	if s.dl == nil {
		return nil
	}
	return s.dl.Addr()
}

// PlainAddr is the bound plain coap address (nil when disabled).
func (s *Server) PlainAddr() net.Addr {
	if s.pl == nil {
		return nil
	}
	return s.pl.LocalAddr()
}

// psk is pion's PSK callback: the client's identity in, its key out. The
// key is never logged.
func (s *Server) psk(identity []byte) ([]byte, error) {
	a, ok := s.o.Store.Lookup(string(identity))
	if !ok {
		s.log.Warn("coap: handshake with an unknown identity", "identity", strconv.Quote(string(identity)))
		return nil, fmt.Errorf("%w: %q", ErrUnknownAppliance, identity)
	}
	return a.PSK, nil
}

func (s *Server) onNewDTLS(cc *udpclient.Conn) {
	dc, ok := cc.NetConn().(*piondtls.Conn)
	if !ok {
		_ = cc.Close()
		return
	}
	ctx, cancel := context.WithTimeout(cc.Context(), handshakeTimeout)
	defer cancel()
	if err := dc.HandshakeContext(ctx); err != nil {
		s.log.Debug("coap: handshake failed", "peer", cc.RemoteAddr(), "err", err)
		_ = cc.Close()
		return
	}
	st, ok := dc.ConnectionState()
	if !ok || len(st.IdentityHint) == 0 {
		_ = cc.Close()
		return
	}
	s.addSession(cc, string(st.IdentityHint))
}

func (s *Server) onNewPlain(cc *udpclient.Conn) { s.addSession(cc, "") }

func (s *Server) addSession(cc *udpclient.Conn, identity string) {
	s.mu.Lock()
	if len(s.sessions) >= MaxSessions {
		s.mu.Unlock()
		s.log.Warn("coap: too many sessions; closing a new one", "peer", cc.RemoteAddr())
		_ = cc.Close()
		return
	}
	s.sessions[cc] = &session{identity: identity, cc: cc}
	s.mu.Unlock()
	cc.SetContextValue(identityKey{}, identity)
	cc.AddOnClose(func() {
		s.mu.Lock()
		delete(s.sessions, cc)
		s.mu.Unlock()
		s.obs.dropConn(cc)
	})
	if identity != "" {
		s.log.Info("coap: appliance connected", "identity", identity, "peer", cc.RemoteAddr())
	}
}

// Run serves until ctx ends; the appliances' devices leave the registry
// then.
func (s *Server) Run(ctx context.Context) error {
	if s.dl == nil && s.pl == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	onInactive := func(cc *udpclient.Conn) { _ = cc.Close() }
	errc := make(chan error, 2)
	n := 0
	if s.dl != nil {
		s.dtls = dtls.NewServer(options.WithMux(s.router), options.WithContext(ctx),
			options.WithInactivityMonitor(s.o.Inactivity, onInactive),
			options.WithMaxMessageSize(maxMessage), options.WithOnNewConn(s.onNewDTLS),
			options.WithErrors(func(err error) { s.log.Debug("coap: dtls", "err", err) }))
		n++
		go func() { errc <- s.dtls.Serve(s.dl) }()
	}
	if s.pl != nil {
		s.plain = udp.NewServer(options.WithMux(s.router), options.WithContext(ctx),
			options.WithInactivityMonitor(s.o.Inactivity, onInactive),
			options.WithMaxMessageSize(maxMessage), options.WithOnNewConn(s.onNewPlain),
			options.WithErrors(func(err error) { s.log.Debug("coap: udp", "err", err) }))
		n++
		go func() { errc <- s.plain.Serve(s.pl) }()
	}
	go s.obs.run(ctx)
	t := s.o.Clock.NewTimer(time.Second)
	reload := s.o.Clock.Now().Add(s.o.ReloadEvery)
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			t.Stop()
			break loop
		case err = <-errc:
			n--
			t.Stop()
			break loop
		case <-t.C():
			now := s.o.Clock.Now()
			s.expire(now)
			s.obs.refresh()
			if !now.Before(reload) {
				reload = now.Add(s.o.ReloadEvery)
				removed, rerr := s.o.Store.Reload()
				if rerr != nil {
					s.log.Warn("coap: pairing store", "err", rerr)
				}
				for _, id := range removed {
					s.closeIdentity(id)
				}
			}
			t = s.o.Clock.NewTimer(time.Second)
		}
	}
	if s.dtls != nil {
		s.dtls.Stop()
	}
	if s.plain != nil {
		s.plain.Stop()
	}
	for ; n > 0; n-- {
		<-errc
	}
	s.mu.Lock()
	for _, e := range s.eps {
		if e.added {
			s.o.Registry.Remove(deviceID(e.ep))
			e.added = false
		}
	}
	s.mu.Unlock()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// deviceID is the registry id of an endpoint.
func deviceID(ep string) energy.DeviceID { return energy.DeviceID("coap:" + ep) }

// Revoke unpairs an appliance: its key is deleted, its sessions closed
// and its device removed.
func (s *Server) Revoke(identity string) error {
	if err := s.o.Store.Revoke(identity); err != nil {
		return err
	}
	s.closeIdentity(identity)
	return nil
}

func (s *Server) closeIdentity(identity string) {
	s.mu.Lock()
	var ccs []*udpclient.Conn
	for cc, se := range s.sessions {
		if se.identity == identity {
			ccs = append(ccs, cc)
		}
	}
	if e, ok := s.eps[identity]; ok {
		if e.added {
			s.o.Registry.Remove(deviceID(identity))
		}
		delete(s.rds, e.rdID)
		delete(s.eps, identity)
	}
	s.mu.Unlock()
	for _, cc := range ccs {
		_ = cc.Close()
	}
	s.log.Info("coap: appliance revoked; sessions closed", "identity", identity, "sessions", len(ccs))
}

// expire marks appliances whose registration lifetime ran out offline.
func (s *Server) expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stale := 0
	for _, e := range s.eps {
		if e.online && now.After(e.expires) {
			e.online = false
			delete(s.rds, e.rdID)
			e.rdID = 0
			s.updateLocked(e, now)
			s.log.Warn("coap: registration expired; appliance offline", "ep", e.ep)
		}
		if !e.online && e.added {
			stale++
		}
	}
	if s.o.Health != nil {
		if stale > 0 {
			s.o.Health.Set(HealthStale, fmt.Sprintf("%d CoAP appliance(s) stopped refreshing their registration", stale))
		} else {
			s.o.Health.Clear(HealthStale)
		}
	}
}

// updateLocked pushes an endpoint's state to the registry.
func (s *Server) updateLocked(e *endpoint, now time.Time) {
	if !e.added {
		return
	}
	id := deviceID(e.ep)
	d, ok := s.o.Registry.Device(id)
	if !ok {
		return
	}
	st := d.State
	st.Online = e.online
	st.PowerW = int64(e.meas.PowerW)
	st.EnergyWh = int64(e.meas.EnergyWh)
	if !e.measAt.IsZero() {
		st.Updated = e.measAt
	}
	if e.status.State != "" {
		st.On = running(e.status.State)
		if e.status.RemainingWh != nil {
			j := energy.Job{RemainingWh: *e.status.RemainingWh}
			if e.status.Deadline != nil {
				j.Deadline = *e.status.Deadline
			}
			st.Job = &j
		}
	}
	if st.Updated.IsZero() {
		st.Updated = now
	}
	s.o.Registry.Update(id, st)
}

// SetPrice publishes the /price document; observers are notified when it
// changed.
func (s *Server) SetPrice(p Price) {
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	s.mu.Lock()
	same := bytes.Equal(b, s.price)
	s.price = b
	s.mu.Unlock()
	if !same {
		s.obs.notify("/price", b)
	}
}

// SetGridLimit publishes the /grid/limit document; observers are
// notified when it changed.
func (s *Server) SetGridLimit(l GridLimit) {
	b, err := json.Marshal(l)
	if err != nil {
		return
	}
	s.mu.Lock()
	same := bytes.Equal(b, s.limit)
	s.limit = b
	s.mu.Unlock()
	if !same {
		s.obs.notify("/grid/limit", b)
	}
}

// Endpoint is what the web API shows of a paired appliance.
type Endpoint struct {
	Public
	Registered bool       `json:"registered"`
	Kind       string     `json:"kind,omitempty"`
	Device     string     `json:"device,omitempty"`
	State      string     `json:"state,omitempty"`
	PowerW     float64    `json:"power_w"`
	Expires    *time.Time `json:"expires,omitempty"`
}

// Endpoints lists the paired appliances with their registration state.
func (s *Server) Endpoints() []Endpoint {
	list := s.o.Store.List()
	out := make([]Endpoint, 0, len(list))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range list {
		e := Endpoint{Public: p}
		if ep, ok := s.eps[p.Identity]; ok {
			e.Registered, e.Kind, e.State, e.PowerW = ep.online, ep.kind, ep.status.State, ep.meas.PowerW
			if ep.added {
				e.Device = string(deviceID(ep.ep))
			}
			if ep.online {
				x := ep.expires
				e.Expires = &x
			}
		}
		out = append(out, e)
	}
	return out
}

// Store is the pairing store the server uses.
func (s *Server) Store() *Store { return s.o.Store }

// driver is the registry's handle on the server: commands become /ctl
// notifications. Command never waits for the appliance: the newest
// command replaces an undelivered one (coalescing), so a slow or dead
// appliance never blocks the controller.
type driver struct{ s *Server }

var _ devices.Driver = driver{}

func (d driver) Command(ctx context.Context, c energy.Command) error {
	s := d.s
	ep, ok := epOf(c.Device)
	if !ok {
		return energy.ErrUnknownDevice
	}
	dev, ok := s.o.Registry.Device(c.Device)
	if !ok {
		return energy.ErrUnknownDevice
	}
	now := s.o.Clock.Now()
	ctl := ctlFor(c, dev.Caps, dev.State.Job, now, s.seq.Add(1))
	b, err := json.Marshal(ctl)
	if err != nil {
		return err
	}
	s.mu.Lock()
	e, ok := s.eps[ep]
	if !ok || !e.online {
		s.mu.Unlock()
		return energy.ErrOffline
	}
	e.ctl = ctl
	s.mu.Unlock()
	s.obs.notify("/dev/"+ep+"/ctl", b)
	st := dev.State
	st.On = c.Kind == energy.CmdOn || c.Kind == energy.CmdNormal || c.Kind == energy.CmdLimit
	if c.Kind == energy.CmdLimit {
		st.LimitW = c.LimitW
	} else if c.Kind == energy.CmdNormal {
		st.LimitW = 0
	}
	s.o.Registry.Update(c.Device, st)
	return nil
}

func epOf(id energy.DeviceID) (string, bool) {
	s := string(id)
	if len(s) < 6 || s[:5] != "coap:" {
		return "", false
	}
	return s[5:], true
}

func readBody(r *mux.Message) ([]byte, error) {
	if r.Body() == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body(), MaxPayload+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayload {
		return nil, errTooLarge
	}
	return b, nil
}

var errTooLarge = fmt.Errorf("payload exceeds %d bytes", MaxPayload)
