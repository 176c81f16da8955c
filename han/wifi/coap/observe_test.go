package coap

import (
	"context"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// One session gets at most MaxObserversPerSession observations; over the
// bound the answer carries no Observe option (RFC 7641 §4.1).
func TestObserversBounded(t *testing.T) {
	// The session ends with the client's close_notify, or at the latest
	// after Inactivity (a peer that vanishes sends nothing): short here,
	// so the test does not depend on the alert arriving.
	r := newRig(t, func(o *Options) { o.MaxLifetime, o.Inactivity = 2*time.Second, 3*time.Second })
	a := r.pair(t, "Charger")
	cc := dial(t, r.addr, a)
	for i := range MaxObserversPerSession + 3 {
		req, err := cc.NewObserveRequest(rctx(t), "/price")
		if err != nil {
			t.Fatal(err)
		}
		req.SetToken([]byte{byte(i), 0xaa})
		resp, err := cc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, obsErr := resp.Observe()
		if want := i < MaxObserversPerSession; (obsErr == nil) != want || resp.Code() != codes.Content {
			t.Fatalf("observation %d: observe option %v, want %v", i, obsErr == nil, want)
		}
	}
	if n := r.srv.obs.count(); n != MaxObserversPerSession {
		t.Fatalf("%d observers, want %d", n, MaxObserversPerSession)
	}
	cc.Close()
	waitFor(t, "observers dropped with the session", func() bool { return r.srv.obs.count() == 0 })
}

// Commands to an appliance that stopped acknowledging never block the
// controller: each returns at once, and the newest command replaces
// undelivered ones; after it answers again it receives the latest.
func TestCommandsNeverBlock(t *testing.T) {
	r := newRig(t, nil)
	a := r.pair(t, "Heat pump")
	cc := dial(t, r.addr, a)
	if c, _ := post(t, cc, "/rd", message.AppLinkFormat, nil, "ep="+a.Identity, "et=heatpump"); c != codes.Created {
		t.Fatal("register")
	}
	got := make(chan Ctl, 64)
	block := make(chan struct{})
	_, err := cc.Observe(rctx(t), "/dev/"+a.Identity+"/ctl", func(n *pool.Message) {
		b, _ := n.ReadBody()
		var c Ctl
		if jsonUnmarshal(b, &c) == nil && c.CmdID != "" {
			<-block // the appliance hangs in its handler: no ACK goes out
			got <- c
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	id := deviceID(a.Identity)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if err := r.reg.Command(context.Background(), energy.Command{Device: id, Kind: energy.CmdLimit, LimitW: int64(1000 + i)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second): // a blocking CON send would take 93 s per command
		t.Fatal("commands blocked behind an unresponsive observer")
	}
	close(block)
	var last Ctl
	deadline := time.After(10 * time.Second)
	for last.LimitW != 1199 {
		select {
		case last = <-got:
		case <-deadline:
			t.Fatalf("last delivered %+v, want the newest (1199)", last)
		}
	}
	if len(got) > 0 {
		t.Fatalf("more deliveries after the newest: %d", len(got))
	}
}

// /price above 1 KiB goes block-wise (Block2), on GET and in notifications.
func TestPriceBlockwise(t *testing.T) {
	r := newRig(t, nil)
	a := r.pair(t, "Charger")
	cc := dial(t, r.addr, a)
	p := Price{Currency: "EUR", Units: "KWH", Start: time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC), IntervalS: 900}
	for i := range 96 {
		p.Import = append(p.Import, 0.251234+float64(i)/1000)
		p.Export = append(p.Export, 0.081234)
	}
	r.srv.SetPrice(p)
	resp, err := cc.Get(rctx(t), "/price")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := resp.ReadBody()
	var got Price
	if len(b) <= 1024 || jsonUnmarshal(b, &got) != nil || len(got.Import) != 96 {
		t.Fatalf("GET /price: %d bytes", len(b))
	}
	notes := make(chan Price, 4)
	if _, err := cc.Observe(rctx(t), "/price", func(n *pool.Message) {
		b, _ := n.ReadBody()
		var x Price
		if jsonUnmarshal(b, &x) == nil {
			notes <- x
		}
	}); err != nil {
		t.Fatal(err)
	}
	<-notes // the registration answer
	p.Import[95] = 9.99
	r.srv.SetPrice(p)
	select {
	case x := <-notes:
		if len(x.Import) != 96 || x.Import[95] != 9.99 {
			t.Fatalf("notification: %+v", x)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no block-wise notification")
	}
}

// An unchanged /ctl is sent again after RefreshEvery (CON: a dead observer
// is found), and not before.
func TestObserveRefreshedDaily(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 8, 11, 12, 0, 0, 0, time.UTC))
	r := newRig(t, func(o *Options) { o.Clock = clk; o.MaxLifetime = 48 * time.Hour })
	a := r.pair(t, "Heat pump")
	cc := dial(t, r.addr, a)
	if c, _ := post(t, cc, "/rd", message.AppLinkFormat, nil, "ep="+a.Identity, "lt=172800"); c != codes.Created {
		t.Fatal("register")
	}
	got := make(chan Ctl, 8)
	if _, err := cc.Observe(rctx(t), "/dev/"+a.Identity+"/ctl", func(n *pool.Message) {
		b, _ := n.ReadBody()
		var c Ctl
		if jsonUnmarshal(b, &c) == nil {
			got <- c
		}
	}); err != nil {
		t.Fatal(err)
	}
	if c := <-got; c.Mode != ModeNormal {
		t.Fatalf("registration answer %+v", c)
	}
	clk.Advance(RefreshEvery - 2*time.Second)
	time.Sleep(300 * time.Millisecond) // let the server run its tick
	if len(got) != 0 {
		t.Fatalf("notified before the refresh interval: %+v", <-got)
	}
	clk.Advance(3 * time.Second)
	select {
	case c := <-got:
		if c.Mode != ModeNormal {
			t.Fatalf("refresh %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no refresh after a day without a change")
	}
	waitFor(t, "the refresh acknowledged", func() bool { return r.srv.obs.sent.Load() == 1 })
}
