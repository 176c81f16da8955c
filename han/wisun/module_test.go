package wisun

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/han/wisun/emul"
	"github.com/gatewayd-project/gatewayd/health"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

const (
	testID = "0000003B00000000000000000A123456" // PairID 0A123456
	testPW = "ABCDEFGH1234"
)

var (
	getE7   = mustHex("1081000105FF010288016201E700")
	replyE7 = mustHex("1081000102880105FF017201E704000001F4")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// fakeNet answers every unicast payload from node 0 with a fixed reply and
// a multicast from every node.
type fakeNet struct {
	nodes []emul.Node
	reply []byte
}

func newFakeNet() *fakeNet {
	return &fakeNet{nodes: []emul.Node{{MAC: "001D129012345678"}, {MAC: "001D1290ABCDEF01"}}, reply: replyE7}
}

func (n *fakeNet) Nodes() []emul.Node { return n.nodes }

func (n *fakeNet) Deliver(dst, src string, payload []byte) []emul.Datagram {
	var out []emul.Datagram
	for i, node := range n.nodes {
		ll, _ := LinkLocal(node.MAC)
		if dst == MulticastAddr || (dst == ll && i == 0) {
			out = append(out, emul.Datagram{Src: ll, Data: n.reply})
		}
	}
	return out
}

type rig struct {
	em   *emul.Module
	mod  *Module
	reg  *health.Registry
	stop func() error
	t0   time.Time
}

// startRig runs the emulator on a pty and the driver on its slave, opened
// with serialport.Open at 115200 8N1.
func startRig(t *testing.T, ec emul.Config, c Config) *rig {
	t.Helper()
	ec.Link = filepath.Join(t.TempDir(), "wisun")
	if ec.ID == "" {
		ec.ID, ec.Password = testID, testPW
	}
	if ec.Network == nil {
		ec.Network = newFakeNet()
	}
	if ec.TimeScale == 0 {
		ec.TimeScale = 0.005
	}
	em, err := emul.New(ec)
	if err != nil {
		t.Fatal(err)
	}
	ectx, ecancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := em.Run(ectx); err != nil {
			t.Errorf("emulator: %v", err)
		}
	})
	port, err := serialport.Open(em.Path(), serialport.Mode{Baud: 115200, DataBits: 8, Parity: serialport.ParityNone, StopBits: 1})
	if err != nil {
		ecancel()
		wg.Wait()
		t.Fatal(err)
	}
	if c.ID == "" {
		c.ID, c.Password = testID, testPW
	}
	reg := health.New(time.Now)
	c.Health = reg
	c.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.CommandTimeout, 500*time.Millisecond)
	def(&c.JoinTimeout, 2*time.Second)
	def(&c.RetryBackoff, 20*time.Millisecond)
	def(&c.MaxBackoff, 200*time.Millisecond)
	def(&c.ProbeInterval, 100*time.Millisecond)
	mod, err := New(port, c)
	if err != nil {
		port.Close()
		ecancel()
		wg.Wait()
		t.Fatal(err)
	}
	mctx, mcancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	r := &rig{em: em, mod: mod, reg: reg, t0: time.Now()}
	go func() { runErr <- mod.Run(mctx) }()
	var once sync.Once
	var stopErr error
	r.stop = func() error {
		once.Do(func() {
			mcancel()
			stopErr = <-runErr
			ecancel()
			wg.Wait()
		})
		return stopErr
	}
	t.Cleanup(func() { r.stop() })
	return r
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

func (r *rig) waitJoined(t *testing.T) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.mod.WaitJoined(ctx); err != nil {
		t.Fatalf("not joined: %v (emulator %+v, driver %+v)", err, r.em.Stats(), r.mod.Stats())
	}
	if r.reg.Active(HealthNotJoined) {
		t.Fatal("joined but health condition still set")
	}
	return time.Since(r.t0)
}

// roundTrip sends Get E7 to the meter and expects its reply.
func (r *rig) roundTrip(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var err error
	for range 20 { // a session may be re-joining after an injected fault
		if err = r.mod.Send(ctx, r.mod.Peer(), getE7); !errors.Is(err, ErrNotJoined) {
			break
		}
		r.waitJoined(t)
	}
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	select {
	case p := <-r.mod.Packets():
		if p.Src != meterLL || !bytes.Equal(p.Data, replyE7) {
			t.Fatalf("packet %s % X", p.Src, p.Data)
		}
	case <-ctx.Done():
		t.Fatal("no reply")
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDialects(t *testing.T) {
	for _, tt := range []struct {
		dialect emul.Dialect
		want    Dialect
		flash   int // WOPT writes expected
	}{
		{emul.BP35A1, BP35A1, 1},
		{emul.BP35C0, BP35C0, 1},
		{emul.RL7023, RL7023, 0},
	} {
		for _, detect := range []bool{true, false} {
			name := string(tt.dialect) + "/configured"
			cfg := Config{Dialect: tt.want}
			if detect {
				name, cfg.Dialect = string(tt.dialect)+"/detected", ""
			}
			t.Run(name, func(t *testing.T) {
				r := startRig(t, emul.Config{Dialect: tt.dialect}, cfg)
				if !r.reg.Active(HealthNotJoined) && !r.mod.Joined() {
					t.Error("health condition not set before join")
				}
				t.Logf("joined after %d ms", r.waitJoined(t).Milliseconds())
				if r.mod.Dialect() != tt.want || r.mod.Peer() != meterLL {
					t.Fatalf("dialect %q peer %q", r.mod.Dialect(), r.mod.Peer())
				}
				r.roundTrip(t)
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				if err := r.mod.Multicast(ctx, getE7); err != nil {
					t.Fatal(err)
				}
				srcs := map[echonet.Addr]bool{}
				for len(srcs) < 2 {
					select {
					case p := <-r.mod.Packets():
						srcs[p.Src] = true
					case <-ctx.Done():
						t.Fatalf("multicast replies from %v", srcs)
					}
				}
				if st := r.em.Stats(); st.FlashWrites != tt.flash {
					t.Errorf("flash writes %d, want %d", st.FlashWrites, tt.flash)
				}
				if err := r.stop(); err != nil {
					t.Fatalf("Run: %v", err)
				}
				if r.mod.Joined() || !r.reg.Active(HealthNotJoined) {
					t.Error("still joined after stop")
				}
				if _, ok := <-r.mod.Packets(); ok {
					t.Error("Packets not closed")
				}
			})
		}
	}
}

func TestBinaryRXWithCRLFInData(t *testing.T) {
	net := newFakeNet()
	net.reply = mustHex("1081000102880105FF0172010D0A0D0D0A0A")
	r := startRig(t, emul.Config{Dialect: emul.BP35A1, Network: net}, Config{BinaryRX: true})
	r.waitJoined(t)
	if err := r.mod.Send(context.Background(), meterLL, getE7); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-r.mod.Packets():
		if !bytes.Equal(p.Data, net.reply) {
			t.Fatalf("data % X", p.Data)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no reply")
	}
	if st := r.em.Stats(); st.FlashWrites != 0 {
		t.Errorf("flash written %d times although the mode matched", st.FlashWrites)
	}
}

func TestWrongPasswordRetriesThenJoins(t *testing.T) {
	r := startRig(t, emul.Config{Dialect: emul.BP35C0, Password: "WRONGWRONG12", ID: testID}, Config{})
	eventually(t, "3 failed joins", func() bool { return r.em.Stats().Joins >= 3 })
	if r.mod.Joined() || r.em.Stats().JoinsOK != 0 {
		t.Fatal("joined with a wrong password")
	}
	if !r.reg.Active(HealthNotJoined) {
		t.Fatal("health condition not set")
	}
	if err := r.mod.Send(context.Background(), meterLL, getE7); !errors.Is(err, ErrNotJoined) {
		t.Fatalf("send while not joined: %v", err)
	}
	r.em.SetCredentials(testID, testPW)
	r.waitJoined(t)
	r.roundTrip(t)
}

func TestRejoinAfterInjectedEvents(t *testing.T) {
	r := startRig(t, emul.Config{Dialect: emul.BP35A1}, Config{})
	r.waitJoined(t)
	for i, inject := range []func(){r.em.Faults().Event24, r.em.Faults().Event28} {
		inject()
		eventually(t, "re-join", func() bool { return r.em.Stats().JoinsOK == i+2 && r.mod.Joined() })
		r.roundTrip(t)
	}
	if st := r.mod.Stats(); st.SessionsLost != 2 {
		t.Errorf("sessions lost %d, want 2", st.SessionsLost)
	}
}

func TestRecoveryAfterModuleReset(t *testing.T) {
	for _, d := range []emul.Dialect{emul.BP35A1, emul.RL7023} {
		t.Run(string(d), func(t *testing.T) {
			r := startRig(t, emul.Config{Dialect: d}, Config{})
			r.waitJoined(t)
			r.em.Faults().ResetModule()
			eventually(t, "re-join after reset", func() bool { return r.em.Stats().JoinsOK == 2 && r.mod.Joined() })
			r.roundTrip(t)
			if d == emul.BP35A1 && r.em.Stats().FlashWrites != 1 {
				t.Errorf("flash writes %d: WOPT must survive a reset", r.em.Stats().FlashWrites)
			}
		})
	}
}

func TestGarbageAndSlowReplies(t *testing.T) {
	f := &emul.Faults{}
	f.SetGarbageLines(true)
	f.SetSlowReplies(20 * time.Millisecond)
	r := startRig(t, emul.Config{Dialect: emul.BP35C0, Faults: f}, Config{})
	r.waitJoined(t)
	for range 5 {
		r.roundTrip(t)
	}
	f.SetDropReplies(true)
	if err := r.mod.Send(context.Background(), meterLL, getE7); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-r.mod.Packets():
		t.Fatalf("reply although dropped: %+v", p)
	case <-time.After(100 * time.Millisecond):
	}
	if r.mod.Stats().BadInput == 0 {
		t.Error("no junk counted")
	}
}

func TestScanDurationsIncrease(t *testing.T) {
	r := startRig(t, emul.Config{Dialect: emul.BP35A1, MinScanDuration: 6}, Config{})
	r.waitJoined(t)
	if st := r.em.Stats(); st.Scans != 3 {
		t.Errorf("scans %d, want 3 (durations 4, 5, 6)", st.Scans)
	}
}

func TestSkipScanWhenConfigured(t *testing.T) {
	r := startRig(t, emul.Config{Dialect: emul.BP35C0},
		Config{Channel: 33, PanID: 0x8888, CoordinatorMAC: "001D129012345678"})
	r.waitJoined(t)
	// One duration-0 scan to learn the dialect, none to find the PAN.
	if st := r.em.Stats(); st.Scans != 1 || r.mod.Dialect() != BP35C0 {
		t.Errorf("scans %d dialect %q", st.Scans, r.mod.Dialect())
	}
	r.roundTrip(t)
}

func TestStopLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		r := startRig(t, emul.Config{Dialect: emul.BP35A1}, Config{})
		r.waitJoined(t)
		r.roundTrip(t)
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
		// Send after stop fails fast.
		if err := r.mod.Send(context.Background(), meterLL, getE7); err == nil {
			t.Fatal("send after stop succeeded")
		}
	}()
	eventually(t, "goroutines to settle", func() bool { return runtime.NumGoroutine() <= before })
}

func TestConfigValidation(t *testing.T) {
	p := nopPort{}
	for name, c := range map[string]Config{
		"short id":    {ID: "123", Password: testPW},
		"no password": {ID: testID},
		"space in pw": {ID: testID, Password: "AB CD"},
		"dialect":     {ID: testID, Password: testPW, Dialect: "xbee"},
		"role":        {ID: testID, Password: testPW, Role: "wan"},
		"channel":     {ID: testID, Password: testPW, Channel: 5},
		"duration":    {ID: testID, Password: testPW, ScanDurations: []int{15}},
		"mac":         {ID: testID, Password: testPW, CoordinatorMAC: "XYZ"},
	} {
		_, err := New(p, c)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if bytes.Contains([]byte(err.Error()), []byte(testPW)) || bytes.Contains([]byte(err.Error()), []byte(testID)) {
			t.Errorf("%s: error leaks a secret: %v", name, err)
		}
	}
	if redact("SKSETPWD C "+testPW) != "SKSETPWD ****" || redact("SKSETRBID "+testID) != "SKSETRBID ****" {
		t.Error("secrets not redacted")
	}
}

type nopPort struct{}

func (nopPort) Read([]byte) (int, error)           { return 0, nil }
func (nopPort) Write(b []byte) (int, error)        { return len(b), nil }
func (nopPort) Close() error                       { return nil }
func (nopPort) SetReadTimeout(time.Duration) error { return nil }
func (nopPort) SetMode(serialport.Mode) error      { return nil }
func (nopPort) ResetInputBuffer() error            { return nil }
