// Package devices is the device registry: the one place commands flow back
// to drivers. Drivers add the devices they own and report their state;
// consumers (dr, web, HomeKit) list devices and send commands through
// [Registry.Command], which checks the capability and the online state
// before the owning driver sees the command. No consumer reaches a driver.
//
// The metrology core is not here: it is read-only by construction and
// exposed through [energy.MeterView].
package devices

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Driver is the owner of one or more devices.
type Driver interface {
	// Command carries out c for a device the driver added. It must honour
	// ctx and return promptly; the registry bounds it by CommandTimeout.
	Command(ctx context.Context, c energy.Command) error
}

// CommandTimeout bounds a driver's Command call.
const CommandTimeout = 5 * time.Second

// MaxDevices bounds the registry (a home, not a city).
const MaxDevices = 1024

// ErrDuplicate is returned by Add for an id already present.
var ErrDuplicate = errors.New("devices: duplicate device id")

type entry struct {
	info   energy.DeviceInfo
	state  energy.DeviceState
	driver Driver
}

// Registry holds the controllable devices. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	devs    map[energy.DeviceID]*entry
	changed chan struct{}
	// watchers are the extra subscribers of Watch.
	watchers map[chan struct{}]struct{}
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{devs: map[energy.DeviceID]*entry{}, changed: make(chan struct{}, 1)}
}

// Add registers a device owned by d.
func (r *Registry) Add(info energy.DeviceInfo, d Driver) error {
	if info.ID == "" || d == nil {
		return errors.New("devices: add: empty id or nil driver")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.devs[info.ID]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicate, info.ID)
	}
	if len(r.devs) >= MaxDevices {
		return fmt.Errorf("devices: add %s: registry full (%d)", info.ID, MaxDevices)
	}
	info.Caps = slices.Clone(info.Caps)
	r.devs[info.ID] = &entry{info: info, driver: d}
	r.notify()
	return nil
}

// Remove drops a device; unknown ids are ignored.
func (r *Registry) Remove(id energy.DeviceID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.devs[id]; ok {
		delete(r.devs, id)
		r.notify()
	}
}

// Update records a device's state as its driver reports it.
func (r *Registry) Update(id energy.DeviceID, st energy.DeviceState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.devs[id]; ok {
		if st.Job != nil {
			j := *st.Job
			st.Job = &j
		}
		changed := e.state.On != st.On || e.state.Online != st.Online || e.state.LimitW != st.LimitW
		e.state = st
		if changed {
			r.notify()
		}
	}
}

func (r *Registry) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
	for ch := range r.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Watch is Changed for a further consumer (Changed has one, the DR
// engine): its own channel, signalled on the same changes; stop ends the
// subscription.
func (r *Registry) Watch() (ch <-chan struct{}, stop func()) {
	c := make(chan struct{}, 1)
	r.mu.Lock()
	if r.watchers == nil {
		r.watchers = map[chan struct{}]struct{}{}
	}
	r.watchers[c] = struct{}{}
	r.mu.Unlock()
	return c, func() {
		r.mu.Lock()
		delete(r.watchers, c)
		r.mu.Unlock()
	}
}

// Changed is signalled (capacity 1, never blocking the sender) when a device
// is added or removed or its on/online/limit state changes.
func (r *Registry) Changed() <-chan struct{} { return r.changed }

// Devices returns a snapshot of every device, sorted by id.
func (r *Registry) Devices() []energy.Device {
	r.mu.Lock()
	out := make([]energy.Device, 0, len(r.devs))
	for _, e := range r.devs {
		out = append(out, snapshot(e))
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b energy.Device) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Device returns one device.
func (r *Registry) Device(id energy.DeviceID) (energy.Device, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.devs[id]
	if !ok {
		return energy.Device{}, false
	}
	return snapshot(e), true
}

func snapshot(e *entry) energy.Device {
	d := energy.Device{DeviceInfo: e.info, State: e.state}
	d.Caps = slices.Clone(e.info.Caps)
	if e.state.Job != nil {
		j := *e.state.Job
		d.State.Job = &j
	}
	return d
}

// Command routes c to the driver that owns the device, after checking that
// the device exists, can do it and is online.
func (r *Registry) Command(ctx context.Context, c energy.Command) error {
	r.mu.Lock()
	e, ok := r.devs[c.Device]
	var info energy.DeviceInfo
	var online bool
	var d Driver
	if ok {
		info, online, d = e.info, e.state.Online, e.driver
	}
	r.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("devices: %s %s: %w", c.Kind, c.Device, energy.ErrUnknownDevice)
	case !energy.Supports(info.Caps, c.Kind):
		return fmt.Errorf("devices: %s %s: %w", c.Kind, c.Device, energy.ErrNotCapable)
	case c.Kind == energy.CmdLimit && c.LimitW < 0:
		return fmt.Errorf("devices: limit %s: negative limit %d W", c.Device, c.LimitW)
	case !online:
		return fmt.Errorf("devices: %s %s: %w", c.Kind, c.Device, energy.ErrOffline)
	}
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	if err := d.Command(ctx, c); err != nil {
		return fmt.Errorf("devices: %s %s: %w", c.Kind, c.Device, err)
	}
	return nil
}
