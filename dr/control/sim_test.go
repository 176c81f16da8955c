package control

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// TestSimulatedHome runs three hours of a home in 2-second periods: a
// base-load curve, a fridge (critical), an EV charger, a heat pump, a
// water heater, a pool pump and a dishwasher. Steps: the start itself, an
// oven (3 kW, unmanaged) at 00:10, a 3 kW import limit from event peak-17
// 00:30-01:30, a kettle (1.5 kW, unmanaged) at 01:15.
func TestSimulatedHome(t *testing.T) {
	const period = 2 * time.Second
	loads := []Load{
		{Device: "ev", Class: ClassCurtailable, Priority: 10, MinOn: 2 * time.Minute, MinOff: 3 * time.Minute},
		{Device: "heatpump", Class: ClassCurtailable, Priority: 60, CurtailW: 500},
		{Device: "waterheater", Class: ClassSheddable, Priority: 20, MinOn: time.Minute, MinOff: 2 * time.Minute},
		{Device: "pool", Class: ClassSheddable, Priority: 5, MinOn: 30 * time.Second},
		{Device: "dishwasher", Class: ClassDeferrable, Continuous: true},
		{Device: "fridge", Class: ClassCritical},
	}
	c := mustNew(t, Config{ContractImportW: 11000, Period: period, Loads: loads, Seed: 17})
	dw := dev("dishwasher", capsDefer, 2000, false)
	dw.State.Job = &energy.Job{RemainingWh: 1600, Deadline: at(4 * time.Hour)}
	h := newHome(
		dev("ev", capsCurt, 3700, true),
		dev("heatpump", capsCurt, 1500, true),
		dev("waterheater", capsSwitch, 2000, true),
		dev("pool", capsSwitch, 800, true),
		dw,
		dev("fridge", capsSwitch, 150, true),
	)
	minOn := map[energy.DeviceID]time.Duration{}
	minOff := map[energy.DeviceID]time.Duration{}
	for _, l := range loads {
		minOn[l.Device], minOff[l.Device] = l.MinOn, l.MinOff
	}

	base := func(d time.Duration) int64 {
		w := 500 + int64(50*math.Sin(2*math.Pi*d.Minutes()/40))
		if d >= 10*time.Minute && d < 25*time.Minute {
			w += 3000 // oven
		}
		if d >= 75*time.Minute && d < 81*time.Minute {
			w += 1500 // kettle
		}
		return w
	}
	eventOn := func(d time.Duration) bool { return d >= 30*time.Minute && d < 90*time.Minute }
	steps := []time.Duration{0, 10 * time.Minute, 30 * time.Minute, 75 * time.Minute}

	type flip struct {
		at time.Time
		on bool
	}
	lastFlip := map[energy.DeviceID]flip{}
	var restores []time.Time
	var violations []time.Duration
	for d := time.Duration(0); d < 3*time.Hour; d += period {
		now := at(d)
		sig := Signals{}
		if eventOn(d) {
			sig = Signals{ImportLimitW: 3000, Event: "peak-17"}
		}
		limit := int64(11000)
		if eventOn(d) {
			limit = 3000
		}
		site := base(d) + h.sumW()
		if site > limit {
			violations = append(violations, d)
		}
		plan := map[energy.DeviceID]bool{"dishwasher": d >= 100*time.Minute}
		ds := c.Step(Inputs{Now: now, SiteW: site, SiteOK: true, Devices: h.devs, Signals: sig, Plan: plan})
		nRestore := 0
		for _, x := range ds {
			if x.Command.Device == "fridge" {
				t.Fatalf("%v: critical load commanded: %+v", d, x)
			}
			if x.Why == "restore" {
				nRestore++
				restores = append(restores, now)
			}
		}
		if nRestore > 1 {
			t.Errorf("%v: %d restores in one period", d, nRestore)
		}
		// MinOn/MinOff on the switching the household would see.
		before := map[energy.DeviceID]bool{}
		for _, x := range h.devs {
			before[x.ID] = x.State.On
		}
		for _, x := range ds {
			t.Logf("%v site=%d %s %s %d %s | %s", d, site, x.Command.Device, x.Command.Kind, x.Command.LimitW, x.Why, x.Command.Reason)
		}
		h.apply(ds)
		for _, x := range h.devs {
			if x.State.On == before[x.ID] || x.ID == "dishwasher" && x.State.Job == nil {
				continue
			}
			if f, ok := lastFlip[x.ID]; ok {
				held := now.Sub(f.at)
				if !x.State.On && held < minOn[x.ID] && site <= limit+limit/10 {
					t.Errorf("%v: %s switched off after %v on (MinOn %v) without a fuse-level breach", d, x.ID, held, minOn[x.ID])
				}
				if x.State.On && held < minOff[x.ID] {
					t.Errorf("%v: %s switched on after %v off (MinOff %v)", d, x.ID, held, minOff[x.ID])
				}
			}
			lastFlip[x.ID] = flip{now, x.State.On}
		}
		h.settle(period)
	}

	// Import above the limit only in the two periods after each step.
	for _, v := range violations {
		ok := false
		for _, s := range steps {
			if v >= s && v < s+2*period {
				ok = true
			}
		}
		if !ok {
			t.Errorf("import above the limit at %v, not within 2 periods of a step", v)
		}
	}
	if len(violations) == 0 {
		t.Error("no breach at all: the scenario does not exercise shedding")
	}
	// Restores after the event: one at a time, spread by random delays.
	var after []time.Time
	for _, r := range restores {
		if r.After(at(90 * time.Minute)) {
			after = append(after, r)
		}
	}
	if len(after) < 3 {
		t.Fatalf("%d restores after the event, want >= 3 (all: %v)", len(after), restores)
	}
	if !slices.IsSortedFunc(after, time.Time.Compare) || after[len(after)-1].Sub(after[0]) < 30*time.Second {
		t.Errorf("restores not spread: %v", after)
	}
	for i := 1; i < len(after); i++ {
		if !after[i].After(after[i-1]) {
			t.Errorf("two restores at %v", after[i])
		}
	}
	if dw := h.get("dishwasher"); dw.State.Job != nil {
		t.Errorf("dishwasher not finished: %+v", dw.State.Job)
	}
	if st := c.Status(); len(st.Shed) != 0 {
		t.Errorf("still shed at the end: %+v", st.Shed)
	}
	for _, id := range []energy.DeviceID{"ev", "heatpump", "waterheater", "pool"} {
		x := h.get(id)
		if !x.State.On || x.State.LimitW != 0 {
			t.Errorf("%s not restored: %+v", id, x.State)
		}
	}
	t.Logf("breach periods %v; restores after the event at %v", violations, after)
}
