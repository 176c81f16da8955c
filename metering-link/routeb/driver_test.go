package routeb

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	echoemul "github.com/gatewayd-project/gatewayd/han/echonet/emul"
	"github.com/gatewayd-project/gatewayd/han/wisun"
	wisunemul "github.com/gatewayd-project/gatewayd/han/wisun/emul"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
)

const (
	testID = "00112233445566778899AABBCCDDEEFF"
	testPW = "0123456789AB"
)

type pub struct {
	mu sync.Mutex
	rs []energy.Reading
}

func (p *pub) Publish(rs []energy.Reading) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rs = append(p.rs, rs...)
	return nil
}

func (p *pub) legal(q energy.Quantity) (energy.Reading, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.rs) - 1; i >= 0; i-- {
		if r := p.rs[i]; r.Quantity == q && r.Legal {
			return r, true
		}
	}
	return energy.Reading{}, false
}

// The legal link reads a route-B smart meter through every module
// dialect: joined over a real pty, power and the energy registers arrive
// as legal readings, and the wrap comes from D7/E1.
func TestRouteBLegalReadings(t *testing.T) {
	for _, dialect := range []wisunemul.Dialect{wisunemul.BP35A1, wisunemul.BP35C0, wisunemul.RL7023} {
		t.Run(string(dialect), func(t *testing.T) {
			clk := energy.SystemClock{}
			home, err := echoemul.NewHome(clk, echoemul.Options{Nodes: [][]echonet.Class{{echonet.ClassSmartMeter}}})
			if err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(t.TempDir(), "wisun.tty")
			mod, err := wisunemul.New(wisunemul.Config{Link: link, Dialect: dialect, ID: testID, Password: testPW,
				Network: wisunemul.EchonetHome(home), Clock: clk, TimeScale: 0.005})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			emDone := make(chan error, 1)
			go func() { emDone <- mod.Run(ctx) }()
			defer func() { cancel(); <-emDone }()

			drv, err := New(Options{ID: testID, Password: testPW, Timeout: 3 * time.Second, JoinTimeout: 30 * time.Second,
				Module: wisun.Config{CommandTimeout: time.Second, RetryBackoff: 50 * time.Millisecond, MaxBackoff: time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			p := &pub{}
			l, err := meteringlink.New(meteringlink.Options{Driver: drv, Path: link, Interval: 200 * time.Millisecond,
				Clock: clk, Publisher: p, MaxBackoff: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			lctx, lcancel := context.WithCancel(ctx)
			lDone := make(chan error, 1)
			go func() { lDone <- l.Run(lctx) }()
			defer func() { lcancel(); <-lDone }()
			deadline := time.Now().Add(20 * time.Second)
			var first time.Duration
			for {
				if _, ok := p.legal(energy.Power); ok && first == 0 {
					first = time.Since(t0)
				}
				_, okE := p.legal(energy.ImportEnergy)
				if first > 0 && okE {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no legal power and import energy within 20 s; status %+v", l.MeterStatus())
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("%s: first legal power reading %v after start", dialect, first.Round(time.Millisecond))
			st := l.MeterStatus()
			if st.Protocol != Protocol || !st.LinkUp || len(st.Address) != 16 {
				t.Errorf("status %+v", st)
			}
			e, _ := p.legal(energy.ImportEnergy)
			if e.Value.Float64() <= 0 {
				t.Errorf("import energy %+v", e)
			}
			if w, ok := drv.Wrap(); !ok || w.Float64() <= e.Value.Float64() {
				t.Errorf("wrap %v %v (register %v)", w, ok, e.Value)
			}
			if err := drv.SyncClock(ctx, nil, time.Now()); err != meteringlink.ErrNotSupported {
				t.Errorf("SyncClock: %v", err)
			}
		})
	}
}

func TestNewNeedsCredentials(t *testing.T) {
	if _, err := New(Options{ID: "short", Password: testPW}); err == nil {
		t.Error("a short route-B ID was accepted")
	}
	if _, err := New(Options{ID: testID}); err == nil {
		t.Error("no password was accepted")
	}
}
