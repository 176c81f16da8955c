package emul

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/ptylink"
	"golang.org/x/sys/unix"

	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// Faults are injected into the meter's replies. Rates are probabilities
// per reply in [0, 1].
type Faults struct {
	Drop        float64       `json:"drop"`         // no reply at all
	Garbage     float64       `json:"garbage"`      // random bytes instead of the reply
	BadChecksum float64       `json:"bad_checksum"` // one checksum byte flipped
	Late        float64       `json:"late"`         // reply after LateBy (default 800 ms, past the 500 ms limit)
	LateBy      time.Duration `json:"late_by"`
	// Silent: the meter answers nothing (a dead meter on a live line).
	Silent bool `json:"silent"`
}

// ErrDisconnected is returned by Line reads while the line is unplugged.
var ErrDisconnected = errors.New("emul: line disconnected")

// Line is the meter's end of a pseudo-terminal: the gateway opens the
// slave (through a symlink at Path), the emulator reads and writes the
// master. It simulates the wire: a request takes its transmit time at the
// line rate to arrive, the reply starts Td later and leaves byte by byte at
// the line rate (bits per character from the mode: 11 for 8E1, 10 for 7E1).
type Line struct {
	path string
	td   time.Duration

	mu     sync.Mutex
	mode   serialport.Mode
	master *os.File
	slave  *os.File
	faults Faults
	rng    *rand.Rand
	gen    int // bumps on every reconnect

	buf    []byte
	rxAt   time.Time // when the first byte of the pending request arrived
	rxN    int       // bytes of the pending request
	closed bool
}

// NewLine creates a pseudo-terminal and points the symlink path at its
// slave side (replacing what was there). td is the response delay.
func NewLine(path string, mode serialport.Mode, td time.Duration, seed uint64) (*Line, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("emul: link path: %w", err)
	}
	l := &Line{path: abs, td: td, mode: mode, rng: rand.New(rand.NewPCG(seed, seed^0x5DEECE66D))}
	if err := l.connect(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path is the symlink the gateway opens.
func (l *Line) Path() string { return l.path }

// TTY is the current slave device name (e.g. /dev/pts/3).
func (l *Line) TTY() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.slave == nil {
		return ""
	}
	return l.slave.Name()
}

func (l *Line) connect() error {
	master, s, err := ptylink.Open(l.path)
	if err != nil {
		return fmt.Errorf("emul: %w", err)
	}
	l.mu.Lock()
	l.master, l.slave = master, s
	l.buf = l.buf[:0]
	l.rxN = 0
	l.gen++
	l.mu.Unlock()
	return nil
}

// Disconnect unplugs the line: the pty is closed (the gateway's port fails)
// and the symlink dangles until Reconnect.
func (l *Line) Disconnect() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.master != nil {
		l.master.Close()
		l.slave.Close()
		l.master, l.slave = nil, nil
	}
}

// Reconnect plugs a new pseudo-terminal in behind the symlink.
func (l *Line) Reconnect() error {
	l.Disconnect()
	return l.connect()
}

// Close releases the pty and removes the symlink.
func (l *Line) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.Disconnect()
	if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// SetFaults replaces the injected faults.
func (l *Line) SetFaults(f Faults) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.faults = f
}

// Faults returns the injected faults.
func (l *Line) Faults() Faults {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.faults
}

// Mode returns the current line mode.
func (l *Line) Mode() serialport.Mode {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mode
}

// SetMode switches the simulated line rate (IEC 62056-21 baud switch).
func (l *Line) SetMode(m serialport.Mode) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mode = m
}

func (l *Line) current() (*os.File, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.master, l.gen
}

// Next returns the next byte from the gateway, waiting at most until
// deadline (zero: no limit) or ctx. While unplugged it returns
// ErrDisconnected after a short wait.
func (l *Line) Next(ctx context.Context, deadline time.Time) (byte, error) {
	for {
		l.mu.Lock()
		if len(l.buf) > 0 {
			b := l.buf[0]
			l.buf = l.buf[1:]
			l.mu.Unlock()
			return b, nil
		}
		l.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		m, gen := l.current()
		if m == nil {
			t := time.NewTimer(20 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err()
			case <-t.C:
			}
			return 0, ErrDisconnected
		}
		// Wake at least every 100 ms to notice ctx and reconnects.
		dl := time.Now().Add(100 * time.Millisecond)
		if !deadline.IsZero() && deadline.Before(dl) {
			dl = deadline
		}
		m.SetReadDeadline(dl)
		var tmp [256]byte
		n, err := m.Read(tmp[:])
		now := time.Now()
		if n > 0 {
			l.mu.Lock()
			if gen == l.gen {
				if l.rxN == 0 {
					l.rxAt = now
				}
				l.rxN += n
				l.buf = append(l.buf, tmp[:n]...)
			}
			l.mu.Unlock()
			continue
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			// EIO while no slave is open is normal for a pty: the gateway
			// has not (re)opened the port yet. Wait and retry.
			if errors.Is(err, unix.EIO) || errors.Is(err, os.ErrClosed) {
				t := time.NewTimer(10 * time.Millisecond)
				select {
				case <-ctx.Done():
					t.Stop()
					return 0, ctx.Err()
				case <-t.C:
				}
			} else {
				return 0, fmt.Errorf("emul: read: %w", err)
			}
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return 0, serialport.ErrTimeout
		}
	}
}

// Reply sends b as the answer to the request received since the last reply
// (or Discard): it waits until the request has fully "arrived" at the line
// rate plus Td, then paces b out at the line rate. Injected faults apply;
// csPos is the index of the checksum byte in b (-1: none) for BadChecksum.
// It returns whether the reply was sent (false when a fault dropped it).
func (l *Line) Reply(ctx context.Context, b []byte, csPos int) (bool, error) {
	l.mu.Lock()
	f := l.faults
	mode := l.mode
	start := l.rxAt.Add(mode.TxTime(l.rxN))
	l.rxN = 0
	roll := func(p float64) bool { return p > 0 && l.rng.Float64() < p }
	drop := f.Silent || roll(f.Drop)
	garbage := !drop && roll(f.Garbage)
	badCS := !drop && !garbage && csPos >= 0 && roll(f.BadChecksum)
	late := !drop && roll(f.Late)
	if garbage {
		g := make([]byte, 8+l.rng.IntN(24))
		for i := range g {
			g[i] = byte(l.rng.IntN(256))
		}
		b = g
	}
	if badCS {
		b = append([]byte(nil), b...)
		b[csPos] ^= 0x5A
	}
	l.mu.Unlock()
	if drop {
		return false, nil
	}
	if start.Before(time.Now()) {
		start = time.Now()
	}
	start = start.Add(l.td)
	if late {
		by := f.LateBy
		if by <= 0 {
			by = 800 * time.Millisecond
		}
		start = start.Add(by)
	}
	return true, l.paced(ctx, b, start, mode)
}

// Send paces b out at once (no request to wait for): IEC 62056-21 replies
// that follow a baud switch, and tests.
func (l *Line) Send(ctx context.Context, b []byte) error {
	return l.paced(ctx, b, time.Now(), l.Mode())
}

// paced writes b so that byte i is complete on the line at start+(i+1)·char.
func (l *Line) paced(ctx context.Context, b []byte, start time.Time, mode serialport.Mode) error {
	char := mode.CharTime()
	sent := 0
	for sent < len(b) {
		now := time.Now()
		due := 0
		if now.After(start) {
			due = int(now.Sub(start) / char)
		}
		if due > len(b) {
			due = len(b)
		}
		if due > sent {
			m, _ := l.current()
			if m == nil {
				return ErrDisconnected
			}
			if _, err := m.Write(b[sent:due]); err != nil {
				return fmt.Errorf("emul: write: %w", err)
			}
			sent = due
			continue
		}
		// Sleep until the next byte is due; batch at least 2 ms of bytes so
		// low rates stay exact and high rates do not spin.
		next := start.Add(time.Duration(sent+1) * char)
		if d := time.Until(next); d < 2*time.Millisecond && sent+1 < len(b) {
			next = start.Add(time.Duration(sent+1)*char + 2*time.Millisecond)
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Discard forgets buffered input and the pending request timing.
func (l *Line) Discard() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = l.buf[:0]
	l.rxN = 0
}
