package ble

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Addr is a device address, "AA:BB:CC:DD:EE:FF" (upper case).
type Addr string

// ParseAddr accepts "aa:bb:cc:dd:ee:ff", "AA-BB-..." or 12 hex digits.
func ParseAddr(s string) (Addr, error) {
	h := strings.NewReplacer(":", "", "-", "").Replace(strings.TrimSpace(s))
	if len(h) != 12 {
		return "", fmt.Errorf("ble: address %q: want 6 bytes", s)
	}
	var b [6]byte
	for i := range b {
		hi, lo := unhexDigit(h[2*i]), unhexDigit(h[2*i+1])
		if hi < 0 || lo < 0 {
			return "", fmt.Errorf("ble: address %q: not hex", s)
		}
		b[i] = byte(hi<<4 | lo)
	}
	return AddrOf(b), nil
}

func unhexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// AddrOf formats b (most significant byte first).
func AddrOf(b [6]byte) Addr {
	return Addr(fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", b[0], b[1], b[2], b[3], b[4], b[5]))
}

// Bytes returns the address most significant byte first (zero if malformed).
func (a Addr) Bytes() [6]byte {
	var b [6]byte
	s := string(a)
	if len(s) != 17 {
		p, err := ParseAddr(s)
		if err != nil {
			return b
		}
		s = string(p)
	}
	for i := range b {
		b[i] = byte(unhexDigit(s[3*i])<<4 | unhexDigit(s[3*i+1]))
	}
	return b
}

// UUID names a GATT service or characteristic: 4 hex digits for a SIG
// 16-bit UUID ("180a"), else 32 hex digits with dashes, lower case, as
// printed (most significant byte first).
type UUID string

// Advertisement is one advertising report as the adapter received it.
type Advertisement struct {
	Addr Addr
	// RSSI is the received signal strength, dBm.
	RSSI        int
	Connectable bool
	// Data is the raw AD structures: advertising data, then the scan
	// response if there was one. At most MaxADLen bytes are kept.
	Data []byte
}

// MaxADLen bounds an advertisement's data: two legacy PDUs of 31 bytes.
const MaxADLen = 62

// Adapter is the radio as the gateway uses it: scan advertisements and
// open GATT connections. Implementations: hci (go-ble on Linux HCI) and
// emul (emulated peripherals).
type Adapter interface {
	// Scan calls fn for every advertisement until ctx is done (nil) or the
	// adapter fails. fn must return quickly; it is called from one goroutine.
	Scan(ctx context.Context, fn func(Advertisement)) error
	// Connect opens a GATT connection to addr; ctx bounds the attempt.
	Connect(ctx context.Context, addr Addr) (Conn, error)
	// Close releases the adapter.
	Close() error
}

// Characteristic is one discovered characteristic.
type Characteristic struct {
	UUID UUID
	// Props are the GATT property bits (read 0x02, write 0x08, notify 0x10).
	Props byte
}

// Service is one discovered primary service.
type Service struct {
	UUID  UUID
	Chars []Characteristic
}

// GATT property bits.
const (
	PropRead   = 0x02
	PropWrite  = 0x08
	PropNotify = 0x10
)

// Conn is one GATT connection. Every call honours ctx.
type Conn interface {
	Discover(ctx context.Context) ([]Service, error)
	Read(ctx context.Context, char UUID) ([]byte, error)
	Write(ctx context.Context, char UUID, value []byte) error
	// Subscribe enables notifications of char; fn gets each value (from one
	// goroutine) until the connection ends.
	Subscribe(ctx context.Context, char UUID, fn func([]byte)) error
	// Done is closed when the connection is lost or closed.
	Done() <-chan struct{}
	Close() error
}

// ErrNoAdapter is returned (wrapped) by adapters that find no radio.
var ErrNoAdapter = errors.New("ble: no adapter")

// ErrNotConnected is returned for a GATT operation on a lost connection.
var ErrNotConnected = errors.New("ble: not connected")
