package ble

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// AD types the gateway reads.
const (
	adFlags        = 0x01
	adUUID16Some   = 0x02
	adUUID16All    = 0x03
	adUUID128Some  = 0x06
	adUUID128All   = 0x07
	adShortName    = 0x08
	adCompleteName = 0x09
	adServiceData  = 0x16
	adManufacturer = 0xFF
)

// ServiceData is one service-data AD structure with a 16-bit UUID.
type ServiceData struct {
	UUID uint16
	Data []byte
}

// AD is what an advertisement's AD structures say.
type AD struct {
	Flags        byte
	Name         string
	Services16   []uint16
	Services128  []UUID
	ServiceData  []ServiceData
	Manufacturer []byte
}

// ErrAD is returned by ParseAD for malformed AD structures.
var ErrAD = errors.New("ble: malformed advertising data")

// ParseAD parses AD structures (length, type, data...). It never panics
// and keeps nothing of the input beyond MaxADLen bytes; the slices it
// returns alias data.
func ParseAD(data []byte) (AD, error) {
	var ad AD
	if len(data) > MaxADLen {
		return ad, fmt.Errorf("%w: %d bytes", ErrAD, len(data))
	}
	for len(data) > 0 {
		n := int(data[0])
		if n == 0 { // padding: the rest is zeros
			break
		}
		if 1+n > len(data) {
			return ad, fmt.Errorf("%w: structure of %d bytes, %d left", ErrAD, n, len(data)-1)
		}
		typ, v := data[1], data[2:1+n]
		data = data[1+n:]
		switch typ {
		case adFlags:
			if len(v) > 0 {
				ad.Flags = v[0]
			}
		case adShortName, adCompleteName:
			if ad.Name == "" || typ == adCompleteName {
				ad.Name = string(v)
			}
		case adUUID16Some, adUUID16All:
			for ; len(v) >= 2; v = v[2:] {
				ad.Services16 = append(ad.Services16, binary.LittleEndian.Uint16(v))
			}
		case adUUID128Some, adUUID128All:
			for ; len(v) >= 16; v = v[16:] {
				ad.Services128 = append(ad.Services128, uuid128(v[:16]))
			}
		case adServiceData:
			if len(v) >= 2 {
				ad.ServiceData = append(ad.ServiceData, ServiceData{UUID: binary.LittleEndian.Uint16(v), Data: v[2:]})
			}
		case adManufacturer:
			ad.Manufacturer = v
		}
	}
	return ad, nil
}

// uuid128 formats a 128-bit UUID given as on air (little-endian).
func uuid128(le []byte) UUID {
	var b [16]byte
	for i := range b {
		b[i] = le[15-i]
	}
	return UUID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// UUID128Bytes returns u's 16 bytes as on air (little-endian); ok false if
// u is not a 128-bit UUID.
func UUID128Bytes(u UUID) (le [16]byte, ok bool) {
	s := []byte{}
	for i := 0; i < len(u); i++ {
		if u[i] != '-' {
			s = append(s, u[i])
		}
	}
	if len(s) != 32 {
		return le, false
	}
	for i := range 16 {
		hi, lo := unhexDigit(s[2*i]), unhexDigit(s[2*i+1])
		if hi < 0 || lo < 0 {
			return le, false
		}
		le[15-i] = byte(hi<<4 | lo)
	}
	return le, true
}

// AppendAD appends one AD structure (type, value) to b: emulated devices
// build their advertisements with it.
func AppendAD(b []byte, typ byte, v []byte) []byte {
	b = append(b, byte(1+len(v)), typ)
	return append(b, v...)
}

// AD types for AppendAD.
const (
	ADFlags        = adFlags
	ADCompleteName = adCompleteName
	ADUUID128All   = adUUID128All
	ADServiceData  = adServiceData
)
