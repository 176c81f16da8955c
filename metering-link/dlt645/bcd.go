package dlt645

import (
	"errors"
	"fmt"
)

// ErrBCD is returned for a nibble above 9.
var ErrBCD = errors.New("dlt645: invalid BCD")

// DecodeBCD converts packed BCD in wire order (least significant byte first)
// into an integer. If signed, bit 7 of the most significant byte is the sign.
func DecodeBCD(b []byte, signed bool) (int64, error) {
	if len(b) == 0 || len(b) > 9 {
		return 0, fmt.Errorf("%w: %d bytes", ErrBCD, len(b))
	}
	var v int64
	neg := false
	for i := len(b) - 1; i >= 0; i-- {
		x := b[i]
		if signed && i == len(b)-1 {
			neg = x&0x80 != 0
			x &^= 0x80
		}
		hi, lo := x>>4, x&0x0F
		if hi > 9 || lo > 9 {
			return 0, fmt.Errorf("%w: byte %02X", ErrBCD, b[i])
		}
		v = v*100 + int64(hi)*10 + int64(lo)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// EncodeBCD writes v as n bytes of packed BCD, least significant byte first.
// With signed, a negative v sets bit 7 of the most significant byte. Digits
// that do not fit are an error.
func EncodeBCD(v int64, n int, signed bool) ([]byte, error) {
	neg := v < 0
	if neg {
		if !signed {
			return nil, fmt.Errorf("dlt645: negative %d for unsigned field", v)
		}
		v = -v
	}
	b := make([]byte, n)
	for i := 0; i < n; i++ {
		lo := byte(v % 10)
		v /= 10
		hi := byte(v % 10)
		v /= 10
		b[i] = hi<<4 | lo
	}
	if v != 0 || (signed && b[n-1]&0x80 != 0) {
		return nil, fmt.Errorf("dlt645: value does not fit %d BCD bytes", n)
	}
	if neg {
		b[n-1] |= 0x80
	}
	return b, nil
}
