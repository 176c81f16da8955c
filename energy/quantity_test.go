package energy

import "testing"

func TestHANQuantityUnits(t *testing.T) {
	tests := []struct {
		q       Quantity
		unit    string
		counter bool
	}{
		{GasVolume, "m3", true},
		{WaterVolume, "m3", true},
		{GeneratedEnergy, "Wh", true},
		{ChargeEnergy, "Wh", true},
		{DischargeEnergy, "Wh", true},
		{GeneratedPower, "W", false},
		{Temperature, "°C", false},
		{SetTemperature, "°C", false},
		{OutdoorTemperature, "°C", false},
		{Humidity, "%", false},
		{StateOfCharge, "%", false},
		{RemainingWater, "L", false},
		{Operating, "", false},
		{Phase("current", 3), "A", false},
		{ImportEnergy, "Wh", true},
		{PowerDownCount, "", true},
	}
	for _, tc := range tests {
		if u := tc.q.Unit(); u != tc.unit {
			t.Errorf("%s: unit %q, want %q", tc.q, u, tc.unit)
		}
		if c := tc.q.IsCounter(); c != tc.counter {
			t.Errorf("%s: counter %v, want %v", tc.q, c, tc.counter)
		}
	}
}
