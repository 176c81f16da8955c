package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/board"
	"github.com/gatewayd-project/gatewayd/bus"
	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/ble"
	"github.com/gatewayd-project/gatewayd/han/wisun"
	"github.com/gatewayd-project/gatewayd/health"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/metering-link/dlt645"
	"github.com/gatewayd-project/gatewayd/metering-link/iec62056"
	"github.com/gatewayd-project/gatewayd/metering-link/routeb"
	"github.com/gatewayd-project/gatewayd/storage"
	"github.com/gatewayd-project/gatewayd/web"
	"github.com/gatewayd-project/gatewayd/web/ui"
)

// gateway is the one wiring struct: it builds every subsystem from the
// config and runs them under one context.
type gateway struct {
	cfg    config.Config
	log    *slog.Logger
	clock  energy.Clock
	health *health.Registry
	bus    *bus.Bus
	cancel context.CancelFunc
	ctx    context.Context
	link   *meteringlink.Link
	store  *storage.Store
	toDB   <-chan []energy.Reading
	tokens *web.Tokens
	users  *web.Users
	web    *web.Server
	ln     net.Listener
	tls    *tls.Config
	reg    *devices.Registry
	drw    *drWire
	extra  []func(context.Context) error
	// han are the HAN bridges' run loops (han.wisun, han.echonet_ip,
	// han.coap).
	han []func(context.Context) error
	// coap is han.coap: appliance pairing and the CoAP appliance API.
	coap *coapWire
	// sys is the supervisor contract: sd_notify, watchdogs, boot mark.
	sys *systemWire

	hanMu   sync.Mutex
	hanDown map[energy.DeviceID]bool
	wraps   []func(energy.DeviceID, energy.Quantity) (energy.Decimal, bool)
	// legalWrap is the legal meter's register wrap when its driver knows
	// it only at run time (route B).
	legalWrap func() (energy.Decimal, bool)
}

func newLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func newDriver(cfg config.Config, clock energy.Clock, h *health.Registry, log *slog.Logger) (meteringlink.Driver, error) {
	m, now := cfg.Metering, clock.Now
	switch m.Protocol {
	case config.ProtocolRouteB:
		id, pw, err := wisunCredentials(cfg.StateDir, "routeb")
		if err != nil {
			return nil, fmt.Errorf("metering: %w", err)
		}
		return routeb.New(routeb.Options{Dialect: wisunDialect(m.Dialect), ID: id, Password: pw,
			Clock: clock, Log: log.With("sub", "routeb"), Health: h})
	case config.ProtocolDLT645:
		return dlt645.New(dlt645.Options{
			Address: m.Address, Baud: m.EffectiveBaud(),
			ResponseTimeout: m.ResponseTimeout, ByteTimeout: m.ByteTimeout, Now: now,
		})
	case config.ProtocolIEC62056:
		return iec62056.New(iec62056.Options{
			Address: m.Address, Baud: m.EffectiveBaud(),
			ResponseTimeout: m.ResponseTimeout, ByteTimeout: m.ByteTimeout, Now: now,
		})
	}
	return nil, fmt.Errorf("metering.protocol: unknown %q", m.Protocol)
}

// gatewayOptions are what the demo and tests change beyond the config.
type gatewayOptions struct {
	uiDir string
	kdf   web.KDF
	// registry holds devices the caller adds (the demo's simulated
	// appliances); nil starts an empty one.
	registry *devices.Registry
	// extra subsystems run alongside (the demo's emulators).
	extra []func(context.Context) error
	// seed varies the controller's and VEN's random delays (0: time).
	seed uint64
	// wisunTune adjusts the Wi-SUN module config (scaled-down timeouts
	// against the emulator); hanPoll is the HAN bridges' poll interval
	// (0: their default).
	wisunTune func(*wisun.Config)
	hanPoll   time.Duration
	// bleAdapter is han.ble's adapter (the demo's emulated one); nil
	// opens han.ble.hci.
	bleAdapter ble.Adapter
	// getenv reads NOTIFY_SOCKET and WATCHDOG_* (nil: os.Getenv); gpio
	// finds board pins (nil: periph's host drivers).
	getenv func(string) string
	gpio   board.Lookup
}

func newGateway(cfg config.Config, log *slog.Logger, started time.Time, gopts gatewayOptions) (*gateway, error) {
	clock := energy.SystemClock{}
	g := &gateway{cfg: cfg, log: log, clock: clock, health: health.New(clock.Now)}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.sys = newSystemWire(g, gopts.getenv)
	g.bus = bus.New(g.ctx)
	drv, err := newDriver(cfg, clock, g.health, log)
	if err != nil {
		return nil, err
	}
	g.legalWrap = func() (energy.Decimal, bool) { return energy.Decimal{}, false }
	if w, ok := drv.(interface{ Wrap() (energy.Decimal, bool) }); ok {
		g.legalWrap = w.Wrap
	}
	so := storeOptions(cfg, log.With("sub", "storage"))
	so.Clock, so.Health, so.Wrap = clock, g.health, g.wrapOf
	so.Alive = g.sys.beat("storage", 2*cfg.Storage.CommitInterval+time.Minute)
	g.store, err = storage.Open(so)
	if err != nil {
		return nil, err
	}
	// The store is the bus's lossless subscriber: a bounded queue of
	// batches; when it is full, publishers wait.
	g.toDB = g.bus.SubscribeLossless(1024)
	g.link, err = meteringlink.New(meteringlink.Options{
		Driver: drv, Path: cfg.Metering.Port, Interval: cfg.Metering.Interval,
		Clock: clock, Publisher: g.bus, Health: g.health, Log: log.With("sub", "meter"),
		TimeSync: cfg.Metering.TimeSync, Started: started,
		Checkpoint: kvCheckpoint{g.store},
		Alive:      g.sys.beat("meter link", 3*cfg.Metering.Interval+2*time.Minute),
	})
	if err != nil {
		g.store.Close()
		return nil, err
	}
	g.tokens, err = web.OpenTokens(cfg.StateDir)
	if err != nil {
		g.store.Close()
		return nil, err
	}
	g.users, err = web.OpenUsers(cfg.StateDir, gopts.kdf)
	if err != nil {
		g.store.Close()
		return nil, err
	}
	if err := g.setupTLS(); err != nil {
		g.store.Close()
		return nil, err
	}
	tariffs, err := newTariffService(g.store, log.With("sub", "tariff"))
	if err != nil {
		g.store.Close()
		return nil, err
	}
	g.reg, g.extra = gopts.registry, gopts.extra
	if g.reg == nil {
		g.reg = devices.New()
	}
	seed := gopts.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	g.drw, err = newDRWire(g, g.reg, tariffs, seed)
	if err != nil {
		g.store.Close()
		return nil, err
	}
	if err := g.setupHAN(gopts); err != nil {
		g.store.Close()
		return nil, err
	}
	homekitStatus, err := g.setupHomeKit()
	if err != nil {
		g.store.Close()
		return nil, err
	}
	var bleSvc web.BLEService
	if h := g.setupBLE(gopts); h != nil {
		bleSvc = bleWeb{h}
	}
	if err := g.setupCoAP(tariffs); err != nil {
		g.store.Close()
		return nil, err
	}
	if err := g.setupBoard(gopts.gpio); err != nil {
		g.store.Close()
		return nil, err
	}
	assets := ui.Assets()
	if gopts.uiDir != "" {
		assets = os.DirFS(gopts.uiDir)
		log.Info("serving the web UI from disk", "dir", gopts.uiDir)
	} else if assets == nil {
		log.Warn("this binary has no web UI built in: the API works, the UI page says how to build it")
	}
	g.web = web.New(web.Options{
		Logger: log.With("sub", "web"), Health: g.health, Meter: g.link, Tokens: g.tokens, Users: g.users,
		Now: clock.Now, History: g.store, Log: g.store, UI: assets,
		Backup: g.store.Backup, System: g.system, Tariff: tariffs,
		DR: webDR{g.drw.svc}, Devices: g.reg, Latest: g.bus.SubscribeLatest().Device, BLE: bleSvc,
		HomeKit:    homekitStatus,
		Appliances: g.coap,
	})
	g.health.OnChange(func(code string, active bool) {
		log.Info("health", "condition", code, "active", active)
		state := "cleared"
		if active {
			state = "raised"
		}
		// The events log records every health change; a full disk must not
		// make this recursive, so storage's own condition is not logged there.
		e := storage.Event{Time: clock.Now(), Kind: storage.EventLink, Subject: code, Details: map[string]string{"state": state}}
		if code != storage.CondDegraded {
			if err := g.store.AddEvent(e); err != nil {
				log.Warn("event not stored", "err", err)
			}
		}
		g.web.PublishLog(e)
	})
	return g, nil
}

// record writes an events-log entry (DR events, interventions) and shows
// it on the live stream.
func (g *gateway) record(kind, subject string, details map[string]string) {
	e := storage.Event{Time: g.clock.Now(), Kind: kind, Subject: subject, Details: details}
	if err := g.store.AddEvent(e); err != nil {
		g.log.Warn("event not stored", "kind", kind, "err", err)
	}
	if g.web != nil {
		g.web.PublishLog(e)
	}
}

// Listen binds the HTTP listener (before Run, so the address is known).
func (g *gateway) Listen() error {
	ln, err := net.Listen("tcp", g.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w", g.cfg.HTTP.Listen, err)
	}
	g.ln = ln
	return nil
}

// Addr is the bound HTTP address.
func (g *gateway) Addr() string { return g.ln.Addr().String() }

// URL is the address households open: https unless TLS is off, and the
// host name in place of an unspecified (all-interfaces) address.
func (g *gateway) URL() string {
	scheme := "https"
	if g.tls == nil {
		scheme = "http"
	}
	host, port, _ := net.SplitHostPort(g.Addr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// SetupURL is the one-time first-start link, "" once a user exists.
func (g *gateway) SetupURL() string {
	tok := g.web.SetupToken()
	if tok == "" {
		return ""
	}
	return g.URL() + "/#/setup/" + tok
}

// setupTLS loads or makes the certificate per http.tls.
func (g *gateway) setupTLS() error {
	switch t := g.cfg.HTTP.TLS; t.Mode {
	case config.TLSOff:
		return nil
	case config.TLSFiles:
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return fmt.Errorf("http.tls: %w", err)
		}
		g.tls = web.TLSConfig(cert)
		g.log.Info("https", "cert", t.Cert, "sha256", web.Fingerprint(cert.Certificate[0]))
	default:
		cert, fp, created, err := web.LoadOrCreateCert(g.cfg.StateDir, web.CertHosts(), g.clock.Now())
		if err != nil {
			return err
		}
		g.tls = web.TLSConfig(cert)
		msg := "https with the gateway's self-signed certificate; check this fingerprint when the browser asks"
		if created {
			msg = "https: made a self-signed certificate; check this fingerprint when the browser asks"
		}
		g.log.Info(msg, "sha256", fp)
	}
	return nil
}

func (g *gateway) system() web.System {
	m := g.cfg.Metering
	out := web.System{
		Version: version,
		Metering: web.SystemMetering{
			Protocol: m.Protocol, Port: m.Port, Baud: m.EffectiveBaud(), Address: m.Address,
			Interval: m.Interval.String(), TimeSync: m.TimeSync,
		},
		Storage: web.SystemStorage{Path: g.store.Path()},
	}
	if st, err := os.Stat(g.store.Path()); err == nil {
		out.Storage.SizeBytes = st.Size()
	}
	return out
}

// Run runs every subsystem until ctx is done; shutdown is bounded.
func (g *gateway) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The bus context outlives ctx a little: storage (later) drains it last.
	defer g.cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 6+len(g.extra)+len(g.han))
	start := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	// Storage runs until the bus closes, so it is the last to stop and
	// commits everything the others published.
	storeDone := make(chan error, 1)
	go func() { storeDone <- g.store.Run(context.Background(), g.toDB) }()
	start("meter link", g.link.Run)
	start("http", func(ctx context.Context) error { return g.web.Run(ctx, g.ln, g.tls) })
	start("dr", g.drw.run)
	start("device readings", func(ctx context.Context) error { return g.reg.PublishReadings(ctx, g.clock, g.bus) })
	for i, f := range g.han {
		start(fmt.Sprintf("han %d", i), f)
	}
	for i, f := range g.extra {
		start(fmt.Sprintf("emulator %d", i), f)
	}
	start("system", g.sys.run)
	start("admin socket", func(ctx context.Context) error { return serveAdmin(ctx, adminSocket(g.cfg.StateDir), g.store) })
	<-ctx.Done()
	g.log.Info("shutting down")
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	deadline := time.After(4500 * time.Millisecond)
	select {
	case <-done:
	case <-deadline:
		return fmt.Errorf("shutdown: subsystems did not stop in time")
	}
	g.bus.Close()
	var serr error
	select {
	case serr = <-storeDone:
	case <-deadline:
		serr = fmt.Errorf("shutdown: storage did not commit in time")
	}
	if cerr := g.store.Close(); serr == nil && cerr != nil {
		serr = cerr
	}
	select {
	case err := <-errs:
		return err
	default:
	}
	return serr
}
