// Package sim is the demo home's simulated appliances: an EV charger, a
// dishwasher, an electric water heater and a heat pump that obey the device
// registry's commands, integrate their energy on the injected clock, and
// add their power to the emulated meter (see [Home.PowerW]).
//
// They are a driver like any other: they add themselves to a
// [devices.Registry] and only see commands through it. The HAN issues
// replace them one by one with appliances on real protocols (CoAP, ECHONET
// Lite); until then they are the DR controller's targets in the demo.
//
// The reference day (local time of Config.Location):
//   - EV charger, 7.4 kW, curtailable: plugged in at 17:30 wanting 14 kWh
//     by 07:00 the next morning.
//   - Dishwasher, 2 kW while running: loaded at 19:30 with a 1.6 kWh
//     programme to finish by 06:00; one block once started.
//   - Water heater, 3 kW, switchable: a tank whose hot-water draws (3 kWh
//     at 07:00, 2.5 kWh at 19:00) it reheats whenever it is on.
//   - Heat pump, 1.5 kW, curtailable: compressor on 20 of every 30 minutes.
//
// Deferrable appliances hold a job until told to run. Like real "flex
// start" appliances they start by themselves when the deadline leaves no
// slack; with Config.Dumb they start at once when loaded (the no-control
// baseline the DR scenario compares against).
package sim

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
)

// Config shapes the simulated appliances.
type Config struct {
	// Location is the home's wall-clock zone (default time.Local).
	Location *time.Location
	// Dumb makes deferrable appliances start when loaded and ignore the
	// gateway: the baseline without any control.
	Dumb bool
	// EnergyWh are the appliances' own energy counters at the start, by
	// id (a real appliance's meter does not restart at 0 with the
	// gateway); missing ids start at 0.
	EnergyWh map[energy.DeviceID]int64
}

// Device ids of the simulated appliances.
const (
	EV          energy.DeviceID = "sim-ev"
	Dishwasher  energy.DeviceID = "sim-dishwasher"
	WaterHeater energy.DeviceID = "sim-waterheater"
	HeatPump    energy.DeviceID = "sim-heatpump"
)

type appliance struct {
	info energy.DeviceInfo
	on   bool
	// limitW is the cap in force, 0 none.
	limitW int64
	// energyWms is the appliance's own counter in W·ms.
	energyWms int64
	// job is the pending deferrable work in W·ms, 0 none.
	jobWms   int64
	deadline time.Time
	// running: a one-block job (dishwasher) has started.
	running bool
	// deficitWms: water heater tank energy to reheat; heating: its
	// thermostat calls for heat (on above 500 Wh deficit, off at 0).
	deficitWms int64
	heating    bool
	powerW     int64
}

// Home is the set of simulated appliances. It is safe for concurrent use.
type Home struct {
	clk energy.Clock
	cfg Config
	reg *devices.Registry
	log *slog.Logger

	mu   sync.Mutex
	last time.Time
	apps []*appliance
	byID map[energy.DeviceID]*appliance
}

const wmsPerWh = 3600 * 1000

// New adds the appliances to reg.
func New(clk energy.Clock, cfg Config, reg *devices.Registry, log *slog.Logger) (*Home, error) {
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	h := &Home{clk: clk, cfg: cfg, reg: reg, log: log, last: clk.Now(), byID: map[energy.DeviceID]*appliance{}}
	infos := []energy.DeviceInfo{
		{ID: EV, Name: "EV charger", Transport: "sim", Kind: "evcharger", RatedW: 7400,
			Caps: energy.Capabilities{energy.CapDeferrable, energy.CapCurtail, energy.CapEV, energy.CapMeter}},
		{ID: Dishwasher, Name: "Dishwasher", Transport: "sim", Kind: "dishwasher", RatedW: 2000,
			Caps: energy.Capabilities{energy.CapDeferrable, energy.CapMeter}},
		{ID: WaterHeater, Name: "Water heater", Transport: "sim", Kind: "waterheater", RatedW: 3000,
			Caps: energy.Capabilities{energy.CapSwitch, energy.CapMeter}},
		{ID: HeatPump, Name: "Heat pump", Transport: "sim", Kind: "heatpump", RatedW: 1500,
			Caps: energy.Capabilities{energy.CapSwitch, energy.CapCurtail, energy.CapThermostat, energy.CapMeter}},
	}
	for _, info := range infos {
		a := &appliance{info: info, energyWms: max(0, cfg.EnergyWh[info.ID]) * wmsPerWh}
		if info.ID == WaterHeater || info.ID == HeatPump {
			a.on = true // thermostatic loads run unless told otherwise
		}
		h.apps = append(h.apps, a)
		h.byID[info.ID] = a
		if err := reg.Add(info, h); err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
	}
	h.mu.Lock()
	h.computeLocked(h.last)
	h.publishLocked()
	h.mu.Unlock()
	return h, nil
}

// Command carries out a registry command.
func (h *Home) Command(ctx context.Context, c energy.Command) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.byID[c.Device]
	if !ok {
		return fmt.Errorf("sim: %s: %w", c.Device, energy.ErrUnknownDevice)
	}
	h.advanceLocked(h.clk.Now())
	switch c.Kind {
	case energy.CmdOn:
		a.on = true
	case energy.CmdOff:
		if a.running && a.jobWms > 0 {
			// A started programme cannot be paused; it reports as on.
			return fmt.Errorf("sim: %s: programme running, cannot pause", c.Device)
		}
		a.on = false
	case energy.CmdLimit:
		a.limitW = c.LimitW
	case energy.CmdNormal:
		a.limitW = 0
	default:
		return fmt.Errorf("sim: %s: %w", c.Kind, energy.ErrNotCapable)
	}
	h.computeLocked(h.clk.Now())
	h.publishLocked()
	return nil
}

// PowerW is the appliances' total power now; it is the meter model's
// Config.Extra (t is ignored: the appliances only know the present).
func (h *Home) PowerW(time.Time) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var p int64
	for _, a := range h.apps {
		p += a.powerW
	}
	return p
}

// Step advances the appliances to the clock's now and publishes their state.
func (h *Home) Step() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.advanceLocked(h.clk.Now())
	h.publishLocked()
}

// Run steps the appliances every second until ctx ends.
func (h *Home) Run(ctx context.Context) error {
	for {
		h.Step()
		t := h.clk.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// advanceLocked integrates energy second by second (power constant within
// each step) and applies the day's events (jobs, draws) as it passes them.
func (h *Home) advanceLocked(now time.Time) {
	if !now.After(h.last) {
		return
	}
	// Long gaps (a test jumping the clock) are walked in steps of at most a
	// minute so daily events are not skipped.
	for h.last.Before(now) {
		next := h.last.Add(time.Minute)
		if next.After(now) {
			next = now
		}
		dt := next.Sub(h.last).Milliseconds()
		for _, a := range h.apps {
			e := a.powerW * dt
			a.energyWms += e
			switch {
			case a.info.ID == WaterHeater:
				a.deficitWms = max(0, a.deficitWms-e+50*dt) // 50 W standing loss
			case a.jobWms > 0:
				a.jobWms = max(0, a.jobWms-e)
				if a.jobWms == 0 {
					a.on, a.running, a.deadline = false, false, time.Time{}
				}
			}
		}
		h.dailyLocked(h.last, next)
		h.last = next
		h.computeLocked(next)
	}
}

// crosses reports whether the local time of day hh:mm lies in (from, to].
func (h *Home) crosses(from, to time.Time, hh, mm int) (time.Time, bool) {
	lf := from.In(h.cfg.Location)
	for d := -1; d <= 1; d++ {
		y, mo, dd := lf.AddDate(0, 0, d).Date()
		at := time.Date(y, mo, dd, hh, mm, 0, 0, h.cfg.Location)
		if at.After(from) && !at.After(to) {
			return at, true
		}
	}
	return time.Time{}, false
}

func (h *Home) dailyLocked(from, to time.Time) {
	if at, ok := h.crosses(from, to, 17, 30); ok {
		h.loadJob(EV, 14000, at.Add(13*time.Hour+30*time.Minute))
	}
	if at, ok := h.crosses(from, to, 19, 30); ok {
		h.loadJob(Dishwasher, 1600, at.Add(10*time.Hour+30*time.Minute))
	}
	wh := h.byID[WaterHeater]
	if _, ok := h.crosses(from, to, 7, 0); ok {
		wh.deficitWms += 3000 * wmsPerWh
	}
	if _, ok := h.crosses(from, to, 19, 0); ok {
		wh.deficitWms += 2500 * wmsPerWh
	}
}

func (h *Home) loadJob(id energy.DeviceID, wh int64, deadline time.Time) {
	a := h.byID[id]
	if a.jobWms > 0 {
		return // yesterday's job still pending: keep it
	}
	a.jobWms, a.deadline, a.running = wh*wmsPerWh, deadline, false
	a.on = h.cfg.Dumb
}

// computeLocked sets every appliance's power for the state at t.
func (h *Home) computeLocked(t time.Time) {
	for _, a := range h.apps {
		p := int64(0)
		switch a.info.ID {
		case EV, Dishwasher:
			if a.jobWms > 0 && !a.on && !h.cfg.Dumb {
				// The appliance's own fallback: start when the deadline
				// leaves no slack at all (a gateway starts it earlier).
				need := time.Duration(a.jobWms/a.info.RatedW) * time.Millisecond
				if !a.deadline.IsZero() && !t.Add(need).Before(a.deadline) {
					a.on = true
				}
			}
			if a.jobWms > 0 && a.on {
				p = a.info.RatedW
				if a.info.ID == Dishwasher {
					a.running = true
				}
			}
		case WaterHeater:
			if a.deficitWms > 500*wmsPerWh {
				a.heating = true
			} else if a.deficitWms == 0 {
				a.heating = false
			}
			if a.on && a.heating {
				p = a.info.RatedW
			}
		case HeatPump:
			if a.on && t.In(h.cfg.Location).Minute()%30 < 20 {
				p = a.info.RatedW
			}
		}
		if a.limitW > 0 && p > a.limitW {
			p = a.limitW
		}
		a.powerW = p
	}
}

func (h *Home) publishLocked() {
	now := h.clk.Now()
	for _, a := range h.apps {
		st := energy.DeviceState{Online: true, On: a.on, PowerW: a.powerW, LimitW: a.limitW,
			EnergyWh: a.energyWms / wmsPerWh, Updated: now}
		if a.jobWms > 0 {
			st.Job = &energy.Job{RemainingWh: (a.jobWms + wmsPerWh - 1) / wmsPerWh, Deadline: a.deadline}
		}
		h.reg.Update(a.info.ID, st)
	}
}
