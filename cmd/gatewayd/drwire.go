package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/dr"
	"github.com/gatewayd-project/gatewayd/dr/control"
	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/health"
	"github.com/gatewayd-project/gatewayd/internal/tlsutil"
	"github.com/gatewayd-project/gatewayd/web"
)

// CondVTNUnreachable is the health condition while the VTN cannot be
// polled (known events keep executing).
const CondVTNUnreachable = "vtn_unreachable"

// maxSecretFile bounds the client secret file.
const maxSecretFile = 4096

// drWire builds the demand-response side: the VEN (when a VTN is
// configured), the price feed, and the engine over the device registry.
type drWire struct {
	ven   *openadr.VEN
	feed  *dr.Feed
	svc   *dr.Service
	usage *usageBook
	hlth  *health.Registry
	clk   energy.Clock
	log   *slog.Logger
}

// meterSite is the site's net import from the legal meter's power.
type meterSite struct{ m energy.MeterView }

func (s meterSite) SitePower() (int64, time.Time, bool) {
	st := s.m.MeterStatus()
	v, ok := st.Values[energy.Power]
	if !ok || !st.LinkUp {
		return 0, time.Time{}, false
	}
	return int64(math.Round(v.Value.Float64())), v.Received, true
}

// readSecret reads a client secret file: one line, at most maxSecretFile
// bytes, not readable by others.
func readSecret(path string) (string, error) {
	return readSecretAs("dr.vtn.client_secret_file", path)
}

// readSecretAs is readSecret with errors naming key.
func readSecretAs(key, path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s: %s is readable by others (mode %04o); chmod 600 it", key, path, fi.Mode().Perm())
	}
	if fi.Size() > maxSecretFile {
		return "", fmt.Errorf("%s: %s is larger than %d bytes", key, path, maxSecretFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%s: %s must hold the secret on one line", key, path)
	}
	return s, nil
}

// vtnClient is the HTTPS client for the VTN: TLS 1.2 or later, the
// configured CA bundle or the system roots, certificate verification on.
func vtnClient(caFile string) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := tlsutil.CertPool(caFile)
		if err != nil {
			return nil, fmt.Errorf("dr.vtn.ca_file: %w", err)
		}
		tc.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.Proxy = nil
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}, nil
}

// newDRWire builds the DR engine. reg holds the controllable devices.
func newDRWire(g *gateway, reg *devices.Registry, tariffs *tariffService, seed uint64) (*drWire, error) {
	cfg := g.cfg.DR
	log := g.log.With("sub", "dr")
	w := &drWire{hlth: g.health, clk: g.clock, log: log, usage: newUsageBook(g.link, g.clock)}
	if cfg.VTN.URL != "" {
		var secret string
		if cfg.VTN.ClientSecretFile != "" {
			s, err := readSecret(cfg.VTN.ClientSecretFile)
			if err != nil {
				return nil, err
			}
			secret = s
		}
		hc, err := vtnClient(cfg.VTN.CAFile)
		if err != nil {
			return nil, err
		}
		version := openadr.Version(cfg.VTN.Version)
		if cfg.VTN.Version == "auto" {
			version = ""
		}
		w.ven, err = openadr.New(openadr.Config{
			URL: cfg.VTN.URL, ClientID: cfg.VTN.ClientID, ClientSecret: secret, VENName: cfg.VTN.VENName,
			Poll: cfg.VTN.Poll, Version: version, HTTP: hc, Clock: g.clock, Seed: seed,
			Reports: reportSource{w},
		}, log.With("sub", "ven"))
		if err != nil {
			return nil, fmt.Errorf("dr.vtn: %w", err)
		}
	}
	w.feed = dr.NewFeed(g.clock, nil, tariffs.Current, log.With("sub", "price-feed"))
	var rules []dr.LoadRule
	for _, l := range cfg.Loads {
		rules = append(rules, dr.LoadRule{Device: energy.DeviceID(l.Device), Class: control.Class(l.Class),
			Priority: l.Priority, MinOn: l.MinOn, MinOff: l.MinOff, CurtailW: l.CurtailW})
	}
	opts := dr.Options{
		Clock: g.clock, Log: log, Registry: reg, Site: meterSite{g.link},
		Control: control.Config{ContractImportW: cfg.ContractImportW, ContractExportW: cfg.ContractExportW,
			Period: cfg.Period, Seed: seed},
		Rules: rules, Tariff: tariffs.Current, Feed: w.feed.Prices, KV: g.store, Seed: seed,
		Record: g.record,
		Alive:  g.sys.beat("dr", 3*cfg.Period+time.Minute),
	}
	if w.ven != nil {
		opts.VEN = w.ven
	}
	svc, err := dr.New(opts)
	if err != nil {
		return nil, err
	}
	w.svc = svc
	tariffs.dyn = svc.DynamicPrices
	return w, nil
}

// run runs the VEN, the feed, the engine, the usage book and the VTN
// health watch until ctx ends.
func (w *drWire) run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, 5) // one per goroutine: none may block
	goRun := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	if w.ven != nil {
		goRun("ven", w.ven.Run)
		goRun("vtn health", w.watchVTN)
	}
	goRun("price feed", w.feed.Run)
	goRun("usage", w.usage.run)
	goRun("dr", w.svc.Run)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// watchVTN mirrors the VEN's reachability into the health condition.
func (w *drWire) watchVTN(ctx context.Context) error {
	for {
		ok, _, lastErr := w.ven.Health()
		if ok {
			w.hlth.Clear(CondVTNUnreachable)
		} else if lastErr != nil {
			w.hlth.Set(CondVTNUnreachable, "VTN not reachable (known events keep executing): "+lastErr.Error())
		}
		t := w.clk.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// reportSource answers the VEN's report questions from the usage book and
// the engine.
type reportSource struct{ w *drWire }

func (r reportSource) Usage(from, to time.Time) (float64, bool) { return r.w.usage.usage(from, to) }
func (r reportSource) Demand(from, to time.Time) (float64, bool) {
	return r.w.usage.demand(from, to)
}
func (r reportSource) OperatingState(eventID string, at time.Time) string {
	return r.w.svc.OperatingState(eventID)
}

// webDR adapts the engine to the API's DRService.
type webDR struct{ s *dr.Service }

var _ web.DRService = webDR{}

func (a webDR) Events() any {
	return struct {
		Events []dr.EventJSON `json:"events"`
	}{a.s.Events()}
}

func mapDRErr(err error) error {
	switch {
	case errors.Is(err, dr.ErrNotFound):
		return fmt.Errorf("%w: %w", web.ErrDRNotFound, err)
	case errors.Is(err, dr.ErrConflict):
		return fmt.Errorf("%w: %w", web.ErrDRConflict, err)
	}
	return err
}

func (a webDR) OptOut(ctx context.Context, id, who string) (any, error) {
	ev, err := a.s.OptOut(ctx, id, who)
	if err != nil {
		return nil, mapDRErr(err)
	}
	return ev, nil
}

func (a webDR) Status() any { return a.s.Status() }

func (a webDR) Override(_ context.Context, d energy.DeviceID, o web.DROverride, who string) (any, error) {
	var boost *time.Duration
	if o.BoostMinutes != nil {
		b := time.Duration(*o.BoostMinutes) * time.Minute
		boost = &b
	}
	if err := a.s.Override(d, o.Exempt, boost, who); err != nil {
		return nil, mapDRErr(err)
	}
	return a.s.Status(), nil
}

// usageBook samples the legal meter's import register and power every
// 10 s and keeps 48 h of samples, so reports for an interval that just
// ended need not wait for the store's next commit.
type usageBook struct {
	m   energy.MeterView
	clk energy.Clock

	mu      sync.Mutex
	samples []usageSample
}

type usageSample struct {
	at    time.Time
	impWh float64
	hasE  bool
	powW  float64
	hasP  bool
}

const (
	usageEvery = 10 * time.Second
	usageKeep  = 48 * time.Hour
)

func newUsageBook(m energy.MeterView, clk energy.Clock) *usageBook {
	return &usageBook{m: m, clk: clk}
}

func (u *usageBook) sample() {
	st := u.m.MeterStatus()
	s := usageSample{at: u.clk.Now()}
	if v, ok := st.Values[energy.ImportEnergy]; ok {
		s.impWh, s.hasE = v.Value.Float64(), true
	}
	if v, ok := st.Values[energy.Power]; ok && st.LinkUp {
		s.powW, s.hasP = v.Value.Float64(), true
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.samples = append(u.samples, s)
	cut := 0
	for cut < len(u.samples) && s.at.Sub(u.samples[cut].at) > usageKeep {
		cut++
	}
	u.samples = u.samples[cut:]
}

func (u *usageBook) run(ctx context.Context) error {
	for {
		u.sample()
		t := u.clk.NewTimer(usageEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// usage is the imported energy in kWh over [from, to): the register
// difference between the samples nearest the bounds (within 2 minutes).
func (u *usageBook) usage(from, to time.Time) (float64, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	a, okA := u.nearest(from)
	b, okB := u.nearest(to)
	if !okA || !okB || !a.hasE || !b.hasE || b.impWh < a.impWh {
		return 0, false
	}
	return (b.impWh - a.impWh) / 1000, true
}

func (u *usageBook) nearest(t time.Time) (usageSample, bool) {
	var best usageSample
	bestD := time.Duration(math.MaxInt64)
	for _, s := range u.samples {
		d := s.at.Sub(t)
		if d < 0 {
			d = -d
		}
		if d < bestD && s.hasE {
			best, bestD = s, d
		}
	}
	return best, bestD <= 2*time.Minute
}

// demand is the mean power in kW over [from, to).
func (u *usageBook) demand(from, to time.Time) (float64, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var sum float64
	n := 0
	for _, s := range u.samples {
		if s.hasP && !s.at.Before(from) && s.at.Before(to) {
			sum += s.powW
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n) / 1000, true
}
