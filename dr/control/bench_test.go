package control

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// BenchmarkStep: 20 managed loads (5 deferrable, 5 curtailable, 10
// sheddable) during a breach the devices do not react to, so every period
// predicts, walks the shed order and resends.
func BenchmarkStep(b *testing.B) {
	var loads []Load
	var devs []energy.Device
	for i := range 20 {
		id := energy.DeviceID(fmt.Sprintf("d%02d", i))
		l := Load{Device: id, Class: ClassSheddable, Priority: i, MinOn: time.Minute}
		d := dev(id, capsSwitch, 1000, true)
		switch {
		case i < 5:
			l.Class, d.Caps = ClassDeferrable, capsDefer
			d.State.Job = &energy.Job{RemainingWh: 5000, Deadline: t0.Add(10 * time.Hour)}
		case i < 10:
			l.Class, l.CurtailW, d.Caps = ClassCurtailable, 300, capsCurt
		}
		d.State.Online, d.State.PowerW = true, 1000
		loads, devs = append(loads, l), append(devs, d)
	}
	plan := map[energy.DeviceID]bool{}
	for _, l := range loads[:5] {
		plan[l.Device] = true
	}
	c := mustNew(b, Config{ContractImportW: 10000, Loads: loads, Seed: 1})
	in := Inputs{Now: t0, SiteW: 21000, SiteOK: true, Devices: devs, Plan: plan,
		Signals: Signals{ImportLimitW: 8000, Event: "bench"}}
	b.ReportAllocs()
	for b.Loop() {
		c.Step(in)
		in.Now = in.Now.Add(c.cfg.Period)
	}
}
