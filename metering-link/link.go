package meteringlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// Health condition codes this package raises.
const (
	CondLinkDown = "meter_link_down"
	CondClockOff = "meter_clock_off"
)

// HealthReporter is the narrow health interface the link needs.
type HealthReporter interface {
	Set(code, message string)
	Clear(code string)
}

// CheckpointState is what the link needs to remember across restarts.
type CheckpointState struct {
	// LastLegal is the meter time of the newest legal energy reading.
	LastLegal time.Time `json:"last_legal"`
	// LastSync is when the meter clock was last set.
	LastSync time.Time `json:"last_sync"`
}

// Checkpoint persists CheckpointState (storage implements it; the daemon
// has a small-file fallback). Save is called rarely (every 15 min and on
// shutdown) to spare the flash.
type Checkpoint interface {
	Load() (CheckpointState, error)
	Save(CheckpointState) error
}

// Options configure a Link.
type Options struct {
	Driver Driver
	// Path of the serial device; it is reopened by path after any failure.
	Path string
	// Open opens the port (default serialport.Open).
	Open serialport.Opener
	// Interval of instantaneous polls (default 1 s).
	Interval  time.Duration
	Clock     energy.Clock
	Publisher energy.Publisher
	Health    HealthReporter
	Log       *slog.Logger
	// Device is the meter's device ID (default "meter").
	Device energy.DeviceID
	// TimeSync enables broadcast time sync.
	TimeSync   bool
	Checkpoint Checkpoint
	// Started is the process start, for the "first legal reading" figure.
	Started time.Time
	// MaxBackoff caps the wait between reopen attempts (default 5 s).
	MaxBackoff time.Duration
	// Alive, if set, is called on every poll and every reopen attempt:
	// the watchdog's proof that this loop makes progress.
	Alive func()
}

// Link runs the poll plan against one meter.
type Link struct {
	o Options

	mu          sync.Mutex
	address     string
	linkUp      bool
	values      map[energy.Quantity]energy.Sample
	unavailable map[energy.Quantity]bool
	offset      time.Duration
	offsetKnown bool
	cp          CheckpointState
	cpSaved     time.Time
	// lastMinute is the newest live minute freeze of this process.
	lastMinute time.Time
	first      bool

	failures int
	backfill *gap
	bfWarned bool
}

type gap struct{ from, to time.Time }

var _ energy.MeterView = (*Link)(nil)

// New returns a link; Run starts it.
func New(o Options) (*Link, error) {
	if o.Driver == nil {
		return nil, errors.New("meteringlink: no driver")
	}
	if o.Path == "" {
		return nil, errors.New("meteringlink: no port path")
	}
	if o.Open == nil {
		o.Open = serialport.Open
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Clock == nil {
		o.Clock = energy.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Device == "" {
		o.Device = "meter"
	}
	if o.Alive == nil {
		o.Alive = func() {}
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	return &Link{o: o, values: map[energy.Quantity]energy.Sample{}, unavailable: map[energy.Quantity]bool{}}, nil
}

// MeterStatus returns a snapshot of the last known values.
func (l *Link) MeterStatus() energy.MeterStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := energy.MeterStatus{
		Device: l.o.Device, Protocol: l.o.Driver.Protocol(), Address: l.address, LinkUp: l.linkUp,
		Values:      make(map[energy.Quantity]energy.Sample, len(l.values)),
		Unavailable: make(map[energy.Quantity]bool, len(l.unavailable)),
	}
	for q, s := range l.values {
		st.Values[q] = s
	}
	for q := range l.unavailable {
		st.Unavailable[q] = true
	}
	return st
}

// Run polls until ctx is done. It returns nil on cancellation.
func (l *Link) Run(ctx context.Context) error {
	if l.o.Checkpoint != nil {
		cp, err := l.o.Checkpoint.Load()
		if err != nil {
			l.o.Log.Warn("meter checkpoint unreadable; gaps before this start cannot be backfilled", "err", err)
		}
		l.cp = cp
	}
	defer l.saveCheckpoint(true)
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		l.o.Alive()
		err := l.session(ctx)
		if ctx.Err() != nil {
			break
		}
		l.fail(err)
		if err := l.sleep(ctx, backoff); err != nil {
			break
		}
		if l.failures <= 1 {
			// The session before this failure worked: start over.
			backoff = 250 * time.Millisecond
		} else {
			backoff = min(backoff*2, l.o.MaxBackoff)
		}
	}
	l.mu.Lock()
	l.linkUp = false
	l.mu.Unlock()
	return nil
}

func (l *Link) sleep(ctx context.Context, d time.Duration) error {
	t := l.o.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// fail counts one failed transaction (or open).
func (l *Link) fail(err error) {
	l.failures++
	l.o.Log.Debug("meter transaction failed", "err", err, "consecutive", l.failures)
	if l.failures == 3 {
		l.mu.Lock()
		l.linkUp = false
		l.mu.Unlock()
		if l.o.Health != nil {
			l.o.Health.Set(CondLinkDown, fmt.Sprintf("no answer from the meter on %s: %v", l.o.Path, err))
		}
		l.o.Log.Warn("meter link down", "port", l.o.Path, "err", err)
		// Values keep their freshness bound; a new gap starts here.
	}
}

func (l *Link) succeed() {
	if l.failures >= 3 {
		if l.o.Health != nil {
			l.o.Health.Clear(CondLinkDown)
		}
		l.o.Log.Info("meter link up again", "port", l.o.Path)
	}
	l.failures = 0
	l.mu.Lock()
	l.linkUp = true
	l.mu.Unlock()
}

// session opens the port and polls until a failure or ctx is done.
func (l *Link) session(ctx context.Context) error {
	port, err := l.o.Open(l.o.Path, l.o.Driver.Mode())
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		// Closing the port is what unblocks a pending read on cancel.
		<-sctx.Done()
		port.Close()
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()
	conn := serialport.NewConn(port)
	addr, err := l.o.Driver.Identify(sctx, conn)
	if err != nil {
		return err
	}
	l.succeed()
	l.mu.Lock()
	if l.address != addr {
		l.o.Log.Info("meter identified", "protocol", l.o.Driver.Protocol(), "address", addr, "port", l.o.Path)
	}
	l.address = addr
	l.mu.Unlock()

	// Instantaneous values first: the first legal reading comes one
	// transaction after identification; the other groups follow at once.
	now := l.o.Clock.Now()
	groups := GroupInstant
	var nextInstant time.Time
	nextMinute, nextEvents := now, now
	firstEnergy := true
	for {
		l.o.Alive()
		res, err := l.o.Driver.Poll(sctx, conn, groups)
		at := l.o.Clock.Now()
		l.apply(res, groups, at, firstEnergy)
		if err != nil {
			return err
		}
		l.succeed()
		if groups.Has(GroupEnergy) {
			l.noteLegal(at, firstEnergy)
			firstEnergy = false
		}
		if groups.Has(GroupClock) {
			if err := l.checkClock(sctx, conn); err != nil {
				return err
			}
		}
		// Schedule.
		now = l.o.Clock.Now()
		if groups.Has(GroupInstant) {
			nextInstant = nextTick(at, l.o.Interval)
		}
		if groups.Has(GroupEnergy) {
			nextMinute = l.nextMeterMinute(now)
		}
		if groups.Has(GroupEvents) {
			nextEvents = nextTick(now, 15*time.Minute)
		}
		// Use idle time before the next tick for backfill.
		if err := l.backfillStep(sctx, conn, minTime(nextInstant, nextMinute)); err != nil {
			return err
		}
		wake := minTime(nextInstant, minTime(nextMinute, nextEvents))
		if d := wake.Sub(l.o.Clock.Now()); d > 0 {
			if err := l.sleep(sctx, d); err != nil {
				return nil
			}
		}
		now = l.o.Clock.Now()
		groups = 0
		if !now.Before(nextInstant) {
			groups |= GroupInstant
		}
		if !now.Before(nextMinute) {
			groups |= GroupEnergy | GroupStatus | GroupClock
		}
		if !now.Before(nextEvents) {
			groups |= GroupEvents
		}
		if groups == 0 {
			groups = GroupInstant
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// nextTick returns the next multiple of every after t.
func nextTick(t time.Time, every time.Duration) time.Time {
	return t.Truncate(every).Add(every)
}

// nextMeterMinute is the gateway time just after the meter's clock next
// turns a minute (150 ms guard so the meter has rolled its registers).
func (l *Link) nextMeterMinute(now time.Time) time.Time {
	l.mu.Lock()
	off := l.offset
	l.mu.Unlock()
	meterNext := now.Add(off).Truncate(time.Minute).Add(time.Minute)
	return meterNext.Add(-off).Add(150 * time.Millisecond)
}

// maxAge returns the freshness bound of a quantity polled with group g.
func (l *Link) maxAge(g Group) time.Duration {
	switch g {
	case GroupInstant:
		return 3*l.o.Interval + 5*time.Second
	case GroupEvents:
		return 45 * time.Minute
	}
	return 3 * time.Minute
}

func groupOf(q energy.Quantity) Group {
	switch {
	case q.IsCounter() && q != energy.PowerDownCount:
		return GroupEnergy
	case q == energy.PowerDownCount || q == energy.LastPowerDownStart || q == energy.LastPowerDownEnd:
		return GroupEvents
	case q == energy.RelayOpen || q == energy.ClockBatteryLow || q == energy.ReadingBatteryLow || q == energy.PowerReversed ||
		q == energy.MeterTimeOffset || q.Unit() == "var" || q.Unit() == "VA":
		return GroupStatus
	}
	return GroupInstant
}

// apply records a poll result and publishes its readings.
func (l *Link) apply(res Result, groups Group, at time.Time, initial bool) {
	l.mu.Lock()
	if !res.MeterTime.IsZero() {
		l.offset = res.MeterTime.Sub(res.MeterTimeAt)
		l.offsetKnown = true
	}
	off := l.offset
	known := l.offsetKnown
	for _, q := range res.Unavailable {
		l.unavailable[q] = true
		delete(l.values, q)
	}
	rs := make([]energy.Reading, 0, len(res.Values)+1)
	minute := groups.Has(GroupEnergy) && !initial
	for _, v := range res.Values {
		measured := v.Measured
		if measured.IsZero() {
			measured = at.Add(off)
		}
		delete(l.unavailable, v.Quantity)
		l.values[v.Quantity] = energy.Sample{Value: v.Value, Measured: measured, Received: at, Legal: true, MaxAge: l.maxAge(groupOf(v.Quantity))}
		rs = append(rs, energy.Reading{
			Device: l.o.Device, Quantity: v.Quantity, Value: v.Value, Measured: measured, Received: at,
			Legal: true, Minute: minute && groupOf(v.Quantity) == GroupEnergy, Source: l.o.Driver.Protocol(),
		})
	}
	if !res.MeterTime.IsZero() && known {
		v := energy.D(off.Milliseconds(), -3)
		l.values[energy.MeterTimeOffset] = energy.Sample{Value: v, Measured: at.Add(off), Received: at, MaxAge: l.maxAge(GroupStatus)}
	}
	first := !l.first && len(rs) > 0
	if first {
		l.first = true
	}
	l.mu.Unlock()
	if first {
		args := []any{"quantities", len(rs)}
		if !l.o.Started.IsZero() {
			args = append(args, "since_start", time.Since(l.o.Started).Round(time.Millisecond).String())
		}
		l.o.Log.Info("first legal reading", args...)
	}
	l.publish(rs)
}

func (l *Link) publish(rs []energy.Reading) {
	if l.o.Publisher == nil || len(rs) == 0 {
		return
	}
	if err := l.o.Publisher.Publish(rs); err != nil {
		l.o.Log.Warn("readings not delivered", "err", err, "count", len(rs))
	}
}

// noteLegal handles a legal energy read at gateway time at. LastLegal is
// the newest minute freeze the link published (read live or backfilled),
// so a gap is always measured from data that exists. The first energy read
// of a session is not a freeze: it opens a backfill from LastLegal, or,
// on a first start, from up to firstStartHistory back (the meter's own
// records become history too).
func (l *Link) noteLegal(at time.Time, initial bool) {
	l.mu.Lock()
	meterNow := at.Add(l.offset)
	prev := l.lastMinute
	if initial {
		prev = l.cp.LastLegal
	} else {
		l.lastMinute = meterNow
		if l.backfill == nil {
			// Complete up to here: nothing is pending before it.
			l.cp.LastLegal = meterNow
		}
	}
	l.mu.Unlock()
	var gapped bool
	if initial {
		if prev.IsZero() {
			prev = meterNow.Add(-firstStartHistory)
		}
		gapped = meterNow.Truncate(time.Minute).After(prev.Truncate(time.Minute))
	} else {
		gapped = !prev.IsZero() && meterNow.Sub(prev) > 90*time.Second
	}
	if gapped {
		from := prev
		if meterNow.Sub(from) > 7*24*time.Hour {
			from = meterNow.Add(-7 * 24 * time.Hour)
		}
		if l.backfill != nil && l.backfill.from.Before(from) {
			from = l.backfill.from
		}
		l.backfill = &gap{from: from, to: meterNow}
		l.o.Log.Info("gap in legal readings; backfilling from the meter's records", "from", from, "to", meterNow)
	}
	if !initial {
		l.saveCheckpoint(false)
	}
}

// firstStartHistory is how much of the meter's own history a gateway
// takes over when it starts with no history at all.
const firstStartHistory = 24 * time.Hour

func (l *Link) saveCheckpoint(force bool) {
	if l.o.Checkpoint == nil {
		return
	}
	now := l.o.Clock.Now()
	if !force && now.Sub(l.cpSaved) < 15*time.Minute {
		return
	}
	l.mu.Lock()
	cp := l.cp
	l.mu.Unlock()
	if cp.LastLegal.IsZero() {
		return
	}
	// The saved time must not claim more than was published: a crash after
	// the save loses nothing the meter cannot give back.
	if err := l.o.Checkpoint.Save(cp); err != nil {
		l.o.Log.Warn("meter checkpoint not saved", "err", err)
		return
	}
	l.cpSaved = now
}

// backfillStep reads one chunk of a pending gap if there is time before
// the next tick.
func (l *Link) backfillStep(ctx context.Context, c *serialport.Conn, next time.Time) error {
	g := l.backfill
	if g == nil {
		return nil
	}
	// A chunk of 24 records is ~4 frames: ~1 s at 2400 baud. Don't let it
	// delay the instantaneous poll by more than one interval.
	if next.Sub(l.o.Clock.Now()) < l.o.Interval/2 && l.o.Interval >= time.Second {
		return nil
	}
	recs, err := l.o.Driver.History(ctx, c, g.from, g.to, 24)
	if errors.Is(err, ErrNotSupported) {
		if !l.bfWarned {
			l.o.Log.Warn("meter keeps no history; gap cannot be backfilled", "from", g.from, "to", g.to)
			l.bfWarned = true
		}
		l.backfillDone()
		return nil
	}
	if err != nil {
		return err
	}
	l.succeed()
	if len(recs) == 0 {
		l.o.Log.Info("backfill done", "until", g.from)
		l.backfillDone()
		return nil
	}
	at := l.o.Clock.Now()
	var rs []energy.Reading
	for _, r := range recs {
		for _, v := range r.Values {
			m := v.Measured
			if m.IsZero() {
				m = r.Time
			}
			rs = append(rs, energy.Reading{
				Device: l.o.Device, Quantity: v.Quantity, Value: v.Value, Measured: m, Received: at,
				Legal: true, Backfilled: true, Minute: true, Source: l.o.Driver.Protocol(),
			})
		}
		if r.Time.After(g.from) {
			g.from = r.Time
		}
	}
	l.publish(rs)
	// The checkpoint advances with the backfill: everything before
	// g.from is complete. Once done, it jumps to the newest live freeze.
	l.mu.Lock()
	if g.from.After(l.cp.LastLegal) {
		l.cp.LastLegal = g.from
	}
	l.mu.Unlock()
	if !g.from.Before(g.to) {
		l.o.Log.Info("backfill done", "until", g.to)
		l.backfillDone()
	}
	return nil
}

func (l *Link) backfillDone() {
	l.backfill = nil
	l.mu.Lock()
	if l.lastMinute.After(l.cp.LastLegal) {
		l.cp.LastLegal = l.lastMinute
	}
	l.mu.Unlock()
}

// checkClock applies the time-sync policy after a clock read.
func (l *Link) checkClock(ctx context.Context, c *serialport.Conn) error {
	l.mu.Lock()
	off, known := l.offset, l.offsetKnown
	last := l.cp.LastSync
	l.mu.Unlock()
	if !known {
		return nil
	}
	abs := off
	if abs < 0 {
		abs = -abs
	}
	switch {
	case abs <= 2*time.Second:
		if l.o.Health != nil {
			l.o.Health.Clear(CondClockOff)
		}
		return nil
	case abs >= 5*time.Minute:
		if l.o.Health != nil {
			l.o.Health.Set(CondClockOff, fmt.Sprintf("meter clock is off by %s; time sync corrects only offsets under 5 min: check the meter", off.Round(time.Second)))
		}
		return nil
	}
	now := l.o.Clock.Now()
	if !l.o.TimeSync || (!last.IsZero() && now.Sub(last) < 24*time.Hour) {
		return nil
	}
	// Send so the frame completes on a whole second of the gateway clock.
	target := now.Truncate(time.Second).Add(time.Second)
	if d := target.Sub(now) - l.o.Driver.Mode().TxTime(22); d > 0 {
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
	if err := l.o.Driver.SyncClock(ctx, c, target); err != nil {
		if errors.Is(err, ErrNotSupported) {
			return nil
		}
		return err
	}
	l.o.Log.Info("meter clock set by broadcast time sync", "offset_was", off.Round(time.Millisecond).String())
	l.mu.Lock()
	l.cp.LastSync = now
	l.offset = 0
	l.mu.Unlock()
	l.saveCheckpoint(true)
	return nil
}
