package dlt645

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// ErrNoData is matched (errors.Is) by an error reply with ERR bit 1 set:
// the meter does not provide the requested DI.
var ErrNoData = errors.New("no requested data")

// Link-level failures (the meter or the line misbehaved).
var (
	ErrMismatch = errors.New("dlt645: reply does not match request")
	ErrGarbage  = errors.New("dlt645: no valid frame in bounded input")
)

// ErrorReply is a meter's abnormal reply (control bit D6) with its ERR byte.
type ErrorReply struct {
	Func byte
	Code byte
}

func (e *ErrorReply) Error() string {
	var s string
	switch {
	case e.Code&0x02 != 0:
		s = "no requested data"
	case e.Code&0x04 != 0:
		s = "password error or unauthorized"
	case e.Code&0x08 != 0:
		s = "communication rate cannot be changed"
	case e.Code&0x01 != 0:
		s = "other error"
	default:
		s = "error"
	}
	return fmt.Sprintf("meter error reply ERR=%02X (%s)", e.Code, s)
}

// Is makes errors.Is(err, ErrNoData) true for "no requested data".
func (e *ErrorReply) Is(target error) bool { return target == ErrNoData && e.Code&0x02 != 0 }

// Client runs DL/T 645 transactions over a serial connection.
type Client struct {
	// Addr is the meter address requests go to; Wildcard until known.
	Addr Address
	// Mode is the line format; its baud sets the transmit-time allowance.
	Mode serialport.Mode
	// ResponseTimeout bounds the wait for the first reply byte after the
	// request left the line (Td <= 500 ms in the standard). Default 500 ms.
	ResponseTimeout time.Duration
	// ByteTimeout bounds each gap between reply bytes (Tb <= 500 ms).
	ByteTimeout time.Duration
	// Preamble is the number of FE bytes sent before a request: 0 means
	// the default 4, a negative value none.
	Preamble int
	// MaxFollow bounds follow-up frames of one read (default 64).
	MaxFollow int
	// Now is the clock for deadlines (default time.Now).
	Now func() time.Time
}

func (cl *Client) defaults() {
	if cl.ResponseTimeout <= 0 {
		cl.ResponseTimeout = 500 * time.Millisecond
	}
	if cl.ByteTimeout <= 0 {
		cl.ByteTimeout = 500 * time.Millisecond
	}

	if cl.MaxFollow <= 0 {
		cl.MaxFollow = 64
	}
	if cl.Now == nil {
		cl.Now = time.Now
	}
}

func (cl *Client) preamble() int {
	switch {
	case cl.Preamble == 0 || cl.Preamble > 16:
		return 4
	case cl.Preamble < 0:
		return 0
	}
	return cl.Preamble
}

// maxInput bounds how many bytes one reply may take, garbage included.
const maxInput = 3 * (12 + 255 + 4)

// transact sends req and returns the first reply that answers it. Frames
// that do not (our own echo, a late reply to an earlier request that timed
// out, another address on a shared bus) are skipped, so the link resyncs
// by itself instead of staying one reply behind.
func (cl *Client) transact(ctx context.Context, c *serialport.Conn, req Frame) (Frame, error) {
	return cl.transactMatch(ctx, c, req, func(Frame) bool { return true })
}

func (cl *Client) transactMatch(ctx context.Context, c *serialport.Conn, req Frame, answers func(Frame) bool) (Frame, error) {
	cl.defaults()
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	wire, err := Encode(req, cl.preamble())
	if err != nil {
		return Frame{}, err
	}
	if err := c.Discard(); err != nil {
		return Frame{}, fmt.Errorf("discard input: %w", err)
	}
	if err := c.Write(wire); err != nil {
		return Frame{}, err
	}
	deadline := cl.Now().Add(cl.Mode.TxTime(len(wire)) + cl.ResponseTimeout)
	buf := make([]byte, 0, 64)
	total, skipped := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		b, err := c.Next(deadline)
		if err != nil {
			if errors.Is(err, serialport.ErrTimeout) && skipped > 0 {
				return Frame{}, fmt.Errorf("%w: %d replies that did not answer the request: %w", ErrMismatch, skipped, err)
			}
			if errors.Is(err, serialport.ErrTimeout) && total > 0 {
				return Frame{}, fmt.Errorf("incomplete reply after %d bytes: %w", total, err)
			}
			return Frame{}, err
		}
		total++
		buf = append(buf, b)
		deadline = cl.Now().Add(cl.ByteTimeout)
		if c.Buffered() > 0 && total < maxInput {
			continue // scan once the burst that arrived is consumed
		}
		for {
			f, next, err := Scan(buf)
			buf = buf[:copy(buf, buf[next:])]
			if err != nil {
				break // need more bytes
			}
			if !f.IsReply() {
				continue // our own echo on a half-duplex transceiver
			}
			if !req.Addr.Matches(f.Addr) || f.Func() != req.Func() || !answers(f) {
				skipped++
				continue // a stale reply or another meter's
			}
			return f, nil
		}
		if total >= maxInput {
			return Frame{}, ErrGarbage
		}
	}
}

// Read reads one DI and returns its value bytes (after the DI echo),
// fetching follow-up frames (0x12, SEQ 1, 2, ...) when the meter sets D5.
// extra is appended to the request after the DI (load-profile N + time).
func (cl *Client) Read(ctx context.Context, c *serialport.Conn, di DI, extra ...byte) ([]byte, error) {
	w := di.Wire()
	data := append(w[:], extra...)
	echoes := func(f Frame) bool { return f.IsAbnormal() || (len(f.Data) >= 4 && DIFromWire(f.Data) == di) }
	f, err := cl.transactMatch(ctx, c, Frame{Addr: cl.Addr, Control: CtlRead, Data: data}, echoes)
	if err != nil {
		return nil, fmt.Errorf("dlt645: read %s: %w", di, err)
	}
	out, err := cl.payload(f, di, false)
	if err != nil {
		return nil, fmt.Errorf("dlt645: read %s: %w", di, err)
	}
	for seq := 1; f.HasFollow(); seq++ {
		if seq > cl.MaxFollow {
			return nil, fmt.Errorf("dlt645: read %s: more than %d follow-up frames", di, cl.MaxFollow)
		}
		req := append(w[:], byte(seq))
		f, err = cl.transactMatch(ctx, c, Frame{Addr: cl.Addr, Control: CtlReadFollow, Data: req}, echoes)
		if err != nil {
			return nil, fmt.Errorf("dlt645: read %s follow-up %d: %w", di, seq, err)
		}
		more, err := cl.payload(f, di, true)
		if err != nil {
			return nil, fmt.Errorf("dlt645: read %s follow-up %d: %w", di, seq, err)
		}
		if len(more) < 1 || more[len(more)-1] != byte(seq) {
			return nil, fmt.Errorf("dlt645: read %s follow-up %d: %w: SEQ", di, seq, ErrMismatch)
		}
		out = append(out, more[:len(more)-1]...)
	}
	return out, nil
}

func (cl *Client) payload(f Frame, di DI, follow bool) ([]byte, error) {
	if f.IsAbnormal() {
		if len(f.Data) < 1 {
			return nil, fmt.Errorf("%w: empty error reply", ErrMismatch)
		}
		return nil, &ErrorReply{Func: f.Func(), Code: f.Data[0]}
	}
	if len(f.Data) < 4 || DIFromWire(f.Data) != di {
		return nil, fmt.Errorf("%w: DI echo", ErrMismatch)
	}
	if follow && len(f.Data) < 5 {
		return nil, fmt.Errorf("%w: follow-up without SEQ", ErrMismatch)
	}
	return f.Data[4:], nil
}

// ReadAddress asks the (only) meter on the line for its address with the
// all-AA wildcard and returns it.
func (cl *Client) ReadAddress(ctx context.Context, c *serialport.Conn) (Address, error) {
	f, err := cl.transact(ctx, c, Frame{Addr: Wildcard, Control: CtlReadAddress})
	if err != nil {
		return Address{}, fmt.Errorf("dlt645: read address: %w", err)
	}
	if f.IsAbnormal() {
		code := byte(0)
		if len(f.Data) > 0 {
			code = f.Data[0]
		}
		return Address{}, fmt.Errorf("dlt645: read address: %w", &ErrorReply{Func: f.Func(), Code: code})
	}
	if len(f.Data) != 6 {
		return Address{}, fmt.Errorf("dlt645: read address: %w: %d data bytes", ErrLength, len(f.Data))
	}
	var a Address
	copy(a[:], f.Data)
	if a != f.Addr || !a.Valid() {
		return Address{}, fmt.Errorf("dlt645: read address: %w: %s in frame from %s", ErrMismatch, a, f.Addr)
	}
	return a, nil
}

// BroadcastTime sends the broadcast time sync (0x08 to 99..99). Meters do
// not reply; it returns once the frame has left the line.
func (cl *Client) BroadcastTime(ctx context.Context, c *serialport.Conn, t time.Time) error {
	cl.defaults()
	wire, err := Encode(Frame{Addr: Broadcast, Control: CtlBroadcastTime, Data: EncodeBroadcastTime(t)}, cl.preamble())
	if err != nil {
		return err
	}
	if err := c.Write(wire); err != nil {
		return fmt.Errorf("dlt645: broadcast time: %w", err)
	}
	tm := time.NewTimer(cl.Mode.TxTime(len(wire)) + 20*time.Millisecond)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
	}
	return nil
}
