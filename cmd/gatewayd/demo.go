package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/devices/sim"
	"github.com/gatewayd-project/gatewayd/dr/openadr"
	vtnemul "github.com/gatewayd-project/gatewayd/dr/openadr/emul"
	"github.com/gatewayd-project/gatewayd/energy"
	echoemul "github.com/gatewayd-project/gatewayd/han/echonet/emul"
	"github.com/gatewayd-project/gatewayd/han/wifi/echonetip"
	wisunemul "github.com/gatewayd-project/gatewayd/han/wisun/emul"
	"github.com/gatewayd-project/gatewayd/metering-link/emul"
	"github.com/gatewayd-project/gatewayd/web"
)

// cmdDemo runs the real gateway against emulated peers on real transports:
// a metering core on a pseudo-terminal, simulated appliances in the device
// registry, a Wi-SUN module on a second pseudo-terminal with ECHONET Lite
// gas and water meters, and a local OpenADR 3 VTN over HTTPS.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, started time.Time) error {
	fs := newFlags("demo")
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP address (loopback)")
	state := fs.String("state", "tmp/demo", "state directory")
	protocol := fs.String("protocol", config.ProtocolDLT645, "meter protocol: dlt645 or iec62056-21")
	baud := fs.Int("baud", 9600, "meter line rate")
	level := fs.String("log-level", "info", "debug, info, warn, error")
	uiDir := fs.String("ui-dir", "", "serve the web UI from this directory (development) instead of the built-in one")
	history := fs.String("history", "", "seed this much simulated history before starting, e.g. 30d or 365d (only into an empty database)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := filepath.Abs(*state)
	if err != nil {
		return usageErr("demo: --state: %v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo: state dir: %w", err)
	}
	cfg := config.Default()
	cfg.HTTP.Listen = *listen
	cfg.HTTP.TLS = config.TLS{Mode: config.TLSOff} // loopback only: Validate refuses anything else
	cfg.StateDir = dir
	cfg.Log.Level = *level
	cfg.Metering.Protocol = *protocol
	cfg.Metering.Port = filepath.Join(dir, "meter.tty")
	cfg.Metering.Baud = *baud
	cfg.Metering.Address = config.AddressAuto
	if err := cfg.Validate(); err != nil {
		return &exitError{code: 2, err: err}
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var seed time.Duration
	if *history != "" {
		if seed, err = config.ParseDuration(*history); err != nil || seed <= 0 || seed > 2*366*24*time.Hour {
			return usageErr("demo: --history: want a duration up to 732d, e.g. 365d, not %q", *history)
		}
	}
	var counters map[energy.DeviceID]int64
	if seed > 0 {
		if counters, err = seedHistory(cfg, seed, time.Now(), log); err != nil {
			return err
		}
	}
	// The simulated appliances: drivers in the device registry whose
	// power the emulated meter measures.
	clock := energy.SystemClock{}
	reg := devices.New()
	home, err := sim.New(clock, sim.Config{EnergyWh: counters}, reg, log.With("sub", "sim-home"))
	if err != nil {
		return err
	}
	meter, err := emul.New(clock, emul.Config{
		Protocol: *protocol, Link: cfg.Metering.Port, Baud: *baud,
		Address: "123456789012", Td: 20 * time.Millisecond,
		Model: emul.ModelConfig{Extra: func(t time.Time) int64 { return home.PowerW(t) + emulatedLoadW(reg) }},
	}, log.With("sub", "emul-meter"))
	if err != nil {
		return err
	}
	// A Wi-SUN module (SKSTACK-IP on a pty) whose PAN holds a route-B
	// smart meter, a gas meter and a water meter, all ECHONET Lite; the
	// gateway bridges the gas and water meters (han.wisun, role han).
	wid, wpw, err := ensureWisunCredentials(filepath.Join(dir, "wisun"))
	if err != nil {
		return fmt.Errorf("demo: wisun credentials: %w", err)
	}
	wisunHome, err := echoemul.NewHome(clock, echoemul.Options{Nodes: wisunHomeNodes(false), Seed: 1})
	if err != nil {
		return err
	}
	wisunMod, err := startWisunEmulator(wisunemul.Config{Link: filepath.Join(dir, "wisun.tty"), Dialect: wisunemul.BP35C0,
		ID: wid, Password: wpw, Clock: clock, Log: log.With("sub", "emul-wisun"), TimeScale: 0.02, Seed: 1}, wisunHome)
	if err != nil {
		return err
	}
	cfg.HAN.WiSUN = config.WiSUN{Port: filepath.Join(dir, "wisun.tty"), Dialect: config.DialectAuto, Role: "han"}
	// ECHONET Lite appliances on IP (loopback): an air conditioner, a
	// water heater and a battery, found by unicast discovery.
	ipHome, err := echoemul.NewHome(clock, echoemul.Options{Nodes: echonetHomeNodes(false), Seed: 2})
	if err != nil {
		return err
	}
	ipSrv, err := echonetip.ServeHome(ctx, ipHome, echonetip.ServeOptions{Host: "127.0.0.1", Log: log.With("sub", "emul-echonet")})
	if err != nil {
		return fmt.Errorf("demo: echonet appliances: %w", err)
	}
	cfg.HAN.EchonetIP = config.EchonetIP{Enabled: true, Listen: "127.0.0.1:0", Interfaces: []string{}, Peers: ipSrv.Addrs()}
	// A BLE adapter (emulated) with BTHome meters, a sensor and a plug.
	bleAd, err := startBLEDemo(dir, clock)
	if err != nil {
		return err
	}
	cfg.HAN.BLE.Enabled = true
	meterDone := make(chan error, 1)
	go func() { meterDone <- meter.Run(ctx) }()
	defer func() { cancel(); <-meterDone }()

	// A local VTN with the demo utility's programs: day-ahead prices and
	// a 17:00-19:00 peak-relief event (SIMPLE 2, 3 kW import cap).
	vtnDir := filepath.Join(dir, "vtn")
	if err := os.MkdirAll(vtnDir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	venSecret, err := newSecret()
	if err != nil {
		return err
	}
	secretFile, err := writeSecret(vtnDir, "ven.secret", venSecret)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	vtn, err := startVTN(vtnemul.Config{Version: openadr.V301, ClientID: "gatewayd-demo", ClientSecret: venSecret,
		VENName: "demo-gateway"}, "127.0.0.1:0", vtnDir, log.With("sub", "emul-vtn"))
	if err != nil {
		return err
	}
	cfg.DR.VTN = config.VTN{URL: vtn.URL, ClientID: "gatewayd-demo", ClientSecretFile: secretFile, CAFile: vtn.CAFile,
		VENName: "demo-gateway", Poll: 10 * time.Second, Version: "auto"}
	cfg.DR.ContractImportW = 11000
	// CoAP appliances (an EV charger and a heat pump) over DTLS-PSK on
	// loopback.
	cfg.HAN.CoAP = config.CoAP{Enabled: true, Listen: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		return &exitError{code: 2, err: err}
	}
	if *uiDir != "" {
		if *uiDir, err = filepath.Abs(*uiDir); err != nil {
			return usageErr("demo: --ui-dir: %v", err)
		}
	}
	g, err := newGateway(cfg, log, started, gatewayOptions{uiDir: *uiDir, registry: reg,
		extra: []func(context.Context) error{home.Run, vtn.run, wisunMod.Run}, hanPoll: 10 * time.Second, bleAdapter: bleAd})
	if err != nil {
		return err
	}
	if err := demoAppliances(g, log); err != nil {
		return err
	}
	if err := g.Listen(); err != nil {
		return err
	}
	tokens, err := web.OpenTokens(dir)
	if err != nil {
		return err
	}
	if _, err := tokens.Revoke("demo"); err != nil {
		return err
	}
	tok, err := tokens.Create("demo", web.ScopeControl)
	if err != nil {
		return err
	}
	url := g.URL()
	fmt.Fprintf(stdout, "gatewayd demo: simulated home running\n  UI:    %s/\n", url)
	if u := g.SetupURL(); u != "" {
		fmt.Fprintf(stdout, "  setup: %s   (first start: choose the admin password; the link works once)\n", u)
	}
	fmt.Fprintf(stdout, "  VTN:   %s (OpenADR %s, peak event 17:00-19:00 local)\n", vtn.URL, openadr.V301)
	if g.coap != nil && g.coap.srv != nil {
		fmt.Fprintf(stdout, "  CoAP:  coaps://%s (appliances: gatewayd appliance list --state %s)\n", g.coap.srv.Addr(), dir)
	}
	fmt.Fprintf(stdout, "  API:   %s/api/v1/meter\n  token: %s\n  try:   curl -H 'Authorization: Bearer %s' %s/api/v1/meter\n", url, tok, tok, url)
	err = g.Run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// emulatedLoadW is what the demo's emulated appliances on the other
// transports (ECHONET Lite, CoAP, BLE) draw as their drivers last saw it,
// so the emulated meter measures the whole home (a battery discharging
// counts negative). The simulated appliances count through the sim home.
func emulatedLoadW(reg *devices.Registry) int64 {
	var p int64
	for _, d := range reg.Devices() {
		if d.Transport != "sim" && d.State.Online {
			p += d.State.PowerW
		}
	}
	return p
}
