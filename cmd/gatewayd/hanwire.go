package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/han/wifi/echonetip"
	"github.com/gatewayd-project/gatewayd/han/wisun"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// wisunCredentials reads a Wi-SUN network's PANA credentials from
// <state_dir>/<dir>/id and .../password (mode 0600, one line each): the
// route-B ID and password from the utility ("routeb"), or the home HAN's
// ("wisun"). They never appear in the config file or the logs.
func wisunCredentials(stateDir, dir string) (id, password string, err error) {
	base := filepath.Join(stateDir, dir)
	if id, err = readSecretAs(dir+" id", filepath.Join(base, "id")); err != nil {
		return "", "", err
	}
	if password, err = readSecretAs(dir+" password", filepath.Join(base, "password")); err != nil {
		return "", "", err
	}
	return id, password, nil
}

func wisunDialect(s string) wisun.Dialect {
	if s == config.DialectAuto {
		return ""
	}
	return wisun.Dialect(s)
}

// hanWisun runs the han.wisun module and an ECHONET Lite bridge over it
// until ctx ends: the port is (re)opened with backoff, so a module
// plugged in later or reset is picked up without a restart.
type hanWisun struct {
	g      *gateway
	cfg    config.WiSUN
	id, pw string
	log    *slog.Logger
	// br is the current session's bridge (nil between sessions): the
	// store asks it where counters wrap through one registered function.
	mu sync.Mutex
	br *echonet.Bridge
	// tune adjusts the module config (tests: scaled-down timeouts).
	tune func(*wisun.Config)
	// poll is the bridge's poll interval (0: the bridge's default).
	poll time.Duration
}

func newHANWisun(g *gateway, tune func(*wisun.Config), poll time.Duration) (*hanWisun, error) {
	w := g.cfg.HAN.WiSUN
	dir := "wisun"
	if w.Role == "routeb" {
		dir = "routeb"
	}
	id, pw, err := wisunCredentials(g.cfg.StateDir, dir)
	if err != nil {
		return nil, fmt.Errorf("han.wisun: %w", err)
	}
	h := &hanWisun{g: g, cfg: w, id: id, pw: pw, log: g.log.With("sub", "wisun"), tune: tune, poll: poll}
	g.addWrap(h.wrap)
	return h, nil
}

func (h *hanWisun) wrap(id energy.DeviceID, q energy.Quantity) (energy.Decimal, bool) {
	h.mu.Lock()
	br := h.br
	h.mu.Unlock()
	if br == nil {
		return energy.Decimal{}, false
	}
	return br.Wrap(id, q)
}

func (h *hanWisun) run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		err := h.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		h.log.Warn("wisun: module session ended; reopening", "err", err, "in", backoff)
		h.g.health.Set(wisun.HealthNotJoined, fmt.Sprintf("Wi-SUN module on %s: %v", h.cfg.Port, err))
		if !energy.Sleep(ctx, h.g.clock, backoff) {
			return nil
		}
		backoff = min(2*backoff, time.Minute)
	}
	return nil
}

func (h *hanWisun) session(ctx context.Context) error {
	port, err := serialport.Open(h.cfg.Port, serialport.Mode{Baud: 115200, DataBits: 8, Parity: serialport.ParityNone, StopBits: 1})
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-sctx.Done(); port.Close() }()
	role := wisun.HAN
	if h.cfg.Role == "routeb" {
		role = wisun.RouteB
	}
	mc := wisun.Config{Dialect: wisunDialect(h.cfg.Dialect), Role: role, ID: h.id, Password: h.pw,
		Channel: h.cfg.Channel, PanID: h.cfg.PAN, Clock: h.g.clock, Log: h.log, Health: h.g.health}
	if h.tune != nil {
		h.tune(&mc)
	}
	mod, err := wisun.New(port, mc)
	if err != nil {
		return err
	}
	cli := echonet.NewClient(mod, echonet.ClientOptions{Clock: h.g.clock, Log: h.log})
	skip := func(echonet.Addr, echonet.EOJ) bool { return false }
	if role == wisun.HAN {
		// A route-B meter in the PAN is read through metering.protocol
		// echonet-routeb (legal) or role routeb, not as a HAN device.
		skip = func(_ echonet.Addr, o echonet.EOJ) bool { return o.Class() == echonet.ClassSmartMeter }
	}
	br, err := echonet.NewBridge(echonet.BridgeOptions{Client: cli, Transport: "wisun", Registry: h.g.reg, Publisher: h.g.bus,
		Clock: h.g.clock, Log: h.log, Poll: h.poll, Skip: skip, Unreachable: h.g.unreachable})
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.br = br
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.br = nil
		h.mu.Unlock()
	}()
	errc := make(chan error, 3)
	go func() { errc <- mod.Run(sctx) }()
	go func() { errc <- cli.Run(sctx) }()
	go func() {
		if err := mod.WaitJoined(sctx); err != nil {
			errc <- err
			return
		}
		errc <- br.Run(sctx)
	}()
	err = <-errc
	cancel()
	return err
}

// unreachable keeps the health condition han_device_unreachable while any
// HAN device stopped answering.
func (g *gateway) unreachable(id energy.DeviceID, down bool) {
	g.hanMu.Lock()
	defer g.hanMu.Unlock()
	if g.hanDown == nil {
		g.hanDown = map[energy.DeviceID]bool{}
	}
	if down {
		g.hanDown[id] = true
	} else {
		delete(g.hanDown, id)
	}
	if len(g.hanDown) == 0 {
		g.health.Clear(condHANUnreachable)
		return
	}
	g.health.Set(condHANUnreachable, fmt.Sprintf("%d HAN device(s) not answering, e.g. %s", len(g.hanDown), id))
}

const condHANUnreachable = "han_device_unreachable"

// addWrap registers where a driver's counters wrap, for the store.
func (g *gateway) addWrap(f func(energy.DeviceID, energy.Quantity) (energy.Decimal, bool)) {
	g.hanMu.Lock()
	defer g.hanMu.Unlock()
	g.wraps = append(g.wraps, f)
}

// wrapOf is the store's Wrap: the meter's registers, then the HAN
// bridges' counters.
func (g *gateway) wrapOf(d energy.DeviceID, q energy.Quantity) (energy.Decimal, bool) {
	if w, ok := meterWrap(d, q); ok {
		if lw, ok := g.legalWrap(); ok {
			return lw, true // known only at run time (route B: D7 and E1)
		}
		return w, true
	}
	g.hanMu.Lock()
	fs := g.wraps
	g.hanMu.Unlock()
	for _, f := range fs {
		if w, ok := f(d, q); ok {
			return w, true
		}
	}
	return energy.Decimal{}, false
}

// setupHAN builds the HAN bridges the config enables.
func (g *gateway) setupHAN(gopts gatewayOptions) error {
	if g.cfg.HAN.WiSUN.Port != "" {
		h, err := newHANWisun(g, gopts.wisunTune, gopts.hanPoll)
		if err != nil {
			return err
		}
		g.han = append(g.han, h.run)
	}
	if e := g.cfg.HAN.EchonetIP; e.Enabled {
		poll := gopts.hanPoll
		g.han = append(g.han, func(ctx context.Context) error { return g.runEchonetIP(ctx, e, poll) })
	}
	return nil
}

// runEchonetIP bridges ECHONET Lite appliances on the LAN: discovery by
// multicast to 224.0.23.0, or by unicast to han.echonet_ip.peers when
// they are set.
func (g *gateway) runEchonetIP(ctx context.Context, e config.EchonetIP, poll time.Duration) error {
	log := g.log.With("sub", "echonet-ip")
	tr, err := echonetip.Listen(ctx, echonetip.Options{Listen: e.Listen, Interfaces: e.Interfaces,
		Multicast: len(e.Peers) == 0, Peers: e.Peers, Log: log})
	if err != nil {
		return fmt.Errorf("han.echonet_ip: %w", err)
	}
	defer tr.Close()
	cli := echonet.NewClient(tr, echonet.ClientOptions{Clock: g.clock, Timeout: 3 * time.Second, Log: log})
	br, err := echonet.NewBridge(echonet.BridgeOptions{Client: cli, Transport: "echonet-ip", Registry: g.reg, Publisher: g.bus,
		Clock: g.clock, Log: log, Poll: poll, DiscoverWindow: 2 * time.Second, Unreachable: g.unreachable})
	if err != nil {
		return err
	}
	g.addWrap(br.Wrap)
	errc := make(chan error, 2)
	go func() { errc <- cli.Run(ctx) }()
	go func() { errc <- br.Run(ctx) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	return err
}
