package coap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	piondtls "github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
	"github.com/plgd-dev/go-coap/v3/dtls"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	"github.com/plgd-dev/go-coap/v3/options"
	"github.com/plgd-dev/go-coap/v3/udp"
	udpclient "github.com/plgd-dev/go-coap/v3/udp/client"

	"github.com/gatewayd-project/gatewayd/energy"
)

// EmulatorOptions configure an emulated appliance.
type EmulatorOptions struct {
	// Kind is evcharger, dishwasher or heatpump.
	Kind string
	// Gateway is the gateway's coaps (or, with Plain, coap) host:port.
	Gateway  string
	Identity string
	PSK      []byte
	// Plain dials plain coap (loopback gateways with plain_listen).
	Plain bool
	// MeasEvery is the telemetry period (default 10 s); Lifetime the
	// registration lifetime asked for (default 5 min, refreshed at half).
	MeasEvery time.Duration
	Lifetime  time.Duration
	// CBOR posts SenML CBOR (112) instead of SenML JSON (110).
	CBOR  bool
	Clock energy.Clock
	Log   *slog.Logger
	// OnCtl is called (from the emulator's goroutine) with each command
	// it obeys; tests and benchmarks measure with it.
	OnCtl func(Ctl)
}

// Emulator is a CoAP appliance: it registers to /rd, describes itself on
// /dev/{ep}/info, posts SenML measurements, observes /dev/{ep}/ctl and
// obeys (reporting on /dev/{ep}/status), and observes /price and
// /grid/limit. It is product code: the demo runs it.
type Emulator struct {
	o EmulatorOptions

	mu       sync.Mutex
	ctl      Ctl
	energyWh float64
	jobWh    float64 // dishwasher: energy left in the programme
	price    Price
	limit    GridLimit
	last     time.Time
}

type kindModel struct {
	ratedW, minW int64
	class        string
	jobWh        float64
}

var models = map[string]kindModel{
	"evcharger":  {ratedW: 7400, minW: 1400, class: "modulatable"},
	"dishwasher": {ratedW: 1800, class: "deferrable", jobWh: 1200},
	"heatpump":   {ratedW: 2500, minW: 800, class: "sheddable"},
}

// EmulatorKinds are the kinds NewEmulator accepts.
var EmulatorKinds = []string{"evcharger", "dishwasher", "heatpump"}

// NewEmulator checks the options.
func NewEmulator(o EmulatorOptions) (*Emulator, error) {
	m, ok := models[o.Kind]
	if !ok {
		return nil, fmt.Errorf("coap: emulate: unknown kind %q (want evcharger, dishwasher or heatpump)", o.Kind)
	}
	if o.Gateway == "" || o.Identity == "" || (!o.Plain && len(o.PSK) == 0) {
		return nil, errors.New("coap: emulate: gateway, identity and psk are required")
	}
	if o.MeasEvery <= 0 {
		o.MeasEvery = 10 * time.Second
	}
	if o.Lifetime <= 0 {
		o.Lifetime = 5 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = energy.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Emulator{o: o, ctl: Ctl{Mode: ModeNormal}, jobWh: m.jobWh}, nil
}

// Ctl is the command in force.
func (e *Emulator) Ctl() Ctl {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ctl
}

// GridLimit and PriceDoc are the last /grid/limit and /price documents.
func (e *Emulator) GridLimit() GridLimit {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.limit
}

// PriceDoc is the last /price document.
func (e *Emulator) PriceDoc() Price {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.price
}

// PowerW is what the appliance draws under the command in force.
func (e *Emulator) PowerW() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.powerLocked()
}

func (e *Emulator) powerLocked() int64 {
	m := models[e.o.Kind]
	switch e.ctl.Mode {
	case ModeCurtail, ModeShift:
		return 0
	case ModeLimit:
		if e.ctl.LimitW < m.minW {
			return 0
		}
		return min(m.ratedW, e.ctl.LimitW)
	}
	if m.jobWh > 0 && e.jobWh <= 0 {
		return 0
	}
	return m.ratedW
}

func (e *Emulator) stateLocked() string {
	p := e.powerLocked()
	switch {
	case e.ctl.Mode == ModeNormal && p > 0:
		return "RUNNING_NORMAL"
	case e.ctl.Mode == ModeNormal:
		return "IDLE_NORMAL"
	case p > 0:
		return "RUNNING_CURTAILED"
	}
	return "IDLE_CURTAILED"
}

// Run keeps a session with the gateway until ctx ends, reconnecting with
// backoff when it drops (gateway restart, revocation, network).
func (e *Emulator) Run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		err := e.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		e.o.Log.Warn("coap appliance: session ended; reconnecting", "ep", e.o.Identity, "err", err, "in", backoff)
		if !energy.Sleep(ctx, e.o.Clock, backoff) {
			return nil
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	return nil
}

// Dial opens a CoAP session to the gateway (DTLS-PSK unless plain), with
// the handshake bounded by ctx; the session lasts until Close.
func Dial(ctx context.Context, addr, identity string, psk []byte, plain bool) (*udpclient.Conn, error) {
	if plain {
		return udp.Dial(addr)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("coap: dial %s: %w", addr, err)
	}
	cfg := &piondtls.Config{
		PSK:             func([]byte) ([]byte, error) { return psk, nil },
		PSKIdentityHint: []byte(identity),
		CipherSuites:    []piondtls.CipherSuiteID{piondtls.TLS_PSK_WITH_AES_128_CCM_8},
	}
	dc, err := piondtls.Client(dtlsnet.PacketConnFromConn(c), c.RemoteAddr(), cfg)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("coap: dtls %s: %w", addr, err)
	}
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if err := dc.HandshakeContext(hctx); err != nil {
		dc.Close()
		return nil, fmt.Errorf("coap: dtls handshake %s: %w", addr, err)
	}
	return dtls.Client(dc, options.WithCloseSocket()), nil
}

func (e *Emulator) session(ctx context.Context) error {
	ep := e.o.Identity
	cc, err := Dial(ctx, e.o.Gateway, ep, e.o.PSK, e.o.Plain)
	if err != nil {
		return err
	}
	defer cc.Close()
	req := func(f func(context.Context) (*pool.Message, error), want codes.Code, what string) error {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		resp, err := f(rctx)
		if err != nil {
			return fmt.Errorf("coap appliance %s: %s: %w", ep, what, err)
		}
		if resp.Code() != want {
			b, _ := resp.ReadBody()
			return fmt.Errorf("coap appliance %s: %s: %v %s", ep, what, resp.Code(), b)
		}
		return nil
	}
	m := models[e.o.Kind]
	register := func() error {
		return req(func(c context.Context) (*pool.Message, error) {
			return cc.Post(c, "/rd", message.AppLinkFormat,
				bytes.NewReader([]byte(`</meas>;rt="oic.r.energy.consumption";ct=112,</ctl>;rt="oic.r.energy.drlc"`)),
				message.Option{ID: message.URIQuery, Value: []byte("ep=" + ep)},
				message.Option{ID: message.URIQuery, Value: fmt.Appendf(nil, "lt=%d", int64(e.o.Lifetime/time.Second))},
				message.Option{ID: message.URIQuery, Value: []byte("et=" + e.o.Kind)})
		}, codes.Created, "register")
	}
	if err := register(); err != nil {
		return err
	}
	info, _ := json.Marshal(Info{Class: m.class, PNomW: m.ratedW, PMinW: m.minW, PMaxW: m.ratedW})
	if err := req(func(c context.Context) (*pool.Message, error) {
		return cc.Put(c, "/dev/"+ep+"/info", message.AppJSON, bytes.NewReader(info))
	}, codes.Changed, "info"); err != nil {
		return err
	}
	ctls := make(chan Ctl, 1)
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	obs, err := cc.Observe(octx, "/dev/"+ep+"/ctl", func(n *pool.Message) {
		b, err := n.ReadBody()
		var c Ctl
		if err != nil || json.Unmarshal(b, &c) != nil {
			return
		}
		select { // coalesce: the newest command wins
		case <-ctls:
		default:
		}
		ctls <- c
	})
	cancel()
	if err != nil {
		return fmt.Errorf("coap appliance %s: observe ctl: %w", ep, err)
	}
	defer obs.Cancel(context.Background()) //nolint:errcheck // best effort on the way out
	for _, p := range []string{"/price", "/grid/limit"} {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		o, err := cc.Observe(octx, p, func(n *pool.Message) {
			b, err := n.ReadBody()
			if err != nil {
				return
			}
			e.mu.Lock()
			if p == "/price" {
				_ = json.Unmarshal(b, &e.price)
			} else {
				_ = json.Unmarshal(b, &e.limit)
			}
			e.mu.Unlock()
		})
		cancel()
		if err != nil {
			return fmt.Errorf("coap appliance %s: observe %s: %w", ep, p, err)
		}
		defer o.Cancel(context.Background()) //nolint:errcheck // best effort
	}
	e.o.Log.Info("coap appliance: registered and observing", "ep", ep, "kind", e.o.Kind)
	refresh := e.o.Clock.Now().Add(e.o.Lifetime / 2)
	e.mu.Lock()
	e.last = e.o.Clock.Now()
	e.mu.Unlock()
	if err := e.postMeas(ctx, cc, req); err != nil {
		return err
	}
	t := e.o.Clock.NewTimer(e.o.MeasEvery)
	defer func() { t.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-cc.Done():
			return errors.New("session closed by the gateway")
		case c := <-ctls:
			if err := e.obey(ctx, cc, c, req); err != nil {
				return err
			}
		case <-t.C():
			t = e.o.Clock.NewTimer(e.o.MeasEvery)
			if now := e.o.Clock.Now(); !now.Before(refresh) {
				if err := register(); err != nil {
					return err
				}
				refresh = now.Add(e.o.Lifetime / 2)
			}
			if err := e.postMeas(ctx, cc, req); err != nil {
				return err
			}
		}
	}
}

type reqFunc func(f func(context.Context) (*pool.Message, error), want codes.Code, what string) error

func (e *Emulator) obey(ctx context.Context, cc *udpclient.Conn, c Ctl, req reqFunc) error {
	e.mu.Lock()
	e.advanceLocked()
	e.ctl = c
	st := Status{CmdID: c.CmdID, State: e.stateLocked()}
	if models[e.o.Kind].jobWh > 0 {
		r := int64(max(e.jobWh, 0))
		st.RemainingWh = &r
	}
	e.mu.Unlock()
	if e.o.OnCtl != nil && c.CmdID != "" {
		e.o.OnCtl(c)
	}
	b, _ := json.Marshal(st)
	if err := req(func(rc context.Context) (*pool.Message, error) {
		return cc.Post(rc, "/dev/"+e.o.Identity+"/status", message.AppJSON, bytes.NewReader(b))
	}, codes.Changed, "status"); err != nil {
		return err
	}
	return e.postMeas(ctx, cc, req)
}

// advanceLocked integrates energy since the last step.
func (e *Emulator) advanceLocked() {
	now := e.o.Clock.Now()
	if !e.last.IsZero() {
		wh := float64(e.powerLocked()) * now.Sub(e.last).Hours()
		e.energyWh += wh
		if models[e.o.Kind].jobWh > 0 {
			e.jobWh -= wh
		}
	}
	e.last = now
}

func (e *Emulator) postMeas(_ context.Context, cc *udpclient.Conn, req reqFunc) error {
	e.mu.Lock()
	e.advanceLocked()
	p, s := float64(e.powerLocked()), e.energyWh*3600
	e.mu.Unlock()
	recs := []Record{{BaseName: "urn:dev:ep:" + e.o.Identity + ":", Name: "power", Unit: "W", Value: &p, Sum: &s}}
	cf, enc := message.AppSenmlJSON, EncodeSenMLJSON
	if e.o.CBOR {
		cf, enc = message.AppSenmlCbor, EncodeSenMLCBOR
	}
	b, err := enc(recs)
	if err != nil {
		return err
	}
	return req(func(rc context.Context) (*pool.Message, error) {
		return cc.Post(rc, "/dev/"+e.o.Identity+"/meas", cf, bytes.NewReader(b))
	}, codes.Changed, "meas")
}
