package energy

import (
	"fmt"
	"math"
	"strconv"
)

// Decimal is an exact decimal number Coef × 10^Exp. It is how register values
// travel through gatewayd: a meter's 12345.67 kWh becomes {1234567, 1} Wh.
// The zero value is 0.
type Decimal struct {
	Coef int64
	Exp  int8
}

// D returns coef × 10^exp.
func D(coef int64, exp int8) Decimal { return Decimal{Coef: coef, Exp: exp} }

// Float64 returns the value as a float for display and JSON. Never use it for
// arithmetic on registers.
func (d Decimal) Float64() float64 {
	// strconv gives the correctly rounded float of the decimal string, which
	// multiplication by math.Pow10 does not for negative exponents.
	f, err := strconv.ParseFloat(d.String(), 64)
	if err != nil {
		return float64(d.Coef) * math.Pow10(int(d.Exp))
	}
	return f
}

// String formats the value without loss, e.g. "12345.67".
func (d Decimal) String() string {
	if d.Exp >= 0 {
		s := strconv.FormatInt(d.Coef, 10)
		if d.Coef == 0 {
			return "0"
		}
		for i := int8(0); i < d.Exp; i++ {
			s += "0"
		}
		return s
	}
	neg := d.Coef < 0
	c := d.Coef
	if neg {
		c = -c
	}
	s := strconv.FormatUint(uint64(c), 10)
	n := int(-d.Exp)
	for len(s) <= n {
		s = "0" + s
	}
	s = s[:len(s)-n] + "." + s[len(s)-n:]
	if neg {
		s = "-" + s
	}
	return s
}

// Rescale returns the value as an integer count of 10^exp units, truncating
// toward zero when exp is coarser than d.Exp. ok is false on overflow.
func (d Decimal) Rescale(exp int8) (v int64, ok bool) {
	v = d.Coef
	switch {
	case d.Exp > exp:
		for i := d.Exp; i > exp; i-- {
			if v > math.MaxInt64/10 || v < math.MinInt64/10 {
				return 0, false
			}
			v *= 10
		}
	case d.Exp < exp:
		for i := d.Exp; i < exp; i++ {
			v /= 10
		}
	}
	return v, true
}

// Cmp compares d and e exactly: -1, 0 or +1.
func (d Decimal) Cmp(e Decimal) int {
	exp := min(d.Exp, e.Exp)
	a, okA := d.Rescale(exp)
	b, okB := e.Rescale(exp)
	if !okA || !okB {
		// Astronomically large values: compare as floats.
		fa, fb := d.Float64(), e.Float64()
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MarshalJSON writes the exact decimal as a JSON number.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// ParseDecimal parses a plain decimal string such as "-001234.567".
func ParseDecimal(s string) (Decimal, error) {
	if s == "" {
		return Decimal{}, fmt.Errorf("energy: empty decimal")
	}
	neg := false
	i := 0
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		i = 1
	}
	var coef int64
	var exp int8
	digits, dot := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			if coef > (math.MaxInt64-9)/10 {
				return Decimal{}, fmt.Errorf("energy: decimal %q out of range", s)
			}
			coef = coef*10 + int64(c-'0')
			digits++
			if dot {
				if exp == math.MinInt8 {
					return Decimal{}, fmt.Errorf("energy: decimal %q has too many fraction digits", s)
				}
				exp--
			}
		default:
			return Decimal{}, fmt.Errorf("energy: invalid decimal %q", s)
		}
	}
	if digits == 0 {
		return Decimal{}, fmt.Errorf("energy: invalid decimal %q", s)
	}
	if neg {
		coef = -coef
	}
	return Decimal{Coef: coef, Exp: exp}, nil
}
