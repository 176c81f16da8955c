// Package serialport is the byte pipe to the metrology core: a serial port
// opened by path with go.bug.st/serial, and a buffered reader whose every
// wait is bounded in time.
//
// Concurrency: a Conn is used by one goroutine at a time; Close may be called
// from another goroutine to unblock a pending read (that is how context
// cancellation reaches a blocked read).
package serialport

import (
	"errors"
	"fmt"
	"io"
	"time"

	"go.bug.st/serial"
)

// Parity of the character frame.
type Parity int

// Parities.
const (
	ParityNone Parity = iota
	ParityEven
	ParityOdd
)

// Mode is the character format and rate of the line.
type Mode struct {
	Baud     int
	DataBits int // 7 or 8
	Parity   Parity
	StopBits int // 1 or 2
}

// Mode8E1 returns the DL/T 645 character format at baud.
func Mode8E1(baud int) Mode { return Mode{Baud: baud, DataBits: 8, Parity: ParityEven, StopBits: 1} }

// Mode7E1 returns the IEC 62056-21 character format at baud.
func Mode7E1(baud int) Mode { return Mode{Baud: baud, DataBits: 7, Parity: ParityEven, StopBits: 1} }

// BitsPerChar is the number of bits one character occupies on the line
// (start + data + parity + stop): 11 for 8E1, 10 for 7E1.
func (m Mode) BitsPerChar() int {
	n := 1 + m.DataBits + m.StopBits
	if m.Parity != ParityNone {
		n++
	}
	return n
}

// CharTime is the time one character takes on the line.
func (m Mode) CharTime() time.Duration {
	if m.Baud <= 0 {
		return 0
	}
	return time.Duration(m.BitsPerChar()) * time.Second / time.Duration(m.Baud)
}

// TxTime is the time n characters take on the line.
func (m Mode) TxTime(n int) time.Duration { return time.Duration(n) * m.CharTime() }

// Port is what the drivers need of a serial port.
type Port interface {
	io.ReadWriteCloser
	// SetReadTimeout bounds each Read; a Read that times out returns 0, nil.
	SetReadTimeout(d time.Duration) error
	// SetMode changes rate and character format (IEC 62056-21 baud switch).
	SetMode(m Mode) error
	// ResetInputBuffer drops bytes received but not yet read.
	ResetInputBuffer() error
}

// Opener opens a port by path. Tests and the emulator inject their own.
type Opener func(path string, m Mode) (Port, error)

// Open opens the serial device at path (a tty or a symlink to one) in raw mode.
func Open(path string, m Mode) (Port, error) {
	sm, err := toSerial(m)
	if err != nil {
		return nil, err
	}
	p, err := serial.Open(path, sm)
	if err != nil {
		return nil, fmt.Errorf("serialport: open %s: %w", path, err)
	}
	return &port{p: p}, nil
}

type port struct{ p serial.Port }

func (p *port) Read(b []byte) (int, error)  { return p.p.Read(b) }
func (p *port) Write(b []byte) (int, error) { return p.p.Write(b) }
func (p *port) Close() error                { return p.p.Close() }
func (p *port) SetReadTimeout(d time.Duration) error {
	return p.p.SetReadTimeout(d)
}
func (p *port) ResetInputBuffer() error { return p.p.ResetInputBuffer() }
func (p *port) SetMode(m Mode) error {
	sm, err := toSerial(m)
	if err != nil {
		return err
	}
	return p.p.SetMode(sm)
}

func toSerial(m Mode) (*serial.Mode, error) {
	sm := &serial.Mode{BaudRate: m.Baud, DataBits: m.DataBits}
	switch m.Parity {
	case ParityNone:
		sm.Parity = serial.NoParity
	case ParityEven:
		sm.Parity = serial.EvenParity
	case ParityOdd:
		sm.Parity = serial.OddParity
	default:
		return nil, fmt.Errorf("serialport: invalid parity %d", m.Parity)
	}
	switch m.StopBits {
	case 1:
		sm.StopBits = serial.OneStopBit
	case 2:
		sm.StopBits = serial.TwoStopBits
	default:
		return nil, fmt.Errorf("serialport: invalid stop bits %d", m.StopBits)
	}
	if m.Baud <= 0 {
		return nil, fmt.Errorf("serialport: invalid baud %d", m.Baud)
	}
	return sm, nil
}

// ErrTimeout is returned when the peer stays silent longer than allowed.
var ErrTimeout = errors.New("timeout")

// Conn reads bytes from a Port with bounded waits.
type Conn struct {
	Port    Port
	buf     [512]byte
	r, w    int
	timeout time.Duration
}

// NewConn wraps p.
func NewConn(p Port) *Conn { return &Conn{Port: p, timeout: -1} }

// Discard drops buffered and pending input (stale or late bytes) before a
// new request.
func (c *Conn) Discard() error {
	c.r, c.w = 0, 0
	return c.Port.ResetInputBuffer()
}

// Write sends b.
func (c *Conn) Write(b []byte) error {
	n, err := c.Port.Write(b)
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if n != len(b) {
		return fmt.Errorf("write: short write %d of %d", n, len(b))
	}
	return nil
}

// Buffered reports how many bytes are already buffered.
func (c *Conn) Buffered() int { return c.w - c.r }

// Next returns the next byte, waiting until deadline at most. It returns
// ErrTimeout when nothing arrived in time.
func (c *Conn) Next(deadline time.Time) (byte, error) {
	for c.r == c.w {
		wait := time.Until(deadline)
		if wait <= 0 {
			return 0, ErrTimeout
		}
		// go.bug.st/serial polls with this timeout; round up so a short
		// remaining wait is not rounded down to a busy loop.
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		if wait != c.timeout {
			if err := c.Port.SetReadTimeout(wait); err != nil {
				return 0, fmt.Errorf("set read timeout: %w", err)
			}
			c.timeout = wait
		}
		n, err := c.Port.Read(c.buf[:])
		if err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
		c.r, c.w = 0, n
	}
	b := c.buf[c.r]
	c.r++
	return b, nil
}
