package echonetip

import (
	"context"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/han/echonet/emul"
	"github.com/gatewayd-project/gatewayd/internal/netnstest"
)

// TestMulticastLoopback discovers an emulated Home by multicast on "lo".
// It runs in a network namespace of its own (so the host's loopback is
// never touched), where lo is up with MULTICAST.
func TestMulticastLoopback(t *testing.T) {
	if !netnstest.Run(t) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	home, err := emul.NewHome(clocktest.New(time.Date(2024, 7, 20, 13, 0, 0, 0, jst)), emul.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The gateway listens first, so it hears the nodes' announcements.
	tr, err := Listen(ctx, Options{Listen: "127.0.0.1:0", Multicast: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ServeHome(ctx, home, ServeOptions{Host: "127.0.0.1", Multicast: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	announced := map[string]bool{}
	deadline := time.After(2 * time.Second)
	for len(announced) < len(srv.Addrs()) {
		select {
		case p := <-tr.Packets():
			if f, err := echonet.Decode(p.Data); err == nil && f.ESV == echonet.INF && f.Props[0].EPC == 0xD5 {
				announced[string(p.Src)] = true
			}
		case <-deadline:
			t.Fatalf("announcements from %v only", announced)
		}
	}

	req := echonet.Frame{TID: 0x3610, SEOJ: echonet.Controller, DEOJ: echonet.NodeProfile, ESV: echonet.Get,
		Props: []echonet.Property{{EPC: 0xD6}}}
	b, _ := req.Encode()
	if err := tr.Multicast(ctx, b); err != nil {
		t.Fatal(err)
	}
	replied := map[string]bool{}
	for len(replied) < len(srv.Addrs()) {
		p, f, ok := next(t, tr, req, 2*time.Second)
		if !ok {
			t.Fatalf("replies from %v only", replied)
		}
		if f.ESV != echonet.GetRes || !announced[string(p.Src)] {
			t.Fatalf("%+v from %s", f, p.Src)
		}
		replied[string(p.Src)] = true
	}
	cancel()
	srv.Wait()
}
