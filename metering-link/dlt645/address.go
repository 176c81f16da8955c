package dlt645

import "fmt"

// Address is a meter address in wire order (least significant byte first).
type Address [6]byte

// Well-known addresses.
var (
	// Wildcard is all-AA: "any meter" (point to point read-address).
	Wildcard = Address{0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA}
	// Broadcast is all-99: broadcast time sync and freeze only; no reply.
	Broadcast = Address{0x99, 0x99, 0x99, 0x99, 0x99, 0x99}
)

// ParseAddress parses up to 12 decimal digits (left-padded with zeros), or
// 12 characters of digits and 'A' wildcards ("AAAAAAAAAAAA").
func ParseAddress(s string) (Address, error) {
	var a Address
	if len(s) == 0 || len(s) > 12 {
		return a, fmt.Errorf("dlt645: address %q: want 1..12 digits", s)
	}
	for len(s) < 12 {
		s = "0" + s
	}
	for i := 0; i < 6; i++ {
		hi, lo := s[2*i], s[2*i+1]
		var v byte
		switch {
		case hi == 'A' && lo == 'A', hi == 'a' && lo == 'a':
			v = 0xAA
		case isDigit(hi) && isDigit(lo):
			v = (hi-'0')<<4 | (lo - '0')
		default:
			return a, fmt.Errorf("dlt645: address %q: not BCD digits", s)
		}
		a[5-i] = v
	}
	return a, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// String returns the 12 digits, most significant first ("AA" for wildcards).
func (a Address) String() string {
	b := make([]byte, 0, 12)
	for i := 5; i >= 0; i-- {
		v := a[i]
		if v == 0xAA {
			b = append(b, 'A', 'A')
			continue
		}
		b = append(b, hexDigit(v>>4), hexDigit(v&0x0F))
	}
	return string(b)
}

func hexDigit(n byte) byte {
	if n < 10 {
		return '0' + n
	}
	return 'A' + n - 10
}

// Valid reports whether every byte is BCD (a real meter address).
func (a Address) Valid() bool {
	for _, v := range a {
		if v>>4 > 9 || v&0x0F > 9 {
			return false
		}
	}
	return true
}

// Matches reports whether a reply from address r answers a request to a.
// Wildcard bytes (AA) in the request match anything.
func (a Address) Matches(r Address) bool {
	for i := range a {
		if a[i] != 0xAA && a[i] != r[i] {
			return false
		}
	}
	return true
}
