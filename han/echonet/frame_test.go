package echonet

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The digest's verified frames decode and encode back byte for byte.
func TestVerifiedFrames(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		esv  ESV
		n    int
	}{
		{"Get E7", "10 81 00 01 05 FF 01 02 88 01 62 01 E7 00", Get, 1},
		{"Get_Res E7 500 W", "10 81 00 01 02 88 01 05 FF 01 72 01 E7 04 00 00 01 F4", GetRes, 1},
		{"Get D3 D7 E1 E0", "10 81 00 02 05 FF 01 02 88 01 62 04 D3 00 D7 00 E1 00 E0 00", Get, 4},
		{"Get_Res D3 D7 E1 E0", "10 81 00 02 02 88 01 05 FF 01 72 04 D3 04 00 00 00 01 D7 01 06 E1 01 01 E0 04 00 01 E2 40", GetRes, 4},
		{"INF EA", "10 81 00 03 02 88 01 05 FF 01 73 01 EA 0B 07 E8 05 14 0D 1E 00 00 00 30 39", INF, 1},
		{"SetC E5", "10 81 00 04 05 FF 01 02 88 01 61 01 E5 01 01", SetC, 1},
		{"Set_Res", "10 81 00 04 02 88 01 05 FF 01 71 01 E5 00", SetRes, 1},
		{"Get_SNA", "10 81 00 05 02 88 01 05 FF 01 52 01 EC 00", GetSNA, 1},
		{"INF_REQ D5", "10 81 00 06 05 FF 01 0E F0 01 63 01 D5 00", INFReq, 1},
		{"AC SetC", "10 81 00 08 05 FF 01 01 30 01 61 03 80 01 30 B0 01 42 B3 01 1A", SetC, 3},
		{"AC Set_Res", "10 81 00 08 01 30 01 05 FF 01 71 03 80 00 B0 00 B3 00", SetRes, 3},
		{"battery Get_Res", "10 81 00 09 02 7D 01 05 FF 01 72 03 D3 04 FF FF FA 24 E4 01 50 DA 01 43", GetRes, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := hx(t, tc.hex)
			f, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.ESV != tc.esv || len(f.Props) != tc.n {
				t.Fatalf("%v with %d props", f.ESV, len(f.Props))
			}
			back, err := f.Encode()
			if err != nil || !bytes.Equal(back, b) {
				t.Fatalf("encode: % X, %v", back, err)
			}
		})
	}
	f, _ := Decode(hx(t, "10 81 00 01 02 88 01 05 FF 01 72 01 E7 04 00 00 01 F4"))
	if f.TID != 1 || f.SEOJ.Class() != ClassSmartMeter || f.DEOJ != Controller {
		t.Errorf("frame %+v", f)
	}
	if edt, ok := f.Prop(0xE7); !ok || !bytes.Equal(edt, []byte{0, 0, 1, 0xF4}) {
		t.Errorf("E7 = % X", edt)
	}
}

func TestSetGet(t *testing.T) {
	f := Frame{TID: 7, SEOJ: Controller, DEOJ: NewEOJ(ClassAirConditioner, 1), ESV: SetGet,
		Props: []Property{{0x80, []byte{0x30}}}, GetProps: []Property{{0xB3, nil}, {0xBB, nil}}}
	b, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := hx(t, "10 81 00 07 05 FF 01 01 30 01 6E 01 80 01 30 02 B3 00 BB 00")
	if !bytes.Equal(b, want) {
		t.Fatalf("% X", b)
	}
	g, err := Decode(b)
	if err != nil || len(g.Props) != 1 || len(g.GetProps) != 2 || g.GetProps[1].EPC != 0xBB {
		t.Fatalf("%+v %v", g, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		err  error
	}{
		{"empty", "", ErrShort},
		{"short", "10 81 00 01 05 FF 01 02 88 01 62", ErrShort},
		{"EHD1", "11 81 00 01 05 FF 01 02 88 01 62 01 E7 00", ErrHeader},
		{"format 2", "10 82 00 01 05 FF 01 02 88 01 62 01 E7 00", ErrHeader},
		{"OPC too large", "10 81 00 01 05 FF 01 02 88 01 62 02 E7 00", ErrLength},
		{"PDC too large", "10 81 00 01 02 88 01 05 FF 01 72 01 E7 05 00 00 01 F4", ErrLength},
		{"trailing byte", "10 81 00 01 05 FF 01 02 88 01 62 01 E7 00 00", ErrLength},
		{"SetGet without Get list", "10 81 00 07 05 FF 01 01 30 01 6E 01 80 01 30", ErrLength},
	}
	for _, tc := range tests {
		if _, err := Decode(hx(t, tc.hex)); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	if _, err := Decode(make([]byte, MaxFrame+1)); !errors.Is(err, ErrLarge) {
		t.Errorf("oversize: %v", err)
	}
}

func TestIsReplyTo(t *testing.T) {
	req, _ := Decode(hx(t, "10 81 00 01 05 FF 01 02 88 01 62 01 E7 00"))
	res, _ := Decode(hx(t, "10 81 00 01 02 88 01 05 FF 01 72 01 E7 04 00 00 01 F4"))
	if !IsReplyTo(req, res) {
		t.Fatal("Get_Res not matched")
	}
	sna := res
	sna.ESV = GetSNA
	if !IsReplyTo(req, sna) {
		t.Error("Get_SNA not matched")
	}
	other := res
	other.TID = 2
	if IsReplyTo(req, other) {
		t.Error("other TID matched")
	}
	wrongClass := res
	wrongClass.ESV = SetRes
	if IsReplyTo(req, wrongClass) {
		t.Error("Set_Res matched a Get")
	}
	wrongObj := res
	wrongObj.SEOJ = NewEOJ(ClassGasMeter, 1)
	if IsReplyTo(req, wrongObj) {
		t.Error("another object matched")
	}
	// A request to instance 0 is answered by instance 1.
	req.DEOJ = NewEOJ(ClassSmartMeter, 0)
	if !IsReplyTo(req, res) {
		t.Error("instance 0 request not matched")
	}
}

func TestPropertyMap(t *testing.T) {
	short := hx(t, "06 80 8A 9D 9E 9F E7")
	m, err := DecodePropertyMap(short)
	if err != nil || !m.Has(0xE7) || m.Has(0xE0) || len(m.EPCs()) != 6 {
		t.Fatalf("%v %v", m.EPCs(), err)
	}
	if !bytes.Equal(m.Encode(), short) {
		t.Errorf("short form re-encoded % X", m.Encode())
	}
	bitmap := hx(t, "17 41 41 41 60 40 40 00 62 43 00 41 40 00 03 02 02")
	m, err = DecodePropertyMap(bitmap)
	if err != nil || len(m.EPCs()) != 0x17 {
		t.Fatalf("bitmap: %d EPCs, %v", len(m.EPCs()), err)
	}
	// Byte 1 is 0x41: bits 0 and 6 = 0x80 and 0xE0.
	if !m.Has(0x80) || !m.Has(0xE0) || m.Has(0x90) {
		t.Errorf("bitmap EPCs % X", m.EPCs())
	}
	if !bytes.Equal(m.Encode(), bitmap) {
		t.Errorf("bitmap re-encoded % X", m.Encode())
	}
	for _, bad := range []string{"", "03 80 81", "02 80 10", "10 00", "05 41 41 41 60 40 40 00 62 43 00 41 40 00 03 02 02"} {
		if _, err := DecodePropertyMap(hx(t, bad)); !errors.Is(err, ErrPropertyMap) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"10 81 00 01 05 FF 01 02 88 01 62 01 E7 00", "10 81 00 07 05 FF 01 01 30 01 6E 01 80 01 30 02 B3 00 BB 00",
		"10 81 00 09 02 7D 01 05 FF 01 72 03 D3 04 FF FF FA 24 E4 01 50 DA 01 43"} {
		f.Add(hx(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			return
		}
		back, err := fr.Encode()
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("decoded frame does not re-encode: % X -> % X (%v)", b, back, err)
		}
	})
}

func FuzzPropertyMap(f *testing.F) {
	f.Add([]byte{0x06, 0x80, 0x8A, 0x9D, 0x9E, 0x9F, 0xE7})
	f.Add([]byte{0x17, 0x41, 0x41, 0x41, 0x60, 0x40, 0x40, 0x00, 0x62, 0x43, 0x00, 0x41, 0x40, 0x00, 0x03, 0x02, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodePropertyMap(b)
		if err != nil {
			return
		}
		if _, err := DecodePropertyMap(m.Encode()); err != nil {
			t.Fatalf("re-encoded map does not decode: %v", err)
		}
	})
}
