package bthome

import (
	"errors"
	"fmt"
)

// UUID is the BTHome v2 service-data UUID (on air: D2 FC).
const UUID uint16 = 0xFCD2

// Device-info bits.
const (
	FlagEncrypted = 0x01 // AES-CCM payload, counter and MIC follow
	FlagMAC       = 0x02 // the MAC (6 bytes, reversed) follows the info byte
	FlagTrigger   = 0x04 // trigger-based device: irregular sending
	versionShift  = 5
)

// MaxLen bounds the service data a packet may have: a legacy advertisement
// carries at most 31 bytes of AD structures.
const MaxLen = 31

// Errors Decode returns (wrapped).
var (
	ErrShort     = errors.New("bthome: packet too short")
	ErrVersion   = errors.New("bthome: not version 2")
	ErrTooLong   = errors.New("bthome: packet too long")
	ErrNoKey     = errors.New("bthome: encrypted packet and no key")
	ErrMIC       = errors.New("bthome: MIC check failed (wrong key or corrupt packet)")
	ErrTruncated = errors.New("bthome: object truncated")
)

// Object describes one object id: its size, sign, scale and unit.
type Object struct {
	ID     byte
	Name   string
	Size   int  // bytes of the value
	Signed bool // two's complement
	// Exp is the power of ten of one raw step in Unit (factor 0.01: -2).
	Exp  int8
	Unit string
}

// Wrap is the number of raw steps at which an unsigned value wraps (2^(8×Size)).
func (o Object) Wrap() int64 { return int64(1) << (8 * o.Size) }

// The objects' names (what they measure).
const (
	PacketID    = "packet_id"
	Battery     = "battery"
	Temperature = "temperature"
	Humidity    = "humidity"
	Pressure    = "pressure"
	Illuminance = "illuminance"
	Energy      = "energy"
	Power       = "power"
	Voltage     = "voltage"
	Current     = "current"
	Volume      = "volume"
	Water       = "water"
	Gas         = "gas"
	Flow        = "flow"
	Timestamp   = "timestamp"
	Binary      = "binary"
	Button      = "button"
)

// objects is the table, indexed by id; Size 0 is an unknown id.
var objects = func() (t [256]Object) {
	add := func(id byte, name string, size int, signed bool, exp int8, unit string) {
		t[id] = Object{ID: id, Name: name, Size: size, Signed: signed, Exp: exp, Unit: unit}
	}
	add(0x00, PacketID, 1, false, 0, "")
	add(0x01, Battery, 1, false, 0, "%")
	add(0x02, Temperature, 2, true, -2, "°C")
	add(0x03, Humidity, 2, false, -2, "%")
	add(0x04, Pressure, 3, false, -2, "hPa")
	add(0x05, Illuminance, 3, false, -2, "lx")
	add(0x0A, Energy, 3, false, -3, "kWh")
	add(0x0B, Power, 3, false, -2, "W")
	add(0x0C, Voltage, 2, false, -3, "V")
	add(0x43, Current, 2, false, -3, "A")
	add(0x45, Temperature, 2, true, -1, "°C")
	add(0x47, Volume, 2, false, -1, "L")
	add(0x48, Volume, 2, false, 0, "mL")
	add(0x49, Flow, 2, false, -3, "m3/h")
	add(0x4A, Voltage, 2, false, -1, "V")
	add(0x4B, Gas, 3, false, -3, "m3")
	add(0x4C, Gas, 4, false, -3, "m3")
	add(0x4D, Energy, 4, false, -3, "kWh")
	add(0x4E, Volume, 4, false, -3, "L")
	add(0x4F, Water, 4, false, -3, "L")
	add(0x50, Timestamp, 4, false, 0, "s")
	add(0x5C, Power, 4, true, -2, "W")
	add(0x5D, Current, 2, true, -3, "A")
	for id := 0x0F; id <= 0x2D; id++ {
		add(byte(id), Binary, 1, false, 0, "")
	}
	add(0x3A, Button, 1, false, 0, "")
	return t
}()

// Lookup returns the object with id, ok false for an id outside the table.
func Lookup(id byte) (Object, bool) {
	o := objects[id]
	return o, o.Size > 0
}

// Value is one decoded object: Raw × 10^Exp in Unit.
type Value struct {
	Object
	Raw int64
}

// Packet is one decoded advertisement.
type Packet struct {
	Info      byte // device-info byte
	Encrypted bool
	Trigger   bool
	// MAC is the address the packet carries (FlagMAC), most significant
	// byte first; zero when it carries none.
	MAC [6]byte
	// Counter is the encryption counter (encrypted packets only).
	Counter uint32
	// PacketID is object 0x00's value and HasID whether the packet had one.
	PacketID byte
	HasID    bool
	Values   []Value
	// Unknown is the first object id outside the table, which ended the
	// walk (Values holds what came before); 0 with UnknownAt false when the
	// whole payload was read.
	Unknown   byte
	UnknownAt bool
}

// Decode parses BTHome v2 service data (the bytes after the UUID). mac is
// the sender's address (most significant byte first), needed for an
// encrypted packet's nonce (a packet that carries its MAC uses that one);
// key is the device's 16-byte key, nil for none.
func Decode(data []byte, mac [6]byte, key []byte) (Packet, error) {
	var p Packet
	if len(data) < 1 {
		return p, fmt.Errorf("%w: no device-info byte", ErrShort)
	}
	if len(data) > MaxLen {
		return p, fmt.Errorf("%w: %d bytes", ErrTooLong, len(data))
	}
	p.Info = data[0]
	if v := p.Info >> versionShift; v != 2 {
		return p, fmt.Errorf("%w: device info %02X (version %d)", ErrVersion, p.Info, v)
	}
	p.Encrypted, p.Trigger = p.Info&FlagEncrypted != 0, p.Info&FlagTrigger != 0
	body := data[1:]
	if p.Info&FlagMAC != 0 {
		if len(body) < 6 {
			return p, fmt.Errorf("%w: MAC flag and %d bytes", ErrShort, len(body))
		}
		for i := range 6 {
			p.MAC[i] = body[5-i]
		}
		mac = p.MAC
		body = body[6:]
	}
	if p.Encrypted {
		if len(body) < 8 {
			return p, fmt.Errorf("%w: encrypted and %d bytes", ErrShort, len(body))
		}
		if len(key) == 0 {
			return p, ErrNoKey
		}
		n := len(body) - 8
		ct, ctr, mic := body[:n], body[n:n+4], body[n+4:]
		p.Counter = uint32(ctr[0]) | uint32(ctr[1])<<8 | uint32(ctr[2])<<16 | uint32(ctr[3])<<24
		nonce := Nonce(mac, p.Info, p.Counter)
		plain, err := ccmOpen(key, nonce[:], ct, mic)
		if err != nil {
			return p, err
		}
		body = plain
	}
	for len(body) > 0 {
		o, ok := Lookup(body[0])
		if !ok {
			p.Unknown, p.UnknownAt = body[0], true
			break
		}
		if len(body) < 1+o.Size {
			return p, fmt.Errorf("%w: object %02X needs %d bytes, %d left", ErrTruncated, o.ID, o.Size, len(body)-1)
		}
		raw := le(body[1 : 1+o.Size])
		if o.Signed {
			shift := 64 - 8*o.Size
			raw = int64(uint64(raw)<<shift) >> shift
		}
		body = body[1+o.Size:]
		if o.ID == 0x00 {
			p.PacketID, p.HasID = byte(raw), true
			continue
		}
		p.Values = append(p.Values, Value{Object: o, Raw: raw})
	}
	return p, nil
}

func le(b []byte) int64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return int64(v)
}

// Nonce is the 13-byte AES-CCM nonce of an encrypted packet: MAC (most
// significant byte first), UUID as on air (D2 FC), device info, counter
// (little-endian, as on air).
func Nonce(mac [6]byte, info byte, counter uint32) [13]byte {
	var n [13]byte
	copy(n[:6], mac[:])
	n[6], n[7], n[8] = byte(UUID&0xFF), byte(UUID>>8), info
	n[9], n[10], n[11], n[12] = byte(counter), byte(counter>>8), byte(counter>>16), byte(counter>>24)
	return n
}

// Encrypt builds an encrypted packet's service data from plain objects:
// info (with FlagEncrypted set), ciphertext, counter, MIC. Emulated
// devices use it; a key of other than 16 bytes is an error.
func Encrypt(key []byte, mac [6]byte, info byte, counter uint32, objects []byte) ([]byte, error) {
	info |= FlagEncrypted
	nonce := Nonce(mac, info, counter)
	ct, mic, err := ccmSeal(key, nonce[:], objects)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+len(ct)+8)
	out = append(out, info)
	out = append(out, ct...)
	out = append(out, byte(counter), byte(counter>>8), byte(counter>>16), byte(counter>>24))
	return append(out, mic...), nil
}
