package dlt645

import (
	"testing"
	"time"
)

// FuzzDecode: the frame decoder, the scanner and the value decoders must
// never panic, and whatever decodes must re-encode to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(hx(f, "68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78 56 34 88 16"))
	f.Add(hx(f, "FE FE FE FE 68 12 90 78 56 34 12 68 91 07 33 33 36 35 78 56 B4 71 16"))
	f.Add(hx(f, "68 12 90 78 56 34 12 68 D1 01 35 8D 16"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if fr, err := Decode(b); err == nil {
			enc, err := Encode(fr, 0)
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			for i < len(b) && b[i] == Preamble {
				i++
			}
			if string(enc) != string(b[i:]) {
				t.Fatalf("round trip\n% X\n% X", enc, b[i:])
			}
			if len(fr.Data) >= 4 {
				if s, ok := Lookup(DIFromWire(fr.Data)); ok && s.Kind == KindBCD {
					_, _ = DecodeValues(s, fr.Data[4:])
				}
			}
		}
		_, next, _ := Scan(b)
		if next < 0 || next > len(b) {
			t.Fatalf("Scan next %d of %d", next, len(b))
		}
		_, _ = DecodeLoadRecords(b, time.UTC)
		_, _ = DecodeStamp6(b, time.UTC)
		_, _ = DecodeBCD(b, true)
	})
}
