package coap

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	udpclient "github.com/plgd-dev/go-coap/v3/udp/client"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/health"
)

type rig struct {
	srv   *Server
	store *Store
	reg   *devices.Registry
	hl    *health.Registry
	addr  string
	stop  func()
}

func newRig(t testing.TB, tune func(*Options)) *rig {
	t.Helper()
	store, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := devices.New()
	hl := health.New(time.Now)
	o := Options{Listen: "127.0.0.1:0", Store: store, Registry: reg, Health: hl, Log: slog.New(slog.DiscardHandler)}
	if tune != nil {
		tune(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	r := &rig{srv: srv, store: store, reg: reg, hl: hl, addr: srv.Addr().String()}
	var stop func()
	var once sync.Once
	r.stop = func() { once.Do(stop) }
	stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("server did not stop")
		}
	}
	t.Cleanup(r.stop)
	return r
}

func (r *rig) pair(t testing.TB, name string) Appliance {
	t.Helper()
	a, err := r.store.Pair(name, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func dial(t testing.TB, addr string, a Appliance) *udpclient.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := Dial(ctx, addr, a.Identity, a.PSK, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func rctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func post(t testing.TB, cc *udpclient.Conn, path string, cf message.MediaType, body []byte, q ...string) (codes.Code, string) {
	t.Helper()
	var opts []message.Option
	for _, x := range q {
		opts = append(opts, message.Option{ID: message.URIQuery, Value: []byte(x)})
	}
	resp, err := cc.Post(rctx(t), path, cf, bytes.NewReader(body), opts...)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	b, _ := resp.ReadBody()
	return resp.Code(), string(b)
}

func waitFor(t testing.TB, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An emulated appliance over DTLS-PSK registers, becomes a device, reports
// power, obeys a registry command through /ctl and acknowledges it.
func TestEmulatorThroughRegistry(t *testing.T) {
	r := newRig(t, nil)
	a := r.pair(t, "Heat pump")
	got := make(chan Ctl, 4)
	em, err := NewEmulator(EmulatorOptions{Kind: "heatpump", Gateway: r.addr, Identity: a.Identity, PSK: a.PSK,
		MeasEvery: 50 * time.Millisecond, CBOR: true, OnCtl: func(c Ctl) { got <- c }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { em.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	id := deviceID(a.Identity)
	waitFor(t, "device online with power", func() bool {
		d, ok := r.reg.Device(id)
		return ok && d.State.Online && d.State.PowerW == 2500
	})
	d, _ := r.reg.Device(id)
	if d.Transport != "coap" || d.Kind != "heatpump" || d.Name != "Heat pump" || d.RatedW != 2500 || !d.Caps.Has(energy.CapCurtail) {
		t.Fatalf("device = %+v", d.DeviceInfo)
	}
	if err := r.reg.Command(context.Background(), energy.Command{Device: id, Kind: energy.CmdLimit, LimitW: 1000, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if c.Mode != ModeLimit || c.LimitW != 1000 || c.Reason != "test" || c.CmdID == "" {
			t.Fatalf("ctl = %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no /ctl notification")
	}
	waitFor(t, "limited power reported", func() bool {
		d, _ := r.reg.Device(id)
		return d.State.PowerW == 1000 && d.State.LimitW == 1000
	})
	if err := r.reg.Command(context.Background(), energy.Command{Device: id, Kind: energy.CmdOff}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "curtailed appliance acknowledged", func() bool {
		d, _ := r.reg.Device(id)
		eps := r.srv.Endpoints()
		return d.State.PowerW == 0 && !d.State.On && len(eps) == 1 && eps[0].State == "IDLE_CURTAILED"
	})
	if em.Ctl().Mode != ModeCurtail {
		t.Fatalf("emulator ctl = %+v", em.Ctl())
	}
	// /grid/limit and /price reach the observer.
	r.srv.SetGridLimit(GridLimit{Simple: 2, ImportLimitW: 3000})
	waitFor(t, "grid limit notification", func() bool { return em.GridLimit().ImportLimitW == 3000 })
}

// A session may only touch its own endpoint: 4.03 otherwise; unpaired
// and unregistered endpoints are refused; discovery lists its resources.
func TestIdentityBoundToEndpoint(t *testing.T) {
	r := newRig(t, nil)
	a, b := r.pair(t, "Dishwasher"), r.pair(t, "EV charger")
	cc := dial(t, r.addr, a)
	if c, body := post(t, cc, "/rd", message.AppLinkFormat, nil, "ep="+b.Identity); c != codes.Forbidden {
		t.Fatalf("register as another ep: %v %s", c, body)
	}
	if c, _ := post(t, cc, "/dev/"+a.Identity+"/meas", message.AppSenmlJSON, []byte(`[{"n":"power","u":"W","v":1}]`)); c != codes.NotFound {
		t.Fatalf("meas before registration: %v", c)
	}
	c, _ := post(t, cc, "/rd", message.AppLinkFormat, []byte(`</meas>;rt="oic.r.energy.consumption"`), "ep="+a.Identity, "et=dishwasher", "lt=120")
	if c != codes.Created {
		t.Fatalf("register: %v", c)
	}
	if c, _ := post(t, cc, "/dev/"+b.Identity+"/meas", message.AppSenmlJSON, []byte(`[{"n":"power","u":"W","v":1}]`)); c != codes.Forbidden {
		t.Fatalf("meas for another ep: %v", c)
	}
	resp, err := cc.Get(rctx(t), "/dev/"+b.Identity+"/ctl")
	if err != nil || resp.Code() != codes.Forbidden {
		t.Fatalf("GET other ctl: %v %v", resp, err)
	}
	resp, err = cc.Get(rctx(t), "/.well-known/core")
	if err != nil {
		t.Fatal(err)
	}
	lf, _ := resp.ReadBody()
	if !strings.Contains(string(lf), "</dev/"+a.Identity+"/ctl>;rt=\"oic.r.energy.drlc\";ct=50;obs") ||
		strings.Contains(string(lf), b.Identity) || !strings.Contains(string(lf), "</rd>;rt=\"core.rd\"") {
		t.Fatalf("well-known: %s", lf)
	}
	resp, err = cc.Get(rctx(t), "/.well-known/core", message.Option{ID: message.URIQuery, Value: []byte("rt=core.rd")})
	if err != nil {
		t.Fatal(err)
	}
	if lf, _ := resp.ReadBody(); string(lf) != `</rd>;rt="core.rd";ct=40` {
		t.Fatalf("rt filter: %s", lf)
	}
	// An unpaired identity does not complete the handshake.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := Dial(ctx, r.addr, "stranger-0000", bytes.Repeat([]byte{1}, 16), false); err == nil {
		t.Fatal("handshake with an unknown identity succeeded")
	}
	// A wrong key for a known identity fails too.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	if _, err := Dial(ctx2, r.addr, a.Identity, bytes.Repeat([]byte{2}, 16), false); err == nil {
		t.Fatal("handshake with a wrong key succeeded")
	}
}

// Malformed SenML or CBOR gets 4.00 with a diagnostic payload and changes
// nothing; oversized bodies get 4.13.
func TestMalformedMeasChangesNothing(t *testing.T) {
	r := newRig(t, nil)
	a := r.pair(t, "Charger")
	cc := dial(t, r.addr, a)
	if c, _ := post(t, cc, "/rd", message.AppLinkFormat, nil, "ep="+a.Identity, "et=evcharger"); c != codes.Created {
		t.Fatalf("register: %v", c)
	}
	meas := "/dev/" + a.Identity + "/meas"
	if c, body := post(t, cc, meas, message.AppSenmlJSON, []byte(`[{"bn":"urn:dev:ep:x:","n":"power","u":"W","v":4200,"s":36000}]`)); c != codes.Changed {
		t.Fatalf("good meas: %v %s", c, body)
	}
	want := func() {
		t.Helper()
		d, _ := r.reg.Device(deviceID(a.Identity))
		if d.State.PowerW != 4200 || d.State.EnergyWh != 10 {
			t.Fatalf("state changed: %+v", d.State)
		}
	}
	want()
	for _, tc := range []struct {
		cf   message.MediaType
		body string
		diag string
	}{
		{message.AppSenmlJSON, `[{"n":"power","u":"W","v":`, "senml: json"},
		{message.AppSenmlJSON, `[{"n":"power","u":"kW","v":3}]`, "power in \"kW\""},
		{message.AppSenmlJSON, `[]`, "empty pack"},
		{message.AppSenmlJSON, `[{"n":"power","u":"W","v":1,"zz":2}]`, "unknown field"},
		{message.AppSenmlCbor, "\x81\xa1\x00", "senml: cbor"},
		{message.AppSenmlCbor, "\xff\xff", "senml: cbor"},
		{message.AppJSON + 1000, `x`, "content format"},
	} {
		c, diag := post(t, cc, meas, tc.cf, []byte(tc.body))
		if (c != codes.BadRequest && c != codes.UnsupportedMediaType) || !strings.Contains(diag, tc.diag) {
			t.Errorf("%q: %v %q, want 4.00 with %q", tc.body, c, diag, tc.diag)
		}
		want()
	}
	if c, _ := post(t, cc, meas, message.AppSenmlJSON, bytes.Repeat([]byte(" "), MaxPayload+10)); c != codes.RequestEntityTooLarge && c != codes.BadRequest {
		t.Errorf("oversized: %v", c)
	}
	if c, diag := post(t, cc, "/dev/"+a.Identity+"/status", message.AppJSON, []byte(`{"state":"DANCING"}`)); c != codes.BadRequest || !strings.Contains(diag, "unknown state") {
		t.Errorf("bad status: %v %s", c, diag)
	}
	want()
}

// Revocation closes the appliance's session and removes its device; the
// key no longer completes a handshake.
func TestRevokeClosesSessions(t *testing.T) {
	r := newRig(t, nil)
	a := r.pair(t, "Dishwasher")
	cc := dial(t, r.addr, a)
	if c, _ := post(t, cc, "/rd", message.AppLinkFormat, nil, "ep="+a.Identity, "et=dishwasher"); c != codes.Created {
		t.Fatalf("register: %v", c)
	}
	if _, ok := r.reg.Device(deviceID(a.Identity)); !ok {
		t.Fatal("no device")
	}
	if err := r.srv.Revoke(a.Identity); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.reg.Device(deviceID(a.Identity)); ok {
		t.Fatal("device still there after revoke")
	}
	waitFor(t, "session closed", func() bool {
		r.srv.mu.Lock()
		defer r.srv.mu.Unlock()
		return len(r.srv.sessions) == 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := Dial(ctx, r.addr, a.Identity, a.PSK, false); err == nil {
		t.Fatal("revoked key still completes a handshake")
	}
}

// A revocation by another process (the CLI) is noticed through the file.
func TestRevokeByOtherProcess(t *testing.T) {
	r := newRig(t, func(o *Options) { o.ReloadEvery = 100 * time.Millisecond })
	a := r.pair(t, "Heat pump")
	cc := dial(t, r.addr, a)
	if c, _ := post(t, cc, "/rd", message.AppLinkFormat, nil, "ep="+a.Identity, "et=heatpump"); c != codes.Created {
		t.Fatalf("register: %v", c)
	}
	other, err := OpenStore(strings.TrimSuffix(r.store.dir, "/coap"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // a different mtime on coarse file systems
	if err := other.Revoke(a.Identity); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "device removed after CLI revoke", func() bool {
		_, ok := r.reg.Device(deviceID(a.Identity))
		return !ok
	})
	if _, ok := r.store.Lookup(a.Identity); ok {
		t.Fatal("daemon's store still knows the key")
	}
}

// A registration whose lifetime runs out marks the device offline and
// raises the health condition; a refresh brings it back.
func TestLifetimeExpiry(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 8, 11, 12, 0, 0, 0, time.UTC))
	r := newRig(t, func(o *Options) { o.Clock = clk; o.MaxLifetime = 2 * time.Minute })
	a := r.pair(t, "Charger")
	cc := dial(t, r.addr, a)
	if c, _ := post(t, cc, "/rd", message.AppLinkFormat, nil, "ep="+a.Identity, "lt=90000"); c != codes.Created {
		t.Fatalf("register: %v", c)
	}
	id := deviceID(a.Identity)
	if d, _ := r.reg.Device(id); !d.State.Online {
		t.Fatal("not online")
	}
	clk.Advance(119 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if d, _ := r.reg.Device(id); !d.State.Online {
		t.Fatal("offline before the (capped) lifetime ran out")
	}
	waitFor(t, "offline after expiry", func() bool {
		clk.Advance(2 * time.Second)
		d, _ := r.reg.Device(id)
		return !d.State.Online && r.hl.Active(HealthStale)
	})
	if err := r.reg.Command(context.Background(), energy.Command{Device: id, Kind: energy.CmdOff}); !errors.Is(err, energy.ErrOffline) {
		t.Fatalf("command to an expired appliance: %v", err)
	}
	if c, _ := post(t, cc, "/rd", message.AppLinkFormat, nil, "ep="+a.Identity); c != codes.Created {
		t.Fatalf("re-register: %v", c)
	}
	waitFor(t, "online and healthy again", func() bool {
		clk.Advance(time.Second)
		d, _ := r.reg.Device(id)
		return d.State.Online && !r.hl.Active(HealthStale)
	})
}

// Plain coap is refused off loopback; the inactivity timeout must exceed
// the longest lifetime.
func TestOptionsValidation(t *testing.T) {
	store, _ := OpenStore(t.TempDir())
	reg := devices.New()
	if _, err := New(Options{PlainListen: "0.0.0.0:5683", Store: store, Registry: reg}); err == nil {
		t.Fatal("plain coap on all interfaces accepted")
	}
	if _, err := New(Options{PlainListen: "[::1]:0", Store: store, Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Store: store, Registry: reg, MaxLifetime: time.Hour, Inactivity: 30 * time.Minute}); err == nil {
		t.Fatal("inactivity below the lifetime accepted")
	}
}
