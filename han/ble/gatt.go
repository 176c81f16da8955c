package ble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The gatewayd appliance profile (PROFILE.md): one primary service with
// on/off, power, energy and demand-response characteristics, beside the
// SIG Device Information service.
const (
	ServiceAppliance UUID = "6a1f0001-5b3c-4c8e-9d2a-47a7e0b1c0de"
	CharOnOff        UUID = "6a1f0002-5b3c-4c8e-9d2a-47a7e0b1c0de" // uint8 0/1; read, write, notify
	CharPower        UUID = "6a1f0003-5b3c-4c8e-9d2a-47a7e0b1c0de" // sint32 LE, 0.01 W; read, notify
	CharEnergy       UUID = "6a1f0004-5b3c-4c8e-9d2a-47a7e0b1c0de" // uint32 LE, Wh, wraps at 2^32; read, notify
	CharDR           UUID = "6a1f0005-5b3c-4c8e-9d2a-47a7e0b1c0de" // DRCommand (7 bytes); read (state in force), write

	ServiceDeviceInfo UUID = "180a"
	CharManufacturer  UUID = "2a29"
	CharModel         UUID = "2a24"
	CharSerial        UUID = "2a25"
	CharFirmware      UUID = "2a26"
)

// EnergyWrap is where the energy characteristic wraps, Wh.
const EnergyWrap = int64(1) << 32

// MaxValueLen bounds a characteristic value the gateway accepts (the ATT
// default MTU of 23 leaves 20 bytes; Device Information strings get more).
const MaxValueLen = 64

// ErrPayload is returned (wrapped) for a malformed characteristic value.
var ErrPayload = errors.New("ble: malformed characteristic value")

// DecodeOnOff parses the on/off characteristic.
func DecodeOnOff(b []byte) (bool, error) {
	if len(b) != 1 || b[0] > 1 {
		return false, fmt.Errorf("%w: on/off % X", ErrPayload, b)
	}
	return b[0] == 1, nil
}

// EncodeOnOff is the on/off value.
func EncodeOnOff(on bool) []byte {
	if on {
		return []byte{1}
	}
	return []byte{0}
}

// DecodePower parses the power characteristic into centiwatts (0.01 W).
func DecodePower(b []byte) (int64, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%w: power of %d bytes, want 4", ErrPayload, len(b))
	}
	return int64(int32(binary.LittleEndian.Uint32(b))), nil
}

// EncodePower is the power value for cW centiwatts (clamped to int32).
func EncodePower(cW int64) []byte {
	cW = max(min(cW, 1<<31-1), -1<<31)
	return binary.LittleEndian.AppendUint32(nil, uint32(int32(cW)))
}

// DecodeEnergy parses the energy characteristic, Wh.
func DecodeEnergy(b []byte) (int64, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%w: energy of %d bytes, want 4", ErrPayload, len(b))
	}
	return int64(binary.LittleEndian.Uint32(b)), nil
}

// EncodeEnergy is the energy value for wh (modulo EnergyWrap).
func EncodeEnergy(wh int64) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(wh%EnergyWrap))
}

// DROp is a demand-response operation.
type DROp byte

// The operations.
const (
	DRNormal  DROp = 0 // lift any curtailment, limit or shift
	DRCurtail DROp = 1 // reduce to LimitW at once (best effort, e.g. eco mode)
	DRShift   DROp = 2 // stop now and resume after Duration (deferrable loads)
	DRLimit   DROp = 3 // never draw more than LimitW
)

func (o DROp) String() string {
	switch o {
	case DRNormal:
		return "normal"
	case DRCurtail:
		return "curtail"
	case DRShift:
		return "shift"
	case DRLimit:
		return "limit"
	}
	return fmt.Sprintf("op%d", byte(o))
}

// DRCommand is the DR characteristic: op (uint8), duration (uint16 LE,
// seconds, 0 = until the next command), limit (uint32 LE, W).
type DRCommand struct {
	Op       DROp
	Duration time.Duration
	LimitW   int64
}

// DRLen is the DR characteristic's size.
const DRLen = 7

// MaxDRDuration is the longest DR duration the value can carry.
const MaxDRDuration = 65535 * time.Second

// DecodeDR parses a DR value.
func DecodeDR(b []byte) (DRCommand, error) {
	if len(b) != DRLen {
		return DRCommand{}, fmt.Errorf("%w: DR command of %d bytes, want %d", ErrPayload, len(b), DRLen)
	}
	c := DRCommand{Op: DROp(b[0]), Duration: time.Duration(binary.LittleEndian.Uint16(b[1:])) * time.Second,
		LimitW: int64(binary.LittleEndian.Uint32(b[3:]))}
	if c.Op > DRLimit {
		return DRCommand{}, fmt.Errorf("%w: DR op %d", ErrPayload, b[0])
	}
	return c, nil
}

// Encode is the DR value; a duration over MaxDRDuration or a negative
// limit is an error.
func (c DRCommand) Encode() ([]byte, error) {
	if c.Op > DRLimit || c.Duration < 0 || c.Duration > MaxDRDuration || c.LimitW < 0 || c.LimitW > 1<<32-1 {
		return nil, fmt.Errorf("ble: DR command %+v out of range", c)
	}
	b := []byte{byte(c.Op)}
	b = binary.LittleEndian.AppendUint16(b, uint16(c.Duration/time.Second))
	return binary.LittleEndian.AppendUint32(b, uint32(c.LimitW)), nil
}
