package dlt645

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var addr = Address{0x12, 0x90, 0x78, 0x56, 0x34, 0x12}

// Verified frames from the protocol digest §1.11.
func TestEncodeVerifiedRequests(t *testing.T) {
	loadStart := time.Date(2024, 5, 20, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		f        Frame
		preamble int
		want     string
	}{
		{"read forward active", Frame{addr, CtlRead, []byte{0x00, 0x00, 0x01, 0x00}}, 4, "FE FE FE FE 68 12 90 78 56 34 12 68 11 04 33 33 34 33 68 16"},
		{"read voltage A", Frame{addr, CtlRead, []byte{0x00, 0x01, 0x01, 0x02}}, 0, "68 12 90 78 56 34 12 68 11 04 33 34 34 35 6B 16"},
		{"read address", Frame{Wildcard, CtlReadAddress, nil}, 0, "68 AA AA AA AA AA AA 68 13 00 DF 16"},
		{"broadcast time", Frame{Broadcast, CtlBroadcastTime, EncodeBroadcastTime(time.Date(2024, 5, 20, 13, 45, 30, 0, time.UTC))}, 0, "68 99 99 99 99 99 99 68 08 06 63 78 46 53 38 57 77 16"},
		{"follow-up SEQ 1", Frame{addr, CtlReadFollow, []byte{0x01, 0x00, 0x01, 0x06, 0x01}}, 0, "68 12 90 78 56 34 12 68 12 05 34 33 34 39 34 A5 16"},
		{"load profile class 1", Frame{addr, CtlRead, append([]byte{0x01, 0x00, 0x01, 0x06, 0x01}, EncodeLoadStart(loadStart)...)}, 0, "68 12 90 78 56 34 12 68 11 0A 34 33 34 39 34 33 46 53 38 57 04 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.f, tt.preamble)
			if err != nil {
				t.Fatal(err)
			}
			if want := hx(t, tt.want); string(got) != string(want) {
				t.Fatalf("got  % X\nwant % X", got, want)
			}
		})
	}
}

func TestDecodeVerifiedReplies(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		di    DI
		want  []energy.Decimal
	}{
		{"forward active 12345.67 kWh", "68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78 56 34 88 16", DIForwardActive, []energy.Decimal{energy.D(1234567, 1)}},
		{"voltage A 220.1 V", "68 12 90 78 56 34 12 68 91 06 33 34 34 35 34 55 76 16", 0x02010100, []energy.Decimal{energy.D(2201, -1)}},
		{"power -1.2345 kW", "68 12 90 78 56 34 12 68 91 07 33 33 36 35 78 56 B4 71 16", DIPowerTotal, []energy.Decimal{energy.D(-12345, -1)}},
		{"frequency 50.01 Hz", "68 12 90 78 56 34 12 68 91 06 35 33 B3 35 34 83 24 16", DIFrequency, []energy.Decimal{energy.D(5001, -2)}},
		{"current A 5.123 A", "68 12 90 78 56 34 12 68 91 07 33 34 35 35 56 84 33 FC 16", 0x02020100, []energy.Decimal{energy.D(5123, -3)}},
		{"with FE preamble", "FE FE 68 12 90 78 56 34 12 68 91 06 35 33 B3 35 34 83 24 16", DIFrequency, []energy.Decimal{energy.D(5001, -2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(hx(t, tt.frame))
			if err != nil {
				t.Fatal(err)
			}
			if f.Addr != addr || f.Control != 0x91 || !f.IsReply() || f.IsAbnormal() {
				t.Fatalf("header: %+v", f)
			}
			if got := DIFromWire(f.Data); got != tt.di {
				t.Fatalf("DI %s, want %s", got, tt.di)
			}
			s, ok := Lookup(tt.di)
			if !ok {
				t.Fatal("DI not in table")
			}
			vals, err := DecodeValues(s, f.Data[4:])
			if err != nil {
				t.Fatal(err)
			}
			if len(vals) != len(tt.want) || vals[0] != tt.want[0] {
				t.Fatalf("values %v, want %v", vals, tt.want)
			}
		})
	}
}

func TestDecodeDateTimeAndAddress(t *testing.T) {
	f, err := Decode(hx(t, "68 12 90 78 56 34 12 68 91 08 34 34 33 37 34 53 38 57 07 16"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeDate(f.Data[4:], time.UTC)
	if err != nil || !d.Equal(time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("date %v %v", d, err)
	}
	f, err = Decode(hx(t, "68 12 90 78 56 34 12 68 91 07 35 34 33 37 63 78 46 12 16"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := DecodeClock(f.Data[4:])
	if err != nil || c != 13*time.Hour+45*time.Minute+30*time.Second {
		t.Fatalf("clock %v %v", c, err)
	}
	f, err = Decode(hx(t, "68 12 90 78 56 34 12 68 93 06 45 C3 AB 89 67 45 07 16"))
	if err != nil {
		t.Fatal(err)
	}
	var a Address
	copy(a[:], f.Data)
	if a != addr || a.String() != "123456789012" {
		t.Fatalf("address %s", a)
	}
	if p, _ := ParseAddress("123456789012"); p != addr {
		t.Fatalf("parse %s", p)
	}
	if p, _ := ParseAddress("1234567890"); p != (Address{0x90, 0x78, 0x56, 0x34, 0x12, 0x00}) {
		t.Fatalf("parse short % X", p)
	}
	if p, _ := ParseAddress("AAAAAAAAAAAA"); p != Wildcard || p.Valid() {
		t.Fatalf("wildcard % X", p)
	}
	for _, bad := range []string{"", "1234567890123", "12345678901x"} {
		if _, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
	if !Wildcard.Matches(addr) || addr.Matches(Broadcast) {
		t.Fatal("Matches")
	}
}

func TestErrorReply(t *testing.T) {
	f, err := Decode(hx(t, "68 12 90 78 56 34 12 68 D1 01 35 8D 16"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.IsAbnormal() || f.Func() != CtlRead || f.Data[0] != 0x02 {
		t.Fatalf("%+v", f)
	}
	var cl Client
	_, err = cl.payload(f, DIForwardActive, false)
	if !errors.Is(err, ErrNoData) {
		t.Fatalf("want ErrNoData, got %v", err)
	}
	er := &ErrorReply{Code: 0x04}
	if errors.Is(er, ErrNoData) || !strings.Contains(er.Error(), "password") {
		t.Fatal(er)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := "68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78 56 34 88 16"
	tests := []struct {
		name, frame string
		want        error
	}{
		{"empty", "", ErrShort},
		{"garbage", "01 02 03", ErrStart},
		{"truncated header", "68 12 90 78 56", ErrShort},
		{"truncated data", "68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78", ErrShort},
		{"bad checksum", "68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78 56 34 89 16", ErrChecksum},
		{"bad end", "68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78 56 34 88 17", ErrEnd},
		{"second start", "68 12 90 78 56 34 12 69 91 08 33 33 34 33 9A 78 56 34 88 16", ErrStart},
		{"length over 200", "68 12 90 78 56 34 12 68 91 C9 33", ErrLength},
		{"trailing bytes", good + " 00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(hx(t, tt.frame))
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestScanResyncsOnGarbage(t *testing.T) {
	good := hx(t, "68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78 56 34 88 16")
	// Garbage with a fake start and a bogus length byte before a good frame.
	in := append(hx(t, "00 FF 68 01 02 68 FE FE"), good...)
	f, next, err := Scan(in)
	if err != nil || next != len(in) || DIFromWire(f.Data) != DIForwardActive {
		t.Fatalf("scan: %v next=%d/%d", err, next, len(in))
	}
	// A frame with a bad checksum is skipped, the next good one found.
	bad := append([]byte(nil), good...)
	bad[len(bad)-2] ^= 1
	f, _, err = Scan(append(bad, good...))
	if err != nil || f.Control != 0x91 {
		t.Fatalf("scan after bad checksum: %v", err)
	}
	// Incomplete input reports where a frame could still start.
	_, next, err = Scan(append([]byte{1, 2, 3}, good[:8]...))
	if !errors.Is(err, ErrShort) || next != 3 {
		t.Fatalf("incomplete: %v next=%d", err, next)
	}
}

func TestBCD(t *testing.T) {
	for _, tc := range []struct {
		v      int64
		n      int
		signed bool
	}{{0, 4, false}, {1234567, 4, false}, {-12345, 3, true}, {99999999, 4, false}, {-799999, 3, true}} {
		b, err := EncodeBCD(tc.v, tc.n, tc.signed)
		if err != nil {
			t.Fatal(tc, err)
		}
		got, err := DecodeBCD(b, tc.signed)
		if err != nil || got != tc.v {
			t.Fatalf("%v: got %d %v", tc, got, err)
		}
	}
	if _, err := EncodeBCD(100000000, 4, false); err == nil {
		t.Fatal("overflow accepted")
	}
	if _, err := EncodeBCD(800000, 3, true); err == nil {
		t.Fatal("signed overflow accepted")
	}
	if _, err := DecodeBCD([]byte{0x1A}, false); !errors.Is(err, ErrBCD) {
		t.Fatal("nibble > 9 accepted")
	}
	if _, err := DecodeBCD([]byte{0xA1}, true); err != nil {
		t.Fatal("signed A1 = -21 rejected")
	}
}

func TestLoadRecordRoundTrip(t *testing.T) {
	r := LoadRecord{Time: time.Date(2024, 5, 20, 13, 1, 0, 0, time.UTC), Forward: 1234567, Reverse: 890, Reactive1: -5, Reactive2: 7}
	b, err := EncodeLoadRecord(r)
	if err != nil || len(b) != LoadRecordLen {
		t.Fatal(len(b), err)
	}
	got, err := DecodeLoadRecords(append(b, b...), time.UTC)
	if err != nil || len(got) != 2 || got[1] != r {
		t.Fatalf("%+v %v", got, err)
	}
	b[10] ^= 0x01
	if _, err := DecodeLoadRecords(b, time.UTC); err == nil {
		t.Fatal("bad record checksum accepted")
	}
}

func TestBlockDecode(t *testing.T) {
	s, _ := Lookup(DIForwardBlock)
	var data []byte
	for _, v := range []int64{1000, 100, 200, 300, 400} {
		b, _ := EncodeBCD(v, 4, false)
		data = append(data, b...)
	}
	vals, err := DecodeValues(s, data)
	if err != nil || len(vals) != 5 || vals[4] != energy.D(400, 1) {
		t.Fatal(vals, err)
	}
	// A meter with two tariffs sends fewer elements.
	if vals, err := DecodeValues(s, data[:12]); err != nil || len(vals) != 3 {
		t.Fatal(vals, err)
	}
	if _, err := DecodeValues(s, data[:7]); err == nil {
		t.Fatal("partial element accepted")
	}
	if s, ok := Lookup(0x00010001); !ok || s.Quantities[0] != energy.ImportEnergy {
		t.Fatal("settlement-period variant not found")
	}
}
