package energy

// Watt is active power in watts; positive is import from the grid (or
// consumption of a device), negative is export.
type Watt int64

// WattHour is energy in watt-hours. Registers are counters of WattHour.
type WattHour int64

// Litre is a volume of water or gas in litres.
type Litre int64
