package devices

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

type recDriver struct {
	got  []energy.Command
	fail error
	slow bool
}

func (d *recDriver) Command(ctx context.Context, c energy.Command) error {
	if d.slow {
		<-ctx.Done()
		return ctx.Err()
	}
	d.got = append(d.got, c)
	return d.fail
}

func TestRegistry(t *testing.T) {
	r := New()
	d := &recDriver{}
	plug := energy.DeviceInfo{ID: "plug", Caps: energy.Capabilities{energy.CapSwitch}}
	if err := r.Add(plug, d); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(plug, d); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	<-r.Changed()
	ctx := context.Background()
	if err := r.Command(ctx, energy.Command{Device: "plug", Kind: energy.CmdOff}); !errors.Is(err, energy.ErrOffline) {
		t.Fatalf("offline device: %v", err)
	}
	r.Update("plug", energy.DeviceState{Online: true, On: true, Job: &energy.Job{RemainingWh: 5}})
	select {
	case <-r.Changed():
	default:
		t.Fatal("no change signalled")
	}
	if err := r.Command(ctx, energy.Command{Device: "plug", Kind: energy.CmdOff}); err != nil || len(d.got) != 1 {
		t.Fatalf("off: %v %v", err, d.got)
	}
	if err := r.Command(ctx, energy.Command{Device: "plug", Kind: energy.CmdLimit, LimitW: 100}); !errors.Is(err, energy.ErrNotCapable) {
		t.Fatalf("limit on a plug: %v", err)
	}
	if err := r.Command(ctx, energy.Command{Device: "x", Kind: energy.CmdOn}); !errors.Is(err, energy.ErrUnknownDevice) {
		t.Fatalf("unknown: %v", err)
	}
	d.fail = errors.New("relay stuck")
	if err := r.Command(ctx, energy.Command{Device: "plug", Kind: energy.CmdOn}); err == nil || !errors.Is(err, d.fail) {
		t.Fatalf("driver error not wrapped: %v", err)
	}
	// Snapshots are copies.
	devs := r.Devices()
	devs[0].State.Job.RemainingWh = 99
	devs[0].Caps[0] = energy.CapBattery
	if got, _ := r.Device("plug"); got.State.Job.RemainingWh != 5 || got.Caps[0] != energy.CapSwitch {
		t.Fatalf("snapshot aliases the registry: %+v", got)
	}
	r.Remove("plug")
	if len(r.Devices()) != 0 {
		t.Fatal("not removed")
	}
}

func TestCommandTimeout(t *testing.T) {
	r := New()
	_ = r.Add(energy.DeviceInfo{ID: "slow", Caps: energy.Capabilities{energy.CapSwitch}}, &recDriver{slow: true})
	r.Update("slow", energy.DeviceState{Online: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Command(ctx, energy.Command{Device: "slow", Kind: energy.CmdOn}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow driver: %v", err)
	}
}

func TestWatchIsIndependentOfChanged(t *testing.T) {
	r := New()
	w1, stop1 := r.Watch()
	w2, stop2 := r.Watch()
	defer stop2()
	if err := r.Add(energy.DeviceInfo{ID: "a"}, &recDriver{}); err != nil {
		t.Fatal(err)
	}
	for i, ch := range []<-chan struct{}{r.Changed(), w1, w2} {
		select {
		case <-ch:
		default:
			t.Fatalf("subscriber %d not signalled", i)
		}
	}
	stop1()
	r.Remove("a")
	select {
	case <-w1:
		t.Fatal("stopped watcher signalled")
	default:
	}
	select {
	case <-w2:
	default:
		t.Fatal("watcher 2 not signalled on remove")
	}
}
