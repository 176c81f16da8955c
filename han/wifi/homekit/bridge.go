package homekit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/brutella/hap"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Defaults of [Options].
const (
	DefaultName     = "Gateway"
	DefaultRefresh  = 5 * time.Second
	DefaultDebounce = 2 * time.Second
)

// Options configure a [Bridge].
type Options struct {
	// Store keeps pairings, the key pair, the setup code and the aids.
	Store hap.Store
	// Registry is the device registry (required).
	Registry Registry
	// Watch subscribes to device-set changes (devices.Registry.Watch); nil
	// relies on Refresh alone.
	Watch func() (<-chan struct{}, func())
	// Meter is the legal meter; nil leaves its accessory out.
	Meter energy.MeterView
	// Grid is the DR engine; nil: the grid accessories stay idle.
	Grid Grid
	// Readings returns a device's latest readings (temperatures of
	// thermostats); nil: none.
	Readings func(energy.DeviceID) []energy.Reading
	// Name is the bridge's name in the Home app (default DefaultName).
	Name string
	// Addr is the HAP listen address, host:port ("" or port 0: random).
	Addr string
	// Ifaces limits the mDNS announcement to these interfaces (nil: all).
	Ifaces []string
	// Serial and Firmware fill the bridge's accessory information.
	Serial, Firmware string
	// Refresh is how often values are pushed (default DefaultRefresh);
	// Debounce how long device-set changes settle before a rebuild
	// (default DefaultDebounce).
	Refresh, Debounce time.Duration
	Clock             energy.Clock
	Log               *slog.Logger
}

// Status is the bridge as the web UI shows it.
type Status struct {
	Running bool `json:"running"`
	Paired  bool `json:"paired"`
	// Code is the setup code as the Home app asks for it (XXX-XX-XXX).
	Code string `json:"code"`
	// SetupURI is the X-HM:// payload for a QR code.
	SetupURI string `json:"setup_uri"`
	// Accessories counts the accessories behind the bridge, itself included.
	Accessories int    `json:"accessories"`
	Name        string `json:"name"`
}

// Bridge runs the HAP server over the registry's devices.
type Bridge struct {
	o            Options
	pin, setupID string
	uri          string

	mu   sync.Mutex
	srv  *hap.Server
	tree *tree
}

// New checks the options and loads (or creates) the setup code.
func New(o Options) (*Bridge, error) {
	if o.Store == nil || o.Registry == nil {
		return nil, errors.New("homekit: store and registry are required")
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Clock == nil {
		o.Clock = energy.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Serial == "" {
		o.Serial = "gatewayd"
	}
	if o.Firmware == "" {
		o.Firmware = "1.0"
	}
	pin, sid, err := SetupCode(o.Store)
	if err != nil {
		return nil, err
	}
	uri, err := SetupURI(pin, sid)
	if err != nil {
		return nil, err
	}
	return &Bridge{o: o, pin: pin, setupID: sid, uri: uri}, nil
}

// Status reports the bridge's state.
func (b *Bridge) Status() Status {
	st := Status{Code: FormatPin(b.pin), SetupURI: b.uri, Name: b.o.Name}
	b.mu.Lock()
	if b.tree != nil {
		st.Running, st.Accessories = true, len(b.tree.accs)
	}
	b.mu.Unlock()
	keys, err := b.o.Store.KeysWithSuffix(".pairing")
	st.Paired = err == nil && len(keys) > 0
	return st
}

// build makes a tree and a hap server over the current devices.
func (b *Bridge) build() (*tree, *hap.Server, error) {
	devs, dropped := shown(b.o.Registry.Devices())
	if dropped > 0 {
		b.o.Log.Warn("homekit: too many devices for one bridge; some are left out", "left_out", dropped, "limit", MaxAccessories)
	}
	ids := make([]energy.DeviceID, len(devs))
	for i, d := range devs {
		ids[i] = d.ID
	}
	aids, err := assignAIDs(b.o.Store, ids)
	if err != nil {
		return nil, nil, err
	}
	t := buildTree(devs, treeOptions{name: b.o.Name, serial: b.o.Serial, firmware: b.o.Firmware,
		reg: b.o.Registry, grid: b.o.Grid, meter: b.o.Meter != nil, aids: aids})
	b.refresh(t)
	srv, err := hap.NewServer(b.o.Store, t.accs[0], t.accs[1:]...)
	if err != nil {
		return nil, nil, fmt.Errorf("homekit: server: %w", err)
	}
	srv.Pin, srv.SetupId, srv.Addr, srv.Ifaces = b.pin, b.setupID, b.o.Addr, b.o.Ifaces
	return t, srv, nil
}

// refresh pushes the current values into t.
func (b *Bridge) refresh(t *tree) {
	v := values{devs: b.o.Registry.Devices(), readings: b.o.Readings}
	if b.o.Meter != nil {
		ms := b.o.Meter.MeterStatus()
		v.meter = &ms
	}
	if b.o.Grid != nil {
		v.event, v.active = b.o.Grid.ActiveEvent()
	}
	t.update(v)
}

// Run serves HomeKit until ctx ends, rebuilding the server when the
// device set changes. A server that fails (its port taken) is retried
// with backoff.
func (b *Bridge) Run(ctx context.Context) error {
	var watch <-chan struct{}
	if b.o.Watch != nil {
		ch, stop := b.o.Watch()
		defer stop()
		watch = ch
	}
	backoff := time.Second
	for ctx.Err() == nil {
		err := b.serve(ctx, watch)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil { // rebuild
			backoff = time.Second
			continue
		}
		b.o.Log.Warn("homekit: server stopped; restarting", "err", err, "in", backoff)
		if !energy.Sleep(ctx, b.o.Clock, backoff) {
			return nil
		}
		backoff = min(2*backoff, time.Minute)
	}
	return nil
}

// serve runs one server; it returns nil when the device set changed.
func (b *Bridge) serve(ctx context.Context, watch <-chan struct{}) error {
	t, srv, err := b.build()
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(sctx) }()
	b.mu.Lock()
	b.srv, b.tree = srv, t
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.srv, b.tree = nil, nil
		b.mu.Unlock()
	}()
	b.o.Log.Info("homekit: bridge serving", "accessories", len(t.accs), "paired", srv.IsPaired())
	stop := func() error {
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	tick := b.o.Clock.NewTimer(b.o.Refresh)
	defer func() { tick.Stop() }()
	var settle energy.Timer
	var settleC <-chan time.Time
	defer func() {
		if settle != nil {
			settle.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return stop()
		case err := <-errc:
			if err == nil || errors.Is(err, http.ErrServerClosed) {
				err = errors.New("server ended")
			}
			return fmt.Errorf("homekit: %w", err)
		case <-watch:
			if settle == nil {
				settle = b.o.Clock.NewTimer(b.o.Debounce)
				settleC = settle.C()
			}
		case <-settleC:
			settle, settleC = nil, nil
			devs, _ := shown(b.o.Registry.Devices())
			if signature(devs, b.o.Meter != nil) != t.sig {
				b.o.Log.Info("homekit: device set changed; rebuilding the bridge")
				return stop()
			}
			b.refresh(t)
		case <-tick.C():
			devs, _ := shown(b.o.Registry.Devices())
			if signature(devs, b.o.Meter != nil) != t.sig {
				b.o.Log.Info("homekit: device set changed; rebuilding the bridge")
				return stop()
			}
			b.refresh(t)
			tick = b.o.Clock.NewTimer(b.o.Refresh)
		}
	}
}
