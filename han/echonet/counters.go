package echonet

import (
	"fmt"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Scale turns a raw counter register into a value: raw × Coef × 10^Exp in
// Unit. The register counts from 0 to 10^Digits - 1 and then wraps.
type Scale struct {
	// Coef is a smart meter's D3 composite transformer ratio; 1 elsewhere.
	Coef int64
	// Exp is the power of ten of one raw step in Unit (before Coef).
	Exp int8
	// Digits is the register's width: D7 on a smart meter, 9 elsewhere.
	Digits int
	// Unit is "Wh" for energy counters, "m3" for gas and water volume.
	Unit string
}

// Counter is one raw register reading with its scale.
type Counter struct {
	Raw   uint32
	Scale Scale
}

// Valid reports whether the raw value fits the register's digits (a slot
// without data, FFFFFFFE, does not).
func (c Counter) Valid() bool {
	return c.Scale.Digits >= 1 && c.Scale.Digits <= 9 && int64(c.Raw) < pow10(c.Scale.Digits)
}

// Value is the register in its unit, exact.
func (c Counter) Value() energy.Decimal {
	return energy.D(int64(c.Raw)*c.Scale.Coef, c.Scale.Exp)
}

// Wrap is the value at which the register wraps to 0 (10^Digits raw).
func (c Counter) Wrap() energy.Decimal {
	return energy.D(pow10(c.Scale.Digits)*c.Scale.Coef, c.Scale.Exp)
}

// Wh is [Counter.Value] of an energy counter (Scale.Unit "Wh").
func (c Counter) Wh() energy.Decimal { return c.Value() }

// WrapWh is [Counter.Wrap] of an energy counter: 10^D7 × D3 × unit(E1).
func (c Counter) WrapWh() energy.Decimal { return c.Wrap() }

func pow10(n int) int64 {
	v := int64(1)
	for ; n > 0; n-- {
		v *= 10
	}
	return v
}

// meterUnitExp maps a smart meter's E1 code to the power of ten of Wh.
var meterUnitExp = map[byte]int8{
	0x00: 3, 0x01: 2, 0x02: 1, 0x03: 0, 0x04: -1,
	0x0A: 4, 0x0B: 5, 0x0C: 6, 0x0D: 7,
}

// CounterScale returns the scale of class c's counters. For a smart meter
// it reads D3 (absent or 0: coefficient 1), D7 (absent: 8 digits) and E1
// (absent: code 00, 1 kWh) from props; for a water meter E1 (absent: code
// 04, 0.0001 m3, the standard's initial value).
func CounterScale(c Class, props map[byte][]byte) (Scale, error) {
	bad := func(epc byte, format string, a ...any) (Scale, error) {
		return Scale{}, fmt.Errorf("%w: %s EPC %02X: %s", ErrEDT, className(c), epc, fmt.Sprintf(format, a...))
	}
	switch c {
	case ClassSmartMeter:
		s := Scale{Coef: 1, Exp: 3, Digits: 8, Unit: "Wh"}
		if edt, ok := props[0xD3]; ok {
			if len(edt) != 4 {
				return bad(0xD3, "%d bytes, want 4", len(edt))
			}
			if v := be32(edt); v > 999999 {
				return bad(0xD3, "coefficient %d over 999999", v)
			} else if v > 0 {
				s.Coef = int64(v)
			}
		}
		if edt, ok := props[0xD7]; ok {
			if len(edt) != 1 || edt[0] < 1 || edt[0] > 8 {
				return bad(0xD7, "digits % X, want one byte 1-8", edt)
			}
			s.Digits = int(edt[0])
		}
		if edt, ok := props[0xE1]; ok {
			if len(edt) != 1 {
				return bad(0xE1, "%d bytes, want 1", len(edt))
			}
			exp, known := meterUnitExp[edt[0]]
			if !known {
				return bad(0xE1, "unit code %02X", edt[0])
			}
			s.Exp = exp
		}
		return s, nil
	case ClassGasMeter:
		return Scale{Coef: 1, Exp: -3, Digits: 9, Unit: "m3"}, nil
	case ClassWaterFlowMeter:
		s := Scale{Coef: 1, Exp: -4, Digits: 9, Unit: "m3"}
		if edt, ok := props[0xE1]; ok {
			if len(edt) != 1 || edt[0] > 6 {
				return bad(0xE1, "unit % X", edt)
			}
			s.Exp = -int8(edt[0])
		}
		return s, nil
	case ClassSolar, ClassStorageBattery, ClassEVChargerV2H, ClassAirConditioner, ClassElectricWaterHtr:
		// 0.001 kWh steps, 0-999,999.999 kWh.
		return Scale{Coef: 1, Exp: 0, Digits: 9, Unit: "Wh"}, nil
	}
	return Scale{}, fmt.Errorf("echonet: %s has no counters", className(c))
}

// WrapSize returns the value at which class c's counter q wraps, in q's
// unit, given the scale properties ([ScaleEPCs]); ok is false when q is
// not a counter of c or the scale is malformed.
func WrapSize(c Class, q energy.Quantity, scale map[byte][]byte) (energy.Decimal, bool) {
	for _, f := range classFields[c] {
		if f.kind == kCounter && f.q == q {
			s, err := CounterScale(c, scale)
			if err != nil {
				return energy.Decimal{}, false
			}
			return Counter{Scale: s}.Wrap(), true
		}
	}
	return energy.Decimal{}, false
}

// FixedTime is a smart meter's cumulative energy at a fixed time (EA
// normal direction, EB reverse), pushed every 30 minutes.
type FixedTime struct {
	// Time is the meter's wall clock, read in the location given to
	// DecodeFixedTime (Japanese meters keep JST).
	Time    time.Time
	Counter Counter
}

// DecodeFixedTime parses an 11-byte EA/EB record: YYYY MM DD hh mm ss and
// the raw uint32 register, scaled by s.
func DecodeFixedTime(edt []byte, s Scale, loc *time.Location) (FixedTime, error) {
	if len(edt) != 11 {
		return FixedTime{}, fmt.Errorf("fixed-time record of %d bytes, want 11", len(edt))
	}
	t, err := decodeTime(edt[:7], loc)
	if err != nil {
		return FixedTime{}, err
	}
	return FixedTime{Time: t, Counter: Counter{Raw: be32(edt[7:]), Scale: s}}, nil
}

func decodeTime(b []byte, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	y, mo, d, h, mi, s := int(be16(b)), int(b[2]), int(b[3]), int(b[4]), int(b[5]), int(b[6])
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
	if y < 2000 || y > 2099 || h > 23 || mi > 59 || s > 59 || t.Month() != time.Month(mo) || t.Day() != d {
		return time.Time{}, fmt.Errorf("invalid time % X", b)
	}
	return t, nil
}

// HalfHourly is a smart meter's historical data 1 (E2 normal direction, E4
// reverse): the register at 00:00, 00:30, ... 23:30 of one day.
type HalfHourly struct {
	// Day is how many days before today (E5): 0 today, 1 yesterday.
	Day int
	// Slots are the registers; a slot without data is not Valid.
	Slots [48]Counter
}

// Slot returns the register of slot i (0 = 00:00) and whether the meter had
// data for it.
func (h HalfHourly) Slot(i int) (energy.Decimal, bool) {
	if i < 0 || i >= len(h.Slots) || !h.Slots[i].Valid() {
		return energy.Decimal{}, false
	}
	return h.Slots[i].Value(), true
}

// SlotTime returns when slot i was taken, for a meter whose today is the
// date of now (in now's location).
func (h HalfHourly) SlotTime(now time.Time, i int) time.Time {
	y, m, d := now.Date()
	return time.Date(y, m, d-h.Day, 0, 30*i, 0, 0, now.Location())
}

// DecodeHistory parses a 194-byte E2/E4 record: the day (uint16, 0-99) and
// 48 raw uint32 registers scaled by s (FFFFFFFE: no data).
func DecodeHistory(edt []byte, s Scale) (HalfHourly, error) {
	var h HalfHourly
	if len(edt) != 2+48*4 {
		return h, fmt.Errorf("history of %d bytes, want 194", len(edt))
	}
	if h.Day = int(be16(edt)); h.Day > 99 {
		return h, fmt.Errorf("history day %d over 99", h.Day)
	}
	for i := range h.Slots {
		h.Slots[i] = Counter{Raw: be32(edt[2+4*i:]), Scale: s}
	}
	return h, nil
}
