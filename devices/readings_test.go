package devices

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

type recPub struct {
	mu  sync.Mutex
	got [][]energy.Reading
	c   chan struct{}
}

func (p *recPub) Publish(rs []energy.Reading) error {
	p.mu.Lock()
	p.got = append(p.got, append([]energy.Reading(nil), rs...))
	p.mu.Unlock()
	p.c <- struct{}{}
	return nil
}

func TestReadingsOnlyNewMeterValues(t *testing.T) {
	r := New()
	d := &recDriver{}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	must(t, r.Add(energy.DeviceInfo{ID: "plug", Transport: "ble", Caps: energy.Capabilities{energy.CapSwitch, energy.CapMeter}}, d))
	must(t, r.Add(energy.DeviceInfo{ID: "relay", Caps: energy.Capabilities{energy.CapSwitch}}, d))
	must(t, r.Add(energy.DeviceInfo{ID: "gone", Caps: energy.Capabilities{energy.CapMeter}}, d))
	r.Update("plug", energy.DeviceState{Online: true, PowerW: 120, EnergyWh: 4567, Updated: t0})
	r.Update("relay", energy.DeviceState{Online: true, PowerW: 1, Updated: t0})
	r.Update("gone", energy.DeviceState{Online: false, EnergyWh: 9, Updated: t0})

	last := map[energy.DeviceID]time.Time{}
	rs := r.Readings(t0.Add(time.Second), last)
	if len(rs) != 2 {
		t.Fatalf("readings %+v, want the plug's energy and power", rs)
	}
	e, p := rs[0], rs[1]
	if e.Device != "plug" || e.Quantity != energy.ImportEnergy || e.Value != energy.D(4567, 0) || e.Legal || !e.Measured.Equal(t0) || e.Source != "device/ble" {
		t.Errorf("energy reading %+v", e)
	}
	if p.Quantity != energy.Power || p.Value != energy.D(120, 0) {
		t.Errorf("power reading %+v", p)
	}
	if rs := r.Readings(t0.Add(time.Minute), last); len(rs) != 0 {
		t.Errorf("a device that did not update is repeated: %+v", rs)
	}
	r.Update("plug", energy.DeviceState{Online: true, PowerW: 0, EnergyWh: 4570, Updated: t0.Add(50 * time.Second)})
	if rs := r.Readings(t0.Add(time.Minute), last); len(rs) != 2 || rs[0].Value != energy.D(4570, 0) {
		t.Errorf("after an update: %+v", rs)
	}
	r.Remove("plug")
	r.Readings(t0.Add(2*time.Minute), last)
	if len(last) != 0 {
		t.Errorf("removed device still tracked: %v", last)
	}
}

func TestPublishReadingsOnTheMinute(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 20, 0, time.UTC)
	clk := clocktest.New(t0)
	r := New()
	must(t, r.Add(energy.DeviceInfo{ID: "plug", Caps: energy.Capabilities{energy.CapMeter}}, &recDriver{}))
	r.Update("plug", energy.DeviceState{Online: true, EnergyWh: 1, Updated: t0})
	pub := &recPub{c: make(chan struct{}, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.PublishReadings(ctx, clk, pub) }()
	for clk.Timers() == 0 {
		time.Sleep(time.Millisecond)
	}
	clk.Advance(39 * time.Second)
	select {
	case <-pub.c:
		t.Fatal("published before the minute")
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(time.Second)
	select {
	case <-pub.c:
	case <-time.After(5 * time.Second):
		t.Fatal("nothing published on the minute")
	}
	pub.mu.Lock()
	if got := pub.got[0][0]; !got.Received.Equal(t0.Truncate(time.Minute).Add(time.Minute)) {
		t.Errorf("received %v", got.Received)
	}
	pub.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
