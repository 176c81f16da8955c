package iec62056

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// Link-level failures of a session (errors.Is).
var (
	ErrGarbage = errors.New("iec62056: no valid message in bounded input")
	ErrNoID    = errors.New("iec62056: readout carries no usable meter id")
)

// Driver implements meteringlink.Driver for IEC 62056-21 mode C meters: every
// Poll and Identify is one sign-on and data readout.
type Driver struct {
	addr            string
	baud            int
	responseTimeout time.Duration
	byteTimeout     time.Duration
	loc             *time.Location
	now             func() time.Time
}

var _ meteringlink.Driver = (*Driver)(nil)

// Options configure a Driver.
type Options struct {
	// Address is the device address sent in the sign-on (up to 32 digits,
	// letters or spaces); "" or "auto" sends none, which any meter answers.
	Address string
	// Baud is the highest rate to negotiate for the readout (300 .. 19200,
	// a mode C rate; default 9600). The meter's own maximum caps it.
	Baud int
	// ResponseTimeout bounds the wait for the first byte of the
	// identification and of the readout, counted from when the request has
	// left the line (default 1.5 s, the standard's longest reaction time).
	ResponseTimeout time.Duration
	// ByteTimeout bounds each gap between bytes of a message (default 500 ms).
	ByteTimeout time.Duration
	// Location of the meter's wall clock (default time.Local).
	Location *time.Location
	// Now is the gateway clock that stamps MeterTimeAt (default time.Now).
	// Deadlines always run on the real clock: the serial port waits in
	// real time.
	Now func() time.Time
}

// Session bounds.
const (
	maxIdentLine = 128 // bytes read while looking for the identification line
	startBaud    = 300
)

// New returns a driver.
func New(o Options) (*Driver, error) {
	if o.Address == "auto" {
		o.Address = ""
	}
	if err := ValidAddress(o.Address); err != nil {
		return nil, err
	}
	if o.Baud == 0 {
		o.Baud = 9600
	}
	if _, err := CharFromBaud(o.Baud); err != nil {
		return nil, err
	}
	if o.ResponseTimeout <= 0 {
		o.ResponseTimeout = 1500 * time.Millisecond
	}
	if o.ByteTimeout <= 0 {
		o.ByteTimeout = 500 * time.Millisecond
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Driver{
		addr: o.Address, baud: o.Baud,
		responseTimeout: o.ResponseTimeout, byteTimeout: o.ByteTimeout,
		loc: o.Location, now: o.Now,
	}, nil
}

// Protocol returns "iec62056-21".
func (d *Driver) Protocol() string { return "iec62056-21" }

// Mode returns 7E1 at 300 baud, the sign-on rate.
func (d *Driver) Mode() serialport.Mode { return serialport.Mode7E1(startBaud) }

// session is what one sign-on and readout produced.
type session struct {
	ident  Ident
	lines  []DataLine
	stxAt  time.Time // gateway clock when STX arrived
	rbaud  int       // readout rate
	values []meteringlink.Value
	mtime  time.Time
	id     string
}

// Identify runs one session and returns the meter id (0.0.0, C.1.0 or
// 96.1.0) left-padded with zeros to 12 digits. When the readout has no
// usable id and an Address is configured, the padded Address is returned.
func (d *Driver) Identify(ctx context.Context, c *serialport.Conn) (string, error) {
	s, err := d.session(ctx, c)
	if err != nil {
		return "", err
	}
	if id, ok := pad12(s.id); ok {
		return id, nil
	}
	if d.addr != "" {
		if id, ok := pad12(d.addr); ok {
			return id, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrNoID, s.id)
}

func pad12(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 12 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return strings.Repeat("0", 12-len(s)) + s, true
}

// expected are the quantities a mode C readout is listed Unavailable for
// when it lacks them.
var expected = []energy.Quantity{
	energy.Power, energy.Frequency, energy.PowerFactor,
	energy.Phase("voltage", 1), energy.Phase("current", 1),
	energy.ImportEnergy, energy.ExportEnergy,
	energy.Tariff(energy.ImportEnergy, 1), energy.Tariff(energy.ImportEnergy, 2),
}

// Poll runs one session whatever g is: one readout carries every quantity
// the meter shows.
func (d *Driver) Poll(ctx context.Context, c *serialport.Conn, g meteringlink.Group) (meteringlink.Result, error) {
	s, err := d.session(ctx, c)
	if err != nil {
		return meteringlink.Result{}, err
	}
	res := meteringlink.Result{Values: s.values}
	have := map[energy.Quantity]bool{}
	for _, v := range s.values {
		have[v.Quantity] = true
	}
	for _, q := range expected {
		if !have[q] {
			res.Unavailable = append(res.Unavailable, q)
		}
	}
	if s.mtime.IsZero() {
		res.Unavailable = append(res.Unavailable, energy.MeterTimeOffset)
	} else {
		// The meter stamps whole seconds while composing the readout, just
		// before STX leaves it: the mean error is +0.5 s.
		res.MeterTime = s.mtime.Add(500 * time.Millisecond)
		res.MeterTimeAt = s.stxAt.Add(-serialport.Mode7E1(s.rbaud).CharTime())
	}
	return res, nil
}

// History returns ErrNotSupported: a mode C data readout has no load
// profile access without programming mode.
func (d *Driver) History(ctx context.Context, c *serialport.Conn, from, to time.Time, max int) ([]meteringlink.Record, error) {
	return nil, meteringlink.ErrNotSupported
}

// SyncClock returns ErrNotSupported: setting the time needs programming
// mode with a password, and the gateway stays read-only by construction.
func (d *Driver) SyncClock(ctx context.Context, c *serialport.Conn, t time.Time) error {
	return meteringlink.ErrNotSupported
}

// session runs sign-on, identification, option select and data readout.
func (d *Driver) session(ctx context.Context, c *serialport.Conn) (session, error) {
	var s session
	if err := ctx.Err(); err != nil {
		return s, err
	}
	slow := serialport.Mode7E1(startBaud)
	if err := c.Port.SetMode(slow); err != nil {
		return s, fmt.Errorf("iec62056: set %d baud: %w", startBaud, err)
	}
	if err := c.Discard(); err != nil {
		return s, fmt.Errorf("iec62056: discard input: %w", err)
	}
	req := SignOn(d.addr)
	if err := c.Write(req); err != nil {
		return s, fmt.Errorf("iec62056: sign-on: %w", err)
	}
	line, err := d.readIdent(ctx, c, time.Now().Add(slow.TxTime(len(req))+d.responseTimeout))
	if err != nil {
		return s, fmt.Errorf("iec62056: identification: %w", err)
	}
	if s.ident, err = ParseIdent(line); err != nil {
		return s, err
	}
	z := min(s.ident.BaudChar, CharAtMost(d.baud))
	s.rbaud, _ = BaudFromChar(z)
	ack := AckOption(z, ModeReadout)
	if err := c.Write(ack); err != nil {
		return s, fmt.Errorf("iec62056: option select: %w", err)
	}
	// Switch only once the ACK has left the line at 300 baud; the meter
	// waits its reaction time (>= 20 ms) before answering at the new rate.
	if err := sleep(ctx, slow.TxTime(len(ack))); err != nil {
		return s, err
	}
	fast := serialport.Mode7E1(s.rbaud)
	if err := c.Port.SetMode(fast); err != nil {
		return s, fmt.Errorf("iec62056: set %d baud: %w", s.rbaud, err)
	}
	frame, err := d.readReadout(ctx, c, time.Now().Add(d.responseTimeout), &s.stxAt)
	if err != nil {
		return s, fmt.Errorf("iec62056: readout: %w", err)
	}
	if s.lines, err = ParseReadout(frame); err != nil {
		return s, err
	}
	if s.values, s.mtime, s.id, err = Map(s.lines, d.loc); err != nil {
		return s, err
	}
	return s, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// next reads one byte, as a 7-bit character (what a 7E1 UART delivers).
func (d *Driver) next(ctx context.Context, c *serialport.Conn, deadline time.Time, total int) (byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b, err := c.Next(deadline)
	if err != nil {
		if errors.Is(err, serialport.ErrTimeout) && total > 0 {
			return 0, fmt.Errorf("incomplete after %d bytes: %w", total, err)
		}
		return 0, err
	}
	return b & 0x7F, nil
}

// readIdent returns the first CR LF terminated line starting with '/' that
// is not the echo of our own sign-on ("/?"), within maxIdentLine bytes.
func (d *Driver) readIdent(ctx context.Context, c *serialport.Conn, deadline time.Time) ([]byte, error) {
	var line []byte
	for total := 0; total < maxIdentLine; total++ {
		b, err := d.next(ctx, c, deadline, total)
		if err != nil {
			return nil, err
		}
		deadline = time.Now().Add(d.byteTimeout)
		switch {
		case len(line) == 0 && b != '/':
			continue // line noise before the message
		case b == '/':
			line = line[:0] // a new message starts
		}
		line = append(line, b)
		if b != '\n' {
			continue
		}
		if len(line) >= 2 && line[1] == '?' {
			line = line[:0] // echo of the sign-on on a half-duplex head
			continue
		}
		return line, nil
	}
	return nil, fmt.Errorf("%w: %d bytes", ErrGarbage, maxIdentLine)
}

// readReadout returns STX .. ETX BCC within MaxReadout bytes, skipping what
// precedes STX (the echo of the option select, switch noise).
func (d *Driver) readReadout(ctx context.Context, c *serialport.Conn, deadline time.Time, stxAt *time.Time) ([]byte, error) {
	var frame []byte
	for total := 0; total < MaxReadout; total++ {
		b, err := d.next(ctx, c, deadline, total)
		if err != nil {
			return nil, err
		}
		deadline = time.Now().Add(d.byteTimeout)
		if len(frame) == 0 {
			if b != STX {
				continue
			}
			*stxAt = d.now()
		}
		frame = append(frame, b)
		if n := len(frame); n >= 2 && frame[n-2] == ETX {
			return frame, nil
		}
	}
	return nil, fmt.Errorf("%w: %d bytes", ErrGarbage, MaxReadout)
}
