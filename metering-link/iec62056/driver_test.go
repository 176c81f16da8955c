package iec62056

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// fakePort is an in-memory meter: respond gets each write and the current
// mode and returns the bytes the meter sends back.
type fakePort struct {
	mu      sync.Mutex
	in      []byte
	timeout time.Duration
	mode    serialport.Mode
	modes   []int
	writes  [][]byte
	respond func(w []byte, m serialport.Mode) []byte
	wake    chan struct{}
}

func newFake(respond func(w []byte, m serialport.Mode) []byte) *fakePort {
	return &fakePort{respond: respond, wake: make(chan struct{}, 1), mode: serialport.Mode7E1(300)}
}

func (p *fakePort) Read(b []byte) (int, error) {
	p.mu.Lock()
	to := p.timeout
	p.mu.Unlock()
	t := time.NewTimer(to)
	defer t.Stop()
	for {
		p.mu.Lock()
		if len(p.in) > 0 {
			n := copy(b, p.in)
			p.in = p.in[n:]
			p.mu.Unlock()
			return n, nil
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-t.C:
			return 0, nil
		}
	}
}

func (p *fakePort) Write(b []byte) (int, error) {
	p.mu.Lock()
	p.writes = append(p.writes, append([]byte(nil), b...))
	p.in = append(p.in, p.respond(b, p.mode)...)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return len(b), nil
}

func (p *fakePort) Close() error { return nil }
func (p *fakePort) SetReadTimeout(d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timeout = d
	return nil
}
func (p *fakePort) SetMode(m serialport.Mode) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	p.modes = append(p.modes, m.Baud)
	return nil
}
func (p *fakePort) ResetInputBuffer() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.in = p.in[:0]
	return nil
}

// meter answers like a mode C meter with ident and readout; echo makes it
// a half-duplex head that reflects every request.
func meter(ident string, readout []byte, echo bool) func(w []byte, m serialport.Mode) []byte {
	return func(w []byte, m serialport.Mode) []byte {
		var out []byte
		if echo {
			out = append(out, w...)
		}
		switch {
		case w[0] == '/':
			out = append(out, "\x00\x7f"...) // line noise
			return append(out, ident...)
		case w[0] == ACK && w[3] == ModeReadout:
			return append(out, readout...)
		}
		return out
	}
}

func newDriver(t *testing.T, o Options) *Driver {
	t.Helper()
	if o.ResponseTimeout == 0 {
		o.ResponseTimeout = 150 * time.Millisecond
	}
	if o.ByteTimeout == 0 {
		o.ByteTimeout = 100 * time.Millisecond
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDriverSession(t *testing.T) {
	for _, echo := range []bool{false, true} {
		p := newFake(meter("/ABc6METER\r\n", []byte(verified), echo))
		d := newDriver(t, Options{Address: "12345678"})
		c := serialport.NewConn(p)
		id, err := d.Identify(context.Background(), c)
		if err != nil {
			t.Fatalf("echo %v: %v", echo, err)
		}
		if id != "000012345678" {
			t.Fatalf("id %q", id)
		}
		if want := [][]byte{SignOn("12345678"), AckOption('5', ModeReadout)}; !slices.EqualFunc(p.writes, want, slices.Equal) {
			t.Fatalf("writes %q, want %q", p.writes, want)
		}
		if !slices.Equal(p.modes, []int{300, 9600}) {
			t.Fatalf("modes %v", p.modes)
		}
	}
}

func TestDriverBaudNegotiation(t *testing.T) {
	for _, tt := range []struct {
		ident string
		baud  int
		z     byte
	}{
		{"/ABC4M\r\n", 9600, '4'},  // meter caps
		{"/ABC6M\r\n", 2400, '3'},  // configuration caps
		{"/ABC6M\r\n", 19200, '6'}, // both allow 19200
		{"/ABC0M\r\n", 0, '0'},     // 300 baud meter
	} {
		p := newFake(meter(tt.ident, []byte(verified), false))
		d := newDriver(t, Options{Baud: tt.baud})
		if _, err := d.Poll(context.Background(), serialport.NewConn(p), meteringlink.GroupAll); err != nil {
			t.Fatal(err)
		}
		if got := p.writes[1][2]; got != tt.z {
			t.Fatalf("%s at %d: Z %q, want %q", tt.ident, tt.baud, got, tt.z)
		}
		if string(p.writes[0]) != "/?!\r\n" {
			t.Fatalf("sign-on %q", p.writes[0])
		}
	}
}

func TestDriverPollUnavailable(t *testing.T) {
	p := newFake(meter("/ABC5M\r\n", []byte(verified), false))
	d := newDriver(t, Options{})
	res, err := d.Poll(context.Background(), serialport.NewConn(p), meteringlink.GroupInstant)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Values) != 2 || !res.MeterTime.IsZero() {
		t.Fatalf("result %+v", res)
	}
	want := []energy.Quantity{energy.Power, energy.Frequency, energy.PowerFactor,
		energy.Phase("voltage", 1), energy.Phase("current", 1),
		energy.Tariff(energy.ImportEnergy, 1), energy.Tariff(energy.ImportEnergy, 2), energy.MeterTimeOffset}
	if !slices.Equal(res.Unavailable, want) {
		t.Fatalf("unavailable %v, want %v", res.Unavailable, want)
	}
}

func TestDriverMeterTime(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	ro := EncodeReadout([]DataLine{line("0.9.1", "13:45:30", ""), line("0.9.2", "240520", "")})
	p := newFake(meter("/ABC5M\r\n", ro, false))
	now := time.Date(2024, 5, 20, 12, 45, 40, 0, time.UTC)
	d := newDriver(t, Options{Location: loc, Now: func() time.Time { return now }})
	res, err := d.Poll(context.Background(), serialport.NewConn(p), meteringlink.GroupClock)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 5, 20, 13, 45, 30, 500e6, loc); !res.MeterTime.Equal(want) {
		t.Fatalf("meter time %v, want %v", res.MeterTime, want)
	}
	// A frozen gateway clock: deadlines must still run in real time.
	if want := now.Add(-serialport.Mode7E1(9600).CharTime()); !res.MeterTimeAt.Equal(want) {
		t.Fatalf("meter time at %v", res.MeterTimeAt)
	}
}

func TestDriverIdentifyID(t *testing.T) {
	textID := EncodeReadout([]DataLine{line("0.0.0", "AB-12", "")})
	long := EncodeReadout([]DataLine{line("C.1.0", "1234567890123", "")})
	for _, tt := range []struct {
		ro   []byte
		addr string
		want string
	}{
		{textID, "", ""},
		{textID, "42", "000000000042"},
		{long, "", ""},
		{EncodeReadout(nil), "7", "000000000007"},
		{EncodeReadout([]DataLine{line("96.1.0", "123456789012", "")}), "", "123456789012"},
	} {
		d := newDriver(t, Options{Address: tt.addr})
		id, err := d.Identify(context.Background(), serialport.NewConn(newFake(meter("/ABC5M\r\n", tt.ro, false))))
		if tt.want == "" {
			if !errors.Is(err, ErrNoID) {
				t.Fatalf("%q: id %q err %v, want ErrNoID", tt.ro, id, err)
			}
			continue
		}
		if err != nil || id != tt.want {
			t.Fatalf("%q: id %q err %v, want %q", tt.ro, id, err, tt.want)
		}
	}
}

func TestDriverLinkFailures(t *testing.T) {
	badBCC := []byte(verified)
	badBCC[len(badBCC)-1] ^= 1
	tests := []struct {
		name    string
		respond func(w []byte, m serialport.Mode) []byte
		want    error
	}{
		{"silent", func([]byte, serialport.Mode) []byte { return nil }, serialport.ErrTimeout},
		{"no readout", meter("/ABC5M\r\n", nil, false), serialport.ErrTimeout},
		{"ident stalls", meter("/ABC5M", nil, false), serialport.ErrTimeout},
		{"readout stalls", meter("/ABC5M\r\n", []byte(verified[:30]), false), serialport.ErrTimeout},
		{"bad BCC", meter("/ABC5M\r\n", badBCC, false), ErrBCC},
		{"bad ident", meter("/AB5M\r\n", []byte(verified), false), ErrIdent},
		{"endless garbage ident", meter(string(make([]byte, 200)), nil, false), ErrGarbage},
		{"bad unit", meter("/ABC5M\r\n", EncodeReadout([]DataLine{line("1.8.0", "1", "W")}), false), ErrValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Options{})
			start := time.Now()
			_, err := d.Poll(context.Background(), serialport.NewConn(newFake(tt.respond)), meteringlink.GroupAll)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
}

func TestDriverContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := newDriver(t, Options{})
	if _, err := d.Poll(ctx, serialport.NewConn(newFake(meter("/ABC5M\r\n", []byte(verified), false))), meteringlink.GroupAll); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestDriverStatic(t *testing.T) {
	d := newDriver(t, Options{})
	if d.Protocol() != "iec62056-21" || d.Mode() != serialport.Mode7E1(300) {
		t.Fatalf("%s %v", d.Protocol(), d.Mode())
	}
	if _, err := d.History(context.Background(), nil, time.Time{}, time.Now(), 10); !errors.Is(err, meteringlink.ErrNotSupported) {
		t.Fatal(err)
	}
	if err := d.SyncClock(context.Background(), nil, time.Now()); !errors.Is(err, meteringlink.ErrNotSupported) {
		t.Fatal(err)
	}
	for _, o := range []Options{{Baud: 115200}, {Baud: 1000}, {Address: "12!"}} {
		if _, err := New(o); err == nil {
			t.Fatalf("New(%+v) accepted", o)
		}
	}
	if d, err := New(Options{Address: "auto"}); err != nil || d.addr != "" {
		t.Fatalf("auto: %v", err)
	}
}
