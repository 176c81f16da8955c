package echonetip

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/han/echonet/emul"
)

// BenchmarkHome100 reports the memory of 100 emulated devices on IP: a
// Home of 100 single-device nodes (the six classes in turn), each served
// on its own loopback socket. heap-B/device is the live-heap growth,
// stack-B/device the goroutine stacks, both measured on the first
// iteration (later ones reuse the stacks of the goroutines that ended);
// the kernel's socket buffers are not counted.
func BenchmarkHome100(b *testing.B) {
	classes := emul.DefaultNodes()
	layout := make([][]echonet.Class, 100)
	for i := range layout {
		layout[i] = classes[i%len(classes)]
	}
	var heap, stack float64
	first := true
	for b.Loop() {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		ctx, cancel := context.WithCancel(context.Background())
		home, err := emul.NewHome(clocktest.New(time.Date(2024, 7, 20, 13, 0, 0, 0, jst)), emul.Options{Nodes: layout})
		if err != nil {
			b.Fatal(err)
		}
		srv, err := ServeHome(ctx, home, ServeOptions{Host: "127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		discover(b, ctx, srv.Addrs()) // every node's goroutine has run
		runtime.GC()
		runtime.ReadMemStats(&m1)
		if first {
			heap = float64(int64(m1.HeapAlloc) - int64(m0.HeapAlloc))
			stack = float64(int64(m1.StackInuse) - int64(m0.StackInuse))
			first = false
		}
		runtime.KeepAlive(home)
		cancel()
		srv.Wait()
	}
	b.ReportMetric(heap/100, "heap-B/device")
	b.ReportMetric(stack/100, "stack-B/device")
}

// discover asks every node for D6 (from a transport that is closed
// again) and waits for all the replies.
func discover(b *testing.B, ctx context.Context, addrs []string) {
	b.Helper()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr, err := Listen(tctx, Options{Listen: "127.0.0.1:0", Peers: addrs, Queue: 2 * len(addrs)})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	req := echonet.Frame{TID: 1, SEOJ: echonet.Controller, DEOJ: echonet.NodeProfile, ESV: echonet.Get,
		Props: []echonet.Property{{EPC: 0xD6}}}
	f, _ := req.Encode()
	if err := tr.Multicast(tctx, f); err != nil {
		b.Fatal(err)
	}
	for i := range addrs {
		if _, _, ok := next(b, tr, req, 2*time.Second); !ok {
			b.Fatalf("%d of %d nodes answered (dropped %d)", i, len(addrs), tr.Dropped())
		}
	}
}

// A Get E7 round trip over loopback UDP through the Transport.
func BenchmarkUDPGetE7(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	home, err := emul.NewHome(clocktest.New(time.Date(2024, 7, 20, 13, 0, 0, 0, jst)), emul.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := ServeHome(ctx, home, ServeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := Listen(ctx, Options{Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	req := echonet.Frame{SEOJ: echonet.Controller, DEOJ: meter, ESV: echonet.Get, Props: []echonet.Property{{EPC: 0xE7}}}
	dst := echonet.Addr(srv.Addrs()[0])
	for b.Loop() {
		req.TID++
		f, _ := req.Encode()
		if err := tr.Send(ctx, dst, f); err != nil {
			b.Fatal(err)
		}
		if _, _, ok := next(b, tr, req, 2*time.Second); !ok {
			b.Fatal("no reply")
		}
	}
	cancel()
	srv.Wait()
}
