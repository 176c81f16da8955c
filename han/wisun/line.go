package wisun

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on what the module may send us.
const (
	// MaxLine is the longest line kept; longer lines are discarded and
	// counted.
	MaxLine = 4096
	// MaxData is the largest ERXUDP payload accepted, in bytes.
	MaxData = 1500
)

// Event codes (SKSTACK-IP, hex).
const (
	EventNS              = 0x01
	EventNA              = 0x02
	EventEchoRequest     = 0x05
	EventEDScanDone      = 0x1F
	EventBeacon          = 0x20
	EventUDPSent         = 0x21
	EventScanDone        = 0x22
	EventJoinFailed      = 0x24
	EventJoined          = 0x25
	EventTermRequest     = 0x26
	EventTerminated      = 0x27
	EventTermTimeout     = 0x28
	EventLifetimeExpired = 0x29
	EventTxLimit         = 0x32
	EventTxResumed       = 0x33
)

// Event is one "EVENT xx <ipv6> [side] [param]" line.
type Event struct {
	Code byte
	// Addr is the sender's IPv6 address exactly as printed.
	Addr string
	// Side is 0 (route B) or 1 (HAN) on the BP35C0; -1 when not printed.
	Side int
	// Param is the event parameter (EVENT 21: 0 = sent); -1 when absent.
	Param int
}

// ErrSyntax marks a line that does not have the expected shape.
var ErrSyntax = errors.New("wisun: malformed line")

func syntaxErr(what, line string) error {
	if len(line) > 64 {
		line = line[:64] + "..."
	}
	return fmt.Errorf("%w: %s: %q", ErrSyntax, what, line)
}

// ParseEvent parses an EVENT line. The BP35C0 form carries a one-digit side
// before the two-digit parameter; the forms are told apart by token length,
// so one parser serves every dialect. Tokens after the parameter are
// ignored (later firmware may add some).
func ParseEvent(line string) (Event, error) {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "EVENT" {
		return Event{}, syntaxErr("event", line)
	}
	code, ok := hexByte(f[1])
	if !ok {
		return Event{}, syntaxErr("event code", line)
	}
	if !ValidIPv6(f[2]) {
		return Event{}, syntaxErr("event address", line)
	}
	ev := Event{Code: code, Addr: f[2], Side: -1, Param: -1}
	rest := f[3:]
	if len(rest) > 0 && len(rest[0]) == 1 {
		s, ok := side(rest[0])
		if !ok {
			return Event{}, syntaxErr("event side", line)
		}
		ev.Side = s
		rest = rest[1:]
	}
	if len(rest) > 0 {
		p, ok := hexByte(rest[0])
		if !ok {
			return Event{}, syntaxErr("event param", line)
		}
		ev.Param = int(p)
	}
	return ev, nil
}

// PANDesc is one EPANDESC block (a beacon seen by SKSCAN).
type PANDesc struct {
	Channel     uint16
	ChannelPage uint16
	PanID       uint16
	// Addr is the coordinator's 64-bit MAC, 16 hex digits.
	Addr string
	LQI  byte
	// Side is the BP35C0 side (0 route B, 1 HAN); -1 when not printed.
	Side int
	// PairID is the last 8 characters of the route-B ID (active scan mode 2
	// only); "" when not printed.
	PairID string
}

// IsPANField reports whether line is one of the indented key:value lines
// of an EPANDESC block.
func IsPANField(line string) bool {
	k, _, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok {
		return false
	}
	switch k {
	case "Channel", "Channel Page", "Pan ID", "Addr", "LQI", "Side", "PairID":
		return true
	}
	return false
}

// ParsePANDesc parses the lines of an EPANDESC block (the "EPANDESC" line
// itself may be included). Channel, Pan ID and Addr are required.
func ParsePANDesc(lines []string) (PANDesc, error) {
	d := PANDesc{Side: -1}
	var have int
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "EPANDESC" || l == "" {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return PANDesc{}, syntaxErr("epandesc", l)
		}
		v = strings.TrimSpace(v)
		var err error
		switch k {
		case "Channel":
			d.Channel, err = hexU16(v, 2)
			have |= 1
		case "Channel Page":
			d.ChannelPage, err = hexU16(v, 2)
		case "Pan ID":
			d.PanID, err = hexU16(v, 4)
			have |= 2
		case "Addr":
			if !isHex(v, 16) {
				err = syntaxErr("epandesc addr", l)
			}
			d.Addr = strings.ToUpper(v)
			have |= 4
		case "LQI":
			var b byte
			if b, ok = hexByte(v); !ok {
				err = syntaxErr("epandesc lqi", l)
			}
			d.LQI = b
		case "Side":
			if d.Side, ok = side(v); !ok {
				err = syntaxErr("epandesc side", l)
			}
		case "PairID":
			if !isHex(v, 8) {
				err = syntaxErr("epandesc pairid", l)
			}
			d.PairID = strings.ToUpper(v)
		default:
			err = syntaxErr("epandesc key", l)
		}
		if err != nil {
			return PANDesc{}, fmt.Errorf("epandesc %s: %w", k, err)
		}
	}
	if have != 7 {
		return PANDesc{}, fmt.Errorf("%w: epandesc: missing Channel, Pan ID or Addr", ErrSyntax)
	}
	return d, nil
}

// ERXUDP is the header of a received UDP datagram, up to the data length.
type ERXUDP struct {
	Sender, Dest string // IPv6, exactly as printed
	RPort, LPort uint16
	SenderLLA    string // 64-bit MAC, 16 hex
	Secured      bool
	Side         int // BP35C0 only; -1 otherwise
	DataLen      int // bytes
}

// ParseERXUDP parses an ERXUDP header: the line up to and including the
// datalen field (a trailing space and the data are not part of it). With
// dialect BP35C0 the side field is required, with BP35A1/RL7023 it must be
// absent; with "" either form is accepted.
func ParseERXUDP(header string, d Dialect) (ERXUDP, error) {
	f := strings.Fields(header)
	if len(f) < 8 || len(f) > 9 || f[0] != "ERXUDP" {
		return ERXUDP{}, syntaxErr("erxudp fields", header)
	}
	withSide := len(f) == 9
	switch {
	case d == BP35C0 && !withSide, (d == BP35A1 || d == RL7023) && withSide:
		return ERXUDP{}, syntaxErr("erxudp side for "+string(d), header)
	}
	h := ERXUDP{Sender: f[1], Dest: f[2], SenderLLA: strings.ToUpper(f[5]), Side: -1}
	if !ValidIPv6(h.Sender) || !ValidIPv6(h.Dest) {
		return ERXUDP{}, syntaxErr("erxudp address", header)
	}
	var err error
	if h.RPort, err = hexU16(f[3], 4); err != nil {
		return ERXUDP{}, syntaxErr("erxudp rport", header)
	}
	if h.LPort, err = hexU16(f[4], 4); err != nil {
		return ERXUDP{}, syntaxErr("erxudp lport", header)
	}
	if !isHex(f[5], 16) {
		return ERXUDP{}, syntaxErr("erxudp senderlla", header)
	}
	switch f[6] {
	case "0":
	case "1":
		h.Secured = true
	default:
		return ERXUDP{}, syntaxErr("erxudp secured", header)
	}
	lenField := f[7]
	if withSide {
		var ok bool
		if h.Side, ok = side(f[7]); !ok {
			return ERXUDP{}, syntaxErr("erxudp side", header)
		}
		lenField = f[8]
	}
	n, err := hexU16(lenField, 4)
	if err != nil {
		return ERXUDP{}, syntaxErr("erxudp datalen", header)
	}
	if int(n) > MaxData {
		return ERXUDP{}, fmt.Errorf("%w: erxudp datalen %d > %d", ErrSyntax, n, MaxData)
	}
	h.DataLen = int(n)
	return h, nil
}

// DecodeERXUDPData turns the data field into bytes: in ASCII mode (WOPT 01)
// it is 2×DataLen hex characters, in binary mode DataLen raw bytes.
func DecodeERXUDPData(h ERXUDP, data []byte, ascii bool) ([]byte, error) {
	if !ascii {
		if len(data) != h.DataLen {
			return nil, fmt.Errorf("%w: erxudp data %d bytes, want %d", ErrSyntax, len(data), h.DataLen)
		}
		return append([]byte(nil), data...), nil
	}
	if len(data) != 2*h.DataLen {
		return nil, fmt.Errorf("%w: erxudp data %d hex chars, want %d", ErrSyntax, len(data), 2*h.DataLen)
	}
	out := make([]byte, h.DataLen)
	if _, err := hex.Decode(out, data); err != nil {
		return nil, fmt.Errorf("%w: erxudp data: %v", ErrSyntax, err)
	}
	return out, nil
}

// ParseERXUDPLine parses a complete ASCII-mode ERXUDP line (header and hex
// data).
func ParseERXUDPLine(line string, d Dialect) (ERXUDP, []byte, error) {
	if h, err := ParseERXUDP(line, d); err == nil && h.DataLen == 0 {
		return h, []byte{}, nil
	}
	f := strings.Fields(line)
	if len(f) < 9 {
		return ERXUDP{}, nil, syntaxErr("erxudp fields", line)
	}
	h, err := ParseERXUDP(strings.Join(f[:len(f)-1], " "), d)
	if err != nil {
		return ERXUDP{}, nil, err
	}
	b, err := DecodeERXUDPData(h, []byte(f[len(f)-1]), true)
	if err != nil {
		return ERXUDP{}, nil, err
	}
	return h, b, nil
}

// CommandError is a "FAIL ERxx" answer.
type CommandError struct {
	Code int
	// Command is the command verb (never its arguments: they may be
	// secrets).
	Command string
}

func (e *CommandError) Error() string {
	msg := "reserved error"
	switch e.Code {
	case 4:
		msg = "unsupported command"
	case 5:
		msg = "wrong number of arguments"
	case 6:
		msg = "invalid argument format or value out of range"
	case 9:
		msg = "UART input error"
	case 10:
		msg = "command accepted but execution failed"
	}
	if e.Command == "" {
		return fmt.Sprintf("wisun: FAIL ER%02d (%s)", e.Code, msg)
	}
	return fmt.Sprintf("wisun: %s: FAIL ER%02d (%s)", e.Command, e.Code, msg)
}

// ParseFail parses a "FAIL ERxx" line.
func ParseFail(line string) (*CommandError, error) {
	code, ok := strings.CutPrefix(strings.TrimSpace(line), "FAIL ER")
	if !ok || len(code) != 2 {
		return nil, syntaxErr("fail", line)
	}
	n, err := strconv.Atoi(code)
	if err != nil || n < 0 {
		return nil, syntaxErr("fail code", line)
	}
	return &CommandError{Code: n}, nil
}

// LinkLocal is the SKLL64 rule: FE80:0000:0000:0000 followed by the 64-bit
// MAC with the universal/local bit (0x02 of the first byte) flipped, in the
// full 8×4 uppercase form the module prints.
func LinkLocal(mac string) (string, error) {
	if !isHex(mac, 16) {
		return "", fmt.Errorf("wisun: link-local: MAC %q: want 16 hex digits", mac)
	}
	b, _ := hex.DecodeString(mac)
	b[0] ^= 0x02
	return fmt.Sprintf("FE80:0000:0000:0000:%02X%02X:%02X%02X:%02X%02X:%02X%02X",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]), nil
}

// ValidIPv6 reports whether s is in the full form the module prints: 8
// groups of 4 hex digits separated by colons.
func ValidIPv6(s string) bool {
	if len(s) != 39 {
		return false
	}
	for i := 0; i < 39; i++ {
		if i%5 == 4 {
			if s[i] != ':' {
				return false
			}
		} else if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func hexByte(s string) (byte, bool) {
	if !isHex(s, 2) {
		return 0, false
	}
	v, _ := strconv.ParseUint(s, 16, 8)
	return byte(v), true
}

// hexU16 parses 1..max hex digits.
func hexU16(s string, max int) (uint16, error) {
	if len(s) == 0 || len(s) > max || !isHex(s, len(s)) {
		return 0, syntaxErr("hex", s)
	}
	v, _ := strconv.ParseUint(s, 16, 16)
	return uint16(v), nil
}

func side(s string) (int, bool) {
	switch s {
	case "0":
		return 0, true
	case "1":
		return 1, true
	}
	return 0, false
}
