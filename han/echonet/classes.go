package echonet

import (
	"errors"
	"fmt"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Value is one decoded property in the unit of its quantity.
type Value struct {
	Quantity energy.Quantity
	Value    energy.Decimal
	Unit     string
}

// Quantities only ECHONET objects report. Codes are published as their
// number (mode 0x42 is 66).
const (
	// ModeQuantity is an operation mode code: B0 of an air conditioner or
	// the automatic heating setting of a water heater, DA of a battery or
	// V2H charger.
	ModeQuantity energy.Quantity = "echonet_mode"
	// VehicleQuantity is a V2H charger's vehicle connection code (C7).
	VehicleQuantity energy.Quantity = "echonet_vehicle"
	// HeatingQuantity is 1 while a water heater heats (B2 = 41), else 0.
	HeatingQuantity energy.Quantity = "echonet_heating"
)

// ErrEDT is returned (wrapped, naming the class and EPC) for property data
// of the wrong length or with invalid codes.
var ErrEDT = errors.New("echonet: malformed property data")

// ClassName returns the gateway's name for a device class: part of device
// ids and the device kind. It is "" for classes the gateway does not bridge.
func ClassName(c Class) string {
	switch c {
	case ClassSmartMeter:
		return "smart_meter"
	case ClassGasMeter:
		return "gas_meter"
	case ClassWaterFlowMeter:
		return "water_meter"
	case ClassSolar:
		return "solar"
	case ClassStorageBattery:
		return "battery"
	case ClassEVChargerV2H:
		return "ev_charger"
	case ClassAirConditioner:
		return "air_conditioner"
	case ClassElectricWaterHtr:
		return "water_heater"
	}
	return ""
}

// kind is how a property's EDT decodes.
type kind uint8

const (
	kOnOff    kind = iota // 30 on -> 1, 31 off -> 0
	kCode                 // one code byte, published as its number
	kHeating              // 41 heating -> 1, 42 not -> 0
	kPercent              // uint8 0..100
	kSetTemp              // uint8 0..50 °C, FD undefined
	kTemp                 // int8 -127..125 °C
	kU16                  // uint16 0..65533
	kS32                  // int32 0x80000001..0x7FFFFFFD
	kCounter              // uint32 register in the class's counter scale
	kCurrents             // E8: R and T phase, int16 0.1 A
	kFixed                // EA/EB: checked, published by the caller
	kHistory              // E2/E4: checked, decoded by DecodeHistory
	kScale                // D3/D7/E1: checked, read once and cached
	kByte                 // one byte, checked only
)

type field struct {
	epc  byte
	q    energy.Quantity
	kind kind
}

// classFields lists what each class decodes, in publication order.
// Read-only.
var classFields = map[Class][]field{
	ClassSmartMeter: {
		{0xE7, energy.Power, kS32}, {0xE8, "", kCurrents},
		{0xE0, energy.ImportEnergy, kCounter}, {0xE3, energy.ExportEnergy, kCounter},
		{0xD3, "", kScale}, {0xD7, "", kScale}, {0xE1, "", kScale},
		{0xEA, "", kFixed}, {0xEB, "", kFixed},
		{0xE2, "", kHistory}, {0xE4, "", kHistory}, {0xE5, "", kByte},
	},
	ClassGasMeter:       {{0xE0, energy.GasVolume, kCounter}},
	ClassWaterFlowMeter: {{0xE0, energy.WaterVolume, kCounter}, {0xE1, "", kScale}},
	ClassSolar: {
		{0x80, energy.Operating, kOnOff}, {0xE0, energy.GeneratedPower, kU16},
		{0xE1, energy.GeneratedEnergy, kCounter},
	},
	ClassStorageBattery: {
		{0x80, energy.Operating, kOnOff}, {0xD3, energy.Power, kS32},
		{0xE4, energy.StateOfCharge, kPercent}, {0xDA, ModeQuantity, kCode},
		{0xD6, energy.DischargeEnergy, kCounter}, {0xD8, energy.ChargeEnergy, kCounter},
	},
	ClassEVChargerV2H: {
		{0x80, energy.Operating, kOnOff}, {0xC7, VehicleQuantity, kCode},
		{0xD3, energy.Power, kS32}, {0xDA, ModeQuantity, kCode},
		{0xE4, energy.StateOfCharge, kPercent},
		{0xD6, energy.DischargeEnergy, kCounter}, {0xD8, energy.ChargeEnergy, kCounter},
	},
	ClassAirConditioner: {
		{0x80, energy.Operating, kOnOff}, {0xB0, ModeQuantity, kCode},
		{0xB3, energy.SetTemperature, kSetTemp}, {0xBA, energy.Humidity, kPercent},
		{0xBB, energy.Temperature, kTemp}, {0xBE, energy.OutdoorTemperature, kTemp},
		{0x84, energy.Power, kU16}, {0x85, energy.ImportEnergy, kCounter},
	},
	ClassElectricWaterHtr: {
		{0x80, energy.Operating, kOnOff}, {0xB0, ModeQuantity, kCode},
		{0xB2, HeatingQuantity, kHeating}, {0xE1, energy.RemainingWater, kU16},
		{0x84, energy.Power, kU16}, {0x85, energy.ImportEnergy, kCounter},
	},
}

// pollFields is what to Get every poll (before filtering by the Get map).
var pollFields = map[Class][]byte{
	ClassSmartMeter:       {0xE7, 0xE8, 0xE0, 0xE3},
	ClassGasMeter:         {0xE0},
	ClassWaterFlowMeter:   {0xE0},
	ClassSolar:            {0x80, 0xE0, 0xE1},
	ClassStorageBattery:   {0x80, 0xD3, 0xE4, 0xDA, 0xD6, 0xD8},
	ClassEVChargerV2H:     {0x80, 0xC7, 0xD3, 0xDA, 0xE4, 0xD6, 0xD8},
	ClassAirConditioner:   {0x80, 0xB0, 0xB3, 0xBA, 0xBB, 0xBE, 0x84, 0x85},
	ClassElectricWaterHtr: {0x80, 0xB0, 0xB2, 0xE1, 0x84, 0x85},
}

// PollEPCs returns the EPCs to Get on every poll of an object of class c
// that lists get as its Get property map. The scale properties
// ([ScaleEPCs]) are not among them: read them once and pass them to
// [Values] with every poll's properties.
func PollEPCs(c Class, get PropertyMap) []byte {
	return filter(pollFields[c], get)
}

// ScaleEPCs returns the properties that scale class c's counters (D3, D7
// and E1 of a smart meter, E1 of a water meter) that get lists.
func ScaleEPCs(c Class, get PropertyMap) []byte {
	switch c {
	case ClassSmartMeter:
		return filter([]byte{0xD3, 0xD7, 0xE1}, get)
	case ClassWaterFlowMeter:
		return filter([]byte{0xE1}, get)
	}
	return nil
}

func filter(epcs []byte, m PropertyMap) []byte {
	var out []byte
	for _, e := range epcs {
		if m.Has(e) {
			out = append(out, e)
		}
	}
	return out
}

// Values decodes the properties of class c that props holds; unknown EPCs
// are skipped, and so are values the device marks as absent or out of
// range (E8 7FFE, B3 FD, a counter past its digits). Counters need their
// scale properties in props. A malformed EDT fails the whole call with an
// error naming the EPC.
func Values(c Class, props map[byte][]byte) ([]Value, error) {
	fields := classFields[c]
	var scale Scale
	if hasCounter(c, props) {
		var err error
		if scale, err = CounterScale(c, props); err != nil {
			return nil, err
		}
	}
	out := make([]Value, 0, len(props)+1)
	for _, f := range fields {
		edt, ok := props[f.epc]
		if !ok {
			continue
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%w: %s EPC %02X: %s", ErrEDT, className(c), f.epc, fmt.Sprintf(format, a...))
		}
		if err := checkLen(f.kind, edt); err != nil {
			return nil, bad("%v", err)
		}
		add := func(q energy.Quantity, d energy.Decimal) {
			out = append(out, Value{Quantity: q, Value: d, Unit: q.Unit()})
		}
		switch f.kind {
		case kOnOff:
			switch edt[0] {
			case 0x30:
				add(f.q, energy.D(1, 0))
			case 0x31:
				add(f.q, energy.D(0, 0))
			}
		case kHeating:
			switch edt[0] {
			case 0x41:
				add(f.q, energy.D(1, 0))
			case 0x42:
				add(f.q, energy.D(0, 0))
			}
		case kCode:
			add(f.q, energy.D(int64(edt[0]), 0))
		case kPercent:
			if edt[0] <= 100 {
				add(f.q, energy.D(int64(edt[0]), 0))
			}
		case kSetTemp:
			if edt[0] <= 50 {
				add(f.q, energy.D(int64(edt[0]), 0))
			}
		case kTemp:
			if v := int8(edt[0]); v >= -127 && v <= 125 {
				add(f.q, energy.D(int64(v), 0))
			}
		case kU16:
			if v := be16(edt); v <= 65533 {
				add(f.q, energy.D(int64(v), 0))
			}
		case kS32:
			if v := int32(be32(edt)); v >= -0x7FFFFFFF && v <= 0x7FFFFFFD {
				add(f.q, energy.D(int64(v), 0))
			}
		case kCurrents:
			for i, phase := range []int{1, 3} {
				v := int16(be16(edt[2*i:]))
				if v != 0x7FFE && v != 0x7FFF && v != -0x8000 {
					add(energy.Phase("current", phase), energy.D(int64(v), -1))
				}
			}
		case kCounter:
			ctr := Counter{Raw: be32(edt), Scale: scale}
			if ctr.Valid() {
				add(f.q, ctr.Value())
			}
		case kFixed:
			if _, err := DecodeFixedTime(edt, scale, time.UTC); err != nil {
				return nil, bad("%v", err)
			}
		case kHistory:
			if _, err := DecodeHistory(edt, scale); err != nil {
				return nil, bad("%v", err)
			}
		}
	}
	return out, nil
}

// checkLen checks the EDT length for k; scale properties are checked by
// CounterScale and fixed-time and history records by their decoders.
func checkLen(k kind, edt []byte) error {
	want := 0
	switch k {
	case kOnOff, kCode, kHeating, kPercent, kSetTemp, kTemp, kByte:
		want = 1
	case kU16:
		want = 2
	case kS32, kCounter, kCurrents:
		want = 4
	default:
		return nil
	}
	if len(edt) != want {
		return fmt.Errorf("%d bytes, want %d", len(edt), want)
	}
	return nil
}

func hasCounter(c Class, props map[byte][]byte) bool {
	for _, f := range classFields[c] {
		if _, ok := props[f.epc]; ok && (f.kind == kCounter || f.kind == kFixed || f.kind == kHistory) {
			return true
		}
	}
	return false
}

func className(c Class) string {
	if n := ClassName(c); n != "" {
		return n
	}
	return fmt.Sprintf("class %04X", uint16(c))
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
