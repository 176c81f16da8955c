package coap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// MaxPayload bounds every request body the server reads (SenML packs,
// link-format registrations, status and info documents); bigger bodies
// get 4.13.
const MaxPayload = 4096

// maxRecords bounds a SenML pack.
const maxRecords = 64

// Record is one SenML record (RFC 8428) with the fields the gateway uses.
// JSON labels and CBOR integer keys are those of RFC 8428 §4.3 and §6.
type Record struct {
	BaseName  string   `json:"bn,omitempty" cbor:"-2,keyasint,omitempty"`
	BaseTime  float64  `json:"bt,omitempty" cbor:"-3,keyasint,omitempty"`
	BaseUnit  string   `json:"bu,omitempty" cbor:"-4,keyasint,omitempty"`
	BaseValue float64  `json:"bv,omitempty" cbor:"-5,keyasint,omitempty"`
	Name      string   `json:"n,omitempty" cbor:"0,keyasint,omitempty"`
	Unit      string   `json:"u,omitempty" cbor:"1,keyasint,omitempty"`
	Value     *float64 `json:"v,omitempty" cbor:"2,keyasint,omitempty"`
	String    *string  `json:"vs,omitempty" cbor:"3,keyasint,omitempty"`
	Bool      *bool    `json:"vb,omitempty" cbor:"4,keyasint,omitempty"`
	Sum       *float64 `json:"s,omitempty" cbor:"5,keyasint,omitempty"`
	Time      float64  `json:"t,omitempty" cbor:"6,keyasint,omitempty"`
}

// Measurement is what a SenML pack from an appliance says: power now and
// its cumulative energy (either may be missing).
type Measurement struct {
	PowerW   float64
	HasPower bool
	// EnergyWh comes from a record "energy" in Wh or kWh, or J, or from
	// the sum (W·s) of the power record.
	EnergyWh  float64
	HasEnergy bool
	// Time is the resolved record time in Unix seconds (0: now).
	Time float64
}

// ErrSenML is wrapped by every decoding error; the server answers 4.00
// with the error text as diagnostic payload.
var ErrSenML = errors.New("senml")

var cborDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		MaxNestedLevels:   4,
		MaxArrayElements:  maxRecords,
		MaxMapPairs:       16,
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err) // constant options: a programming error, caught by every test
	}
	return dm
}()

var cborEnc = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// DecodeSenMLJSON parses an application/senml+json pack.
func DecodeSenMLJSON(b []byte) ([]Record, error) {
	if len(b) > MaxPayload {
		return nil, fmt.Errorf("%w: pack of %d bytes exceeds %d", ErrSenML, len(b), MaxPayload)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var recs []Record
	if err := dec.Decode(&recs); err != nil {
		return nil, fmt.Errorf("%w: json: %v", ErrSenML, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: json: trailing data", ErrSenML)
	}
	return checkPack(recs)
}

// DecodeSenMLCBOR parses an application/senml+cbor pack.
func DecodeSenMLCBOR(b []byte) ([]Record, error) {
	if len(b) > MaxPayload {
		return nil, fmt.Errorf("%w: pack of %d bytes exceeds %d", ErrSenML, len(b), MaxPayload)
	}
	var recs []Record
	if err := cborDec.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("%w: cbor: %v", ErrSenML, err)
	}
	return checkPack(recs)
}

func checkPack(recs []Record) ([]Record, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: empty pack", ErrSenML)
	}
	if len(recs) > maxRecords {
		return nil, fmt.Errorf("%w: %d records exceed %d", ErrSenML, len(recs), maxRecords)
	}
	for i, r := range recs {
		for _, f := range []float64{r.BaseTime, r.BaseValue, r.Time, deref(r.Value), deref(r.Sum)} {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%w: record %d: not a finite number", ErrSenML, i)
			}
		}
		if r.Name == "" && r.BaseName == "" {
			return nil, fmt.Errorf("%w: record %d: no name", ErrSenML, i)
		}
		if len(r.Name)+len(r.BaseName) > 128 {
			return nil, fmt.Errorf("%w: record %d: name too long", ErrSenML, i)
		}
	}
	return recs, nil
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// EncodeSenMLJSON encodes a pack as application/senml+json.
func EncodeSenMLJSON(recs []Record) ([]byte, error) { return json.Marshal(recs) }

// EncodeSenMLCBOR encodes a pack as application/senml+cbor.
func EncodeSenMLCBOR(recs []Record) ([]byte, error) { return cborEnc.Marshal(recs) }

// Resolve applies the base fields (RFC 8428 §4.6) and picks out power
// and energy: a record named "power" (W, optionally with s in W·s =
// J), and "energy" (Wh, kWh or J). A name's prefix (the base name, e.g.
// "urn:dev:ep:dishwasher-1:") is ignored. Unknown names are ignored; a
// known name with a wrong unit or no value is an error.
func Resolve(recs []Record) (Measurement, error) {
	var m Measurement
	var bn, bu string
	var bt, bv float64
	for i, r := range recs {
		if r.BaseName != "" {
			bn = r.BaseName
		}
		if r.BaseUnit != "" {
			bu = r.BaseUnit
		}
		if r.BaseTime != 0 {
			bt = r.BaseTime
		}
		if r.BaseValue != 0 {
			bv = r.BaseValue
		}
		name := bn + r.Name
		if j := strings.LastIndexAny(name, ":/"); j >= 0 {
			name = name[j+1:]
		}
		unit := r.Unit
		if unit == "" {
			unit = bu
		}
		if t := bt + r.Time; t != 0 && m.Time == 0 {
			m.Time = t
		}
		switch name {
		case "power":
			if unit != "W" {
				return Measurement{}, fmt.Errorf("%w: record %d: power in %q, want W", ErrSenML, i, unit)
			}
			if r.Value == nil && r.Sum == nil {
				return Measurement{}, fmt.Errorf("%w: record %d: power without v or s", ErrSenML, i)
			}
			if r.Value != nil {
				m.PowerW, m.HasPower = bv+*r.Value, true
			}
			if r.Sum != nil && !m.HasEnergy {
				m.EnergyWh, m.HasEnergy = *r.Sum/3600, true
			}
		case "energy":
			if r.Value == nil {
				return Measurement{}, fmt.Errorf("%w: record %d: energy without v", ErrSenML, i)
			}
			v := bv + *r.Value
			switch unit {
			case "Wh":
			case "kWh":
				v *= 1000
			case "J":
				v /= 3600
			default:
				return Measurement{}, fmt.Errorf("%w: record %d: energy in %q, want Wh, kWh or J", ErrSenML, i, unit)
			}
			m.EnergyWh, m.HasEnergy = v, true
		}
	}
	if !m.HasPower && !m.HasEnergy {
		return Measurement{}, fmt.Errorf("%w: no power or energy record", ErrSenML)
	}
	if m.PowerW < -1e7 || m.PowerW > 1e7 || m.EnergyWh < 0 || m.EnergyWh > 1e12 {
		return Measurement{}, fmt.Errorf("%w: value out of range", ErrSenML)
	}
	return m, nil
}
