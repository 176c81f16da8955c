package dlt645

import (
	"fmt"

	"github.com/gatewayd-project/gatewayd/energy"
)

// DI is a data identifier DI3 DI2 DI1 DI0 as written in tables
// (0x00010000 = forward active energy total). On the wire DI0 goes first.
type DI uint32

// String formats the DI as in the standard's tables: "00010000".
func (d DI) String() string { return fmt.Sprintf("%08X", uint32(d)) }

// Wire returns the four DI bytes in wire order (DI0 first), unscrambled.
func (d DI) Wire() [4]byte {
	return [4]byte{byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24)}
}

// DIFromWire reads a DI from four unscrambled wire bytes.
func DIFromWire(b []byte) DI {
	return DI(b[0]) | DI(b[1])<<8 | DI(b[2])<<16 | DI(b[3])<<24
}

// Kind says how to decode a value.
type Kind uint8

// Value kinds.
const (
	KindBCD    Kind = iota // packed BCD number with implied decimals
	KindBits               // little-endian bit field (status words)
	KindDate               // YYMMDDWW
	KindTime               // hhmmss
	KindStamp5             // YYMMDDhhmm
	KindStamp6             // YYMMDDhhmmss
	KindRecord             // opaque record (load profile, event records)
)

// Spec describes one value (name, length, digits, decimals, signed, unit).
type Spec struct {
	DI       DI
	Name     string
	Kind     Kind
	Len      int  // bytes of one element
	Count    int  // elements (blocks hold several); 1 for single DIs
	Decimals int  // implied decimals of the BCD value
	Signed   bool // bit 7 of the MSB is the sign
	Unit     string
	// Quantities maps element i to the quantity it fills ("" = ignore).
	Quantities []energy.Quantity
	// SIExp converts the unit to the quantity's SI unit: kWh -> Wh is 3.
	SIExp int8
}

// Digits is the number of BCD digits of one element.
func (s Spec) Digits() int { return 2 * s.Len }

func energySpec(di DI, name string, q energy.Quantity, signed bool) Spec {
	return Spec{DI: di, Name: name, Kind: KindBCD, Len: 4, Count: 1, Decimals: 2, Signed: signed, Unit: "kWh", Quantities: []energy.Quantity{q}, SIExp: 3}
}

func energyBlock(di DI, name string, q energy.Quantity) Spec {
	qs := []energy.Quantity{q}
	for t := 1; t <= 4; t++ {
		qs = append(qs, energy.Tariff(q, t))
	}
	return Spec{DI: di, Name: name, Kind: KindBCD, Len: 4, Count: 5, Decimals: 2, Unit: "kWh", Quantities: qs, SIExp: 3}
}

func phases(base string, total bool) []energy.Quantity {
	var qs []energy.Quantity
	if total {
		qs = append(qs, energy.Quantity(base))
	}
	for p := 1; p <= 3; p++ {
		qs = append(qs, energy.Phase(base, p))
	}
	return qs
}

// Common DIs.
const (
	DICombinedActive   DI = 0x00000000
	DIForwardActive    DI = 0x00010000
	DIForwardBlock     DI = 0x0001FF00
	DIReverseActive    DI = 0x00020000
	DIReverseBlock     DI = 0x0002FF00
	DICombinedReact1   DI = 0x00030000
	DICombinedReact2   DI = 0x00040000
	DIVoltageBlock     DI = 0x0201FF00
	DICurrentBlock     DI = 0x0202FF00
	DIPowerBlock       DI = 0x0203FF00
	DIPowerTotal       DI = 0x02030000
	DIReactiveBlock    DI = 0x0204FF00
	DIApparentBlock    DI = 0x0205FF00
	DIPFBlock          DI = 0x0206FF00
	DIFrequency        DI = 0x02800002
	DIDate             DI = 0x04000101
	DITime             DI = 0x04000102
	DICommAddress      DI = 0x04000401
	DIStatusBlock      DI = 0x040005FF
	DIStatus1          DI = 0x04000501
	DIStatus3          DI = 0x04000503
	DIPowerDownCount   DI = 0x03110000
	DIPowerDownRecord1 DI = 0x03110001
	DIDailyFreezeTime  DI = 0x05060001 // DI0 = nth previous freeze
	DIDailyFwd         DI = 0x05060101
	DIDailyRev         DI = 0x05060201
	DIHourlyFreezeTime DI = 0x05040001
	DIHourlyFwd        DI = 0x05040101
	DIHourlyRev        DI = 0x05040201
	DILoadProfile4     DI = 0x06040001 // class 4: active and reactive total energy, from a given time
)

// Table is the DI table the driver and the emulator share. Block DIs come
// with the single DIs they fall back to.
var specs = []Spec{
	energySpec(DICombinedActive, "combined active energy total", energy.CombinedEnergy, true),
	energySpec(DIForwardActive, "forward active energy total", energy.ImportEnergy, false),
	energySpec(0x00010100, "forward active energy tariff 1", energy.Tariff(energy.ImportEnergy, 1), false),
	energySpec(0x00010200, "forward active energy tariff 2", energy.Tariff(energy.ImportEnergy, 2), false),
	energySpec(0x00010300, "forward active energy tariff 3", energy.Tariff(energy.ImportEnergy, 3), false),
	energySpec(0x00010400, "forward active energy tariff 4", energy.Tariff(energy.ImportEnergy, 4), false),
	energyBlock(DIForwardBlock, "forward active energy block", energy.ImportEnergy),
	energySpec(DIReverseActive, "reverse active energy total", energy.ExportEnergy, false),
	energySpec(0x00020100, "reverse active energy tariff 1", energy.Tariff(energy.ExportEnergy, 1), false),
	energySpec(0x00020200, "reverse active energy tariff 2", energy.Tariff(energy.ExportEnergy, 2), false),
	energySpec(0x00020300, "reverse active energy tariff 3", energy.Tariff(energy.ExportEnergy, 3), false),
	energySpec(0x00020400, "reverse active energy tariff 4", energy.Tariff(energy.ExportEnergy, 4), false),
	energyBlock(DIReverseBlock, "reverse active energy block", energy.ExportEnergy),
	{DI: DICombinedReact1, Name: "combined reactive energy 1 total", Kind: KindBCD, Len: 4, Count: 1, Decimals: 2, Signed: true, Unit: "kvarh", Quantities: []energy.Quantity{energy.ReactiveEnergy1}, SIExp: 3},
	{DI: DICombinedReact2, Name: "combined reactive energy 2 total", Kind: KindBCD, Len: 4, Count: 1, Decimals: 2, Signed: true, Unit: "kvarh", Quantities: []energy.Quantity{energy.ReactiveEnergy2}, SIExp: 3},

	{DI: DIVoltageBlock, Name: "voltage block A,B,C", Kind: KindBCD, Len: 2, Count: 3, Decimals: 1, Unit: "V", Quantities: phases("voltage", false)},
	{DI: 0x02010100, Name: "voltage A", Kind: KindBCD, Len: 2, Count: 1, Decimals: 1, Unit: "V", Quantities: []energy.Quantity{energy.Phase("voltage", 1)}},
	{DI: 0x02010200, Name: "voltage B", Kind: KindBCD, Len: 2, Count: 1, Decimals: 1, Unit: "V", Quantities: []energy.Quantity{energy.Phase("voltage", 2)}},
	{DI: 0x02010300, Name: "voltage C", Kind: KindBCD, Len: 2, Count: 1, Decimals: 1, Unit: "V", Quantities: []energy.Quantity{energy.Phase("voltage", 3)}},
	{DI: DICurrentBlock, Name: "current block A,B,C", Kind: KindBCD, Len: 3, Count: 3, Decimals: 3, Signed: true, Unit: "A", Quantities: phases("current", false)},
	{DI: 0x02020100, Name: "current A", Kind: KindBCD, Len: 3, Count: 1, Decimals: 3, Signed: true, Unit: "A", Quantities: []energy.Quantity{energy.Phase("current", 1)}},
	{DI: 0x02020200, Name: "current B", Kind: KindBCD, Len: 3, Count: 1, Decimals: 3, Signed: true, Unit: "A", Quantities: []energy.Quantity{energy.Phase("current", 2)}},
	{DI: 0x02020300, Name: "current C", Kind: KindBCD, Len: 3, Count: 1, Decimals: 3, Signed: true, Unit: "A", Quantities: []energy.Quantity{energy.Phase("current", 3)}},
	{DI: DIPowerBlock, Name: "active power block total,A,B,C", Kind: KindBCD, Len: 3, Count: 4, Decimals: 4, Signed: true, Unit: "kW", Quantities: phases("power", true), SIExp: 3},
	{DI: DIPowerTotal, Name: "active power total", Kind: KindBCD, Len: 3, Count: 1, Decimals: 4, Signed: true, Unit: "kW", Quantities: []energy.Quantity{energy.Power}, SIExp: 3},
	{DI: 0x02030100, Name: "active power A", Kind: KindBCD, Len: 3, Count: 1, Decimals: 4, Signed: true, Unit: "kW", Quantities: []energy.Quantity{energy.Phase("power", 1)}, SIExp: 3},
	{DI: 0x02030200, Name: "active power B", Kind: KindBCD, Len: 3, Count: 1, Decimals: 4, Signed: true, Unit: "kW", Quantities: []energy.Quantity{energy.Phase("power", 2)}, SIExp: 3},
	{DI: 0x02030300, Name: "active power C", Kind: KindBCD, Len: 3, Count: 1, Decimals: 4, Signed: true, Unit: "kW", Quantities: []energy.Quantity{energy.Phase("power", 3)}, SIExp: 3},
	{DI: DIReactiveBlock, Name: "reactive power block total,A,B,C", Kind: KindBCD, Len: 3, Count: 4, Decimals: 4, Signed: true, Unit: "kvar", Quantities: phases("reactive_power", true), SIExp: 3},
	{DI: 0x02040000, Name: "reactive power total", Kind: KindBCD, Len: 3, Count: 1, Decimals: 4, Signed: true, Unit: "kvar", Quantities: []energy.Quantity{energy.ReactivePower}, SIExp: 3},
	{DI: DIApparentBlock, Name: "apparent power block total,A,B,C", Kind: KindBCD, Len: 3, Count: 4, Decimals: 4, Signed: true, Unit: "kVA", Quantities: phases("apparent_power", true), SIExp: 3},
	{DI: 0x02050000, Name: "apparent power total", Kind: KindBCD, Len: 3, Count: 1, Decimals: 4, Signed: true, Unit: "kVA", Quantities: []energy.Quantity{energy.ApparentPower}, SIExp: 3},
	{DI: DIPFBlock, Name: "power factor block total,A,B,C", Kind: KindBCD, Len: 2, Count: 4, Decimals: 3, Signed: true, Unit: "", Quantities: phases("power_factor", true)},
	{DI: 0x02060000, Name: "power factor total", Kind: KindBCD, Len: 2, Count: 1, Decimals: 3, Signed: true, Unit: "", Quantities: []energy.Quantity{energy.PowerFactor}},
	{DI: DIFrequency, Name: "grid frequency", Kind: KindBCD, Len: 2, Count: 1, Decimals: 2, Unit: "Hz", Quantities: []energy.Quantity{energy.Frequency}},

	{DI: DIDate, Name: "date and weekday", Kind: KindDate, Len: 4, Count: 1},
	{DI: DITime, Name: "time", Kind: KindTime, Len: 3, Count: 1},
	{DI: DICommAddress, Name: "communication address", Kind: KindRecord, Len: 6, Count: 1},
	{DI: DIStatusBlock, Name: "status words 1..7", Kind: KindBits, Len: 2, Count: 7},
	{DI: DIStatus1, Name: "status word 1", Kind: KindBits, Len: 2, Count: 1},
	{DI: 0x04000502, Name: "status word 2", Kind: KindBits, Len: 2, Count: 1},
	{DI: DIStatus3, Name: "status word 3", Kind: KindBits, Len: 2, Count: 1},
	{DI: 0x04000504, Name: "status word 4", Kind: KindBits, Len: 2, Count: 1},
	{DI: 0x04000505, Name: "status word 5", Kind: KindBits, Len: 2, Count: 1},
	{DI: 0x04000506, Name: "status word 6", Kind: KindBits, Len: 2, Count: 1},
	{DI: 0x04000507, Name: "status word 7", Kind: KindBits, Len: 2, Count: 1},

	{DI: DIPowerDownCount, Name: "power-down total count", Kind: KindBCD, Len: 3, Count: 1, Unit: "", Quantities: []energy.Quantity{energy.PowerDownCount}},
	{DI: DIPowerDownRecord1, Name: "most recent power-down record", Kind: KindRecord, Len: 12, Count: 1},

	{DI: DIDailyFreezeTime, Name: "daily freeze time (nth previous)", Kind: KindStamp5, Len: 5, Count: 1},
	{DI: DIDailyFwd, Name: "daily-frozen forward active energy", Kind: KindBCD, Len: 4, Count: 5, Decimals: 2, Unit: "kWh", Quantities: energyBlock(0, "", energy.ImportEnergy).Quantities, SIExp: 3},
	{DI: DIDailyRev, Name: "daily-frozen reverse active energy", Kind: KindBCD, Len: 4, Count: 5, Decimals: 2, Unit: "kWh", Quantities: energyBlock(0, "", energy.ExportEnergy).Quantities, SIExp: 3},
	{DI: DIHourlyFreezeTime, Name: "hourly freeze time (nth previous)", Kind: KindStamp5, Len: 5, Count: 1},
	{DI: DIHourlyFwd, Name: "hourly-frozen forward active energy total", Kind: KindBCD, Len: 4, Count: 1, Decimals: 2, Unit: "kWh", Quantities: []energy.Quantity{energy.ImportEnergy}, SIExp: 3},
	{DI: DIHourlyRev, Name: "hourly-frozen reverse active energy total", Kind: KindBCD, Len: 4, Count: 1, Decimals: 2, Unit: "kWh", Quantities: []energy.Quantity{energy.ExportEnergy}, SIExp: 3},
	{DI: DILoadProfile4, Name: "load profile class 4 (energy) from a given time", Kind: KindRecord, Len: 0, Count: 0},
}

// Lookup returns the spec of di. Settlement-period (DI0) and freeze-index
// variants of energy and freeze DIs map to their base entry.
func Lookup(di DI) (Spec, bool) {
	for _, s := range specs {
		if s.DI == di {
			return s, true
		}
	}
	// DI0 selects the settlement period (energy) or the nth freeze.
	switch di >> 24 {
	case 0x00, 0x05:
		base := di&^0xFF | DI(baseDI0(di))
		for _, s := range specs {
			if s.DI == base {
				s.DI = di
				return s, true
			}
		}
	}
	return Spec{}, false
}

func baseDI0(di DI) byte {
	if di>>24 == 0x05 {
		return 0x01
	}
	return 0x00
}

// DecodeValues decodes the value bytes of a BCD spec (after the DI echo) into
// decimals in SI units. A block may hold fewer elements than Count (a meter
// with fewer tariffs); a length that is not a whole number of elements, or
// more than Count, is an error.
func DecodeValues(s Spec, b []byte) ([]energy.Decimal, error) {
	if s.Kind != KindBCD || s.Len == 0 {
		return nil, fmt.Errorf("dlt645: %s is not a numeric DI", s.DI)
	}
	if len(b) == 0 || len(b)%s.Len != 0 || len(b)/s.Len > s.Count {
		return nil, fmt.Errorf("dlt645: %s: %w: %d value bytes, want %d x %d", s.DI, ErrLength, len(b), s.Count, s.Len)
	}
	out := make([]energy.Decimal, len(b)/s.Len)
	for i := range out {
		v, err := DecodeBCD(b[i*s.Len:(i+1)*s.Len], s.Signed)
		if err != nil {
			return nil, fmt.Errorf("dlt645: %s element %d: %w", s.DI, i, err)
		}
		out[i] = energy.D(v, s.SIExp-int8(s.Decimals))
	}
	return out, nil
}
