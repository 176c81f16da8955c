package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

func newHome(t *testing.T, start time.Time, dumb bool) (*Home, *devices.Registry, *clocktest.Fake) {
	t.Helper()
	clk := clocktest.New(start)
	reg := devices.New()
	h, err := New(clk, Config{Location: time.UTC, Dumb: dumb}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h, reg, clk
}

func TestDeferrableWaitsForCommandAndFinishes(t *testing.T) {
	h, reg, clk := newHome(t, time.Date(2026, 8, 11, 17, 0, 0, 0, time.UTC), false)
	clk.Advance(31 * time.Minute)
	h.Step()
	ev, _ := reg.Device(EV)
	if ev.State.Job == nil || ev.State.Job.RemainingWh != 14000 || ev.State.On || ev.State.PowerW != 0 {
		t.Fatalf("EV after plug-in: %+v", ev.State)
	}
	if err := reg.Command(context.Background(), energy.Command{Device: EV, Kind: energy.CmdOn}); err != nil {
		t.Fatal(err)
	}
	if p := h.PowerW(clk.Now()); p < 7400 {
		t.Fatalf("power with EV on = %d", p)
	}
	if err := reg.Command(context.Background(), energy.Command{Device: EV, Kind: energy.CmdLimit, LimitW: 3000}); err != nil {
		t.Fatal(err)
	}
	ev, _ = reg.Device(EV)
	if ev.State.PowerW != 3000 || ev.State.LimitW != 3000 {
		t.Fatalf("EV limited: %+v", ev.State)
	}
	clk.Advance(time.Hour)
	h.Step()
	ev, _ = reg.Device(EV)
	if ev.State.Job.RemainingWh != 11000 || ev.State.EnergyWh != 3000 {
		t.Fatalf("EV after an hour at 3 kW: %+v", ev.State)
	}
	// A dishwasher that is never told to run starts by itself in time.
	clk.Advance(14 * time.Hour)
	h.Step()
	dw, _ := reg.Device(Dishwasher)
	if dw.State.Job != nil || dw.State.EnergyWh < 1600 {
		t.Fatalf("dishwasher by 08:31: %+v", dw.State)
	}
	if ev, _ := reg.Device(EV); ev.State.Job != nil {
		t.Fatalf("EV not finished by its deadline: %+v", ev.State)
	}
}

func TestRunningProgrammeCannotPause(t *testing.T) {
	_, reg, clk := newHome(t, time.Date(2026, 8, 11, 19, 29, 0, 0, time.UTC), false)
	ctx := context.Background()
	clk.Advance(2 * time.Minute)
	_ = reg.Command(ctx, energy.Command{Device: Dishwasher, Kind: energy.CmdOn})
	if err := reg.Command(ctx, energy.Command{Device: Dishwasher, Kind: energy.CmdOff}); err == nil {
		t.Fatal("paused a running dishwasher")
	}
	if err := reg.Command(ctx, energy.Command{Device: Dishwasher, Kind: energy.CmdLimit, LimitW: 1}); !errors.Is(err, energy.ErrNotCapable) {
		t.Fatalf("limit on a dishwasher: %v", err)
	}
	if err := reg.Command(ctx, energy.Command{Device: "nope", Kind: energy.CmdOn}); !errors.Is(err, energy.ErrUnknownDevice) {
		t.Fatalf("unknown device: %v", err)
	}
}

func TestDumbBaselineAndWaterHeater(t *testing.T) {
	h, reg, clk := newHome(t, time.Date(2026, 8, 11, 17, 0, 0, 0, time.UTC), true)
	clk.Advance(2*time.Hour + time.Minute)
	h.Step()
	wh, _ := reg.Device(WaterHeater)
	if wh.State.PowerW != 3000 {
		t.Fatalf("water heater after the 19:00 draw: %+v", wh.State)
	}
	if err := reg.Command(context.Background(), energy.Command{Device: WaterHeater, Kind: energy.CmdOff}); err != nil {
		t.Fatal(err)
	}
	if wh, _ := reg.Device(WaterHeater); wh.State.PowerW != 0 {
		t.Fatalf("water heater off: %+v", wh.State)
	}
	// The dumb EV started at 17:30 and is still charging at full power.
	if ev, _ := reg.Device(EV); ev.State.PowerW != 7400 || ev.State.EnergyWh < 11000 {
		t.Fatalf("dumb EV at 19:01: %+v", ev.State)
	}
}
