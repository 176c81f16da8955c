package wisun

import (
	"strings"
	"testing"
)

func FuzzParseEvent(f *testing.F) {
	f.Add("EVENT 25 " + meterLL)
	f.Add("EVENT 21 " + meterLL + " 0 00")
	f.Add("EVENT 1F " + meterLL + " 1")
	f.Fuzz(func(t *testing.T, line string) {
		ev, err := ParseEvent(line)
		if err != nil {
			return
		}
		if !ValidIPv6(ev.Addr) || ev.Side < -1 || ev.Side > 1 || ev.Param < -1 || ev.Param > 0xFF {
			t.Fatalf("ParseEvent(%q) = %+v", line, ev)
		}
	})
}

// FuzzLine feeds arbitrary module output through the scanner and every
// line parser, EPANDESC blocks included.
func FuzzLine(f *testing.F) {
	f.Add([]byte("EVENT 20 " + meterLL + "\r\nEPANDESC\r\n  Channel:21\r\n  Pan ID:8888\r\n  Addr:001D129012345678\r\n  PairID:12345678\r\nEVENT 22 " + ownLL + "\r\n"))
	f.Add([]byte(rxASCII + "\r\nFAIL ER10\r\nOK 01\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, ascii := range []bool{false, true} {
			var block []string
			newScanner(func() bool { return ascii }).feed(in, func(it item) {
				switch {
				case it.err != nil:
				case it.udp != nil:
					if len(it.data) != it.udp.DataLen || it.udp.DataLen > MaxData {
						t.Fatalf("datalen %d, data %d", it.udp.DataLen, len(it.data))
					}
				default:
					if len(it.line) > MaxLine {
						t.Fatalf("line of %d bytes", len(it.line))
					}
					if strings.ContainsAny(it.line, "\n") {
						t.Fatalf("line with LF: %q", it.line)
					}
					ParseEvent(it.line)
					ParseFail(it.line)
					ParseERXUDPLine(it.line, "")
					if it.line == "EPANDESC" || IsPANField(it.line) {
						block = append(block, it.line)
						if d, err := ParsePANDesc(block); err == nil && len(d.Addr) != 16 {
							t.Fatalf("PANDesc %+v", d)
						}
					} else {
						block = nil
					}
				}
			})
		}
	})
}

func FuzzERXUDP(f *testing.F) {
	hdr := "ERXUDP " + meterLL + " " + ownLL + " 0E1A 0E1A 001D129012345678 1 0004 "
	f.Add(hdr, []byte{0x0D, 0x0A, 0x10, 0x81}, false)
	f.Add(strings.Replace(hdr, " 1 0004", " 1 0 0004", 1), []byte("10810D0A"), true)
	f.Fuzz(func(t *testing.T, header string, data []byte, ascii bool) {
		h, err := ParseERXUDP(header, "")
		if err == nil {
			if h.DataLen > MaxData || !ValidIPv6(h.Sender) {
				t.Fatalf("header %+v", h)
			}
			if b, err := DecodeERXUDPData(h, data, ascii); err == nil && len(b) != h.DataLen {
				t.Fatalf("decoded %d bytes, want %d", len(b), h.DataLen)
			}
		}
		in := append([]byte(header), data...)
		newScanner(func() bool { return ascii }).feed(append(in, '\r', '\n'), func(it item) {
			if it.udp != nil && len(it.data) != it.udp.DataLen {
				t.Fatalf("datalen %d, data %d", it.udp.DataLen, len(it.data))
			}
		})
	})
}
