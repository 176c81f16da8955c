package emul

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/metering-link/iec62056"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

const iecTestID = "123456789012"

type iecRig struct {
	model *Model
	line  *Line
	conn  *serialport.Conn
	stop  func() error // cancels Serve and returns what it returned
}

// startIEC runs an IECMeter on a real pty and opens the gateway side.
func startIEC(t *testing.T, cfg ModelConfig, maxBaud int) *iecRig {
	t.Helper()
	line, err := NewLine(filepath.Join(t.TempDir(), "meter"), serialport.Mode7E1(300), 20*time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	model := NewModel(energy.SystemClock{}, cfg)
	m := &IECMeter{Model: model, Line: line, ID: iecTestID, MaxBaud: maxBaud}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	port, err := serialport.Open(line.Path(), serialport.Mode7E1(300))
	if err != nil {
		cancel()
		<-done
		line.Close()
		t.Fatal(err)
	}
	r := &iecRig{model: model, line: line, conn: serialport.NewConn(port)}
	stopped := false
	var serveErr error
	r.stop = func() error {
		if stopped {
			return serveErr
		}
		stopped = true
		cancel()
		select {
		case serveErr = <-done:
		case <-time.After(3 * time.Second):
			serveErr = errors.New("Serve did not return after cancel")
		}
		port.Close()
		line.Close()
		return serveErr
	}
	t.Cleanup(func() { r.stop() })
	return r
}

func iecDriver(t *testing.T, addr string, baud int) *iec62056.Driver {
	t.Helper()
	d, err := iec62056.New(iec62056.Options{
		Address: addr, Baud: baud,
		ResponseTimeout: 500 * time.Millisecond, ByteTimeout: 300 * time.Millisecond,
		Location: time.UTC,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// wantIEC is what the readout of s must map to, at the resolution the
// emulator prints.
func wantIEC(s State) map[energy.Quantity]energy.Decimal {
	w := map[energy.Quantity]energy.Decimal{
		energy.ImportEnergy:    energy.D(s.ImportMWh[0]/1000, 0),
		energy.ExportEnergy:    energy.D(s.ExportMWh[0]/1000, 0),
		energy.ReactiveEnergy1: energy.D(s.Reactive1MVarh/1000, 0),
		energy.ReactiveEnergy2: energy.D(s.Reactive2MVarh/1000, 0),
		energy.Power:           energy.D(s.PowerMW[0]/100, -1),
		energy.Frequency:       energy.D(s.FrequencyMHz/10, -2),
		energy.PowerFactor:     energy.D(abs(s.PowerFactorMilli[0]), -3),
		energy.PowerDownCount:  energy.D(s.PowerDownCount, 0),
	}
	for i := 1; i <= 4; i++ {
		w[energy.Tariff(energy.ImportEnergy, i)] = energy.D(s.ImportMWh[i]/1000, 0)
		w[energy.Tariff(energy.ExportEnergy, i)] = energy.D(s.ExportMWh[i]/1000, 0)
	}
	for p := 1; p <= s.Phases; p++ {
		w[energy.Phase("power", p)] = energy.D(max(s.PowerMW[p], 0)/100, -1)
		w[energy.Phase("voltage", p)] = energy.D(s.VoltageMV[p-1]/100, -1)
		w[energy.Phase("current", p)] = energy.D(abs(s.CurrentMA[p-1])/10, -2)
	}
	return w
}

func settleGoroutines(t *testing.T, before int) {
	t.Helper()
	n := 0
	for i := 0; i < 100; i++ {
		if n = runtime.NumGoroutine(); n <= before {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
}

// TestIECEndToEnd drives the real driver against the emulator on a pty,
// for a 3-phase meter at 19200 baud and a 1-phase meter at 9600 baud.
// It is not parallel so that the goroutine count is meaningful.
func TestIECEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		phases, maxBaud int
	}{{3, 19200}, {1, 9600}} {
		before := runtime.NumGoroutine()
		r := startIEC(t, ModelConfig{Phases: tc.phases, Location: time.UTC}, tc.maxBaud)
		d := iecDriver(t, "", 19200)
		ctx := context.Background()
		id, err := d.Identify(ctx, r.conn)
		if err != nil {
			t.Fatalf("%d phases: identify: %v", tc.phases, err)
		}
		if id != iecTestID {
			t.Fatalf("id %q", id)
		}
		r.model.Hold(true)
		st := r.model.State()
		res, err := d.Poll(ctx, r.conn, meteringlink.GroupAll)
		if err != nil {
			t.Fatalf("%d phases: poll: %v", tc.phases, err)
		}
		want := wantIEC(st)
		got := map[energy.Quantity]energy.Decimal{}
		for _, v := range res.Values {
			got[v.Quantity] = v.Value
		}
		for q, w := range want {
			if g, ok := got[q]; !ok || g.Cmp(w) != 0 {
				t.Errorf("%d phases: %s = %v (present %v), want %v", tc.phases, q, g, ok, w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d phases: %d values, want %d: %v", tc.phases, len(got), len(want), res.Values)
		}
		if len(res.Unavailable) != 0 {
			t.Errorf("unavailable %v", res.Unavailable)
		}
		if dt := res.MeterTime.Sub(st.MeterTime); dt < -time.Second || dt > 3*time.Second {
			t.Errorf("meter time %v, model %v", res.MeterTime, st.MeterTime)
		}
		if err := r.stop(); err != nil {
			t.Fatalf("Serve returned %v after cancel", err)
		}
		settleGoroutines(t, before)
	}
}

func TestIECFaults(t *testing.T) {
	t.Parallel()
	r := startIEC(t, ModelConfig{Location: time.UTC}, 19200)
	d := iecDriver(t, iecTestID, 19200)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		faults Faults
		want   error
	}{
		{"drop", Faults{Drop: 1}, serialport.ErrTimeout},
		{"garbage", Faults{Garbage: 1}, nil},
		{"bad checksum", Faults{BadChecksum: 1}, iec62056.ErrBCC},
		{"silent", Faults{Silent: true}, serialport.ErrTimeout},
	} {
		r.line.SetFaults(tc.faults)
		_, err := d.Poll(ctx, r.conn, meteringlink.GroupAll)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Fatalf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		r.line.SetFaults(Faults{})
		if _, err := d.Poll(ctx, r.conn, meteringlink.GroupAll); err != nil {
			t.Fatalf("after %s cleared: %v", tc.name, err)
		}
	}
}

func TestIECAddressAndBaud(t *testing.T) {
	t.Parallel()
	r := startIEC(t, ModelConfig{Location: time.UTC}, 4800)
	ctx := context.Background()
	// Another meter's address: no answer.
	if _, err := iecDriver(t, "999", 9600).Poll(ctx, r.conn, meteringlink.GroupAll); !errors.Is(err, serialport.ErrTimeout) {
		t.Fatalf("foreign address: err = %v", err)
	}
	// The meter's own address without leading zeros, and a rate capped by
	// the meter's 4800 baud.
	if _, err := iecDriver(t, "123456789012", 19200).Poll(ctx, r.conn, meteringlink.GroupAll); err != nil {
		t.Fatal(err)
	}
	// The emulator returns to 300 baud once its readout is out; the
	// driver may see the last byte a moment before that.
	deadline := time.Now().Add(time.Second)
	for r.line.Mode().Baud != 300 {
		if time.Now().After(deadline) {
			t.Fatalf("line left at %d baud after the session", r.line.Mode().Baud)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestIECReadoutFormat(t *testing.T) {
	s := State{Phases: 1, MeterTime: time.Date(2024, 5, 20, 13, 45, 30, 0, time.UTC), PowerDownCount: 3}
	s.ImportMWh[0] = 1234567890
	s.PowerMW = [4]int64{-1234500, -1234500, 0, 0}
	s.VoltageMV[0] = 230100
	s.CurrentMA[0] = -5368
	s.FrequencyMHz = 49987
	s.PowerFactorMilli[0] = -960
	lines := iecLines(s, "42")
	got := map[string]string{}
	for _, l := range lines {
		got[l.Address] = l.Values[0].Raw + "*" + l.Values[0].Unit
	}
	for addr, want := range map[string]string{
		"0.0.0": "42*", "0.9.1": "13:45:30*", "0.9.2": "240520*",
		"1.8.0": "001234.567*kWh", "1.7.0": "00.0000*kW", "2.7.0": "01.2345*kW",
		"21.7.0": "00.0000*kW", "32.7.0": "230.1*V", "31.7.0": "005.36*A",
		"14.7.0": "49.98*Hz", "13.7.0": "0.960*", "C.7.0": "00000003*", "F.F": "00000000*",
	} {
		if got[addr] != want {
			t.Errorf("%s = %q, want %q", addr, got[addr], want)
		}
	}
	for _, addr := range []string{"41.7.0", "52.7.0", "71.7.0"} {
		if _, ok := got[addr]; ok {
			t.Errorf("1-phase readout has %s", addr)
		}
	}
	if _, err := iec62056.ParseReadout(iec62056.EncodeReadout(lines)); err != nil {
		t.Fatal(err)
	}
}
