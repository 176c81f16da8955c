package iec62056

import (
	"errors"
	"testing"
)

func TestSignOnAndAck(t *testing.T) {
	if got := string(SignOn("")); got != "/?!\r\n" {
		t.Fatalf("SignOn(\"\") = %q", got)
	}
	if got := string(SignOn("12345678")); got != "/?12345678!\r\n" {
		t.Fatalf("SignOn = %q", got)
	}
	// Digest §3.1: option select for a 9600 baud readout.
	if got, want := AckOption('5', ModeReadout), []byte{0x06, 0x30, 0x35, 0x30, 0x0D, 0x0A}; string(got) != string(want) {
		t.Fatalf("AckOption = % X, want % X", got, want)
	}
}

func TestBaudChars(t *testing.T) {
	for i, baud := range []int{300, 600, 1200, 2400, 4800, 9600, 19200} {
		c := byte('0' + i)
		if got, err := BaudFromChar(c); err != nil || got != baud {
			t.Fatalf("BaudFromChar(%q) = %d, %v", c, got, err)
		}
		if got, err := CharFromBaud(baud); err != nil || got != c {
			t.Fatalf("CharFromBaud(%d) = %q, %v", baud, got, err)
		}
	}
	for _, c := range []byte{'7', '9', 'A', '/', 0} {
		if _, err := BaudFromChar(c); err == nil {
			t.Fatalf("BaudFromChar(%q) accepted", c)
		}
	}
	if _, err := CharFromBaud(115200); err == nil {
		t.Fatal("CharFromBaud(115200) accepted")
	}
	for baud, want := range map[int]byte{0: '0', 300: '0', 2000: '2', 9600: '5', 10000: '5', 115200: '6'} {
		if got := CharAtMost(baud); got != want {
			t.Fatalf("CharAtMost(%d) = %q, want %q", baud, got, want)
		}
	}
}

func TestParseIdent(t *testing.T) {
	tests := []struct {
		line string
		want Ident
	}{
		{"/ISk5MT174-0001\r\n", Ident{"ISk", '5', 9600, FastReaction, "MT174-0001"}},
		{"/LGZ4ZMD120APt.G03\r\n", Ident{"LGZ", '4', 4800, SlowReaction, "ZMD120APt.G03"}},
		// Enhanced identification (reliability digest §3.2).
		{"/LGZ4\\2ZMD120APt.G03\r\n", Ident{"LGZ", '4', 4800, SlowReaction, "ZMD120APt.G03"}},
		{"/GWd6EMUL-645-IEC", Ident{"GWd", '6', 19200, FastReaction, "EMUL-645-IEC"}},
		{"/ABC0X\r\n", Ident{"ABC", '0', 300, SlowReaction, "X"}},
	}
	for _, tt := range tests {
		got, err := ParseIdent([]byte(tt.line))
		if err != nil {
			t.Fatalf("%q: %v", tt.line, err)
		}
		if got != tt.want {
			t.Fatalf("%q: got %+v, want %+v", tt.line, got, tt.want)
		}
	}
	bad := []string{
		"", "/", "/AB", "/ABC5\r\n", "ABC5XYZ\r\n", "/A1C5XYZ\r\n", "/ABCAXYZ\r\n", // mode B rate
		"/ABC7XYZ\r\n", "/ABC5X\x01Z\r\n", "/ABC5X!Z\r\n", "/ABC5\\2\r\n",
		"/ABC5" + string(make([]byte, 70)) + "\r\n",
		"/ABC5XYZ\r", "/ABC5XYZ\n\r\n",
	}
	for _, s := range bad {
		if _, err := ParseIdent([]byte(s)); !errors.Is(err, ErrIdent) {
			t.Fatalf("%q: err = %v, want ErrIdent", s, err)
		}
	}
}

func TestValidAddress(t *testing.T) {
	for _, a := range []string{"", "12345678", "ABC 12"} {
		if err := ValidAddress(a); err != nil {
			t.Fatalf("%q: %v", a, err)
		}
	}
	for _, a := range []string{"12!", "/", "123456789012345678901234567890123", "a\r"} {
		if err := ValidAddress(a); err == nil {
			t.Fatalf("%q accepted", a)
		}
	}
}
