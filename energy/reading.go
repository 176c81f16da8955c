package energy

import "time"

// DeviceID names a device uniquely within one gateway, e.g. "meter" for the
// legal metrology core or "wisun:gas:0102..." for a HAN device.
type DeviceID string

// Reading is one measured value.
type Reading struct {
	Device   DeviceID
	Quantity Quantity
	Value    Decimal
	// Measured is when the value was measured, on the meter's own clock where
	// the meter gives one (legal readings), else the gateway's receive time.
	Measured time.Time
	// Received is the gateway clock when the value arrived.
	Received time.Time
	// Legal is true only for values read from the metrology core's registers
	// as they were read; such readings are never modified afterwards.
	Legal bool
	// Backfilled is true for values recovered after a gap from records the
	// meter kept itself (load profile, hourly or daily freezes).
	Backfilled bool
	// Minute is true for the energy registers read at a minute boundary: the
	// 1-minute legal freeze that history is built from.
	Minute bool
	// Source names the protocol or driver that produced the reading.
	Source string
}

// Publisher accepts readings. The bus implements it; drivers depend on it.
type Publisher interface {
	// Publish hands over readings; it may block for backpressure until ctx
	// is done. The slice is not retained.
	Publish(rs []Reading) error
}
