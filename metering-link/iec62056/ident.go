package iec62056

import (
	"errors"
	"fmt"
	"time"
)

// Control characters of the protocol.
const (
	SOH = 0x01
	STX = 0x02
	ETX = 0x03
	EOT = 0x04
	ACK = 0x06
	NAK = 0x15
)

// Option-select modes (the Y of ACK 0 Z Y).
const (
	ModeReadout     byte = '0' // data readout: the only mode this package uses
	ModeProgramming byte = '1' // programming mode (needs a password)
	ModeBinary      byte = '2' // HDLC / DLMS
)

// Reaction times the identification announces.
const (
	FastReaction = 20 * time.Millisecond  // 3rd manufacturer letter lower case
	SlowReaction = 200 * time.Millisecond // otherwise
)

// MaxAddress is the longest device address a sign-on may carry.
const MaxAddress = 32

// maxIdent bounds the identification text after the baud character (the
// standard allows 16 characters; some meters send more).
const maxIdent = 64

// bauds are the mode C rates indexed by their character '0'..'6'.
var bauds = [...]int{300, 600, 1200, 2400, 4800, 9600, 19200}

// ErrIdent is matched (errors.Is) by every identification parse error.
var ErrIdent = errors.New("iec62056: identification")

// Ident is a meter's identification message /XXXZ<ident>.
type Ident struct {
	// Manufacturer is the 3-letter code XXX as sent (case kept).
	Manufacturer string
	// BaudChar is Z, '0'..'6'.
	BaudChar byte
	// MaxBaud is the highest rate the meter offers (from Z), in baud.
	MaxBaud int
	// ReactionTime is 20 ms when the 3rd manufacturer letter is lower case,
	// else 200 ms.
	ReactionTime time.Duration
	// ID is the identification text after Z (and after an enhanced \W).
	ID string
}

// SignOn returns the request message /?<addr>!CR LF. An empty addr
// addresses whatever meter is on the line.
func SignOn(addr string) []byte {
	b := make([]byte, 0, len(addr)+5)
	b = append(b, '/', '?')
	b = append(b, addr...)
	return append(b, '!', '\r', '\n')
}

// ValidAddress checks a device address for the sign-on: at most 32
// characters, digits, letters and spaces.
func ValidAddress(addr string) error {
	if len(addr) > MaxAddress {
		return fmt.Errorf("iec62056: address %q: longer than %d characters", addr, MaxAddress)
	}
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == ' ') {
			return fmt.Errorf("iec62056: address %q: invalid character %q", addr, c)
		}
	}
	return nil
}

// BaudFromChar returns the rate of a mode C baud character '0'..'6'.
func BaudFromChar(c byte) (int, error) {
	if c < '0' || int(c-'0') >= len(bauds) {
		return 0, fmt.Errorf("iec62056: baud character %q is not a mode C rate", c)
	}
	return bauds[c-'0'], nil
}

// CharFromBaud returns the mode C baud character of an exact rate.
func CharFromBaud(baud int) (byte, error) {
	for i, b := range bauds {
		if b == baud {
			return byte('0' + i), nil
		}
	}
	return 0, fmt.Errorf("iec62056: %d baud is not a mode C rate", baud)
}

// CharAtMost returns the baud character of the highest mode C rate not above
// baud ('0', 300 baud, for anything lower).
func CharAtMost(baud int) byte {
	c := byte('0')
	for i, b := range bauds {
		if b <= baud {
			c = byte('0' + i)
		}
	}
	return c
}

// AckOption returns the acknowledgement / option select message
// ACK 0 Z Y CR LF (normal protocol procedure).
func AckOption(baudChar byte, mode byte) []byte {
	return []byte{ACK, '0', baudChar, mode, '\r', '\n'}
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// ParseIdent parses an identification line /XXXZ<ident> with or without its
// CR LF, also in the enhanced form /XXXZ\W<ident> (the \W is skipped).
func ParseIdent(line []byte) (Ident, error) {
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line = line[:n-2]
	}
	if len(line) < 5 {
		return Ident{}, fmt.Errorf("%w: too short (%d bytes)", ErrIdent, len(line))
	}
	if line[0] != '/' {
		return Ident{}, fmt.Errorf("%w: does not start with '/'", ErrIdent)
	}
	for _, c := range line[1:4] {
		if !isLetter(c) {
			return Ident{}, fmt.Errorf("%w: manufacturer %q is not 3 letters", ErrIdent, line[1:4])
		}
	}
	id := Ident{Manufacturer: string(line[1:4]), BaudChar: line[4], ReactionTime: SlowReaction}
	if line[3] >= 'a' && line[3] <= 'z' {
		id.ReactionTime = FastReaction
	}
	baud, err := BaudFromChar(line[4])
	if err != nil {
		return Ident{}, fmt.Errorf("%w: %w", ErrIdent, err)
	}
	id.MaxBaud = baud
	rest := line[5:]
	if len(rest) >= 2 && rest[0] == '\\' {
		rest = rest[2:] // enhanced identification \W: not used in mode C readout
	}
	if len(rest) == 0 {
		return Ident{}, fmt.Errorf("%w: empty identification", ErrIdent)
	}
	if len(rest) > maxIdent {
		return Ident{}, fmt.Errorf("%w: identification longer than %d characters", ErrIdent, maxIdent)
	}
	for _, c := range rest {
		if c < 0x20 || c > 0x7E || c == '/' || c == '!' {
			return Ident{}, fmt.Errorf("%w: invalid character %q", ErrIdent, c)
		}
	}
	id.ID = string(rest)
	return id, nil
}
