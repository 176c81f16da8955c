// Package routeb reads a Japanese low-voltage smart electric energy meter
// (ECHONET Lite class 0x0288) over Wi-SUN route B as the legal metering
// source: a [meteringlink.Driver] whose "serial connection" is the
// SKSTACK-IP module. Each link session starts a han/wisun module on the
// port (detect, authenticate with the route-B ID and password, scan,
// join) and an ECHONET Lite client over it; Poll reads E7/E8 every
// interval and E0/E3 at the minute; History back-fills from the meter's
// half-hourly records (E5 then E2/E4).
//
// The meter is read-only: the only Set is E5 (which day of history to
// read), as the standard's polling plan does. Route-B meters have no
// clock the gateway may set: SyncClock is not supported.
//
// A Driver is used by one goroutine at a time (the link's); it owns the
// module goroutines of the current session, which end when the link
// closes the port.
package routeb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/han/wisun"
	"github.com/gatewayd-project/gatewayd/health"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// Protocol is the metering.protocol name.
const Protocol = "echonet-routeb"

// Options configure a Driver.
type Options struct {
	// Dialect of the module; "" detects it.
	Dialect wisun.Dialect
	// ID (32 characters) and Password: the route-B credentials from the
	// utility. Never logged.
	ID, Password string
	// Timeout bounds one ECHONET Lite request (default 20 s: meters are
	// slow).
	Timeout time.Duration
	// JoinTimeout bounds Identify's wait for the PANA session (default
	// 3 min: scans at growing durations take a while).
	JoinTimeout time.Duration
	// Location is the meter's wall-clock zone for its records (default
	// time.Local; Japanese meters keep JST).
	Location *time.Location
	Clock    energy.Clock
	Log      *slog.Logger
	Health   *health.Registry
	// Module tunes the wisun module (scan durations, timeouts) for tests;
	// its Dialect, Role, ID, Password, Clock, Log and Health are set from
	// these Options.
	Module wisun.Config
}

// Driver is the route-B metering driver.
type Driver struct {
	o   Options
	mu  sync.Mutex
	s   *session
	obj echonet.EOJ
}

type session struct {
	mod   *wisun.Module
	cli   *echonet.Client
	peer  echonet.Addr
	scale map[byte][]byte
	wrap  energy.Decimal
}

var _ meteringlink.Driver = (*Driver)(nil)

// New returns a driver; it fails without credentials.
func New(o Options) (*Driver, error) {
	if len(o.ID) != 32 || o.Password == "" {
		return nil, errors.New("routeb: the route-B ID must be 32 characters and the password set")
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.JoinTimeout <= 0 {
		o.JoinTimeout = 3 * time.Minute
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Clock == nil {
		o.Clock = energy.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Driver{o: o, obj: echonet.NewEOJ(echonet.ClassSmartMeter, 1)}, nil
}

// Protocol implements meteringlink.Driver.
func (d *Driver) Protocol() string { return Protocol }

// Mode is the module's UART: 115200 8N1.
func (d *Driver) Mode() serialport.Mode {
	return serialport.Mode{Baud: 115200, DataBits: 8, Parity: serialport.ParityNone, StopBits: 1}
}

// Wrap is where the meter's energy registers roll over (10^D7 × D3 ×
// unit), known after Identify.
func (d *Driver) Wrap() (energy.Decimal, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.s == nil || d.s.wrap.Coef == 0 {
		return energy.Decimal{}, false
	}
	return d.s.wrap, true
}

// Identify starts the module on the link's port, joins the meter's PAN
// and reads the counter scale. The module and client goroutines live
// until ctx (the link session) ends. The address is the meter's MAC.
func (d *Driver) Identify(ctx context.Context, c *serialport.Conn) (string, error) {
	mc := d.o.Module
	mc.Dialect, mc.Role, mc.ID, mc.Password = d.o.Dialect, wisun.RouteB, d.o.ID, d.o.Password
	mc.Clock, mc.Log, mc.Health = d.o.Clock, d.o.Log, d.o.Health
	mod, err := wisun.New(c.Port, mc)
	if err != nil {
		return "", fmt.Errorf("routeb: %w", err)
	}
	cli := echonet.NewClient(mod, echonet.ClientOptions{Clock: d.o.Clock, Timeout: d.o.Timeout, Log: d.o.Log})
	go func() {
		if err := mod.Run(ctx); err != nil && ctx.Err() == nil {
			d.o.Log.Warn("routeb: module stopped", "err", err)
		}
	}()
	go func() { _ = cli.Run(ctx) }()
	jctx, cancel := context.WithTimeout(ctx, d.o.JoinTimeout)
	defer cancel()
	if err := mod.WaitJoined(jctx); err != nil {
		return "", fmt.Errorf("routeb: join: %w", err)
	}
	s := &session{mod: mod, cli: cli, peer: mod.Peer()}
	scale, err := cli.Get(ctx, s.peer, d.obj, 0xD3, 0xD7, 0xE1)
	var sna *echonet.SNAError
	if err != nil && !(errors.As(err, &sna) && scale[0xE1] != nil) {
		// D3 is optional (coefficient 1); E1 and D7 are not.
		return "", fmt.Errorf("routeb: get D3 D7 E1: %w", err)
	}
	s.scale = scale
	if w, ok := echonet.WrapSize(echonet.ClassSmartMeter, energy.ImportEnergy, scale); ok {
		s.wrap = w
	}
	d.mu.Lock()
	d.s = s
	d.mu.Unlock()
	mac := strings.ReplaceAll(string(s.peer), ":", "")
	if len(mac) > 16 {
		mac = mac[len(mac)-16:]
	}
	return mac, nil
}

func (d *Driver) session() (*session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.s == nil {
		return nil, errors.New("routeb: not identified")
	}
	return d.s, nil
}

// Poll reads power and currents (instant) and the energy registers.
func (d *Driver) Poll(ctx context.Context, _ *serialport.Conn, g meteringlink.Group) (meteringlink.Result, error) {
	var res meteringlink.Result
	s, err := d.session()
	if err != nil {
		return res, err
	}
	var epcs []byte
	if g.Has(meteringlink.GroupInstant) {
		epcs = append(epcs, 0xE7, 0xE8)
	}
	if g.Has(meteringlink.GroupEnergy) {
		epcs = append(epcs, 0xE0, 0xE3)
	}
	if len(epcs) == 0 {
		return res, nil
	}
	props, err := s.cli.Get(ctx, s.peer, d.obj, epcs...)
	var sna *echonet.SNAError
	if err != nil && !errors.As(err, &sna) {
		return res, fmt.Errorf("routeb: get: %w", err)
	}
	if sna != nil {
		for _, e := range sna.Failed {
			switch e {
			case 0xE7:
				res.Unavailable = append(res.Unavailable, energy.Power)
			case 0xE3:
				res.Unavailable = append(res.Unavailable, energy.ExportEnergy)
			case 0xE0:
				res.Unavailable = append(res.Unavailable, energy.ImportEnergy)
			}
		}
	}
	all := make(map[byte][]byte, len(props)+len(s.scale))
	for k, v := range s.scale {
		all[k] = v
	}
	for k, v := range props {
		all[k] = v
	}
	vals, err := echonet.Values(echonet.ClassSmartMeter, all)
	if err != nil {
		// A malformed value is a link-level failure: never store it.
		return res, fmt.Errorf("routeb: %w", err)
	}
	for _, v := range vals {
		res.Values = append(res.Values, meteringlink.Value{Quantity: v.Quantity, Value: v.Value})
	}
	return res, nil
}

// History returns the half-hourly import and export registers the meter
// kept (E5 = day, then E2 and E4), oldest first, for up to 7 days back.
func (d *Driver) History(ctx context.Context, _ *serialport.Conn, from, to time.Time, max int) ([]meteringlink.Record, error) {
	s, err := d.session()
	if err != nil {
		return nil, err
	}
	sc, err := echonet.CounterScale(echonet.ClassSmartMeter, s.scale)
	if err != nil {
		return nil, fmt.Errorf("routeb: history: %w", err)
	}
	now := d.o.Clock.Now().In(d.o.Location)
	var out []meteringlink.Record
	for day := 0; day <= 7; day++ {
		y, m, dd := now.Date()
		dayStart := time.Date(y, m, dd-day, 0, 0, 0, 0, d.o.Location)
		if !dayStart.Add(24 * time.Hour).After(from) {
			break
		}
		if dayStart.After(to) {
			continue
		}
		if err := s.cli.SetC(ctx, s.peer, d.obj, echonet.Property{EPC: 0xE5, EDT: []byte{byte(day)}}); err != nil {
			return out, fmt.Errorf("routeb: history: set E5 %d: %w", day, err)
		}
		props, err := s.cli.Get(ctx, s.peer, d.obj, 0xE2, 0xE4)
		var sna *echonet.SNAError
		if err != nil && !(errors.As(err, &sna) && props[0xE2] != nil) {
			return out, fmt.Errorf("routeb: history: get E2 E4 day %d: %w", day, err)
		}
		imp, err := echonet.DecodeHistory(props[0xE2], sc)
		if err != nil {
			return out, fmt.Errorf("routeb: history E2 day %d: %w", day, err)
		}
		var exp *echonet.HalfHourly
		if b := props[0xE4]; b != nil {
			if h, err := echonet.DecodeHistory(b, sc); err == nil {
				exp = &h
			}
		}
		var recs []meteringlink.Record
		for i := range imp.Slots {
			at := dayStart.Add(time.Duration(i) * 30 * time.Minute)
			v, ok := imp.Slot(i)
			if !ok || !at.After(from) || at.After(to) {
				continue
			}
			r := meteringlink.Record{Time: at, Values: []meteringlink.Value{{Quantity: energy.ImportEnergy, Value: v, Measured: at}}}
			if exp != nil {
				if ev, ok := exp.Slot(i); ok {
					r.Values = append(r.Values, meteringlink.Value{Quantity: energy.ExportEnergy, Value: ev, Measured: at})
				}
			}
			recs = append(recs, r)
		}
		out = append(recs, out...)
	}
	if len(out) > max && max > 0 {
		out = out[len(out)-max:]
	}
	return out, nil
}

// SyncClock is not supported: a route-B meter's clock is the utility's.
func (d *Driver) SyncClock(context.Context, *serialport.Conn, time.Time) error {
	return meteringlink.ErrNotSupported
}
