package dlt645

import (
	"errors"
	"fmt"
)

// Frame bytes.
const (
	Start    = 0x68
	End      = 0x16
	Preamble = 0xFE
	// MaxData is the largest DATA length accepted (read replies, L <= 200).
	MaxData = 200
	// Scramble is added to every DATA byte on the wire.
	Scramble = 0x33
)

// Control codes the gateway sends (requests) and their reply bits.
const (
	CtlBroadcastTime byte = 0x08
	CtlRead          byte = 0x11
	CtlReadFollow    byte = 0x12
	CtlReadAddress   byte = 0x13

	BitDirection byte = 0x80 // D7: slave -> master
	BitAbnormal  byte = 0x40 // D6: error reply
	BitFollow    byte = 0x20 // D5: more data follows
	FuncMask     byte = 0x1F
)

// Errors of the codec.
var (
	ErrShort    = errors.New("dlt645: frame truncated")
	ErrStart    = errors.New("dlt645: no start character")
	ErrChecksum = errors.New("dlt645: bad checksum")
	ErrEnd      = errors.New("dlt645: bad end character")
	ErrLength   = errors.New("dlt645: bad length")
)

// Frame is a decoded frame. Data is descrambled (the +0x33 removed).
type Frame struct {
	Addr    Address
	Control byte
	Data    []byte
}

// IsReply reports whether the frame travels slave -> master.
func (f Frame) IsReply() bool { return f.Control&BitDirection != 0 }

// IsAbnormal reports an error reply (D6).
func (f Frame) IsAbnormal() bool { return f.Control&BitAbnormal != 0 }

// HasFollow reports that more data follows (D5).
func (f Frame) HasFollow() bool { return f.Control&BitFollow != 0 }

// Func is the function code D4..D0.
func (f Frame) Func() byte { return f.Control & FuncMask }

// Encode returns the wire bytes of f, with preamble FE bytes first.
func Encode(f Frame, preamble int) ([]byte, error) {
	if len(f.Data) > 255 {
		return nil, fmt.Errorf("dlt645: encode: %w: %d data bytes", ErrLength, len(f.Data))
	}
	b := make([]byte, 0, preamble+12+len(f.Data))
	for i := 0; i < preamble; i++ {
		b = append(b, Preamble)
	}
	s := len(b)
	b = append(b, Start)
	b = append(b, f.Addr[:]...)
	b = append(b, Start, f.Control, byte(len(f.Data)))
	for _, d := range f.Data {
		b = append(b, d+Scramble)
	}
	b = append(b, sum(b[s:]), End)
	return b, nil
}

func sum(b []byte) byte {
	var s byte
	for _, x := range b {
		s += x
	}
	return s
}

// Decode decodes exactly one frame from b. Leading FE bytes are skipped;
// anything else before the frame or after its end is an error.
func Decode(b []byte) (Frame, error) {
	i := 0
	for i < len(b) && b[i] == Preamble {
		i++
	}
	f, n, err := decodeAt(b[i:])
	if err != nil {
		return Frame{}, err
	}
	if i+n != len(b) {
		return Frame{}, fmt.Errorf("dlt645: %d trailing bytes after frame", len(b)-i-n)
	}
	return f, nil
}

// decodeAt decodes the frame that starts at b[0] and returns its length.
func decodeAt(b []byte) (Frame, int, error) {
	if len(b) == 0 {
		return Frame{}, 0, ErrShort
	}
	if b[0] != Start {
		return Frame{}, 0, ErrStart
	}
	if len(b) < 10 {
		return Frame{}, 0, ErrShort
	}
	if b[7] != Start {
		return Frame{}, 0, fmt.Errorf("dlt645: %w: second start is %02X", ErrStart, b[7])
	}
	l := int(b[9])
	if l > MaxData {
		return Frame{}, 0, fmt.Errorf("dlt645: %w: L=%d > %d", ErrLength, l, MaxData)
	}
	n := 12 + l
	if len(b) < n {
		return Frame{}, 0, ErrShort
	}
	if b[n-1] != End {
		return Frame{}, 0, fmt.Errorf("dlt645: %w: %02X", ErrEnd, b[n-1])
	}
	if cs := sum(b[:n-2]); cs != b[n-2] {
		return Frame{}, 0, fmt.Errorf("dlt645: %w: got %02X want %02X", ErrChecksum, b[n-2], cs)
	}
	f := Frame{Control: b[8], Data: make([]byte, l)}
	copy(f.Addr[:], b[1:7])
	for i := 0; i < l; i++ {
		f.Data[i] = b[10+i] - Scramble
	}
	return f, n, nil
}

// Scan hunts for the first valid frame in b. It returns the frame, the
// offset just past it and nil; or, when b holds no complete valid frame yet,
// the number of leading bytes that can never start one (garbage to drop)
// and ErrShort. It never trusts a single bad length byte: on any failure at
// a candidate start it moves on by one byte.
func Scan(b []byte) (f Frame, next int, err error) {
	for i := 0; i < len(b); i++ {
		if b[i] != Start {
			continue
		}
		f, n, err := decodeAt(b[i:])
		if err == nil {
			return f, i + n, nil
		}
		if errors.Is(err, ErrShort) {
			// Could still become a frame once more bytes arrive.
			return Frame{}, i, ErrShort
		}
	}
	return Frame{}, len(b), ErrShort
}
