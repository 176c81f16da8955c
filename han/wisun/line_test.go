package wisun

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

const (
	meterLL = "FE80:0000:0000:0000:021D:1290:1234:5678"
	ownLL   = "FE80:0000:0000:0000:021D:1290:1234:0001"
	// Digest §4.5, verified: the reply to Get E7 (500 W), ASCII mode.
	rxASCII = "ERXUDP " + meterLL + " " + ownLL + " 0E1A 0E1A 001D129012345678 1 0012 1081000102880105FF017201E704000001F4"
)

func TestLinkLocal(t *testing.T) {
	got, err := LinkLocal("001D129012345678")
	if err != nil || got != meterLL {
		t.Fatalf("LinkLocal = %q, %v; want %q", got, err, meterLL)
	}
	if got, _ := LinkLocal("021d129012345678"); got != "FE80:0000:0000:0000:001D:1290:1234:5678" {
		t.Fatalf("flip back: %q", got)
	}
	for _, bad := range []string{"", "001D12901234567", "001D1290123456789", "001D12901234567G"} {
		if _, err := LinkLocal(bad); err == nil {
			t.Errorf("LinkLocal(%q) accepted", bad)
		}
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		line  string
		want  Event
		error bool
	}{
		{"EVENT 25 " + meterLL, Event{0x25, meterLL, -1, -1}, false},
		{"EVENT 21 " + meterLL + " 00", Event{0x21, meterLL, -1, 0}, false},
		{"EVENT 21 " + meterLL + " 01", Event{0x21, meterLL, -1, 1}, false},
		{"EVENT 20 " + meterLL + " 0", Event{0x20, meterLL, 0, -1}, false}, // BP35C0 capture
		{"EVENT 21 " + meterLL + " 1 02", Event{0x21, meterLL, 1, 2}, false},
		{"EVENT 1F " + meterLL, Event{0x1F, meterLL, -1, -1}, false},
		{"EVENT 21 " + meterLL + " 0 00 extra", Event{0x21, meterLL, 0, 0}, false},
		{"EVENT 25", Event{}, true},
		{"EVENT 2G " + meterLL, Event{}, true},
		{"EVENT 25 FE80::1", Event{}, true},
		{"EVENT 21 " + meterLL + " 2 00", Event{}, true},
		{"EVENT 21 " + meterLL + " 0 ZZ", Event{}, true},
		{"EVENTS 25 " + meterLL, Event{}, true},
		{"", Event{}, true},
	}
	for _, tt := range tests {
		got, err := ParseEvent(tt.line)
		if (err != nil) != tt.error || got != tt.want {
			t.Errorf("ParseEvent(%q) = %+v, %v; want %+v, error %v", tt.line, got, err, tt.want, tt.error)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseEvent(%q): error %v is not ErrSyntax", tt.line, err)
		}
	}
}

func TestParsePANDesc(t *testing.T) {
	block := []string{"EPANDESC", "  Channel:21", "  Channel Page:09", "  Pan ID:8888",
		"  Addr:001D129012345678", "  LQI:E1", "  PairID:12345678"}
	want := PANDesc{Channel: 0x21, ChannelPage: 9, PanID: 0x8888, Addr: "001D129012345678", LQI: 0xE1, Side: -1, PairID: "12345678"}
	got, err := ParsePANDesc(block)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	c0 := append(append([]string{}, block[:6]...), "  Side:0", block[6])
	want.Side = 0
	if got, err := ParsePANDesc(c0); err != nil || got != want {
		t.Fatalf("BP35C0: got %+v, %v", got, err)
	}
	for _, l := range block[1:] {
		if !IsPANField(l) {
			t.Errorf("IsPANField(%q) = false", l)
		}
	}
	if IsPANField("EVENT 22 "+meterLL) || IsPANField("OK") {
		t.Error("IsPANField accepts non-fields")
	}
	bad := [][]string{
		block[:3], // no Addr
		{"  Channel:21", "  Pan ID:8888", "  Addr:001D1290123456"},
		{"  Channel:21", "  Pan ID:88888", "  Addr:001D129012345678"},
		{"  Channel:21", "  Pan ID:8888", "  Addr:001D129012345678", "  LQI:XYZ"},
		{"  Channel:21", "  Pan ID:8888", "  Addr:001D129012345678", "  Side:7"},
		{"  Channel:21", "  Pan ID:8888", "  Addr:001D129012345678", "  Color:red"},
		{"  Channel:21", "  Pan ID:8888", "  Addr:001D129012345678", "garbage"},
	}
	for _, b := range bad {
		if _, err := ParsePANDesc(b); err == nil {
			t.Errorf("ParsePANDesc(%q) accepted", b)
		}
	}
}

func TestParseERXUDPLine(t *testing.T) {
	h, data, err := ParseERXUDPLine(rxASCII, BP35A1)
	if err != nil {
		t.Fatal(err)
	}
	want := ERXUDP{Sender: meterLL, Dest: ownLL, RPort: 0x0E1A, LPort: 0x0E1A, SenderLLA: "001D129012345678", Secured: true, Side: -1, DataLen: 0x12}
	if h != want {
		t.Fatalf("header %+v, want %+v", h, want)
	}
	if got := strings.ToUpper(hex.EncodeToString(data)); got != "1081000102880105FF017201E704000001F4" {
		t.Fatalf("data %s", got)
	}
	c0 := strings.Replace(rxASCII, " 1 0012 ", " 1 0 0012 ", 1)
	if h, _, err := ParseERXUDPLine(c0, BP35C0); err != nil || h.Side != 0 {
		t.Fatalf("BP35C0: %+v, %v", h, err)
	}
	if _, _, err := ParseERXUDPLine(c0, BP35A1); err == nil {
		t.Fatal("side accepted for BP35A1")
	}
	if _, _, err := ParseERXUDPLine(rxASCII, BP35C0); err == nil {
		t.Fatal("missing side accepted for BP35C0")
	}
	if h, _, err := ParseERXUDPLine(c0, ""); err != nil || h.Side != 0 {
		t.Fatalf("auto dialect: %+v, %v", h, err)
	}
	bad := []string{
		rxASCII[:len(rxASCII)-2], // truncated data
		strings.Replace(rxASCII, " 0012 ", " 05DD ", 1),
		strings.Replace(rxASCII, " 0E1A 0E1A ", " 0E1A XX1A ", 1),
		strings.Replace(rxASCII, " 1 0012", " 7 0012", 1),
		strings.Replace(rxASCII, "001D129012345678", "001D", 1),
		"ERXUDP " + meterLL,
		"ERXUDP",
	}
	for _, l := range bad {
		if _, _, err := ParseERXUDPLine(l, ""); err == nil {
			t.Errorf("accepted %q", l)
		}
	}
	if _, err := ParseERXUDP(strings.Replace(rxASCII[:strings.LastIndexByte(rxASCII, ' ')], "0012", "05DD", 1), ""); err == nil {
		t.Error("datalen 1501 accepted")
	}
}

func TestParseFail(t *testing.T) {
	for code, msg := range map[int]string{4: "unsupported command", 5: "wrong number of arguments",
		6: "invalid argument", 9: "UART input error", 10: "execution failed"} {
		line := "FAIL ER" + string(rune('0'+code/10)) + string(rune('0'+code%10))
		ce, err := ParseFail(line)
		if err != nil || ce.Code != code {
			t.Fatalf("ParseFail(%q) = %v, %v", line, ce, err)
		}
		if !strings.Contains(ce.Error(), msg) {
			t.Errorf("%q: message %q lacks %q", line, ce.Error(), msg)
		}
	}
	for _, bad := range []string{"FAIL", "FAIL ER", "FAIL ERXX", "FAIL ER123", "OK"} {
		if _, err := ParseFail(bad); err == nil {
			t.Errorf("ParseFail(%q) accepted", bad)
		}
	}
	ce := &CommandError{Code: 10, Command: "SKJOIN"}
	if !strings.HasPrefix(ce.Error(), "wisun: SKJOIN: FAIL ER10") {
		t.Errorf("Error() = %q", ce.Error())
	}
}

func scanAll(t testing.TB, in []byte, ascii bool, chunk int) []item {
	t.Helper()
	s := newScanner(func() bool { return ascii })
	var out []item
	for len(in) > 0 {
		n := min(chunk, len(in))
		s.feed(in[:n], func(it item) { out = append(out, it) })
		in = in[n:]
	}
	return out
}

func TestScannerBinaryCRLFInside(t *testing.T) {
	payload := []byte{0x10, 0x81, 0x0D, 0x0A, 0x00, 0x0A, 0x0D, 0x0D, 0x0A}
	hdr := "ERXUDP " + meterLL + " " + ownLL + " 0E1A 0E1A 001D129012345678 1 0009 "
	in := append([]byte("OK\r\nEVENT 21 "+meterLL+" 00\r\n"+hdr), payload...)
	in = append(in, "\r\nOK 01\r\n"...)
	c0 := strings.Replace(hdr, " 1 0009 ", " 1 0 0009 ", 1)
	in2 := append(append([]byte(c0), payload...), "\r\nEVENT 25 "+meterLL+" 0\r\n"...)
	for _, chunk := range []int{1, 3, 7, 4096} {
		got := scanAll(t, in, false, chunk)
		if len(got) != 4 || got[0].line != "OK" || got[2].udp == nil || !bytes.Equal(got[2].data, payload) || got[3].line != "OK 01" {
			t.Fatalf("chunk %d: %+v", chunk, got)
		}
		got = scanAll(t, in2, false, chunk)
		if len(got) != 2 || got[0].udp == nil || got[0].udp.Side != 0 || !bytes.Equal(got[0].data, payload) || !strings.HasPrefix(got[1].line, "EVENT 25") {
			t.Fatalf("C0 chunk %d: %+v", chunk, got)
		}
	}
}

func TestScannerASCII(t *testing.T) {
	got := scanAll(t, []byte(rxASCII+"\r\nOK\r\n"), true, 5)
	if len(got) != 2 || got[0].udp == nil || len(got[0].data) != 0x12 || got[1].line != "OK" {
		t.Fatalf("%+v", got)
	}
	// Truncated hex data: the error is reported and the next line survives.
	got = scanAll(t, []byte(rxASCII[:len(rxASCII)-6]+"\r\nEVENT 25 "+meterLL+"\r\n"), true, 64)
	var errs, events int
	for _, it := range got {
		if it.err != nil {
			errs++
		}
		if strings.HasPrefix(it.line, "EVENT 25") {
			events++
		}
	}
	if errs != 1 || events != 1 {
		t.Fatalf("truncated: %+v", got)
	}
}

func TestScannerBounds(t *testing.T) {
	long := bytes.Repeat([]byte("A"), MaxLine+100)
	got := scanAll(t, append(append(long, "\r\nOK\r\n"...), []byte(strings.Replace(rxASCII, " 0012 ", " FFFF ", 1)+"\r\nOK\r\n")...), true, 512)
	var errs int
	var lines []string
	for _, it := range got {
		if it.err != nil {
			errs++
		} else {
			lines = append(lines, it.line)
		}
	}
	if errs != 2 || len(lines) != 2 || lines[0] != "OK" || lines[1] != "OK" {
		t.Fatalf("errs %d lines %q", errs, lines)
	}
}

func BenchmarkParseERXUDP(b *testing.B) {
	payload, _ := hex.DecodeString("1081000102880105FF017201E704000001F4")
	bin := append([]byte("ERXUDP "+meterLL+" "+ownLL+" 0E1A 0E1A 001D129012345678 1 0012 "), payload...)
	bin = append(bin, '\r', '\n')
	asc := []byte(rxASCII + "\r\n")
	for _, c := range []struct {
		name  string
		in    []byte
		ascii bool
	}{{"ascii", asc, true}, {"binary", bin, false}} {
		b.Run(c.name, func(b *testing.B) {
			s := newScanner(func() bool { return c.ascii })
			n := 0
			emit := func(it item) {
				if it.udp != nil {
					n++
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				s.feed(c.in, emit)
			}
			if n == 0 {
				b.Fatal("nothing parsed")
			}
		})
	}
}
