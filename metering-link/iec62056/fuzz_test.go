package iec62056

import (
	"reflect"
	"testing"
	"time"
)

// FuzzParseReadout: the readout parser and the mapping never panic, and
// whatever parses re-encodes to the same lines.
func FuzzParseReadout(f *testing.F) {
	f.Add([]byte(verified))
	f.Add(frame("1-0:1.6.0*255(0.123*kW)(2401151200)\r\n\r\nF.F(00000000)\r\n"))
	f.Add(frame("0.9.1(13:45:30)\r\n0.9.2(1240520)\r\n1.7.0(01.5000*kW)\r\n2.7.0(00.2500*kW)\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := ParseReadout(b)
		if err != nil {
			return
		}
		_, _, _, _ = Map(lines, time.UTC)
		again, err := ParseReadout(EncodeReadout(lines))
		if err != nil {
			t.Fatalf("re-encoded readout does not parse: %v", err)
		}
		if len(lines) > 0 && !reflect.DeepEqual(lines, again) {
			t.Fatalf("round trip\n%+v\n%+v", lines, again)
		}
	})
}

// FuzzParseIdent: the identification parser never panics and what it
// accepts is consistent.
func FuzzParseIdent(f *testing.F) {
	f.Add([]byte("/ISk5MT174-0001\r\n"))
	f.Add([]byte("/LGZ4\\2ZMD120APt.G03\r\n"))
	f.Add([]byte("/GWd6EMUL-645-IEC\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseIdent(b)
		if err != nil {
			return
		}
		if baud, err := BaudFromChar(id.BaudChar); err != nil || baud != id.MaxBaud {
			t.Fatalf("baud %q -> %d, %v; ident says %d", id.BaudChar, baud, err, id.MaxBaud)
		}
		if len(id.Manufacturer) != 3 || id.ID == "" || len(id.ID) > maxIdent {
			t.Fatalf("accepted %+v", id)
		}
		if id.ReactionTime != FastReaction && id.ReactionTime != SlowReaction {
			t.Fatalf("reaction %v", id.ReactionTime)
		}
	})
}
