package control

import (
	"strconv"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

var t0 = time.Date(2025, 6, 2, 18, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

var (
	capsSwitch = energy.Capabilities{energy.CapSwitch, energy.CapMeter}
	capsCurt   = energy.Capabilities{energy.CapSwitch, energy.CapCurtail, energy.CapMeter}
	capsDefer  = energy.Capabilities{energy.CapDeferrable, energy.CapMeter}
)

// home is an in-memory set of devices that obey commands: a command
// changes On/LimitW at once, and PowerW follows at settle (the next
// period's reading).
type home struct {
	devs []energy.Device
	// cmds counts commands per device.
	cmds map[energy.DeviceID]int
}

func newHome(devs ...energy.Device) *home {
	for i := range devs {
		devs[i].State.Online = true
	}
	h := &home{devs: devs, cmds: map[energy.DeviceID]int{}}
	h.settle(0)
	return h
}

func dev(id energy.DeviceID, caps energy.Capabilities, ratedW int64, on bool) energy.Device {
	return energy.Device{
		DeviceInfo: energy.DeviceInfo{ID: id, Name: string(id), Caps: caps, RatedW: ratedW},
		State:      energy.DeviceState{On: on},
	}
}

func (h *home) get(id energy.DeviceID) *energy.Device {
	for i := range h.devs {
		if h.devs[i].ID == id {
			return &h.devs[i]
		}
	}
	panic("no device " + id)
}

func (h *home) apply(ds []Decision) {
	for _, d := range ds {
		dv := h.get(d.Command.Device)
		h.cmds[dv.ID]++
		switch d.Command.Kind {
		case energy.CmdOn:
			dv.State.On = true
		case energy.CmdOff:
			dv.State.On = false
		case energy.CmdLimit:
			dv.State.LimitW = d.Command.LimitW
		case energy.CmdNormal:
			dv.State.LimitW = 0
		}
	}
}

// settle sets each device's power from its state and runs jobs for dt.
func (h *home) settle(dt time.Duration) {
	for i := range h.devs {
		d := &h.devs[i]
		if d.State.Job != nil {
			d.State.Job.RemainingWh -= d.State.PowerW * int64(dt) / int64(time.Hour)
			if d.State.Job.RemainingWh <= 0 {
				d.State.Job, d.State.On = nil, false
			}
		}
		p := int64(0)
		if d.State.On && (!d.Caps.Has(energy.CapDeferrable) || d.State.Job != nil) {
			p = d.RatedW
		}
		if d.State.LimitW > 0 && p > d.State.LimitW {
			p = d.State.LimitW
		}
		d.State.PowerW = p
	}
}

func (h *home) sumW() int64 {
	var s int64
	for _, d := range h.devs {
		s += d.State.PowerW
	}
	return s
}

func mustNew(t testing.TB, cfg Config) *Controller {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cmdsOf returns the decisions' "device:kind" in order.
func cmdsOf(ds []Decision) []string {
	var s []string
	for _, d := range ds {
		k := string(d.Command.Device) + ":" + string(d.Command.Kind)
		if d.Command.Kind == energy.CmdLimit {
			k += "@" + strconv.FormatInt(d.Command.LimitW, 10)
		}
		s = append(s, k)
	}
	return s
}
