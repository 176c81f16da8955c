package iec62056

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
)

// ErrValue is matched (errors.Is) by Map errors: a mapped line whose value
// or unit does not fit its quantity.
var ErrValue = errors.New("iec62056: bad value")

// kind is how a mapped OBIS value is checked and scaled.
type kind uint8

const (
	kindEnergy   kind = iota // kWh (default) or Wh, not negative
	kindReactive             // kvarh (default) or varh, signed
	kindPower                // kW (default) or W, signed
	kindVoltage              // V, not negative
	kindCurrent              // A, signed
	kindFreq                 // Hz, not negative
	kindPF                   // no unit, signed
	kindCount                // no unit, whole, not negative
)

// units lists, per kind, the accepted units (lower case) and the decimal
// exponent that converts them to the SI unit of the quantity; the first
// entry is the default for a value without unit.
var units = [...][]struct {
	unit string
	exp  int8
}{
	kindEnergy:   {{"kwh", 3}, {"wh", 0}},
	kindReactive: {{"kvarh", 3}, {"varh", 0}},
	kindPower:    {{"kw", 3}, {"w", 0}},
	kindVoltage:  {{"v", 0}},
	kindCurrent:  {{"a", 0}},
	kindFreq:     {{"hz", 0}},
	kindPF:       {{"", 0}},
	kindCount:    {{"", 0}},
}

type mapping struct {
	q    energy.Quantity
	kind kind
}

// Quantities of 1.7.0 and 2.7.0 before they are combined into Power.
const (
	importPower energy.Quantity = "iec_import_power"
	exportPower energy.Quantity = "iec_export_power"
)

// obisMap maps the C.D.E part of an OBIS code to a quantity.
var obisMap = func() map[string]mapping {
	m := map[string]mapping{
		"1.8.0":  {energy.ImportEnergy, kindEnergy},
		"2.8.0":  {energy.ExportEnergy, kindEnergy},
		"3.8.0":  {energy.ReactiveEnergy1, kindReactive},
		"4.8.0":  {energy.ReactiveEnergy2, kindReactive},
		"1.7.0":  {importPower, kindPower},
		"2.7.0":  {exportPower, kindPower},
		"14.7.0": {energy.Frequency, kindFreq},
		"13.7.0": {energy.PowerFactor, kindPF},
		"C.7.0":  {energy.PowerDownCount, kindCount},
	}
	for t := 1; t <= 4; t++ {
		m[fmt.Sprintf("1.8.%d", t)] = mapping{energy.Tariff(energy.ImportEnergy, t), kindEnergy}
		m[fmt.Sprintf("2.8.%d", t)] = mapping{energy.Tariff(energy.ExportEnergy, t), kindEnergy}
	}
	for p := 1; p <= 3; p++ {
		c := 20 * (p - 1)
		m[fmt.Sprintf("%d.7.0", 21+c)] = mapping{energy.Phase("power", p), kindPower}
		m[fmt.Sprintf("%d.7.0", 31+c)] = mapping{energy.Phase("current", p), kindCurrent}
		m[fmt.Sprintf("%d.7.0", 32+c)] = mapping{energy.Phase("voltage", p), kindVoltage}
	}
	return m
}()

// Code returns the C.D.E part of a data line address, stripping an A-B:
// prefix (only media 0 and 1, abstract and electricity, are kept) and a
// "*255" (current value) suffix. ok is false for other media and for
// historical values (1.8.0*12, 1.8.0&01): those never map.
func Code(addr string) (code string, ok bool) {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		prefix := addr[:i]
		addr = addr[i+1:]
		a, _, _ := strings.Cut(prefix, "-")
		if a != "0" && a != "1" {
			return addr, false
		}
	}
	if c, suffix, found := strings.Cut(addr, "*"); found {
		if suffix != "255" {
			return addr, false
		}
		addr = c
	}
	if strings.ContainsAny(addr, "&*") {
		return addr, false
	}
	return addr, true
}

// Map converts the lines of a readout to values in SI units. Lines with
// codes it does not know are skipped, and so are empty values "()". The
// meter time comes from 0.9.1 (hh:mm:ss) and 0.9.2 (YYMMDD, optionally with
// a leading century digit, 0 = 19YY, 1 = 20YY) on the meter's wall clock loc;
// it is zero unless both are present. id is the first of 0.0.0, C.1.0 and
// 96.1.0 found. The first line of a code wins.
func Map(lines []DataLine, loc *time.Location) (values []meteringlink.Value, meterTime time.Time, id string, err error) {
	if loc == nil {
		loc = time.UTC
	}
	seen := map[string]bool{}
	var ids [3]string
	var clock, date string
	var imp, exp *energy.Decimal
	for _, l := range lines {
		code, ok := Code(l.Address)
		if !ok || seen[code] || len(l.Values) == 0 {
			continue
		}
		seen[code] = true
		raw := l.Values[0].Raw
		switch code {
		case "0.0.0":
			ids[0] = raw
			continue
		case "C.1.0":
			ids[1] = raw
			continue
		case "96.1.0":
			ids[2] = raw
			continue
		case "0.9.1":
			clock = raw
			continue
		case "0.9.2":
			date = raw
			continue
		}
		mp, ok := obisMap[code]
		if !ok || raw == "" {
			continue
		}
		d, err := convert(mp.kind, l.Values[0])
		if err != nil {
			return nil, time.Time{}, "", fmt.Errorf("%w: %s: %w", ErrValue, l.Address, err)
		}
		switch mp.q {
		case importPower:
			imp = &d
		case exportPower:
			exp = &d
		default:
			values = append(values, meteringlink.Value{Quantity: mp.q, Value: d})
		}
	}
	if imp != nil || exp != nil {
		p, err := netPower(imp, exp)
		if err != nil {
			return nil, time.Time{}, "", fmt.Errorf("%w: 1.7.0 - 2.7.0: %w", ErrValue, err)
		}
		values = append(values, meteringlink.Value{Quantity: energy.Power, Value: p})
	}
	if clock != "" && date != "" {
		meterTime, err = parseMeterTime(date, clock, loc)
		if err != nil {
			return nil, time.Time{}, "", fmt.Errorf("%w: 0.9.1/0.9.2: %w", ErrValue, err)
		}
	}
	for _, s := range ids {
		if s != "" {
			id = s
			break
		}
	}
	return values, meterTime, id, nil
}

func convert(k kind, v Value) (energy.Decimal, error) {
	d, err := energy.ParseDecimal(v.Raw)
	if err != nil {
		return energy.Decimal{}, err
	}
	scale, found := int8(0), false
	for i, u := range units[k] {
		if (v.Unit == "" && i == 0) || strings.EqualFold(v.Unit, u.unit) {
			scale, found = u.exp, true
			break
		}
	}
	if !found {
		return energy.Decimal{}, fmt.Errorf("unit %q", v.Unit)
	}
	switch k {
	case kindEnergy, kindVoltage, kindFreq, kindCount:
		if d.Coef < 0 {
			return energy.Decimal{}, fmt.Errorf("negative value %s", v.Raw)
		}
	}
	if k == kindCount && d.Exp < 0 {
		if _, ok := d.Rescale(0); !ok || !isWhole(d) {
			return energy.Decimal{}, fmt.Errorf("count %s is not a whole number", v.Raw)
		}
	}
	// ParseDecimal never yields Exp > 0, so adding at most 3 cannot overflow.
	d.Exp += scale
	return d, nil
}

func isWhole(d energy.Decimal) bool {
	c := d.Coef
	for e := d.Exp; e < 0; e++ {
		if c%10 != 0 {
			return false
		}
		c /= 10
	}
	return true
}

// netPower returns import - export exactly.
func netPower(imp, exp *energy.Decimal) (energy.Decimal, error) {
	switch {
	case exp == nil:
		return *imp, nil
	case imp == nil:
		if exp.Coef == math.MinInt64 {
			return energy.Decimal{}, errors.New("out of range")
		}
		return energy.Decimal{Coef: -exp.Coef, Exp: exp.Exp}, nil
	}
	e := min(imp.Exp, exp.Exp)
	a, okA := imp.Rescale(e)
	b, okB := exp.Rescale(e)
	if !okA || !okB || (b > 0 && a < math.MinInt64+b) || (b < 0 && a > math.MaxInt64+b) {
		return energy.Decimal{}, errors.New("out of range")
	}
	return energy.Decimal{Coef: a - b, Exp: e}, nil
}

// parseMeterTime parses 0.9.2 date and 0.9.1 time. Separators (- / : .) are
// ignored.
func parseMeterTime(date, clock string, loc *time.Location) (time.Time, error) {
	ds, cs := digitsOnly(date), digitsOnly(clock)
	if ds == "" || cs == "" {
		return time.Time{}, fmt.Errorf("date %q time %q: not digits", date, clock)
	}
	century := 2000
	switch len(ds) {
	case 6:
	case 7:
		century = 1900 + 100*int(ds[0]-'0')
		ds = ds[1:]
	default:
		return time.Time{}, fmt.Errorf("date %q: want YYMMDD", date)
	}
	if len(cs) != 6 {
		return time.Time{}, fmt.Errorf("time %q: want hhmmss", clock)
	}
	n := func(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }
	y, mo, d := century+n(ds[0:2]), n(ds[2:4]), n(ds[4:6])
	h, mi, s := n(cs[0:2]), n(cs[2:4]), n(cs[4:6])
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, fmt.Errorf("date %q time %q: out of range", date, clock)
	}
	return t, nil
}

// digitsOnly returns s without separators, or "" if s holds anything else.
func digitsOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '-' || c == '/' || c == ':' || c == '.':
		default:
			return ""
		}
	}
	return b.String()
}
