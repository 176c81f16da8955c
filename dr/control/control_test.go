package control

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		cfg         Config
	}{
		{"unknown class", "Loads[1].Class", Config{Loads: []Load{{Device: "a", Class: ClassSheddable}, {Device: "b", Class: "nice"}}}},
		{"duplicate", "Loads[1].Device", Config{Loads: []Load{{Device: "a", Class: ClassSheddable}, {Device: "a", Class: ClassCritical}}}},
		{"empty device", "Loads[0].Device", Config{Loads: []Load{{Class: ClassSheddable}}}},
		{"negative period", "Period", Config{Period: -time.Second}},
		{"negative contract", "ContractImportW", Config{ContractImportW: -1}},
		{"negative margin", "MarginW", Config{MarginW: -5}},
		{"negative random", "RestoreRandomMax", Config{RestoreRandomMax: -time.Second}},
		{"negative priority", "Loads[0].Priority", Config{Loads: []Load{{Device: "a", Class: ClassSheddable, Priority: -1}}}},
		{"negative min on", "Loads[0].MinOn", Config{Loads: []Load{{Device: "a", Class: ClassSheddable, MinOn: -1}}}},
		{"curtail on sheddable", "Loads[0].CurtailW", Config{Loads: []Load{{Device: "a", Class: ClassSheddable, CurtailW: 100}}}},
		{"continuous curtailable", "Loads[0].Continuous", Config{Loads: []Load{{Device: "a", Class: ClassCurtailable, Continuous: true}}}},
		{"level limit", "Levels[2].ImportLimitW", Config{Levels: [4]LevelPolicy{2: {ImportLimitW: -3}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("err = %v, want ErrConfig naming %s", err, tc.field)
			}
		})
	}
	c := mustNew(t, Config{})
	if c.cfg.Period != DefaultPeriod || c.cfg.RestoreDelay != DefaultRestoreDelay || c.cfg.HysteresisW != DefaultHysteresisW ||
		c.cfg.MarginW != DefaultMarginW || c.cfg.RestoreRandomMax != DefaultRestoreRandomMax || c.cfg.Levels != DefaultLevels() {
		t.Errorf("defaults not applied: %+v", c.cfg)
	}
}

func TestEffectiveLimits(t *testing.T) {
	lv := DefaultLevels()
	lv[2].ImportLimitW = 4000
	c := mustNew(t, Config{ContractImportW: 11000, ContractExportW: 7000, Levels: lv})
	for _, tc := range []struct {
		sig      Signals
		imp, exp int64
	}{
		{Signals{}, 11000, 7000},
		{Signals{ImportLimitW: 5000, ExportLimitW: 3000}, 5000, 3000},
		{Signals{Level: 2, ImportLimitW: 5000}, 4000, 7000},
		{Signals{Level: 2, ImportLimitW: 3500, ExportLimitW: 9000}, 3500, 7000},
		{Signals{Level: 7}, 11000, 7000}, // clamped to level 3, which sets no limit
	} {
		c.Step(Inputs{Now: t0, SiteW: 100, SiteOK: true, Signals: tc.sig})
		st := c.Status()
		if tc.sig.Level == 7 && st.Level != 3 {
			t.Errorf("level 7 not clamped: %d", st.Level)
		}
		if st.ImportLimitW != tc.imp || st.ExportLimitW != tc.exp {
			t.Errorf("%+v: limits %d/%d, want %d/%d", tc.sig, st.ImportLimitW, st.ExportLimitW, tc.imp, tc.exp)
		}
	}
}

// The shed order: deferrable, then curtailable, then sheddable, by
// priority; critical and exempt never; stop at limit-margin.
func TestShedOrder(t *testing.T) {
	c := mustNew(t, Config{ContractImportW: 10000, Loads: []Load{
		{Device: "wh", Class: ClassSheddable, Priority: 20},
		{Device: "pool", Class: ClassSheddable, Priority: 5},
		{Device: "hp", Class: ClassCurtailable, Priority: 50, CurtailW: 500},
		{Device: "ev", Class: ClassDeferrable},
		{Device: "fridge", Class: ClassCritical},
		{Device: "sauna", Class: ClassSheddable, Priority: 1},
	}})
	ev := dev("ev", capsDefer, 3700, true)
	ev.State.Job = &energy.Job{RemainingWh: 10000}
	h := newHome(dev("wh", capsSwitch, 3000, true), dev("pool", capsSwitch, 800, true),
		dev("hp", capsCurt, 1500, true), ev, dev("fridge", capsSwitch, 200, true), dev("sauna", capsSwitch, 6000, true))
	plan := map[energy.DeviceID]bool{"ev": true}
	ov := Overrides{Exempt: map[energy.DeviceID]bool{"sauna": true}}
	site := h.sumW() + 500 // 15700
	ds := c.Step(Inputs{Now: t0, SiteW: site, SiteOK: true, Devices: h.devs, Plan: plan, Overrides: ov})
	// 15700 -3700 (ev) -1000 (hp to 500) -800 (pool) = 10200 > 9850; -3000 (wh) = 7200.
	want := []string{"ev:off", "hp:limit@500", "pool:off", "wh:off"}
	if got := cmdsOf(ds); !slices.Equal(got, want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
	for _, d := range ds {
		if d.Why != "import_limit" || !strings.Contains(d.Command.Reason, "contract import limit 10.0 kW") {
			t.Errorf("%+v: want import_limit naming the limit", d)
		}
	}
	st := c.Status()
	if !st.Breach || len(st.Shed) != 4 || st.Shed[1].Device != "hp" || st.Shed[1].LimitW != 500 || !st.Shed[0].Since.Equal(t0) {
		t.Errorf("status %+v", st)
	}

	// A smaller breach sheds only the first in order.
	c = mustNew(t, c.cfg)
	h = newHome(dev("wh", capsSwitch, 3000, true), dev("pool", capsSwitch, 800, true),
		dev("hp", capsCurt, 1500, true), ev, dev("fridge", capsSwitch, 200, true), dev("sauna", capsSwitch, 6000, false))
	ds = c.Step(Inputs{Now: t0, SiteW: 10400, SiteOK: true, Devices: h.devs, Plan: plan})
	if got := cmdsOf(ds); !slices.Equal(got, []string{"ev:off"}) {
		t.Fatalf("commands %v, want only ev:off", got)
	}
}

// A shed device whose PowerW has not dropped yet is not shed again, and
// not sent the same command every period; after ResendPeriods it is.
func TestInFlightNotDoubleCounted(t *testing.T) {
	c := mustNew(t, Config{ContractImportW: 5000, Loads: []Load{
		{Device: "a", Class: ClassSheddable, Priority: 0},
		{Device: "b", Class: ClassSheddable, Priority: 1},
	}})
	h := newHome(dev("a", capsSwitch, 2000, true), dev("b", capsSwitch, 2000, true))
	in := Inputs{Now: t0, SiteW: 6000, SiteOK: true, Devices: h.devs}
	if got := cmdsOf(c.Step(in)); !slices.Equal(got, []string{"a:off"}) {
		t.Fatalf("first period: %v", got)
	}
	// The device has not reacted: same state, same reading.
	for _, d := range []time.Duration{2 * time.Second, 4 * time.Second} {
		in.Now = at(d)
		if ds := c.Step(in); len(ds) != 0 {
			t.Fatalf("%v: %v, want nothing while a's drop is in flight", d, cmdsOf(ds))
		}
	}
	// Three periods on: a is re-sent and, no longer trusted, b goes too.
	in.Now = at(6 * time.Second)
	if got := cmdsOf(c.Step(in)); !slices.Equal(got, []string{"a:off", "b:off"}) {
		t.Fatalf("after 3 periods: %v", got)
	}
	// a confirms (state off) but its power lags: b is not shed twice, nothing resent.
	h.get("a").State.On = false
	h.get("b").State.On = false
	in.Now = at(8 * time.Second)
	if ds := c.Step(in); len(ds) != 0 {
		t.Fatalf("confirmed: %v", cmdsOf(ds))
	}
}

func TestShedDelay(t *testing.T) {
	c := mustNew(t, Config{ContractImportW: 3000, ShedDelay: 5 * time.Second, Loads: []Load{{Device: "a", Class: ClassSheddable}}})
	h := newHome(dev("a", capsSwitch, 2000, true))
	for _, d := range []time.Duration{0, 2 * time.Second, 4 * time.Second} {
		if ds := c.Step(Inputs{Now: at(d), SiteW: 3500, SiteOK: true, Devices: h.devs}); len(ds) != 0 {
			t.Fatalf("%v: shed before ShedDelay: %v", d, cmdsOf(ds))
		}
	}
	// A dip below the limit restarts the delay.
	c.Step(Inputs{Now: at(5 * time.Second), SiteW: 2900, SiteOK: true, Devices: h.devs})
	if ds := c.Step(Inputs{Now: at(6 * time.Second), SiteW: 3500, SiteOK: true, Devices: h.devs}); len(ds) != 0 {
		t.Fatalf("shed right after a dip: %v", cmdsOf(ds))
	}
	if ds := c.Step(Inputs{Now: at(11 * time.Second), SiteW: 3500, SiteOK: true, Devices: h.devs}); len(ds) != 1 {
		t.Fatalf("not shed after 5 s of breach: %v", cmdsOf(ds))
	}
}

// MinOn holds unless the breach exceeds the limit by more than the safety
// margin (10 % of the limit by default).
func TestMinOnAndFuseMargin(t *testing.T) {
	for _, tc := range []struct {
		site int64
		want []string
	}{
		{5400, []string{"b:off"}},          // 400 W over 5 kW: within 500 W, MinOn holds a
		{5600, []string{"a:off", "b:off"}}, // 600 W over and b is not enough: fuse wins
	} {
		c := mustNew(t, Config{ContractImportW: 5000, Loads: []Load{
			{Device: "a", Class: ClassSheddable, Priority: 0, MinOn: 10 * time.Minute},
			{Device: "b", Class: ClassSheddable, Priority: 1},
		}})
		h := newHome(dev("a", capsSwitch, 1000, false), dev("b", capsSwitch, 300, true))
		c.Step(Inputs{Now: t0, SiteW: 3000, SiteOK: true, Devices: h.devs})
		h.get("a").State.On = true // switched on by the household at t0+2s
		h.settle(0)
		c.Step(Inputs{Now: at(2 * time.Second), SiteW: 4000, SiteOK: true, Devices: h.devs})
		got := cmdsOf(c.Step(Inputs{Now: at(time.Minute), SiteW: tc.site, SiteOK: true, Devices: h.devs}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("site %d: %v, want %v", tc.site, got, tc.want)
		}
	}
}

// Restores: after RestoreDelay below limit-hysteresis, one per period, each
// after its own random delay, only into headroom, and after MinOff.
func TestRestore(t *testing.T) {
	c := mustNew(t, Config{ContractImportW: 5000, RestoreDelay: time.Minute, RestoreRandomMax: 2 * time.Minute, Seed: 3,
		Loads: []Load{
			{Device: "a", Class: ClassSheddable, Priority: 0},
			{Device: "b", Class: ClassSheddable, Priority: 1, MinOff: 4 * time.Minute},
			{Device: "c", Class: ClassSheddable, Priority: 2},
			{Device: "big", Class: ClassSheddable, Priority: 3},
		}})
	h := newHome(dev("a", capsSwitch, 1000, true), dev("b", capsSwitch, 1000, true),
		dev("c", capsSwitch, 1000, true), dev("big", capsSwitch, 4000, false))
	base := int64(4500) // 4500+3000 = 7500: all three must go to reach 4850
	now := t0
	step := func() []Decision {
		ds := c.Step(Inputs{Now: now, SiteW: base + h.sumW(), SiteOK: true, Devices: h.devs})
		h.apply(ds)
		h.settle(0)
		now = now.Add(2 * time.Second)
		return ds
	}
	if got := cmdsOf(step()); !slices.Equal(got, []string{"a:off", "b:off", "c:off"}) {
		t.Fatalf("shed %v", got)
	}
	base = 1000 // the step ends: 1000 W, far below 4700
	end := now
	restoredAt := map[energy.DeviceID]time.Time{}
	for now.Before(end.Add(10 * time.Minute)) {
		ds := step()
		if len(ds) > 1 {
			t.Fatalf("%v: %d restores at once", now, len(ds))
		}
		for _, d := range ds {
			if d.Why != "restore" || d.Command.Kind != energy.CmdOn {
				t.Fatalf("unexpected %+v", d)
			}
			restoredAt[d.Command.Device] = now.Add(-2 * time.Second)
		}
	}
	if len(restoredAt) != 3 {
		t.Fatalf("restored %v, want a, b, c", restoredAt)
	}
	for id, ts := range restoredAt {
		if ts.Sub(end) < time.Minute {
			t.Errorf("%s restored %v after the breach ended, before RestoreDelay", id, ts.Sub(end))
		}
	}
	if d := restoredAt["b"].Sub(t0); d < 4*time.Minute {
		t.Errorf("b restored %v after it was switched off, MinOff is 4m", d)
	}
	if restoredAt["a"].Equal(restoredAt["c"]) || restoredAt["a"].Equal(restoredAt["b"]) {
		t.Errorf("restore times not spread: %v", restoredAt)
	}
	if h.cmds["big"] != 0 {
		t.Error("big was never shed, must not be switched on")
	}
}

// No restore into too little headroom, none without a fresh reading, and
// the shed state survives missing readings.
func TestRestoreGuards(t *testing.T) {
	c := mustNew(t, Config{ContractImportW: 5000, RestoreRandomMax: time.Nanosecond, Loads: []Load{{Device: "a", Class: ClassSheddable}}})
	h := newHome(dev("a", capsSwitch, 2000, true))
	c.Step(Inputs{Now: t0, SiteW: 6000, SiteOK: true, Devices: h.devs})
	h.get("a").State.On, h.get("a").State.PowerW = false, 0
	// 3000 + 2000 would exceed 4850: never restored.
	for d := 2 * time.Second; d < 5*time.Minute; d += 2 * time.Second {
		if ds := c.Step(Inputs{Now: at(d), SiteW: 3000, SiteOK: true, Devices: h.devs}); len(ds) != 0 {
			t.Fatalf("%v: restored into no headroom: %v", d, cmdsOf(ds))
		}
	}
	// Stale readings: nothing restored, still shed.
	for d := 5 * time.Minute; d < 10*time.Minute; d += 2 * time.Second {
		if ds := c.Step(Inputs{Now: at(d), SiteOK: false, Devices: h.devs}); len(ds) != 0 {
			t.Fatalf("%v: restored without a reading: %v", d, cmdsOf(ds))
		}
	}
	if st := c.Status(); len(st.Shed) != 1 || st.Shed[0].Device != "a" {
		t.Fatalf("shed state lost on stale readings: %+v", st)
	}
	// Fresh and low: the restore delay starts over from the first fresh reading.
	start := 10 * time.Minute
	for d := start; ; d += 2 * time.Second {
		ds := c.Step(Inputs{Now: at(d), SiteW: 1000, SiteOK: true, Devices: h.devs})
		if len(ds) == 1 {
			if d-start < DefaultRestoreDelay {
				t.Fatalf("restored %v after fresh readings resumed", d-start)
			}
			break
		}
		if d > start+2*time.Minute {
			t.Fatal("never restored")
		}
	}
}

func TestLevels(t *testing.T) {
	c := mustNew(t, Config{RestoreRandomMax: time.Minute, RestoreDelay: time.Second, Loads: []Load{
		{Device: "ev", Class: ClassDeferrable},
		{Device: "hp", Class: ClassCurtailable, Priority: 50, CurtailW: 600},
		{Device: "pool", Class: ClassSheddable, Priority: 10},
		{Device: "wh", Class: ClassSheddable, Priority: 60},
		{Device: "fridge", Class: ClassCritical},
	}})
	ev := dev("ev", capsDefer, 7400, false)
	ev.State.Job = &energy.Job{RemainingWh: 20000, Deadline: at(12 * time.Hour)}
	h := newHome(ev, dev("hp", capsCurt, 1500, true), dev("pool", capsSwitch, 800, true),
		dev("wh", capsSwitch, 3000, true), dev("fridge", capsSwitch, 150, true))
	plan := map[energy.DeviceID]bool{"ev": true}
	now := t0
	step := func(level int) []string {
		ds := c.Step(Inputs{Now: now, SiteW: 500 + h.sumW(), SiteOK: true, Devices: h.devs, Plan: plan,
			Signals: Signals{Level: level, Event: "ev-9"}})
		h.apply(ds)
		h.settle(0)
		now = now.Add(2 * time.Second)
		return cmdsOf(ds)
	}
	// Level 1: the planned EV start is held.
	if got := step(1); len(got) != 0 {
		t.Fatalf("level 1: %v", got)
	}
	if st := c.Status(); len(st.Shed) != 1 || st.Shed[0].Why != "level_1" {
		t.Fatalf("level 1 status %+v", st)
	}
	// Level 2, reflected in the next Step: hp curtailed, pool (10 < 50) shed, wh (60) kept.
	if got := step(2); !slices.Equal(got, []string{"hp:limit@600", "pool:off"}) {
		t.Fatalf("level 2: %v", got)
	}
	// Level 3: everything non-critical.
	if got := step(3); !slices.Equal(got, []string{"wh:off"}) {
		t.Fatalf("level 3: %v", got)
	}
	st := c.Status()
	if len(st.Shed) != 4 || st.Shed[0].Why != "level_3" {
		t.Fatalf("level 3 status %+v", st)
	}
	// Back to 0: one restore per period, each after its random delay, EV last as plan start.
	var order []string
	for range 60 {
		got := step(0)
		if len(got) > 1 {
			t.Fatalf("several restores at once: %v", got)
		}
		order = append(order, got...)
	}
	slices.Sort(order)
	if !slices.Equal(order, []string{"ev:on", "hp:normal", "pool:on", "wh:on"}) {
		t.Fatalf("restored %v", order)
	}
	if h.cmds["fridge"] != 0 {
		t.Error("critical load commanded")
	}
}

// Level restrictions on a running load respect MinOn.
func TestLevelRespectsMinOn(t *testing.T) {
	c := mustNew(t, Config{Loads: []Load{{Device: "pool", Class: ClassSheddable, MinOn: 5 * time.Minute}}})
	h := newHome(dev("pool", capsSwitch, 800, false))
	c.Step(Inputs{Now: t0, SiteW: 500, SiteOK: true, Devices: h.devs})
	h.get("pool").State.On = true
	c.Step(Inputs{Now: at(2 * time.Second), SiteW: 1300, SiteOK: true, Devices: h.devs})
	if ds := c.Step(Inputs{Now: at(time.Minute), SiteW: 1300, SiteOK: true, Devices: h.devs, Signals: Signals{Level: 3}}); len(ds) != 0 {
		t.Fatalf("shed within MinOn: %v", cmdsOf(ds))
	}
	ds := c.Step(Inputs{Now: at(5*time.Minute + 2*time.Second), SiteW: 1300, SiteOK: true, Devices: h.devs, Signals: Signals{Level: 3}})
	if got := cmdsOf(ds); !slices.Equal(got, []string{"pool:off"}) || ds[0].Why != "level_3" ||
		!strings.Contains(ds[0].Command.Reason, "DR level 3") {
		t.Fatalf("after MinOn: %+v", ds)
	}
}

func TestDeferrable(t *testing.T) {
	cfg := Config{ContractImportW: 11000, Loads: []Load{{Device: "dw", Class: ClassDeferrable}}}
	mk := func(on bool, remWh int64, deadline time.Time) *home {
		d := dev("dw", capsDefer, 2000, on)
		d.State.Job = &energy.Job{RemainingWh: remWh, Deadline: deadline}
		return newHome(d)
	}
	deadline := at(3 * time.Hour) // 1600 Wh at 2 kW: 48 min, latest start 2:12 (2:11:58 with a period)
	for _, tc := range []struct {
		name    string
		on      bool
		plan    map[energy.DeviceID]bool
		now     time.Time
		level   int
		want    string
		wantWhy string
	}{
		{"plan run", false, map[energy.DeviceID]bool{"dw": true}, t0, 0, "dw:on", "plan_start"},
		{"plan hold", true, map[energy.DeviceID]bool{"dw": false}, t0, 0, "dw:off", "plan_hold"},
		{"absent from plan", true, nil, t0, 0, "dw:off", "plan_hold"},
		{"already held", false, nil, t0, 0, "", ""},
		{"before deadline slack", false, nil, at(2*time.Hour + 10*time.Minute + 57*time.Second), 0, "", ""},
		{"deadline forces", false, nil, at(2*time.Hour + 10*time.Minute + 58*time.Second), 0, "dw:on", "deadline"},
		{"deadline beats level", false, nil, at(2*time.Hour + 12*time.Minute), 3, "dw:on", "deadline"},
		{"level holds a planned start", false, map[energy.DeviceID]bool{"dw": true}, t0, 1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, cfg)
			h := mk(tc.on, 1600, deadline)
			h.settle(0)
			ds := c.Step(Inputs{Now: tc.now, SiteW: 1000 + h.sumW(), SiteOK: true, Devices: h.devs, Plan: tc.plan,
				Signals: Signals{Level: tc.level}})
			got := strings.Join(cmdsOf(ds), ",")
			if got != tc.want || (tc.want != "" && ds[0].Why != tc.wantWhy) {
				t.Fatalf("got %q %+v, want %q %s", got, ds, tc.want, tc.wantWhy)
			}
		})
	}
}

// A forced deadline start yields to the import limit only if it would
// breach; it then starts without a random delay once there is room.
func TestDeadlineYieldsToHardLimit(t *testing.T) {
	c := mustNew(t, Config{ContractImportW: 4000, RestoreRandomMax: time.Hour, Loads: []Load{{Device: "dw", Class: ClassDeferrable}}})
	d := dev("dw", capsDefer, 2000, false)
	d.State.Job = &energy.Job{RemainingWh: 1000, Deadline: at(30 * time.Minute)} // latest start t0
	h := newHome(d)
	// 1900 + 2000 = 3900 <= 4000: starts even inside the margin.
	if got := cmdsOf(c.Step(Inputs{Now: t0, SiteW: 1900, SiteOK: true, Devices: h.devs})); !slices.Equal(got, []string{"dw:on"}) {
		t.Fatalf("got %v", got)
	}
	c = mustNew(t, c.cfg)
	if ds := c.Step(Inputs{Now: t0, SiteW: 2100, SiteOK: true, Devices: h.devs}); len(ds) != 0 {
		t.Fatalf("started into a breach: %v", cmdsOf(ds))
	}
	if st := c.Status(); len(st.Shed) != 1 || st.Shed[0].Why != "import_limit" {
		t.Fatalf("status %+v", st)
	}
	// Room again: after RestoreDelay (60 s) but without the hour of random delay.
	var started time.Duration
	for dt := 2 * time.Second; dt < 5*time.Minute && started == 0; dt += 2 * time.Second {
		if ds := c.Step(Inputs{Now: at(dt), SiteW: 1000, SiteOK: true, Devices: h.devs}); len(ds) == 1 {
			started = dt
		}
	}
	if started < time.Minute || started > time.Minute+4*time.Second {
		t.Fatalf("deadline start after %v, want just after the 60 s restore delay", started)
	}
}

// A planned start keeps the margin; a running continuous job is never held.
func TestPlanStartHeadroomAndContinuous(t *testing.T) {
	c := mustNew(t, Config{ContractImportW: 4000, Loads: []Load{{Device: "dw", Class: ClassDeferrable, Continuous: true}}})
	d := dev("dw", capsDefer, 2000, false)
	d.State.Job = &energy.Job{RemainingWh: 1000}
	h := newHome(d)
	plan := map[energy.DeviceID]bool{"dw": true}
	if ds := c.Step(Inputs{Now: t0, SiteW: 1900, SiteOK: true, Devices: h.devs, Plan: plan}); len(ds) != 0 {
		t.Fatalf("plan start into the margin: %v", cmdsOf(ds))
	}
	c = mustNew(t, c.cfg)
	if got := cmdsOf(c.Step(Inputs{Now: t0, SiteW: 1800, SiteOK: true, Devices: h.devs, Plan: plan})); !slices.Equal(got, []string{"dw:on"}) {
		t.Fatalf("got %v", got)
	}
	h.get("dw").State.On = true
	h.settle(0)
	// Running: neither plan, level nor a breach holds it.
	ds := c.Step(Inputs{Now: at(2 * time.Second), SiteW: 5000, SiteOK: true, Devices: h.devs, Signals: Signals{Level: 3}})
	if len(ds) != 0 {
		t.Fatalf("running continuous job commanded: %v", cmdsOf(ds))
	}
}

func TestExportSoak(t *testing.T) {
	c := mustNew(t, Config{ContractExportW: 4000, Loads: []Load{
		{Device: "ev", Class: ClassDeferrable},
		{Device: "dw", Class: ClassDeferrable, Priority: 1},
		{Device: "hp", Class: ClassCurtailable, CurtailW: 500},
	}})
	ev := dev("ev", capsDefer, 7400, false)
	ev.State.Job = &energy.Job{RemainingWh: 20000}
	dw := dev("dw", capsDefer, 2000, false)
	dw.State.Job = &energy.Job{RemainingWh: 1000}
	h := newHome(ev, dw, dev("hp", capsCurt, 1500, true))
	pv := int64(-7500)
	now := t0
	step := func(level int) []Decision {
		ds := c.Step(Inputs{Now: now, SiteW: pv + h.sumW(), SiteOK: true, Devices: h.devs, Signals: Signals{Level: level}})
		h.apply(ds)
		h.settle(0)
		now = now.Add(2 * time.Second)
		return ds
	}
	// Site -6000, 2000 W over the export limit. Level 2 curtails hp; the
	// dishwasher soaks (2 kW fits in the export, the 7.4 kW EV does not).
	ds := step(2)
	if got := cmdsOf(ds); !slices.Equal(got, []string{"dw:on", "hp:limit@500"}) || ds[0].Why != "export_limit" {
		t.Fatalf("soak 1: %+v", ds)
	}
	// Still 5000 W export, over 4000: lift the curtailment, one per period.
	if got := cmdsOf(step(2)); !slices.Equal(got, []string{"hp:normal"}) {
		t.Fatalf("soak 2: %v", got)
	}
	if got := step(2); len(got) != 0 {
		t.Fatalf("soak 3: %v", cmdsOf(got))
	}
	// The sun goes: import; soaked loads go back to plan and level.
	pv = -1000
	if got := cmdsOf(step(2)); !slices.Equal(got, []string{"dw:off", "hp:limit@500"}) {
		t.Fatalf("release: %v", got)
	}
}

func TestOverrides(t *testing.T) {
	loads := []Load{
		{Device: "ev", Class: ClassDeferrable},
		{Device: "pool", Class: ClassSheddable},
		{Device: "wh", Class: ClassSheddable, Priority: 5},
	}
	ev := dev("ev", capsDefer, 3700, false)
	ev.State.Job = &energy.Job{RemainingWh: 20000}
	boost := map[energy.DeviceID]time.Time{"ev": at(time.Hour)}

	// Boost starts a held deferrable ignoring plan and level.
	c := mustNew(t, Config{ContractImportW: 11000, Loads: loads})
	h := newHome(ev, dev("pool", capsSwitch, 800, true), dev("wh", capsSwitch, 3000, true))
	ds := c.Step(Inputs{Now: t0, SiteW: 4000, SiteOK: true, Devices: h.devs, Signals: Signals{Level: 1},
		Overrides: Overrides{Boost: boost}})
	if got := cmdsOf(ds); !slices.Equal(got, []string{"ev:on"}) || ds[0].Why != "boost" {
		t.Fatalf("boost: %+v", ds)
	}
	h.apply(ds)
	h.settle(0)
	// A breach: the boosted EV is shed last, the exempt pool never.
	ds = c.Step(Inputs{Now: at(2 * time.Second), SiteW: 12000, SiteOK: true, Devices: h.devs,
		Overrides: Overrides{Boost: boost, Exempt: map[energy.DeviceID]bool{"pool": true}}})
	if got := cmdsOf(ds); !slices.Equal(got, []string{"wh:off"}) {
		t.Fatalf("breach with boost: %v", got)
	}
	h.apply(ds)
	h.settle(0)
	ds = c.Step(Inputs{Now: at(30 * time.Second), SiteW: 14000, SiteOK: true, Devices: h.devs,
		Overrides: Overrides{Boost: boost, Exempt: map[energy.DeviceID]bool{"pool": true}}})
	if got := cmdsOf(ds); !slices.Equal(got, []string{"ev:off"}) {
		t.Fatalf("bigger breach: %v", got)
	}
	// Exempting a shed device restores it at once.
	h.apply(ds)
	h.settle(0)
	ds = c.Step(Inputs{Now: at(32 * time.Second), SiteW: 9000, SiteOK: true, Devices: h.devs,
		Overrides: Overrides{Exempt: map[energy.DeviceID]bool{"wh": true}}})
	if got := cmdsOf(ds); !slices.Equal(got, []string{"wh:on"}) {
		t.Fatalf("exempt: %v", got)
	}
	// Boost + exempt starts even into a breach.
	c = mustNew(t, Config{ContractImportW: 4000, Loads: loads})
	h = newHome(ev, dev("pool", capsSwitch, 800, false), dev("wh", capsSwitch, 3000, false))
	ds = c.Step(Inputs{Now: t0, SiteW: 3900, SiteOK: true, Devices: h.devs,
		Overrides: Overrides{Boost: boost, Exempt: map[energy.DeviceID]bool{"ev": true}}})
	if got := cmdsOf(ds); !slices.Equal(got, []string{"ev:on"}) {
		t.Fatalf("boost+exempt: %v", got)
	}
	// An expired boost is no boost.
	c = mustNew(t, Config{ContractImportW: 4000, Loads: loads})
	if ds := c.Step(Inputs{Now: at(2 * time.Hour), SiteW: 500, SiteOK: true, Devices: h.devs,
		Overrides: Overrides{Boost: boost}}); len(ds) != 0 {
		t.Fatalf("expired boost: %v", cmdsOf(ds))
	}
}

// Commands only when the state differs, resends after ResendPeriods,
// offline devices skipped, devices off by the household left alone.
func TestCommandHygiene(t *testing.T) {
	c := mustNew(t, Config{Loads: []Load{
		{Device: "a", Class: ClassSheddable},
		{Device: "b", Class: ClassSheddable},
		{Device: "c", Class: ClassCurtailable, CurtailW: 700},
	}})
	h := newHome(dev("a", capsSwitch, 1000, true), dev("b", capsSwitch, 1000, false), dev("c", capsCurt, 2000, true))
	h.get("a").State.Online = false
	sig := Signals{Level: 3}
	got := cmdsOf(c.Step(Inputs{Now: t0, SiteW: 3000, SiteOK: true, Devices: h.devs, Signals: sig}))
	if !slices.Equal(got, []string{"c:limit@700"}) {
		t.Fatalf("got %v: a is offline, b is already off", got)
	}
	for _, d := range []time.Duration{2 * time.Second, 4 * time.Second} {
		if ds := c.Step(Inputs{Now: at(d), SiteW: 3000, SiteOK: true, Devices: h.devs, Signals: sig}); len(ds) != 0 {
			t.Fatalf("%v: resent too early: %v", d, cmdsOf(ds))
		}
	}
	if got := cmdsOf(c.Step(Inputs{Now: at(6 * time.Second), SiteW: 3000, SiteOK: true, Devices: h.devs, Signals: sig})); !slices.Equal(got, []string{"c:limit@700"}) {
		t.Fatalf("resend: %v", got)
	}
	// Level ends; b was never shed by us: it stays off.
	h.get("c").State.LimitW = 700
	for d := 8 * time.Second; d < 10*time.Minute; d += 2 * time.Second {
		for _, x := range c.Step(Inputs{Now: at(d), SiteW: 1000, SiteOK: true, Devices: h.devs}) {
			if x.Command.Device != "c" || x.Command.Kind != energy.CmdNormal {
				t.Fatalf("%v: unexpected %+v", d, x)
			}
			h.apply([]Decision{x})
		}
	}
	if h.get("c").State.LimitW != 0 {
		t.Fatal("c not restored")
	}
}
