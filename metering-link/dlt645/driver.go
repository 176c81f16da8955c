package dlt645

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// Driver implements meteringlink.Driver for DL/T 645-2007 meters.
type Driver struct {
	client Client
	auto   bool
	loc    *time.Location
	now    func() time.Time

	// unsupported remembers DIs the meter answered "no requested data",
	// with when; they are probed again after reprobeAfter.
	unsupported map[DI]time.Time
}

var _ meteringlink.Driver = (*Driver)(nil)

// Options configure a Driver.
type Options struct {
	// Address is the 12-digit meter address, or "" / "auto" to read it with
	// read-address (0x13, all-AA) after every open.
	Address string
	// Baud of the line (default 2400).
	Baud            int
	ResponseTimeout time.Duration
	ByteTimeout     time.Duration
	// Location of the meter's wall clock (default time.Local).
	Location *time.Location
	// Now is the gateway clock (default time.Now).
	Now func() time.Time
}

const reprobeAfter = 6 * time.Hour

// New returns a driver.
func New(o Options) (*Driver, error) {
	if o.Baud == 0 {
		o.Baud = 2400
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &Driver{
		client: Client{
			Addr:            Wildcard,
			Mode:            serialport.Mode8E1(o.Baud),
			ResponseTimeout: o.ResponseTimeout,
			ByteTimeout:     o.ByteTimeout,
			Preamble:        4,
		},
		loc:         o.Location,
		now:         o.Now,
		unsupported: map[DI]time.Time{},
	}
	d.client.defaults()
	if o.Address == "" || o.Address == "auto" {
		d.auto = true
	} else {
		a, err := ParseAddress(o.Address)
		if err != nil {
			return nil, err
		}
		if !a.Valid() {
			return nil, fmt.Errorf("dlt645: address %q: wildcards are not a meter address", o.Address)
		}
		d.client.Addr = a
	}
	return d, nil
}

// Protocol returns "dlt645".
func (d *Driver) Protocol() string { return "dlt645" }

// Mode returns 8E1 at the configured baud.
func (d *Driver) Mode() serialport.Mode { return d.client.Mode }

// Identify reads the meter address when configured as auto.
func (d *Driver) Identify(ctx context.Context, c *serialport.Conn) (string, error) {
	if !d.auto {
		return d.client.Addr.String(), nil
	}
	a, err := d.client.ReadAddress(ctx, c)
	if err != nil {
		return "", err
	}
	d.client.Addr = a
	return a.String(), nil
}

func (d *Driver) isUnsupported(di DI) bool {
	t, ok := d.unsupported[di]
	if !ok {
		return false
	}
	if d.now().Sub(t) > reprobeAfter {
		delete(d.unsupported, di)
		return false
	}
	return true
}

// read reads di; ok is false (with a nil error) when the meter does not
// provide it.
func (d *Driver) read(ctx context.Context, c *serialport.Conn, di DI, extra ...byte) (data []byte, ok bool, err error) {
	if d.isUnsupported(di) {
		return nil, false, nil
	}
	data, err = d.client.Read(ctx, c, di, extra...)
	var er *ErrorReply
	if errors.As(err, &er) {
		// The link works; the meter lacks (or refuses) this DI.
		d.unsupported[di] = d.now()
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// readUncached reads di like read but does not remember a missing DI (for
// freeze indexes, whose meaning shifts as new freezes happen).
func (d *Driver) readUncached(ctx context.Context, c *serialport.Conn, di DI) ([]byte, bool, error) {
	data, err := d.client.Read(ctx, c, di)
	var er *ErrorReply
	if errors.As(err, &er) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// readSpec reads a numeric DI and adds its values to res; ok is false when
// the meter does not provide it. A malformed value is a link failure.
func (d *Driver) readSpec(ctx context.Context, c *serialport.Conn, di DI, res *meteringlink.Result) (bool, error) {
	s, found := Lookup(di)
	if !found {
		return false, fmt.Errorf("dlt645: DI %s not in table", di)
	}
	data, ok, err := d.read(ctx, c, di)
	if err != nil || !ok {
		return ok, err
	}
	vals, err := DecodeValues(s, data)
	if err != nil {
		return false, err
	}
	for i, v := range vals {
		if q := s.Quantities[i]; q != "" {
			res.Values = append(res.Values, meteringlink.Value{Quantity: q, Value: v})
		}
	}
	return true, nil
}

// readBlock reads a block DI, falling back to its single DIs when the meter
// does not provide the block. Singles it lacks are marked unavailable.
func (d *Driver) readBlock(ctx context.Context, c *serialport.Conn, block DI, singles []DI, res *meteringlink.Result) error {
	ok, err := d.readSpec(ctx, c, block, res)
	if err != nil || ok {
		return err
	}
	for _, di := range singles {
		ok, err := d.readSpec(ctx, c, di, res)
		if err != nil {
			return err
		}
		if !ok {
			s, _ := Lookup(di)
			res.Unavailable = append(res.Unavailable, s.Quantities...)
		}
	}
	return nil
}

func tariffDIs(total DI) []DI {
	return []DI{total, total | 0x0100, total | 0x0200, total | 0x0300, total | 0x0400}
}

// Poll reads the groups in g with block DIs where possible.
func (d *Driver) Poll(ctx context.Context, c *serialport.Conn, g meteringlink.Group) (meteringlink.Result, error) {
	var res meteringlink.Result
	type step struct {
		group   meteringlink.Group
		block   DI
		singles []DI
	}
	steps := []step{
		{meteringlink.GroupInstant, DIPowerBlock, []DI{DIPowerTotal, 0x02030100, 0x02030200, 0x02030300}},
		{meteringlink.GroupInstant, DIVoltageBlock, []DI{0x02010100, 0x02010200, 0x02010300}},
		{meteringlink.GroupInstant, DICurrentBlock, []DI{0x02020100, 0x02020200, 0x02020300}},
		{meteringlink.GroupInstant, DIPFBlock, []DI{0x02060000}},
		{meteringlink.GroupInstant, DIFrequency, nil},
		{meteringlink.GroupEnergy, DIForwardBlock, tariffDIs(DIForwardActive)},
		{meteringlink.GroupEnergy, DIReverseBlock, tariffDIs(DIReverseActive)},
		{meteringlink.GroupEnergy, DICombinedActive, nil},
		{meteringlink.GroupEnergy, DICombinedReact1, nil},
		{meteringlink.GroupEnergy, DICombinedReact2, nil},
		{meteringlink.GroupStatus, DIReactiveBlock, []DI{0x02040000}},
		{meteringlink.GroupStatus, DIApparentBlock, []DI{0x02050000}},
		{meteringlink.GroupEvents, DIPowerDownCount, nil},
	}
	for _, st := range steps {
		if !g.Has(st.group) {
			continue
		}
		if st.singles == nil {
			ok, err := d.readSpec(ctx, c, st.block, &res)
			if err != nil {
				return res, err
			}
			if !ok {
				s, _ := Lookup(st.block)
				res.Unavailable = append(res.Unavailable, s.Quantities...)
			}
			continue
		}
		if err := d.readBlock(ctx, c, st.block, st.singles, &res); err != nil {
			return res, err
		}
	}
	if g.Has(meteringlink.GroupStatus) {
		if err := d.pollStatus(ctx, c, &res); err != nil {
			return res, err
		}
	}
	if g.Has(meteringlink.GroupClock) {
		if err := d.pollClock(ctx, c, &res); err != nil {
			return res, err
		}
	}
	if g.Has(meteringlink.GroupEvents) {
		if err := d.pollPowerDown(ctx, c, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func word(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func flag(v uint16, bit uint) energy.Decimal {
	return energy.D(int64(v>>bit&1), 0)
}

func (d *Driver) pollStatus(ctx context.Context, c *serialport.Conn, res *meteringlink.Result) error {
	statusQs := []energy.Quantity{energy.ClockBatteryLow, energy.ReadingBatteryLow, energy.PowerReversed}
	var w1, w3 []byte
	data, ok, err := d.read(ctx, c, DIStatusBlock)
	if err != nil {
		return err
	}
	if ok {
		if len(data) < 6 {
			return fmt.Errorf("dlt645: status block: %w: %d bytes", ErrLength, len(data))
		}
		w1, w3 = data[0:2], data[4:6]
	} else {
		if w1, ok, err = d.read(ctx, c, DIStatus1); err != nil {
			return err
		}
		if !ok {
			w1 = nil
		}
		if w3, ok, err = d.read(ctx, c, DIStatus3); err != nil {
			return err
		}
		if !ok {
			w3 = nil
		}
	}
	if w1 != nil {
		if len(w1) != 2 {
			return fmt.Errorf("dlt645: status word 1: %w", ErrLength)
		}
		v := word(w1)
		res.Values = append(res.Values,
			meteringlink.Value{Quantity: energy.ClockBatteryLow, Value: flag(v, 2)},
			meteringlink.Value{Quantity: energy.ReadingBatteryLow, Value: flag(v, 3)},
			meteringlink.Value{Quantity: energy.PowerReversed, Value: flag(v, 4)})
	} else {
		res.Unavailable = append(res.Unavailable, statusQs...)
	}
	if w3 != nil {
		if len(w3) != 2 {
			return fmt.Errorf("dlt645: status word 3: %w", ErrLength)
		}
		res.Values = append(res.Values, meteringlink.Value{Quantity: energy.RelayOpen, Value: flag(word(w3), 4)})
	} else {
		res.Unavailable = append(res.Unavailable, energy.RelayOpen)
	}
	return nil
}

func (d *Driver) pollClock(ctx context.Context, c *serialport.Conn, res *meteringlink.Result) error {
	date, okD, err := d.read(ctx, c, DIDate)
	if err != nil {
		return err
	}
	clk, okT, err := d.read(ctx, c, DITime)
	if err != nil {
		return err
	}
	at := d.now()
	if !okD || !okT {
		res.Unavailable = append(res.Unavailable, energy.MeterTimeOffset)
		return nil
	}
	since, err := DecodeClock(clk)
	if err != nil {
		return fmt.Errorf("dlt645: read %s: %w", DITime, err)
	}
	if since < 5*time.Second {
		// The date may have been read before midnight: read it again.
		if date, okD, err = d.read(ctx, c, DIDate); err != nil || !okD {
			return err
		}
	}
	day, err := DecodeDate(date, d.loc)
	if err != nil {
		return fmt.Errorf("dlt645: read %s: %w", DIDate, err)
	}
	// The time reply left the meter ~its length before `at`; the meter
	// truncates to whole seconds, so the mean error is +0.5 s.
	reply := d.client.Mode.TxTime(12 + 4 + 3)
	res.MeterTime = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, d.loc).Add(since + 500*time.Millisecond)
	res.MeterTimeAt = at.Add(-reply)
	return nil
}

func (d *Driver) pollPowerDown(ctx context.Context, c *serialport.Conn, res *meteringlink.Result) error {
	data, ok, err := d.read(ctx, c, DIPowerDownRecord1)
	if err != nil {
		return err
	}
	if !ok {
		res.Unavailable = append(res.Unavailable, energy.LastPowerDownStart, energy.LastPowerDownEnd)
		return nil
	}
	if len(data) != 12 {
		return fmt.Errorf("dlt645: read %s: %w: %d bytes", DIPowerDownRecord1, ErrLength, len(data))
	}
	// An all-zero record means "no power-down recorded yet".
	if allZero(data) {
		return nil
	}
	start, err := DecodeStamp6(data[0:6], d.loc)
	if err != nil {
		return fmt.Errorf("dlt645: read %s: %w", DIPowerDownRecord1, err)
	}
	res.Values = append(res.Values, meteringlink.Value{Quantity: energy.LastPowerDownStart, Value: energy.D(start.Unix(), 0)})
	if !allZero(data[6:12]) {
		end, err := DecodeStamp6(data[6:12], d.loc)
		if err != nil {
			return fmt.Errorf("dlt645: read %s: %w", DIPowerDownRecord1, err)
		}
		res.Values = append(res.Values, meteringlink.Value{Quantity: energy.LastPowerDownEnd, Value: energy.D(end.Unix(), 0)})
	}
	return nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// loadChunk is the number of load-profile records asked for per request.
const loadChunk = 24

// History backfills energy registers from the load profile (class 4), or
// from hourly freezes where the meter keeps no load profile.
func (d *Driver) History(ctx context.Context, c *serialport.Conn, from, to time.Time, max int) ([]meteringlink.Record, error) {
	if max <= 0 {
		max = loadChunk
	}
	recs, err := d.loadProfile(ctx, c, from, to, max)
	if !errors.Is(err, meteringlink.ErrNotSupported) {
		return recs, err
	}
	return d.hourlyFreezes(ctx, c, from, to, max)
}

func (d *Driver) loadProfile(ctx context.Context, c *serialport.Conn, from, to time.Time, max int) ([]meteringlink.Record, error) {
	start := from.In(d.loc).Truncate(time.Minute).Add(time.Minute)
	n := min(max, loadChunk)
	extra := append([]byte{byte(n)}, EncodeLoadStart(start)...)
	if d.isUnsupported(DILoadProfile4) {
		return nil, meteringlink.ErrNotSupported
	}
	data, err := d.client.Read(ctx, c, DILoadProfile4, extra...)
	var er *ErrorReply
	if errors.As(err, &er) {
		if d.hasLoadProfile(ctx, c) {
			return nil, nil // the meter keeps a profile, just nothing after `from`
		}
		d.unsupported[DILoadProfile4] = d.now()
		return nil, meteringlink.ErrNotSupported
	}
	if err != nil {
		return nil, err
	}
	lr, err := DecodeLoadRecords(data, d.loc)
	if err != nil {
		return nil, fmt.Errorf("dlt645: read %s: %w", DILoadProfile4, err)
	}
	var out []meteringlink.Record
	for _, r := range lr {
		if !r.Time.After(from) || r.Time.After(to) {
			continue
		}
		out = append(out, meteringlink.Record{Time: r.Time, Values: []meteringlink.Value{
			{Quantity: energy.ImportEnergy, Value: energy.D(r.Forward, 1), Measured: r.Time},
			{Quantity: energy.ExportEnergy, Value: energy.D(r.Reverse, 1), Measured: r.Time},
			{Quantity: energy.ReactiveEnergy1, Value: energy.D(r.Reactive1, 1), Measured: r.Time},
			{Quantity: energy.ReactiveEnergy2, Value: energy.D(r.Reactive2, 1), Measured: r.Time},
		}})
	}
	return out, nil
}

// hasLoadProfile distinguishes "no records after this time" from "no load
// profile at all" by asking for the newest record of the last day.
func (d *Driver) hasLoadProfile(ctx context.Context, c *serialport.Conn) bool {
	extra := append([]byte{1}, EncodeLoadStart(d.now().In(d.loc).Add(-24*time.Hour))...)
	_, err := d.client.Read(ctx, c, DILoadProfile4, extra...)
	return err == nil
}

// maxFreezes is how many hourly freezes a meter keeps at most (DI0 01..FE).
const maxFreezes = 254

func (d *Driver) hourlyFreezes(ctx context.Context, c *serialport.Conn, from, to time.Time, max int) ([]meteringlink.Record, error) {
	var out []meteringlink.Record
	for n := 1; n <= maxFreezes && len(out) < max; n++ {
		stamp, ok, err := d.readUncached(ctx, c, DIHourlyFreezeTime&^0xFF|DI(n))
		if err != nil {
			return nil, err
		}
		if !ok {
			if n == 1 {
				return nil, meteringlink.ErrNotSupported
			}
			break
		}
		t, err := DecodeStamp5(stamp, d.loc)
		if err != nil {
			return nil, fmt.Errorf("dlt645: hourly freeze %d: %w", n, err)
		}
		if !t.After(from) {
			break
		}
		if t.After(to) {
			continue
		}
		rec := meteringlink.Record{Time: t}
		for _, base := range []DI{DIHourlyFwd, DIHourlyRev} {
			di := base&^0xFF | DI(n)
			data, ok, err := d.readUncached(ctx, c, di)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			s, _ := Lookup(di)
			vals, err := DecodeValues(s, data)
			if err != nil {
				return nil, err
			}
			rec.Values = append(rec.Values, meteringlink.Value{Quantity: s.Quantities[0], Value: vals[0], Measured: t})
		}
		out = append(out, rec)
	}
	// Oldest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// SyncClock sends a broadcast time sync with t on the meter's wall clock.
func (d *Driver) SyncClock(ctx context.Context, c *serialport.Conn, t time.Time) error {
	return d.client.BroadcastTime(ctx, c, t.In(d.loc))
}
