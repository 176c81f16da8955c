package coap

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// RFC 8428 §5.1.1-style packs, JSON and CBOR, resolve to power and energy.
func TestSenMLDecode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		json    string
		power   float64
		energy  float64
		hasE    bool
		wantErr bool
	}{
		{name: "power with sum", json: `[{"bn":"urn:dev:ep:dw-1:","bt":1.7e9,"n":"power","u":"W","v":1840.5,"s":7200}]`, power: 1840.5, energy: 2, hasE: true},
		{name: "base unit and value", json: `[{"bn":"urn:dev:ep:x/","bu":"W","bv":100,"n":"power","v":5}]`, power: 105},
		{name: "energy kWh", json: `[{"n":"power","u":"W","v":3},{"n":"energy","u":"kWh","v":1.5}]`, power: 3, energy: 1500, hasE: true},
		{name: "energy J", json: `[{"n":"energy","u":"J","v":7200}]`, energy: 2, hasE: true},
		{name: "unknown names ignored", json: `[{"n":"temp","u":"Cel","v":21},{"n":"power","u":"W","v":1}]`, power: 1},
		{name: "only unknown", json: `[{"n":"temp","u":"Cel","v":21}]`, wantErr: true},
		{name: "bad unit", json: `[{"n":"power","u":"kW","v":1}]`, wantErr: true},
		{name: "no value", json: `[{"n":"power","u":"W"}]`, wantErr: true},
		{name: "no name", json: `[{"u":"W","v":1}]`, wantErr: true},
		{name: "not an array", json: `{"n":"power"}`, wantErr: true},
		{name: "trailing", json: `[{"n":"power","u":"W","v":1}] []`, wantErr: true},
		{name: "out of range", json: `[{"n":"power","u":"W","v":1e12}]`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := DecodeSenMLJSON([]byte(tc.json))
			var m Measurement
			if err == nil {
				m, err = Resolve(recs)
			}
			if tc.wantErr {
				if !errors.Is(err, ErrSenML) {
					t.Fatalf("err = %v, want ErrSenML", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.PowerW != tc.power || m.EnergyWh != tc.energy || m.HasEnergy != tc.hasE {
				t.Fatalf("m = %+v", m)
			}
			// The same pack through CBOR resolves the same.
			cb, err := EncodeSenMLCBOR(recs)
			if err != nil {
				t.Fatal(err)
			}
			recs2, err := DecodeSenMLCBOR(cb)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := Resolve(recs2)
			if err != nil || m2 != m {
				t.Fatalf("cbor: %+v %v, want %+v", m2, err, m)
			}
		})
	}
}

// A CBOR pack written by hand with RFC 8428 integer labels:
// [{-2: "urn:dev:ep:a:", 0: "power", 1: "W", 2: 100.5}]
func TestSenMLCBORLabels(t *testing.T) {
	b, _ := hex.DecodeString("81a4216d75726e3a6465763a65703a613a0065706f7765720161570" + "2f95648")
	// 0xf9 0x5648 is half-float 100.5
	recs, err := DecodeSenMLCBOR(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Resolve(recs)
	if err != nil || m.PowerW != 100.5 {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"", "a0", "81", "9f81a0ff", "81a10063", "81a1397fff01", "c0" + "81a0"} {
		b, _ := hex.DecodeString(bad)
		if _, err := DecodeSenMLCBOR(b); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
	if _, err := DecodeSenMLCBOR(bytes.Repeat([]byte{0x81}, MaxPayload+1)); err == nil {
		t.Error("oversized pack decoded")
	}
}

func fuzzResolve(t *testing.T, recs []Record, err error) {
	if err != nil {
		if !errors.Is(err, ErrSenML) {
			t.Fatalf("error not wrapping ErrSenML: %v", err)
		}
		return
	}
	if len(recs) == 0 || len(recs) > maxRecords {
		t.Fatalf("%d records accepted", len(recs))
	}
	m, err := Resolve(recs)
	if err == nil && (math.IsNaN(m.PowerW) || math.IsNaN(m.EnergyWh) || m.EnergyWh < 0) {
		t.Fatalf("bad measurement %+v", m)
	}
}

func FuzzSenMLJSON(f *testing.F) {
	f.Add([]byte(`[{"bn":"urn:dev:ep:dw-1:","n":"power","u":"W","v":1840.5,"s":7200}]`))
	f.Add([]byte(`[{"n":"energy","u":"kWh","v":1.5}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := DecodeSenMLJSON(b)
		fuzzResolve(t, recs, err)
	})
}

func FuzzSenMLCBOR(f *testing.F) {
	b, _ := EncodeSenMLCBOR([]Record{{BaseName: "urn:dev:ep:a:", Name: "power", Unit: "W", Value: fp(1), Sum: fp(3600)}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := DecodeSenMLCBOR(b)
		fuzzResolve(t, recs, err)
	})
}

func fp(v float64) *float64 { return &v }

func FuzzLinkFormatQuery(f *testing.F) {
	f.Add([]byte(`</meas>;rt="oic.r.energy.consumption";ct=112,</ctl>`), "ep=dw-1a2b&lt=300&et=dishwasher")
	f.Fuzz(func(t *testing.T, body []byte, q string) {
		_ = checkLinkFormat(body)
		var qs []string
		for _, x := range bytes.Split([]byte(q), []byte("&")) {
			qs = append(qs, string(x))
		}
		ep, lt, _, err := parseRDQuery(qs)
		if err == nil && (ep == "" || lt < 0) {
			t.Fatalf("accepted ep %q lt %d", ep, lt)
		}
		_ = wellKnown(ep, qs)
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
