package iec62056

import (
	"bytes"
	"errors"
	"fmt"
)

// Bounds of a data readout.
const (
	MaxReadout  = 64 << 10 // bytes, STX to BCC
	MaxLines    = 1024     // data lines
	maxAddrLen  = 32       // characters of a data line address (OBIS with prefix and suffix)
	maxValueLen = 128      // characters of one bracket value
	maxUnitLen  = 16       // characters of a unit
)

// Readout errors (errors.Is).
var (
	ErrFrame = errors.New("iec62056: malformed readout frame")
	ErrBCC   = errors.New("iec62056: block check character mismatch")
	ErrLine  = errors.New("iec62056: malformed data line")
)

// Value is one bracket value of a data line: (Raw*Unit) or (Raw).
type Value struct {
	Raw  string
	Unit string // "" when the meter sent none
}

// DataLine is one line of a readout: an address (usually an OBIS code such
// as 1.8.0 or 1-0:1.8.0*255) and one or more bracket values.
type DataLine struct {
	Address string
	Values  []Value
}

// BCC returns the block check character of b: the XOR of its bytes, as a
// 7-bit value. Pass the bytes after STX (or SOH) up to and including ETX.
func BCC(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x & 0x7F
}

// EncodeReadout frames lines as a readout: STX, the lines, "!" CR LF, ETX,
// BCC. It is the inverse of ParseReadout for valid lines.
func EncodeReadout(lines []DataLine) []byte {
	var b bytes.Buffer
	b.WriteByte(STX)
	for _, l := range lines {
		b.WriteString(l.Address)
		for _, v := range l.Values {
			b.WriteByte('(')
			b.WriteString(v.Raw)
			if v.Unit != "" {
				b.WriteByte('*')
				b.WriteString(v.Unit)
			}
			b.WriteByte(')')
		}
		b.WriteString("\r\n")
	}
	b.WriteString("!\r\n")
	b.WriteByte(ETX)
	out := b.Bytes()
	return append(out, BCC(out[1:]))
}

// ParseReadout checks and splits a readout frame STX <data> ! CR LF ETX BCC.
// Empty lines are skipped; any other malformed line is an error naming its
// 1-based line number.
func ParseReadout(b []byte) ([]DataLine, error) {
	if len(b) > MaxReadout {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrFrame, len(b), MaxReadout)
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: truncated (%d bytes)", ErrFrame, len(b))
	}
	if b[0] != STX {
		return nil, fmt.Errorf("%w: does not start with STX", ErrFrame)
	}
	if b[len(b)-2] != ETX {
		return nil, fmt.Errorf("%w: no ETX before the BCC", ErrFrame)
	}
	if got, want := b[len(b)-1], BCC(b[1:len(b)-1]); got != want {
		return nil, fmt.Errorf("%w: got %02X, computed %02X", ErrBCC, got, want)
	}
	data := b[1 : len(b)-2]
	if !bytes.HasSuffix(data, []byte("!\r\n")) {
		return nil, fmt.Errorf("%w: no end line \"!\" before ETX", ErrFrame)
	}
	data = data[:len(data)-3]
	var out []DataLine
	for n := 1; len(data) > 0; n++ {
		i := bytes.Index(data, []byte("\r\n"))
		if i < 0 {
			return nil, fmt.Errorf("%w %d: no CR LF", ErrLine, n)
		}
		line := data[:i]
		data = data[i+2:]
		if len(line) == 0 {
			continue
		}
		if len(out) == MaxLines {
			return nil, fmt.Errorf("%w: more than %d data lines", ErrFrame, MaxLines)
		}
		dl, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w %d: %w", ErrLine, n, err)
		}
		out = append(out, dl)
	}
	return out, nil
}

func parseLine(line []byte) (DataLine, error) {
	for _, c := range line {
		if c < 0x20 || c > 0x7E {
			return DataLine{}, fmt.Errorf("invalid character %q", c)
		}
	}
	open := bytes.IndexByte(line, '(')
	if open < 0 {
		return DataLine{}, fmt.Errorf("no value in %q", line)
	}
	addr := line[:open]
	if len(addr) == 0 {
		return DataLine{}, errors.New("no address (continuation lines are not supported)")
	}
	if len(addr) > maxAddrLen {
		return DataLine{}, fmt.Errorf("address longer than %d characters", maxAddrLen)
	}
	if bytes.ContainsAny(addr, ")!/") {
		return DataLine{}, fmt.Errorf("invalid address %q", addr)
	}
	dl := DataLine{Address: string(addr)}
	rest := line[open:]
	for len(rest) > 0 {
		if rest[0] != '(' {
			return DataLine{}, fmt.Errorf("%q after a value", rest)
		}
		end := bytes.IndexByte(rest, ')')
		if end < 0 {
			return DataLine{}, errors.New("unterminated value")
		}
		v, err := parseValue(rest[1:end])
		if err != nil {
			return DataLine{}, fmt.Errorf("%s: %w", addr, err)
		}
		dl.Values = append(dl.Values, v)
		rest = rest[end+1:]
	}
	return dl, nil
}

func parseValue(s []byte) (Value, error) {
	if bytes.ContainsAny(s, "(!/") {
		return Value{}, fmt.Errorf("invalid value %q", s)
	}
	raw, unit, hasUnit := bytes.Cut(s, []byte("*"))
	if len(raw) > maxValueLen {
		return Value{}, fmt.Errorf("value longer than %d characters", maxValueLen)
	}
	if hasUnit {
		if len(unit) == 0 || len(unit) > maxUnitLen || bytes.IndexByte(unit, '*') >= 0 {
			return Value{}, fmt.Errorf("invalid unit %q", unit)
		}
	}
	return Value{Raw: string(raw), Unit: string(unit)}, nil
}
