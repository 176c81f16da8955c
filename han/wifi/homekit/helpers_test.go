package homekit

import (
	"github.com/brutella/hap"

	"context"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
)

// recDriver is a driver that records the commands it gets and turns the
// device on or off in the registry as a real driver would.
type recDriver struct {
	mu  sync.Mutex
	reg *devices.Registry
	got []energy.Command
}

func (d *recDriver) Command(_ context.Context, c energy.Command) error {
	d.mu.Lock()
	d.got = append(d.got, c)
	d.mu.Unlock()
	if dev, ok := d.reg.Device(c.Device); ok {
		st := dev.State
		st.On = c.Kind == energy.CmdOn
		d.reg.Update(c.Device, st)
	}
	return nil
}

func (d *recDriver) commands() []energy.Command {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]energy.Command(nil), d.got...)
}

var (
	devPlug  = energy.DeviceInfo{ID: "plug", Name: "Water heater", Kind: "waterheater", Transport: "sim", Caps: energy.Capabilities{energy.CapSwitch, energy.CapMeter}}
	devRelay = energy.DeviceInfo{ID: "relay", Name: "Pool pump", Kind: "relay", Transport: "relay", Caps: energy.Capabilities{energy.CapSwitch}}
	devAC    = energy.DeviceInfo{ID: "ac", Name: "Air conditioner", Kind: "air_conditioner", Transport: "wisun", Caps: energy.Capabilities{energy.CapSwitch, energy.CapCurtail, energy.CapThermostat}}
	devSolar = energy.DeviceInfo{ID: "solar", Name: "Solar", Kind: "solar", Transport: "wisun", Caps: energy.Capabilities{energy.CapMeter}}
	devGas   = energy.DeviceInfo{ID: "gas", Name: "Gas meter", Kind: "gas_meter", Transport: "wisun"}
	devDW    = energy.DeviceInfo{ID: "dw", Name: "Dishwasher", Kind: "dishwasher", Transport: "coap", Caps: energy.Capabilities{energy.CapDeferrable, energy.CapMeter}}
)

// home returns a registry with the test devices online.
func home(infos ...energy.DeviceInfo) (*devices.Registry, *recDriver) {
	reg := devices.New()
	d := &recDriver{reg: reg}
	for _, info := range infos {
		if err := reg.Add(info, d); err != nil {
			panic(err)
		}
		reg.Update(info.ID, energy.DeviceState{Online: true, Updated: time.Unix(1e9, 0)})
	}
	return reg, d
}

// fakeGrid is an in-memory DR engine.
type fakeGrid struct {
	mu     sync.Mutex
	ev     GridEvent
	active bool
}

func (g *fakeGrid) ActiveEvent() (GridEvent, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ev, g.active
}

func (g *fakeGrid) OptOut(_ context.Context, id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.active && g.ev.ID == id {
		g.ev.OptedOut = true
	}
	return nil
}

// fakeMeter is a legal meter view.
type fakeMeter struct{ w, wh int64 }

func (m fakeMeter) MeterStatus() energy.MeterStatus {
	return energy.MeterStatus{Device: "meter", LinkUp: true, Values: map[energy.Quantity]energy.Sample{
		energy.Power:        {Value: energy.D(m.w, 0)},
		energy.ImportEnergy: {Value: energy.D(m.wh, 0)},
	}}
}

// lockedStore makes hap's memStore (a bare map) safe for the server's
// goroutines; the gateway's bbolt store is safe by itself.
type lockedStore struct {
	mu sync.Mutex
	s  hap.Store
}

func newStore() *lockedStore { return &lockedStore{s: hap.NewMemStore()} }

func (l *lockedStore) Set(k string, v []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Set(k, v)
}

func (l *lockedStore) Get(k string) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Get(k)
}

func (l *lockedStore) Delete(k string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Delete(k)
}

func (l *lockedStore) KeysWithSuffix(s string) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.KeysWithSuffix(s)
}
