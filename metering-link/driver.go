package meteringlink

import (
	"context"
	"errors"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// Group is a set of quantities polled on the same schedule.
type Group uint8

// Poll groups. A poll asks for the union of the groups that are due.
const (
	// GroupInstant: power, voltage, current, power factor, frequency; every interval.
	GroupInstant Group = 1 << iota
	// GroupEnergy: energy registers; at every minute boundary (the legal 1-minute freeze).
	GroupEnergy
	// GroupStatus: status words (relay, batteries, power direction); every minute.
	GroupStatus
	// GroupClock: the meter's date and time; every minute.
	GroupClock
	// GroupEvents: event counters and records (power-downs); every 15 minutes.
	GroupEvents

	GroupAll = GroupInstant | GroupEnergy | GroupStatus | GroupClock | GroupEvents
)

// Has reports whether g contains all of h.
func (g Group) Has(h Group) bool { return g&h == h }

// Value is one quantity read from the meter.
type Value struct {
	Quantity energy.Quantity
	Value    energy.Decimal
	// Measured is the meter's own timestamp for the value (freeze records);
	// zero means "now, on the meter clock".
	Measured time.Time
}

// Result is what one poll produced. Values read before a failure are kept.
type Result struct {
	Values []Value
	// Unavailable lists quantities the meter answered it does not provide.
	Unavailable []energy.Quantity
	// MeterTime is the meter clock as read during this poll (zero if not
	// read) and MeterTimeAt the gateway clock when it was read.
	MeterTime   time.Time
	MeterTimeAt time.Time
}

// Record is one historical register set the meter kept (load profile,
// hourly or daily freeze), stamped with the meter's time.
type Record struct {
	Time   time.Time
	Values []Value
}

// Errors drivers return.
var (
	// ErrNotSupported: the protocol or meter lacks the function.
	ErrNotSupported = errors.New("not supported by the meter")
)

// Driver speaks one meter protocol over a serial connection. It is used by
// one goroutine at a time. A transaction that fails at the link level
// (timeout, garbage, bad checksum, wrong address) makes the method return an
// error at once; the Link counts it, reopens the port and retries later.
// Error replies from the meter ("no requested data") are not link failures:
// they mark quantities unavailable.
type Driver interface {
	// Protocol is the config name: "dlt645" or "iec62056-21".
	Protocol() string
	// Mode is the character format to open the port with.
	Mode() serialport.Mode
	// Identify runs once after each (re)open and returns the meter's
	// 12-digit address.
	Identify(ctx context.Context, c *serialport.Conn) (string, error)
	// Poll reads the quantities of the groups in g at least.
	Poll(ctx context.Context, c *serialport.Conn, g Group) (Result, error)
	// History returns the energy records the meter kept with from < Time <=
	// to, oldest first, at most max of them; ErrNotSupported if it keeps none.
	History(ctx context.Context, c *serialport.Conn, from, to time.Time, max int) ([]Record, error)
	// SyncClock sets the meter clock to t by broadcast time sync, the only
	// write the gateway ever makes; ErrNotSupported where there is none.
	SyncClock(ctx context.Context, c *serialport.Conn, t time.Time) error
}
