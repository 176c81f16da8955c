package homekit

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/brutella/hap"
	"github.com/brutella/hap/accessory"
)

// Keys the bridge keeps in the hap store beside hap's own (hap uses
// "uuid", "version", "configHash", "keypair" and "*.pairing").
const (
	keyPin     = "gatewayd.pin"
	keySetupID = "gatewayd.setupid"
	keyAIDs    = "gatewayd.aids"
)

// trivialPins are the codes HAP forbids (hap.InvalidPins, R2 §4.2.1.2).
func trivialPin(pin string) bool { return hap.InvalidPins[pin] }

// setupIDAlphabet is the setup id's alphabet (0-9, A-Z).
const setupIDAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// SetupCode returns the gateway's setup code (8 digits) and setup id (4
// characters of 0-9A-Z), generating and storing both on first use. A
// stored code that is malformed or trivial is an error, never silently
// replaced: replacing it would orphan the household's pairing QR code.
func SetupCode(st hap.Store) (pin, setupID string, err error) {
	return setupCode(st, rand.Reader)
}

// has reports whether key is stored. hap's stores disagree on what Get
// of a missing key returns (storage: fs.ErrNotExist, hap's memStore: a
// plain error), so presence is asked through KeysWithSuffix.
func has(st hap.Store, key string) (bool, error) {
	keys, err := st.KeysWithSuffix(key)
	if err != nil {
		return false, fmt.Errorf("homekit: list %s: %w", key, err)
	}
	return slices.Contains(keys, key), nil
}

// getOpt returns the value under key, or nil if there is none.
func getOpt(st hap.Store, key string) ([]byte, error) {
	ok, err := has(st, key)
	if err != nil || !ok {
		return nil, err
	}
	v, err := st.Get(key)
	if err != nil {
		return nil, fmt.Errorf("homekit: read %s: %w", key, err)
	}
	return v, nil
}

func setupCode(st hap.Store, rnd io.Reader) (pin, setupID string, err error) {
	p, err := getOpt(st, keyPin)
	if err != nil {
		return "", "", err
	}
	if p != nil {
		pin = string(p)
		if !validPin(pin) {
			return "", "", fmt.Errorf("homekit: stored setup code %q is malformed", pin)
		}
	} else {
		for {
			n, err := rand.Int(rnd, big.NewInt(100_000_000))
			if err != nil {
				return "", "", fmt.Errorf("homekit: draw setup code: %w", err)
			}
			pin = fmt.Sprintf("%08d", n.Int64())
			if !trivialPin(pin) {
				break
			}
		}
		if err := st.Set(keyPin, []byte(pin)); err != nil {
			return "", "", fmt.Errorf("homekit: store setup code: %w", err)
		}
	}
	id, err := getOpt(st, keySetupID)
	if err != nil {
		return "", "", err
	}
	if id != nil {
		setupID = string(id)
		if !validSetupID(setupID) {
			return "", "", fmt.Errorf("homekit: stored setup id %q is malformed", setupID)
		}
		return pin, setupID, nil
	}
	b := make([]byte, 4)
	for i := range b {
		n, err := rand.Int(rnd, big.NewInt(int64(len(setupIDAlphabet))))
		if err != nil {
			return "", "", fmt.Errorf("homekit: draw setup id: %w", err)
		}
		b[i] = setupIDAlphabet[n.Int64()]
	}
	setupID = string(b)
	if err := st.Set(keySetupID, b); err != nil {
		return "", "", fmt.Errorf("homekit: store setup id: %w", err)
	}
	return pin, setupID, nil
}

func validPin(pin string) bool {
	if len(pin) != 8 || trivialPin(pin) {
		return false
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validSetupID(id string) bool {
	if len(id) != 4 {
		return false
	}
	for _, c := range id {
		if !strings.ContainsRune(setupIDAlphabet, c) {
			return false
		}
	}
	return true
}

// FormatPin shows a setup code as the Home app asks for it: XXX-XX-XXX.
func FormatPin(pin string) string {
	if len(pin) != 8 {
		return pin
	}
	return pin[:3] + "-" + pin[3:5] + "-" + pin[5:]
}

// Setup payload layout (HAP-NodeJS, homebridge and the HAP spec's QR
// setup payload): version 3 bits | reserved 4 | category 8 | flags 4 |
// setup code 27, as 9 base-36 digits, then the 4-character setup id.
const (
	uriPrefix = "X-HM://"
	flagIP    = 2 // the accessory pairs over IP
)

// SetupURI returns the X-HM:// setup payload of a bridge with the given
// setup code and setup id: what the Home app reads from a QR code.
func SetupURI(pin, setupID string) (string, error) {
	if !validPin(pin) {
		return "", fmt.Errorf("homekit: setup uri: bad setup code %q", pin)
	}
	if !validSetupID(setupID) {
		return "", fmt.Errorf("homekit: setup uri: bad setup id %q", setupID)
	}
	code, _ := strconv.ParseUint(pin, 10, 32)
	v := uint64(accessory.TypeBridge)<<31 | uint64(flagIP)<<27 | code
	s := strings.ToUpper(strconv.FormatUint(v, 36))
	return uriPrefix + strings.Repeat("0", 9-len(s)) + s + setupID, nil
}

// Setup is a decoded setup payload.
type Setup struct {
	Category byte
	Flags    byte
	Pin      string
	SetupID  string
}

// ParseSetupURI decodes an X-HM:// setup payload.
func ParseSetupURI(uri string) (Setup, error) {
	rest, ok := strings.CutPrefix(uri, uriPrefix)
	if !ok || len(rest) != 13 {
		return Setup{}, fmt.Errorf("homekit: setup uri %.40q: want %s and 13 characters", uri, uriPrefix)
	}
	v, err := strconv.ParseUint(strings.ToLower(rest[:9]), 36, 64)
	if err != nil || v>>46 != 0 {
		return Setup{}, fmt.Errorf("homekit: setup uri %.40q: bad payload", uri)
	}
	s := Setup{Category: byte(v >> 31), Flags: byte(v>>27) & 0xf, SetupID: rest[9:]}
	if ver := v >> 43; ver != 0 {
		return Setup{}, fmt.Errorf("homekit: setup uri %.40q: version %d", uri, ver)
	}
	s.Pin = fmt.Sprintf("%08d", v&(1<<27-1))
	if !validPin(s.Pin) || !validSetupID(s.SetupID) {
		return Setup{}, fmt.Errorf("homekit: setup uri %.40q: bad setup code or id", uri)
	}
	return s, nil
}
