package control

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Class is how the controller may act on a load.
type Class string

// The load classes, in shed order (critical loads are never shed).
const (
	// Deferrable: a job (energy by a deadline) the planner places; held with
	// CmdOff, run with CmdOn.
	ClassDeferrable Class = "deferrable"
	// Curtailable: capped at [Load.CurtailW] with CmdLimit (or switched off
	// with CmdOff when CurtailW is 0 or the device cannot be capped).
	ClassCurtailable Class = "curtailable"
	// Sheddable: switched off with CmdOff, back on with CmdOn.
	ClassSheddable Class = "sheddable"
	// Critical: never commanded.
	ClassCritical Class = "critical"
)

// Defaults the zero values of [Config] stand for.
const (
	DefaultPeriod           = 2 * time.Second
	DefaultRestoreDelay     = 60 * time.Second
	DefaultHysteresisW      = 300
	DefaultMarginW          = 150
	DefaultRestoreRandomMax = 5 * time.Minute
	// DefaultLevel2ShedBelow is the priority bound of the default SIMPLE
	// level 2: sheddable loads with Priority below it are shed. Priorities
	// run 0..99 by convention, so 0..49 are "nice to have".
	DefaultLevel2ShedBelow = 50
	// ResendPeriods is how many control periods an unconfirmed command
	// waits before it is sent again; it is also how long a commanded
	// change still missing from a device's PowerW is counted as in flight.
	ResendPeriods = 3
)

// ErrConfig is wrapped by every error of [New].
var ErrConfig = errors.New("control: invalid config")

// Load is one device the controller manages.
type Load struct {
	Device energy.DeviceID
	Class  Class
	// Priority orders loads within a class: lower is shed first and
	// restored last. Must be >= 0; 0..99 by convention.
	Priority int
	// MinOn and MinOff are the least time a load stays on after it was
	// observed switching on (off) before the controller switches it off
	// (on); 0 none. They apply to on/off switching only, not to a cap.
	// A breach beyond the limit by more than [Config.SafetyMarginW]
	// overrides MinOn: fuse protection wins over comfort.
	MinOn, MinOff time.Duration
	// CurtailW is, for a curtailable load, the power cap it is curtailed
	// to; 0 means switched off. Only for curtailable loads.
	CurtailW int64
	// Continuous marks a deferrable load whose started job cannot be
	// paused (a dishwasher programme): while it runs the controller never
	// holds or sheds it.
	Continuous bool
}

// LevelPolicy is what one SIMPLE level asks for.
type LevelPolicy struct {
	// ImportLimitW is a site import limit for the level in W; 0 none.
	ImportLimitW int64
	// HoldDeferrable holds deferrable jobs (pausing running ones that can
	// pause) unless their deadline forces them or they are boosted.
	HoldDeferrable bool
	// CurtailAll curtails every curtailable load to its CurtailW.
	CurtailAll bool
	// ShedSheddable switches off sheddable loads, all of them or only
	// those with Priority < ShedPriorityBelow.
	ShedSheddable bool
	// ShedPriorityBelow bounds ShedSheddable; 0 means every sheddable load.
	ShedPriorityBelow int
}

// Level returns the policy in force for a SIMPLE level (clamped to 0..3),
// with the defaults applied: what a planner must respect too.
func (c *Controller) Level(level int) LevelPolicy {
	return c.cfg.Levels[min(max(level, 0), len(c.cfg.Levels)-1)]
}

// DefaultLevels returns the SIMPLE level policies used when
// [Config.Levels] is left zero (after digest §5.6): 0 normal; 1 hold
// deferrables; 2 also curtail curtailables and shed sheddables with
// priority below [DefaultLevel2ShedBelow]; 3 shed everything non-critical.
func DefaultLevels() [4]LevelPolicy {
	return [4]LevelPolicy{
		{},
		{HoldDeferrable: true},
		{HoldDeferrable: true, CurtailAll: true, ShedSheddable: true, ShedPriorityBelow: DefaultLevel2ShedBelow},
		{HoldDeferrable: true, CurtailAll: true, ShedSheddable: true},
	}
}

// Config configures a [Controller]. Powers are in W, zero durations and
// powers mean the documented default unless said otherwise.
type Config struct {
	// ContractImportW and ContractExportW are the site's standing limits
	// (fuse, contract, grid-operator dimming); 0 none.
	ContractImportW, ContractExportW int64
	// Period is the control period, how often the caller calls Step
	// (default 2 s). It sets the resend interval and the deadline slack.
	Period time.Duration
	// ShedDelay is how long a breach (import above the limit, export
	// above the export limit) must last before the controller acts
	// (default 0: in the period that sees it).
	ShedDelay time.Duration
	// RestoreDelay is how long import must stay below the limit minus
	// HysteresisW before anything is restored (default 60 s).
	RestoreDelay time.Duration
	// HysteresisW (default 300) and MarginW (default 150): shedding aims
	// at limit-MarginW; restoring waits for limit-HysteresisW and restores
	// only what keeps the site below limit-MarginW.
	HysteresisW, MarginW int64
	// SafetyMarginW: a breach above limit+SafetyMarginW ignores MinOn
	// (default 0: 10 % of the limit in force).
	SafetyMarginW int64
	// RestoreRandomMax: each shed load waits U(0, max) extra once it may
	// be restored, so that houses do not rebound in step (default 5 min;
	// 1 ns effectively disables it).
	RestoreRandomMax time.Duration
	// Levels are the SIMPLE level policies 0..3; all zero means
	// [DefaultLevels].
	Levels [4]LevelPolicy
	// Loads are the managed devices; devices not listed are left alone.
	Loads []Load
	// Seed seeds the restore delays (PCG).
	Seed uint64
}

// Signals are the demand-response inputs in force now. Opting out of an
// event is the caller's business: pass zero Signals for it.
type Signals struct {
	// Level is the SIMPLE level (0 normal; values outside 0..3 are
	// clamped).
	Level int
	// ImportLimitW and ExportLimitW come from the active events; 0 none.
	ImportLimitW, ExportLimitW int64
	// Event is the id of the event in force, used in reasons.
	Event string
}

// Overrides are the household's wishes.
type Overrides struct {
	// Exempt devices are never shed, held by a level or limited; their
	// starts ignore the import limit.
	Exempt map[energy.DeviceID]bool
	// Boost runs a device now, until the time given: forced on and
	// uncapped whatever the plan and the level say; the hard import limit
	// still applies (it is shed last) unless the device is also exempt.
	Boost map[energy.DeviceID]time.Time
}

// Inputs is what one control period sees.
type Inputs struct {
	Now time.Time
	// SiteW is the net import at the meter (export negative). SiteOK
	// false means no fresh reading: nothing is shed, started against a
	// limit or restored, and shed loads stay shed.
	SiteW  int64
	SiteOK bool
	// Devices is the registry's current view.
	Devices []energy.Device
	Signals Signals
	// Plan says whether each deferrable device should run now (from
	// plan.Want); a device absent is held unless its deadline forces it.
	Plan      map[energy.DeviceID]bool
	Overrides Overrides
}

// Decision is one command to send. Why is a short machine code:
// "import_limit", "level_N", "restore", "plan_start", "plan_hold",
// "deadline", "boost", "export_limit". Command.Reason is a sentence for
// the household.
type Decision struct {
	Command energy.Command
	Why     string
}

// Shed is one load the controller holds down.
type Shed struct {
	Device energy.DeviceID
	// Since is when the controller first held it down for this cause.
	Since time.Time
	// Why is "import_limit" or "level_N".
	Why string
	// LimitW is the cap it is held at; 0 means off.
	LimitW int64
}

// Status is what the controller is doing, for the UI and events log.
type Status struct {
	// ImportLimitW and ExportLimitW are the effective limits; 0 none.
	ImportLimitW, ExportLimitW int64
	Level                      int
	Event                      string
	// Breach: the last fresh reading was above the import limit.
	Breach bool
	// Shed lists the loads held down, in shed order.
	Shed []Shed
}

// Controller is the site limit and DR-event controller. Step must be
// called from one goroutine; Status may be called concurrently.
type Controller struct {
	cfg   Config
	rng   *rand.Rand
	loads []*load // in static shed order

	breachSince, belowSince, exportSince time.Time

	views []view // scratch, reused

	mu     sync.Mutex
	status Status
}

// restriction: the controller holds the load down.
type restriction struct {
	since   time.Time
	why     string // import_limit or level_N
	level   int    // the level of a level hold
	reason  string
	byLimit bool
	// eligibleAt is when the load may be restored; zero until drawn.
	eligibleAt time.Time
}

type load struct {
	Load
	rank int

	// Observed switching.
	seen              bool
	wasOn             bool
	onSince, offSince time.Time

	r         *restriction
	soakSince time.Time // zero: not soaked

	// restoring: a restore was sent to a sheddable or curtailable load and
	// is not confirmed yet.
	restoring   bool
	restoringAt time.Time
	restoreWhy  string
	restoreText string

	// Last command and the direction it moved the load.
	sent     energy.Command
	sentAt   time.Time
	hasSent  bool
	streak   bool // sent and not yet confirmed
	dirUp    bool
	dirAt    time.Time // first command in this direction
	dirW     int64     // expected power after it
	hasDirAt bool
}

// New validates cfg, fills in defaults and returns a controller.
func New(cfg Config) (*Controller, error) {
	if err := validate(&cfg); err != nil {
		return nil, err
	}
	if cfg.Period == 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.RestoreDelay == 0 {
		cfg.RestoreDelay = DefaultRestoreDelay
	}
	if cfg.HysteresisW == 0 {
		cfg.HysteresisW = DefaultHysteresisW
	}
	if cfg.MarginW == 0 {
		cfg.MarginW = DefaultMarginW
	}
	if cfg.RestoreRandomMax == 0 {
		cfg.RestoreRandomMax = DefaultRestoreRandomMax
	}
	if cfg.Levels == ([4]LevelPolicy{}) {
		cfg.Levels = DefaultLevels()
	}
	cfg.Loads = slices.Clone(cfg.Loads)
	c := &Controller{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	for i, l := range cfg.Loads {
		if l.Class == ClassCritical {
			continue
		}
		c.loads = append(c.loads, &load{Load: l, rank: i})
	}
	slices.SortStableFunc(c.loads, func(a, b *load) int {
		if d := classRank(a.Class) - classRank(b.Class); d != 0 {
			return d
		}
		return a.Priority - b.Priority
	})
	for i, l := range c.loads {
		l.rank = i
	}
	c.views = make([]view, 0, len(c.loads))
	return c, nil
}

func classRank(c Class) int {
	switch c {
	case ClassDeferrable:
		return 0
	case ClassCurtailable:
		return 1
	case ClassSheddable:
		return 2
	}
	return 3
}

func validate(cfg *Config) error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, a...))
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"ContractImportW", cfg.ContractImportW}, {"ContractExportW", cfg.ContractExportW},
		{"Period", int64(cfg.Period)}, {"ShedDelay", int64(cfg.ShedDelay)},
		{"RestoreDelay", int64(cfg.RestoreDelay)}, {"HysteresisW", cfg.HysteresisW},
		{"MarginW", cfg.MarginW}, {"SafetyMarginW", cfg.SafetyMarginW},
		{"RestoreRandomMax", int64(cfg.RestoreRandomMax)},
	} {
		if f.v < 0 {
			return bad(f.name, "negative (%d)", f.v)
		}
	}
	for i, p := range cfg.Levels {
		if p.ImportLimitW < 0 {
			return bad(fmt.Sprintf("Levels[%d].ImportLimitW", i), "negative (%d)", p.ImportLimitW)
		}
		if p.ShedPriorityBelow < 0 {
			return bad(fmt.Sprintf("Levels[%d].ShedPriorityBelow", i), "negative (%d)", p.ShedPriorityBelow)
		}
	}
	seen := map[energy.DeviceID]int{}
	for i, l := range cfg.Loads {
		f := func(name string) string { return fmt.Sprintf("Loads[%d].%s", i, name) }
		if l.Device == "" {
			return bad(f("Device"), "empty")
		}
		if j, dup := seen[l.Device]; dup {
			return bad(f("Device"), "%q already in Loads[%d]", l.Device, j)
		}
		seen[l.Device] = i
		switch l.Class {
		case ClassDeferrable, ClassCurtailable, ClassSheddable, ClassCritical:
		default:
			return bad(f("Class"), "unknown class %q (want deferrable, curtailable, sheddable or critical)", l.Class)
		}
		if l.Priority < 0 {
			return bad(f("Priority"), "negative (%d)", l.Priority)
		}
		if l.MinOn < 0 {
			return bad(f("MinOn"), "negative (%s)", l.MinOn)
		}
		if l.MinOff < 0 {
			return bad(f("MinOff"), "negative (%s)", l.MinOff)
		}
		if l.CurtailW < 0 {
			return bad(f("CurtailW"), "negative (%d)", l.CurtailW)
		}
		if l.CurtailW > 0 && l.Class != ClassCurtailable {
			return bad(f("CurtailW"), "only for curtailable loads, class is %s", l.Class)
		}
		if l.Continuous && l.Class != ClassDeferrable {
			return bad(f("Continuous"), "only for deferrable loads, class is %s", l.Class)
		}
	}
	return nil
}

// Status returns what the controller did in the last Step.
func (c *Controller) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	s.Shed = slices.Clone(s.Shed)
	return s
}
