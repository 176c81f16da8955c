package ble

import (
	"encoding/binary"

	"github.com/gatewayd-project/gatewayd/energy"
)

// SIG characteristics some sensors put in service data (AD 0x16) under
// their 16-bit UUID: Environmental Sensing temperature and humidity, and
// the Battery Level.
const (
	ESSTemperature uint16 = 0x2A6E // sint16, 0.01 °C
	ESSHumidity    uint16 = 0x2A6F // uint16, 0.01 %
	BatteryLevel   uint16 = 0x2A19 // uint8, %
)

// Quantities of BLE devices beside energy's.
const (
	QBattery     energy.Quantity = "battery_level" // %, device battery
	QVoltage     energy.Quantity = "voltage"       // V
	QCurrent     energy.Quantity = "current"       // A
	QPressure    energy.Quantity = "pressure"      // hPa
	QIlluminance energy.Quantity = "illuminance"   // lx
)

// decodeESS returns the value of a SIG service-data entry, ok false for
// other UUIDs or a wrong length.
func decodeESS(sd ServiceData) (q energy.Quantity, v energy.Decimal, ok bool) {
	switch {
	case sd.UUID == ESSTemperature && len(sd.Data) == 2:
		return energy.Temperature, energy.D(int64(int16(binary.LittleEndian.Uint16(sd.Data))), -2), true
	case sd.UUID == ESSHumidity && len(sd.Data) == 2:
		return energy.Humidity, energy.D(int64(binary.LittleEndian.Uint16(sd.Data)), -2), true
	case sd.UUID == BatteryLevel && len(sd.Data) == 1:
		return QBattery, energy.D(int64(sd.Data[0]), 0), true
	}
	return "", energy.Decimal{}, false
}
