package energy

// Quantity names what a reading measures. Its unit is fixed by the quantity
// (see [Quantity.Unit]); values are in SI base units (W, Wh, V, A, Hz, ...).
type Quantity string

// Quantities of the electricity meter. Per-phase quantities end in _l1.._l3,
// per-tariff energy registers in _t1.._t4 (for DL/T 645 meters tariff 1..4 are
// sharp, peak, flat and valley).
const (
	ImportEnergy       Quantity = "energy_import"         // forward active energy register, Wh
	ExportEnergy       Quantity = "energy_export"         // reverse active energy register, Wh
	CombinedEnergy     Quantity = "energy_combined"       // combined active energy register, Wh, signed
	ReactiveEnergy1    Quantity = "energy_reactive_1"     // combined reactive energy 1, varh, signed
	ReactiveEnergy2    Quantity = "energy_reactive_2"     // combined reactive energy 2, varh, signed
	Power              Quantity = "power"                 // total active power, W, export negative
	ReactivePower      Quantity = "reactive_power"        // total reactive power, var
	ApparentPower      Quantity = "apparent_power"        // total apparent power, VA
	PowerFactor        Quantity = "power_factor"          // total power factor, dimensionless
	Frequency          Quantity = "frequency"             // grid frequency, Hz
	RelayOpen          Quantity = "relay_open"            // 1 = supply relay open (off), 0 = closed
	ClockBatteryLow    Quantity = "clock_battery_low"     // 1 = low
	ReadingBatteryLow  Quantity = "reading_battery_low"   // 1 = low
	PowerReversed      Quantity = "power_reversed"        // 1 = active power flows to the grid
	PowerDownCount     Quantity = "power_down_count"      // number of power-downs the meter recorded
	LastPowerDownStart Quantity = "last_power_down_start" // Unix seconds of the most recent power-down start
	LastPowerDownEnd   Quantity = "last_power_down_end"   // Unix seconds of its end
	MeterTimeOffset    Quantity = "meter_time_offset"     // meter clock minus gateway clock, s
)

// Quantities of HAN devices (gas and water meters, appliances, storage).
const (
	GasVolume          Quantity = "gas_volume"          // cumulative gas volume register, m3
	WaterVolume        Quantity = "water_volume"        // cumulative water volume register, m3
	GeneratedEnergy    Quantity = "energy_generated"    // cumulative generated energy, Wh
	ChargeEnergy       Quantity = "energy_charge"       // cumulative energy charged into storage, Wh
	DischargeEnergy    Quantity = "energy_discharge"    // cumulative energy discharged from storage, Wh
	GeneratedPower     Quantity = "power_generated"     // instantaneous generated power, W, positive
	Temperature        Quantity = "temperature"         // measured (room) temperature, °C
	SetTemperature     Quantity = "set_temperature"     // thermostat setpoint, °C
	OutdoorTemperature Quantity = "outdoor_temperature" // measured outdoor temperature, °C
	Humidity           Quantity = "humidity"            // relative humidity, %
	StateOfCharge      Quantity = "state_of_charge"     // storage remaining capacity, %
	RemainingWater     Quantity = "hot_water_remaining" // hot water left in the tank, L
	Operating          Quantity = "operating"           // 1 = the appliance is on, 0 = off
)

// Phase returns the per-phase variant of a base quantity, e.g.
// Phase("voltage", 1) = "voltage_l1".
func Phase(base string, phase int) Quantity {
	return Quantity(base + "_l" + string(rune('0'+phase)))
}

// Tariff returns the per-tariff variant of an energy register, e.g.
// Tariff(ImportEnergy, 2) = "energy_import_t2".
func Tariff(q Quantity, tariff int) Quantity {
	return Quantity(string(q) + "_t" + string(rune('0'+tariff)))
}

// Unit returns the SI unit symbol of q ("" for dimensionless values and flags).
func (q Quantity) Unit() string {
	s := string(q)
	has := func(p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
	switch {
	case has("energy_reactive"):
		return "varh"
	case has("energy_"):
		return "Wh"
	case has("reactive_power"):
		return "var"
	case has("apparent_power"):
		return "VA"
	case has("power_factor"), has("power_reversed"), has("power_down_count"):
		return ""
	case has("power"):
		return "W"
	case has("voltage"):
		return "V"
	case has("current"):
		return "A"
	case has("frequency"):
		return "Hz"
	case has("meter_time_offset"), has("last_power_down"):
		return "s"
	case has("gas_volume"), has("water_volume"):
		return "m3"
	case has("temperature"), has("set_temperature"), has("outdoor_temperature"):
		return "°C"
	case has("humidity"), has("state_of_charge"):
		return "%"
	case has("hot_water_remaining"):
		return "L"
	}
	return ""
}

// IsCounter reports whether q is a cumulative register (consumption is a
// difference of two readings). Counters wrap; the driver that reads one
// knows its wrap size.
func (q Quantity) IsCounter() bool {
	switch q.Unit() {
	case "Wh", "varh", "m3":
		return true
	}
	return q == PowerDownCount
}
