package emul

import (
	"math"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// ModelConfig shapes the simulated household and meter.
type ModelConfig struct {
	// Phases is 1 or 3 (default 3).
	Phases int
	// ImportWh and ExportWh are the registers at start (defaults 12345670 Wh
	// and 2345670 Wh, so the demo does not start from zero).
	ImportWh, ExportWh int64
	// ClockOffset is how far the meter clock is ahead of true time at start.
	ClockOffset time.Duration
	// Location is the meter's wall-clock time zone (default time.Local).
	Location *time.Location
	// History is how much load-profile history exists at start (default
	// 24 h, at most Retain) and Retain how much is kept (default 7 days).
	History, Retain time.Duration
	// NoLoadProfile makes the meter keep hourly freezes only.
	NoLoadProfile bool
	// Seed varies the noise (default 1).
	Seed uint64
	// Extra, when set, adds the power in W of loads outside the base curve
	// (the demo's simulated appliances) at true time t. It is called with
	// the model's lock held and must not call back into the model.
	Extra func(t time.Time) int64
}

// State is the meter's registers and instantaneous values at one instant.
// Registers are in milli-units (mWh, mvarh) so every protocol can truncate to
// its own resolution; instantaneous values are in milli-units too.
type State struct {
	// MeterTime is the meter's clock.
	MeterTime time.Time
	// ImportMWh and ExportMWh: index 0 total, 1..4 tariffs (sharp, peak,
	// flat, valley).
	ImportMWh, ExportMWh [5]int64
	// Reactive1MVarh, Reactive2MVarh: combined reactive 1 and 2.
	Reactive1MVarh, Reactive2MVarh int64
	// PowerMW: total then phases A..C (signed, export negative).
	PowerMW [4]int64
	// ReactiveMVar, ApparentMVA: total then phases.
	ReactiveMVar, ApparentMVA [4]int64
	// PowerFactorMilli: total then phases (signed like power).
	PowerFactorMilli [4]int64
	VoltageMV        [3]int64
	CurrentMA        [3]int64 // signed like power
	FrequencyMHz     int64
	Phases           int
	RelayOpen        bool
	ClockBatteryLow  bool
	PowerDownCount   int64
	LastPowerDown    [2]time.Time // start, end (meter clock)
}

// Snapshot is a register set recorded at a meter-clock minute boundary.
type Snapshot struct {
	Time                 time.Time // meter clock, whole minute
	ImportMWh, ExportMWh int64     // totals
	Reactive1, Reactive2 int64     // mvarh
}

// Model is a household behind a meter: a deterministic load curve (base
// load, fridge cycles, cooking and evening peaks, PV export around noon) and
// registers that integrate it exactly, second by second, on the injected
// clock. It is safe for concurrent use.
type Model struct {
	clk energy.Clock
	cfg ModelConfig

	mu        sync.Mutex
	last      time.Time // true time the registers are integrated up to
	held      bool
	offset    time.Duration
	imp, exp  [5]int64 // W·ms
	r1, r2    int64    // var·ms
	hist      []Snapshot
	lastMin   time.Time
	pdCount   int64
	pdLast    [2]time.Time
	relayOpen bool
	heldTime  time.Time
}

const wmsPerMWh = 3600 // 1 mWh = 3.6 W·s = 3600 W·ms

// NewModel builds a model whose registers start at cfg's values, with
// cfg.History of recorded history before the clock's now.
func NewModel(clk energy.Clock, cfg ModelConfig) *Model {
	if cfg.Phases != 1 {
		cfg.Phases = 3
	}
	if cfg.ImportWh == 0 {
		cfg.ImportWh = 12345670
	}
	if cfg.ExportWh == 0 {
		cfg.ExportWh = 2345670
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Retain <= 0 {
		cfg.Retain = 7 * 24 * time.Hour
	}
	if cfg.History == 0 {
		cfg.History = 24 * time.Hour
	}
	cfg.History = min(max(cfg.History, 0), cfg.Retain)
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	m := &Model{clk: clk, cfg: cfg, offset: cfg.ClockOffset}
	now := clk.Now()
	m.last = now.Add(-cfg.History).Truncate(time.Second)
	// Registers hold their configured values at `now`: start lower and let
	// the history integrate up to them.
	m.imp[0] = cfg.ImportWh * 1000 * wmsPerMWh
	m.exp[0] = cfg.ExportWh * 1000 * wmsPerMWh
	// Earlier energy spread over the tariffs (sharp, peak, flat, valley);
	// the shares sum to 100 so the tariff registers add up to the total.
	for i, share := range [5]int64{0, 10, 35, 20, 35} {
		if i > 0 {
			m.imp[i] = m.imp[0] / 100 * share
			m.exp[i] = m.exp[0] / 100 * share
		}
	}
	m.r1 = cfg.ImportWh * 1000 * wmsPerMWh / 4
	pre := m.integrateDry(m.last, now)
	for i := range m.imp {
		m.imp[i] -= pre.imp[i]
		m.exp[i] -= pre.exp[i]
	}
	m.r1 -= pre.r1
	m.pdCount = 3
	m.pdLast = [2]time.Time{now.Add(-50 * time.Hour).Truncate(time.Second), now.Add(-49*time.Hour - 17*time.Minute).Truncate(time.Second)}
	m.advanceLocked(now)
	return m
}

type delta struct {
	imp, exp [5]int64
	r1, r2   int64
}

// integrateDry computes the register increase over [from, to) without
// recording anything.
func (m *Model) integrateDry(from, to time.Time) delta {
	var d delta
	for t := from; t.Before(to); {
		next := t.Truncate(time.Second).Add(time.Second)
		if next.After(to) {
			next = to
		}
		dt := next.Sub(t).Milliseconds()
		p := m.powerAt(t)
		q := reactiveOf(p)
		tariff := tariffAt(t.Add(m.offset).In(m.cfg.Location))
		if p >= 0 {
			d.imp[0] += p * dt
			d.imp[tariff] += p * dt
		} else {
			d.exp[0] -= p * dt
			d.exp[tariff] -= p * dt
		}
		if q >= 0 {
			d.r1 += q * dt
		} else {
			d.r2 -= q * dt
		}
		t = next
	}
	return d
}

// advanceLocked integrates up to now, recording minute snapshots.
func (m *Model) advanceLocked(now time.Time) {
	if m.held {
		m.last = now
		return
	}
	for m.last.Before(now) {
		next := m.last.Truncate(time.Second).Add(time.Second)
		if next.After(now) {
			next = now
		}
		d := m.integrateDry(m.last, next)
		for i := range m.imp {
			m.imp[i] += d.imp[i]
			m.exp[i] += d.exp[i]
		}
		m.r1 += d.r1
		m.r2 += d.r2
		m.last = next
		if min := next.Add(m.offset).In(m.cfg.Location).Truncate(time.Minute); !min.Equal(m.lastMin) {
			if !m.lastMin.IsZero() && m.cfg.Retain > 0 {
				m.record(min)
			}
			m.lastMin = min
		}
	}
}

func (m *Model) record(t time.Time) {
	m.hist = append(m.hist, Snapshot{
		Time:      t,
		ImportMWh: m.imp[0] / wmsPerMWh, ExportMWh: m.exp[0] / wmsPerMWh,
		Reactive1: m.r1 / wmsPerMWh, Reactive2: m.r2 / wmsPerMWh,
	})
	keep := int(m.cfg.Retain / time.Minute)
	if len(m.hist) > keep+keep/8 {
		m.hist = append(m.hist[:0], m.hist[len(m.hist)-keep:]...)
	}
}

// tariffAt returns the DL/T 645 tariff index at meter wall-clock time t:
// 1 sharp 10-11 and 19-21, 2 peak 8-10, 11-19 and 21-22, 3 flat 7-8 and
// 22-23, 4 valley 23-7.
func tariffAt(t time.Time) int {
	switch h := t.Hour(); {
	case h == 10 || h == 19 || h == 20:
		return 1
	case h >= 8 && h < 22:
		return 2
	case h == 7 || h == 22:
		return 3
	}
	return 4
}

// noise is a deterministic pseudo-random value in [-1, 1) for second s.
func noise(seed uint64, s int64) float64 {
	x := uint64(s)*0x9E3779B97F4A7C15 ^ seed*0xBF58476D1CE4E5B9
	x ^= x >> 31
	x *= 0x94D049BB133111EB
	x ^= x >> 29
	return float64(x>>11)/float64(1<<52) - 1
}

// powerAt is the household's net active power in W (export negative) at
// true time t, constant within each second.
func (m *Model) powerAt(t time.Time) int64 {
	lt := t.Add(m.offset).In(m.cfg.Location)
	h := float64(lt.Hour()) + float64(lt.Minute())/60 + float64(lt.Second())/3600
	mod := lt.Hour()*60 + lt.Minute()
	load := 180.0 // base load
	if mod%40 < 14 {
		load += 110 // fridge compressor cycle
	}
	switch {
	case h >= 6.75 && h < 7.25:
		load += 1800 // kettle and breakfast
	case h >= 11.5 && h < 12.25:
		load += 1500 // lunch
	case h >= 18 && h < 19.25:
		load += 2500 // cooking peak
	}
	if h >= 19 && h < 23 {
		load += 350 // lights, TV
	}
	if h >= 20 && h < 21 {
		load += 500 // washing machine
	}
	pv := 0.0
	if h > 7 && h < 17 {
		pv = 3600 * math.Pow(math.Sin(math.Pi*(h-7)/10), 1.5)
		pv *= 0.9 + 0.1*noise(m.cfg.Seed+7, t.Unix()/60) // passing clouds
	}
	p := int64(math.Round(load - pv + 40*noise(m.cfg.Seed, t.Unix())))
	if m.cfg.Extra != nil {
		p += m.cfg.Extra(t)
	}
	return p
}

// reactiveOf returns reactive power (var) for active power p: an inductive
// household load at cos φ ≈ 0.96.
func reactiveOf(p int64) int64 {
	if p < 0 {
		p = -p
	}
	return p * 29 / 100
}

var phaseShare = [3]int64{50, 30, 20}

// State advances the model to the clock's now and returns its state.
func (m *Model) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clk.Now()
	m.advanceLocked(now)
	at := m.last
	if m.held {
		at = m.heldAt()
	}
	var s State
	s.MeterTime = now.Add(m.offset).In(m.cfg.Location)
	for i := range m.imp {
		s.ImportMWh[i] = m.imp[i] / wmsPerMWh
		s.ExportMWh[i] = m.exp[i] / wmsPerMWh
	}
	s.Reactive1MVarh = m.r1 / wmsPerMWh
	s.Reactive2MVarh = m.r2 / wmsPerMWh
	p := m.powerAt(at)
	s.Phases = m.cfg.Phases
	s.PowerMW[0] = p * 1000
	q := reactiveOf(p)
	s.ReactiveMVar[0] = q * 1000
	s.ApparentMVA[0] = int64(math.Round(math.Hypot(float64(p), float64(q)) * 1000))
	s.PowerFactorMilli[0] = pf(p, s.ApparentMVA[0])
	sec := at.Unix()
	for i := 0; i < 3; i++ {
		share := phaseShare[i]
		if s.Phases == 1 {
			share = 0
			if i == 0 {
				share = 100
			}
		}
		pp := p * share / 100
		s.PowerMW[i+1] = pp * 1000
		s.ReactiveMVar[i+1] = reactiveOf(pp) * 1000
		s.ApparentMVA[i+1] = int64(math.Round(math.Hypot(float64(pp), float64(reactiveOf(pp))) * 1000))
		s.PowerFactorMilli[i+1] = pf(pp, s.ApparentMVA[i+1])
		v := 220.0 + 2.5*math.Sin(float64(sec)/300+float64(i)) - float64(pp)/1000*1.5 + 0.3*noise(m.cfg.Seed+uint64(i), sec)
		if s.Phases == 1 && i > 0 {
			v = 0
		}
		s.VoltageMV[i] = int64(math.Round(v*10)) * 100
		if v > 0 {
			// I = S / U, signed like P; the meter shows 3 decimals.
			s.CurrentMA[i] = int64(math.Round(float64(s.ApparentMVA[i+1]) / v))
			if pp < 0 {
				s.CurrentMA[i] = -s.CurrentMA[i]
			}
		}
	}
	s.FrequencyMHz = 50000 + int64(math.Round(30*math.Sin(float64(sec)/97)))
	s.RelayOpen = m.relayOpen
	s.PowerDownCount = m.pdCount
	s.LastPowerDown = [2]time.Time{m.pdLast[0].Add(m.offset).In(m.cfg.Location), m.pdLast[1].Add(m.offset).In(m.cfg.Location)}
	return s
}

func (m *Model) heldAt() time.Time { return m.heldTime }

func pf(p, sMVA int64) int64 {
	if sMVA == 0 {
		return 1000
	}
	return int64(math.Round(float64(p*1000) / float64(sMVA) * 1000))
}

// Hold freezes (true) or releases the registers and instantaneous values so
// a test can compare them exactly with what the gateway reports. The meter
// clock keeps running.
func (m *Model) Hold(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked(m.clk.Now())
	if on && !m.held {
		m.heldTime = m.last
	}
	m.held = on
}

// SetClock sets the meter clock to t (broadcast time sync).
func (m *Model) SetClock(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clk.Now()
	m.advanceLocked(now)
	m.offset = t.Sub(now)
}

// ClockOffset returns meter clock minus true clock.
func (m *Model) ClockOffset() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.offset
}

// History returns the snapshots with from < Time <= to, oldest first.
func (m *Model) History(from, to time.Time) []Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked(m.clk.Now())
	var out []Snapshot
	for _, s := range m.hist {
		if s.Time.After(from) && !s.Time.After(to) {
			out = append(out, s)
		}
	}
	return out
}

// Freezes returns the snapshots at whole hours (daily: at midnight), newest
// first: index 0 is the most recent freeze.
func (m *Model) Freezes(daily bool) []Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked(m.clk.Now())
	var out []Snapshot
	for i := len(m.hist) - 1; i >= 0; i-- {
		s := m.hist[i]
		if s.Time.Minute() == 0 && (!daily || s.Time.Hour() == 0) {
			out = append(out, s)
		}
	}
	return out
}

// KeepsLoadProfile reports whether the meter keeps a load profile.
func (m *Model) KeepsLoadProfile() bool { return !m.cfg.NoLoadProfile }

// Location is the meter's time zone.
func (m *Model) Location() *time.Location { return m.cfg.Location }
