package energy

import "time"

// Sample is the last known value of one quantity with its freshness bound.
type Sample struct {
	Value    Decimal
	Measured time.Time
	Received time.Time
	Legal    bool
	// MaxAge is the freshness bound: the value is stale once Received is
	// older than MaxAge. Zero means it never goes stale (e.g. a count).
	MaxAge time.Duration
}

// Stale reports whether the sample is older than its freshness bound at now.
func (s Sample) Stale(now time.Time) bool {
	return s.MaxAge > 0 && now.Sub(s.Received) > s.MaxAge
}

// MeterStatus is a consistent snapshot of the metrology core as the gateway
// sees it.
type MeterStatus struct {
	Device   DeviceID
	Protocol string // "dlt645" or "iec62056-21"
	Address  string // 12 digits once known, "" before
	LinkUp   bool
	// Values holds the last known value of each quantity the meter provides.
	Values map[Quantity]Sample
	// Unavailable lists quantities the meter said it does not provide.
	Unavailable map[Quantity]bool
}

// MeterView is the narrow interface consumers (web, HomeKit) use to see the
// metrology core.
type MeterView interface {
	MeterStatus() MeterStatus
}
