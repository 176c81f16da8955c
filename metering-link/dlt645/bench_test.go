package dlt645

import "testing"

func BenchmarkDecode(b *testing.B) {
	frame := hx(b, "FE FE FE FE 68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78 56 34 88 16")
	s, _ := Lookup(DIForwardActive)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeValues(s, f.Data[4:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanWithGarbage(b *testing.B) {
	in := append(hx(b, "00 FF 68 01 02 68 FE FE 55 AA"), hx(b, "68 12 90 78 56 34 12 68 91 08 33 33 34 33 9A 78 56 34 88 16")...)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := Scan(in); err != nil {
			b.Fatal(err)
		}
	}
}
