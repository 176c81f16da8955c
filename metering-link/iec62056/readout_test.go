package iec62056

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// verified is the readout of the protocol digest §3.1 (BCC 0x19).
const verified = "\x020.0.0(12345678)\r\n1.8.0(001234.567*kWh)\r\n2.8.0(000012.345*kWh)\r\n!\r\n\x03\x19"

// frame wraps data (without the end line) as a readout with a correct BCC.
func frame(data string) []byte {
	b := []byte("\x02" + data + "!\r\n\x03")
	return append(b, BCC(b[1:]))
}

func TestBCCVerified(t *testing.T) {
	b := []byte(verified)
	if got := BCC(b[1 : len(b)-1]); got != 0x19 {
		t.Fatalf("BCC = %02X, want 19", got)
	}
	// Digest §3.1, programming-mode examples (BCC after SOH).
	for _, tt := range []struct {
		msg  string
		want byte
	}{
		{"P1\x02(00000000)\x03", 0x61},
		{"R1\x021.8.0()\x03", 0x5A},
		{"B0\x03", 0x71},
	} {
		if got := BCC([]byte(tt.msg)); got != tt.want {
			t.Fatalf("BCC(%q) = %02X, want %02X", tt.msg, got, tt.want)
		}
	}
}

func TestParseReadoutVerified(t *testing.T) {
	lines, err := ParseReadout([]byte(verified))
	if err != nil {
		t.Fatal(err)
	}
	want := []DataLine{
		{"0.0.0", []Value{{"12345678", ""}}},
		{"1.8.0", []Value{{"001234.567", "kWh"}}},
		{"2.8.0", []Value{{"000012.345", "kWh"}}},
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("got %+v\nwant %+v", lines, want)
	}
	if got := string(EncodeReadout(lines)); got != verified {
		t.Fatalf("EncodeReadout = %q", got)
	}
}

func TestParseReadoutShapes(t *testing.T) {
	lines, err := ParseReadout(frame("1-0:1.6.0*255(0.123*kW)(2401151200)\r\n\r\nF.F(00000000)\r\n0.9.1()\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []DataLine{
		{"1-0:1.6.0*255", []Value{{"0.123", "kW"}, {"2401151200", ""}}},
		{"F.F", []Value{{"00000000", ""}}},
		{"0.9.1", []Value{{"", ""}}},
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("got %+v\nwant %+v", lines, want)
	}
	if lines, err := ParseReadout(frame("")); err != nil || len(lines) != 0 {
		t.Fatalf("empty readout: %v %v", lines, err)
	}
}

func TestParseReadoutErrors(t *testing.T) {
	badBCC := []byte(verified)
	badBCC[len(badBCC)-1] = 0x18
	noETX := []byte(verified)
	noETX[len(noETX)-2] = '!'
	tests := []struct {
		name string
		b    []byte
		want error
		line string // substring naming the line
	}{
		{"bad BCC", badBCC, ErrBCC, ""},
		{"missing ETX", noETX, ErrFrame, ""},
		{"truncated", []byte(verified[:40]), ErrFrame, ""},
		{"truncated to STX", []byte{STX}, ErrFrame, ""},
		{"empty", nil, ErrFrame, ""},
		{"garbage", []byte("\x8f\x12garbage\x00\x03\x44"), ErrFrame, ""},
		{"no STX", []byte(verified[1:]), ErrFrame, ""},
		{"no end line", func() []byte { b := []byte("\x021.8.0(1)\r\n\x03"); return append(b, BCC(b[1:])) }(), ErrFrame, ""},
		{"no bracket", frame("1.8.0(1)\r\n1.8.1 12\r\n"), ErrLine, "line 2"},
		{"continuation", frame("1.8.0(1)\r\n(2)\r\n"), ErrLine, "line 2"},
		{"unterminated", frame("1.8.0(1\r\n"), ErrLine, "line 1"},
		{"text after value", frame("0.0.0(1)\r\n1.8.0(1)x\r\n"), ErrLine, "line 2"},
		{"control char", frame("1.8.0(1\x01)\r\n"), ErrLine, "line 1"},
		{"8-bit char", frame("1.8.0(1\xb1)\r\n"), ErrLine, "line 1"},
		{"two units", frame("1.8.0(1*kWh*h)\r\n"), ErrLine, "line 1"},
		{"empty unit", frame("1.8.0(1*)\r\n"), ErrLine, "line 1"},
		{"bare LF", frame("1.8.0(1)\n1.8.1(2)\r\n"), ErrLine, "line 1"},
		{"no CRLF", frame("1.8.0(1)"), ErrLine, "line 1"},
		{"long value", frame("1.8.0(" + strings.Repeat("1", 200) + ")\r\n"), ErrLine, "line 1"},
		{"long address", frame(strings.Repeat("1", 40) + "(1)\r\n"), ErrLine, "line 1"},
		{"too many lines", frame(strings.Repeat("1.8.0(1)\r\n", MaxLines+1)), ErrFrame, ""},
		{"too large", frame(strings.Repeat("1.8.0("+strings.Repeat("1", 100)+")\r\n", 700)), ErrFrame, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := ParseReadout(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v (lines %v)", err, tt.want, lines)
			}
			if tt.line != "" && !strings.Contains(err.Error(), tt.line) {
				t.Fatalf("err %q does not name %s", err, tt.line)
			}
		})
	}
}

func TestEncodeReadoutRoundTrip(t *testing.T) {
	in := []DataLine{
		{"0.0.0", []Value{{"123456789012", ""}}},
		{"1-0:1.8.0*255", []Value{{"012345.670", "kWh"}}},
		{"P.1", []Value{{"2401151200", ""}, {"-1.5", "kW"}}},
	}
	out, err := ParseReadout(EncodeReadout(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v", out)
	}
}
