package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/dr/tariff"
	"github.com/gatewayd-project/gatewayd/han/wifi/coap"
	"github.com/gatewayd-project/gatewayd/web"
)

// coapWire is han.coap: the pairing store (always, so appliances can be
// paired before the API is enabled) and the CoAP server when enabled.
type coapWire struct {
	g       *gateway
	store   *coap.Store
	srv     *coap.Server // nil when han.coap.enabled is false
	tariffs *tariffService
	log     *slog.Logger
}

// coapPublishEvery is how often /price and /grid/limit are recomputed
// (observers are notified only on change).
const coapPublishEvery = 5 * time.Second

func (g *gateway) setupCoAP(tariffs *tariffService) error {
	store, err := coap.OpenStore(g.cfg.StateDir)
	if err != nil {
		return err
	}
	w := &coapWire{g: g, store: store, tariffs: tariffs, log: g.log.With("sub", "coap")}
	g.coap = w
	c := g.cfg.HAN.CoAP
	if !c.Enabled {
		return nil
	}
	w.srv, err = coap.New(coap.Options{Listen: c.Listen, PlainListen: c.PlainListen, Store: store, Registry: g.reg,
		Clock: g.clock, Log: w.log, Health: g.health})
	if err != nil {
		return fmt.Errorf("han.coap: %w", err)
	}
	if err := w.srv.Listen(); err != nil {
		return fmt.Errorf("han.coap: %w", err)
	}
	w.log.Info("coap appliance API", "coaps", w.srv.Addr(), "plain", c.PlainListen)
	g.han = append(g.han, w.run)
	return nil
}

func (w *coapWire) run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- w.srv.Run(ctx) }()
	for {
		w.publish()
		t := w.g.clock.NewTimer(coapPublishEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return <-errc
		case err := <-errc:
			t.Stop()
			return err
		case <-t.C():
		}
	}
}

// publish feeds /grid/limit from the DR controller and /price from the
// tariff (with dynamic prices) for the next 24 hours in 15-minute steps.
func (w *coapWire) publish() {
	st := w.g.drw.svc.Status()
	w.srv.SetGridLimit(coap.GridLimit{Simple: st.Level, ImportLimitW: st.ImportLimitW, ExportLimitW: st.ExportLimitW, Event: st.Event})
	if p, ok := w.prices(w.g.clock.Now()); ok {
		w.srv.SetPrice(p)
	}
}

func (w *coapWire) prices(now time.Time) (coap.Price, bool) {
	t, _ := w.tariffs.current()
	if t == nil {
		return coap.Price{}, false
	}
	const step = 15 * time.Minute
	start := now.Truncate(step)
	slots, err := t.Slots(start, start.Add(24*time.Hour), w.tariffs.dynamic())
	if err != nil || len(slots) == 0 {
		return coap.Price{}, false
	}
	return pricesOf(t.Currency(), start, step, 96, slots), true
}

// pricesOf samples slots at each interval start.
func pricesOf(currency string, start time.Time, step time.Duration, n int, slots []tariff.Slot) coap.Price {
	p := coap.Price{Currency: currency, Units: "KWH", Start: start.UTC(), IntervalS: int64(step / time.Second),
		Import: make([]float64, 0, n), Export: make([]float64, 0, n)}
	j := 0
	for i := range n {
		at := start.Add(time.Duration(i) * step)
		for j < len(slots)-1 && !at.Before(slots[j].End) {
			j++
		}
		p.Import = append(p.Import, slots[j].Import)
		p.Export = append(p.Export, slots[j].Export)
	}
	return p
}

// The web API's view (web.ApplianceService).

var _ web.ApplianceService = (*coapWire)(nil)

func (w *coapWire) Appliances() any {
	var eps []coap.Endpoint
	if w.srv != nil {
		eps = w.srv.Endpoints()
	} else {
		if _, err := w.store.Reload(); err != nil {
			w.log.Warn("coap: pairing store", "err", err)
		}
		for _, p := range w.store.List() {
			eps = append(eps, coap.Endpoint{Public: p})
		}
	}
	if eps == nil {
		eps = []coap.Endpoint{}
	}
	out := struct {
		Enabled    bool            `json:"enabled"`
		Listen     string          `json:"listen,omitempty"`
		Appliances []coap.Endpoint `json:"appliances"`
	}{Enabled: w.srv != nil, Appliances: eps}
	if w.srv != nil {
		out.Listen = w.srv.Addr().String()
	}
	return out
}

func (w *coapWire) PairAppliance(name string) (any, error) {
	a, err := w.store.Pair(name, w.g.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", web.ErrApplianceName, err)
	}
	w.log.Info("coap: appliance paired", "identity", a.Identity, "name", a.Name)
	return struct {
		coap.Public
		PSK string `json:"psk"`
		QR  string `json:"qr"`
	}{coap.Public{Identity: a.Identity, Name: a.Name, Created: a.Created}, string(a.PSK), coap.QR(a)}, nil
}

func (w *coapWire) RevokeAppliance(id string) error {
	var err error
	if w.srv != nil {
		err = w.srv.Revoke(id)
	} else {
		err = w.store.Revoke(id)
	}
	if errors.Is(err, coap.ErrUnknownAppliance) {
		return web.ErrNoAppliance
	}
	return err
}

// gatewayd appliance pair|list|revoke: the pairing store directly. The
// daemon may run meanwhile: writers serialise on the store's file lock
// and the daemon re-reads the file within two seconds (a revocation
// closes the appliance's sessions then).
func cmdAppliance(args []string, stdout io.Writer) error {
	if len(args) == 0 || !slices.Contains([]string{"pair", "list", "revoke"}, args[0]) {
		return usageErr("appliance: want 'appliance pair', 'appliance list' or 'appliance revoke'\n%s", usage)
	}
	fs := newFlags("appliance " + args[0])
	state := fs.String("state", "", "state directory")
	name := fs.String("name", "", "the appliance's name (pair)")
	id := fs.String("id", "", "the appliance's identity (revoke)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *state == "" {
		return usageErr("appliance: --state is required")
	}
	store, err := coap.OpenStore(*state)
	if err != nil {
		return err
	}
	switch args[0] {
	case "pair":
		if *name == "" {
			return usageErr("appliance pair: --name is required")
		}
		a, err := store.Pair(*name, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "identity=%s\npsk=%s\nqr=%s\n", a.Identity, a.PSK, coap.QR(a))
	case "list":
		for _, a := range store.List() {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", a.Identity, a.Created.Format(time.RFC3339), a.Name)
		}
	case "revoke":
		if *id == "" {
			return usageErr("appliance revoke: --id is required")
		}
		if err := store.Revoke(*id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", *id)
	}
	return nil
}

// gatewayd emulate appliance: a CoAP appliance against a gateway.
func cmdEmulateAppliance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("emulate appliance")
	kind := fs.String("kind", "heatpump", "evcharger, dishwasher or heatpump")
	gw := fs.String("gateway", "127.0.0.1:5684", "the gateway's coaps host:port")
	id := fs.String("identity", "", "PSK identity (= endpoint name) from 'gatewayd appliance pair'")
	pskFile := fs.String("psk-file", "", "file holding the PSK (mode 0600)")
	plain := fs.Bool("plain", false, "plain coap (a loopback plain_listen) instead of coaps")
	every := fs.Duration("interval", 10*time.Second, "telemetry period")
	useCBOR := fs.Bool("cbor", false, "post SenML CBOR instead of SenML JSON")
	level := fs.String("log-level", "info", "debug, info, warn, error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id == "" || (*pskFile == "" && !*plain) {
		return usageErr("emulate appliance: --identity and --psk-file are required")
	}
	var psk []byte
	if *pskFile != "" {
		s, err := readSecretAs("--psk-file", *pskFile)
		if err != nil {
			return usageErr("emulate appliance: %v", err)
		}
		psk = []byte(s)
	}
	log, err := newLogger(config.Log{Level: *level, Format: "text"}, stderr)
	if err != nil {
		return usageErr("emulate appliance: %v", err)
	}
	em, err := coap.NewEmulator(coap.EmulatorOptions{Kind: *kind, Gateway: *gw, Identity: *id, PSK: psk, Plain: *plain,
		MeasEvery: *every, CBOR: *useCBOR, Log: log,
		OnCtl: func(c coap.Ctl) { fmt.Fprintf(stdout, "ctl %s %s limit=%d\n", c.CmdID, c.Mode, c.LimitW) }})
	if err != nil {
		return usageErr("%v", err)
	}
	fmt.Fprintf(stdout, "emulated %s %s -> %s\n", *kind, *id, *gw)
	return em.Run(ctx)
}

// demoAppliances pairs (once, in the demo's state dir) an EV charger and a
// heat pump and runs them as CoAP appliances against the gateway.
func demoAppliances(g *gateway, log *slog.Logger) error {
	if g.coap == nil || g.coap.srv == nil {
		return nil
	}
	want := map[string]string{"Garage EV charger": "evcharger", "Heat pump (CoAP)": "heatpump"}
	have := map[string]coap.Public{}
	for _, p := range g.coap.store.List() {
		have[p.Name] = p
	}
	names := []string{"Garage EV charger", "Heat pump (CoAP)"}
	for _, name := range names {
		p, ok := have[name]
		if !ok {
			a, err := g.coap.store.Pair(name, time.Now())
			if err != nil {
				return fmt.Errorf("demo: pair %s: %w", name, err)
			}
			p = coap.Public{Identity: a.Identity, Name: a.Name}
		}
		a, _ := g.coap.store.Lookup(p.Identity)
		em, err := coap.NewEmulator(coap.EmulatorOptions{Kind: want[name], Gateway: g.coap.srv.Addr().String(),
			Identity: a.Identity, PSK: a.PSK, MeasEvery: 5 * time.Second, CBOR: want[name] == "heatpump",
			Clock: g.clock, Log: log.With("sub", "emul-coap", "ep", a.Identity)})
		if err != nil {
			return err
		}
		g.extra = append(g.extra, em.Run)
	}
	return nil
}
