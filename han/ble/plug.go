package ble

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/gatewayd-project/gatewayd/energy"
)

// plugSession keeps one adopted appliance connected.
type plugSession struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	conn Conn
}

func (p *plugSession) stop() {
	p.cancel()
	<-p.done
}

func (p *plugSession) current() Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conn
}

// startPlug starts d's session under ctx, unless the hub stopped running.
func (h *Hub) startPlug(ctx context.Context, d *device) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.runCtx == nil || ctx.Err() != nil || d.plug != nil {
		return
	}
	pctx, cancel := context.WithCancel(ctx)
	p := &plugSession{cancel: cancel, done: make(chan struct{})}
	d.plug = p
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer close(p.done)
		h.runPlug(pctx, d, p)
	}()
}

// runPlug connects, serves the connection until it drops and reconnects
// with backoff (doubling from Backoff to MaxBackoff, reset after a
// connection that worked) until ctx is done.
func (h *Hub) runPlug(ctx context.Context, d *device, p *plugSession) {
	backoff := h.o.Backoff
	for ctx.Err() == nil {
		connected, err := h.plugOnce(ctx, d, p)
		h.mu.Lock()
		wasUp := d.state.Online
		d.state.Online = false
		st := d.state
		report := !d.down
		d.down = true
		h.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if wasUp {
			h.o.Registry.Update(d.id, st)
		}
		if report && h.o.Unreachable != nil {
			h.o.Unreachable(d.id, true)
		}
		if connected {
			backoff = h.o.Backoff
		}
		h.o.Log.Warn("ble: appliance connection ended; reconnecting", "id", d.id, "err", err, "in", backoff)
		if !energy.Sleep(ctx, h.o.Clock, backoff) {
			return
		}
		backoff = min(2*backoff, h.o.MaxBackoff)
	}
}

func (h *Hub) call(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, h.o.ConnectTimeout)
	defer cancel()
	return f(ctx)
}

// plugOnce runs one connection; connected says it got as far as online.
func (h *Hub) plugOnce(ctx context.Context, d *device, p *plugSession) (connected bool, err error) {
	var conn Conn
	if err := h.call(ctx, func(ctx context.Context) (err error) {
		conn, err = h.o.Adapter.Connect(ctx, d.a.Addr)
		return err
	}); err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	var svcs []Service
	if err := h.call(ctx, func(ctx context.Context) (err error) { svcs, err = conn.Discover(ctx); return err }); err != nil {
		return false, fmt.Errorf("discover: %w", err)
	}
	if err := checkProfile(svcs); err != nil {
		return false, err
	}
	read := func(u UUID) ([]byte, error) {
		var b []byte
		err := h.call(ctx, func(ctx context.Context) (err error) { b, err = conn.Read(ctx, u); return err })
		if err == nil && len(b) > MaxValueLen {
			err = fmt.Errorf("%w: %d bytes", ErrPayload, len(b))
		}
		return b, err
	}
	if hasService(svcs, ServiceDeviceInfo) {
		man, _ := read(CharManufacturer)
		model, _ := read(CharModel)
		fw, _ := read(CharFirmware)
		h.o.Log.Info("ble: appliance connected", "id", d.id, "manufacturer", string(man), "model", string(model), "firmware", string(fw))
	}
	onB, err := read(CharOnOff)
	if err != nil {
		return false, fmt.Errorf("read on/off: %w", err)
	}
	on, err := DecodeOnOff(onB)
	if err != nil {
		return false, err
	}
	pwB, err := read(CharPower)
	if err != nil {
		return false, fmt.Errorf("read power: %w", err)
	}
	enB, err := read(CharEnergy)
	if err != nil {
		return false, fmt.Errorf("read energy: %w", err)
	}
	drB, err := read(CharDR)
	if err != nil {
		return false, fmt.Errorf("read DR: %w", err)
	}
	dr, err := DecodeDR(drB)
	if err != nil {
		return false, err
	}
	h.mu.Lock()
	d.state.On = on
	d.state.LimitW = 0
	if dr.Op == DRLimit || dr.Op == DRCurtail {
		d.state.LimitW = dr.LimitW
	}
	h.mu.Unlock()
	if err := h.plugValue(d, CharPower, pwB); err != nil {
		return false, err
	}
	if err := h.plugValue(d, CharEnergy, enB); err != nil {
		return false, err
	}
	for _, u := range []UUID{CharOnOff, CharPower, CharEnergy} {
		u := u
		if err := h.call(ctx, func(ctx context.Context) error {
			return conn.Subscribe(ctx, u, func(b []byte) {
				if err := h.plugValue(d, u, b); err != nil {
					h.o.Log.Debug("ble: appliance value refused", "id", d.id, "err", err)
				}
			})
		}); err != nil {
			return false, fmt.Errorf("subscribe %s: %w", u, err)
		}
	}
	p.mu.Lock()
	p.conn = conn
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.conn = nil
		p.mu.Unlock()
	}()
	h.mu.Lock()
	back := d.down
	d.down = false
	d.state.Online = true
	d.state.Updated = h.o.Clock.Now()
	st := d.state
	h.mu.Unlock()
	h.o.Registry.Update(d.id, st)
	if back && h.o.Unreachable != nil {
		h.o.Unreachable(d.id, false)
	}
	select {
	case <-ctx.Done():
		return true, nil
	case <-conn.Done():
		return true, ErrNotConnected
	}
}

func hasService(svcs []Service, u UUID) bool {
	for _, s := range svcs {
		if s.UUID == u {
			return true
		}
	}
	return false
}

// checkProfile checks that the appliance service has our characteristics
// with the properties the profile names.
func checkProfile(svcs []Service) error {
	want := map[UUID]byte{CharOnOff: PropRead | PropWrite | PropNotify, CharPower: PropRead | PropNotify,
		CharEnergy: PropRead | PropNotify, CharDR: PropRead | PropWrite}
	for _, s := range svcs {
		if s.UUID != ServiceAppliance {
			continue
		}
		for _, c := range s.Chars {
			if p, ok := want[c.UUID]; ok && c.Props&p == p {
				delete(want, c.UUID)
			}
		}
		if len(want) == 0 {
			return nil
		}
		return fmt.Errorf("ble: appliance service lacks %d characteristic(s) of the profile", len(want))
	}
	return errors.New("ble: no appliance service")
}

// plugValue takes a characteristic value (read or notified).
func (h *Hub) plugValue(d *device, u UUID, b []byte) error {
	now := h.o.Clock.Now()
	var r energy.Reading
	h.mu.Lock()
	switch u {
	case CharOnOff:
		on, err := DecodeOnOff(b)
		if err != nil {
			h.mu.Unlock()
			return err
		}
		d.state.On = on
		r = energy.Reading{Quantity: energy.Operating, Value: energy.D(map[bool]int64{false: 0, true: 1}[on], 0)}
	case CharPower:
		cW, err := DecodePower(b)
		if err != nil {
			h.mu.Unlock()
			return err
		}
		d.state.PowerW = (cW + 50) / 100
		r = energy.Reading{Quantity: energy.Power, Value: energy.D(cW, -2)}
	case CharEnergy:
		wh, err := DecodeEnergy(b)
		if err != nil {
			h.mu.Unlock()
			return err
		}
		d.state.EnergyWh = wh
		r = energy.Reading{Quantity: energy.ImportEnergy, Value: energy.D(wh, 0)}
	}
	d.state.Updated, d.last = now, now
	st := d.state
	online := st.Online
	h.mu.Unlock()
	if online {
		h.o.Registry.Update(d.id, st)
	}
	r.Device, r.Measured, r.Received, r.Source = d.id, now, now, "ble/gatt"
	if h.o.Publisher != nil {
		if err := h.o.Publisher.Publish([]energy.Reading{r}); err != nil {
			return fmt.Errorf("ble: publish: %w", err)
		}
	}
	return nil
}

// Command carries out c on an adopted appliance over its connection.
func (h *Hub) Command(ctx context.Context, c energy.Command) error {
	h.mu.Lock()
	var d *device
	for _, x := range h.devs {
		if x.id == c.Device {
			d = x
		}
	}
	var p *plugSession
	if d != nil {
		p = d.plug
	}
	h.mu.Unlock()
	switch {
	case d == nil:
		return fmt.Errorf("ble: %s %s: %w", c.Kind, c.Device, energy.ErrUnknownDevice)
	case d.a.Kind != KindPlug:
		return fmt.Errorf("ble: %s %s: %w", c.Kind, c.Device, energy.ErrNotCapable)
	}
	var conn Conn
	if p != nil {
		conn = p.current()
	}
	if conn == nil {
		return fmt.Errorf("ble: %s %s: %w", c.Kind, c.Device, energy.ErrOffline)
	}
	var char UUID
	var v []byte
	switch c.Kind {
	case energy.CmdOn, energy.CmdOff:
		char, v = CharOnOff, EncodeOnOff(c.Kind == energy.CmdOn)
	case energy.CmdLimit, energy.CmdNormal:
		cmd := DRCommand{Op: DRNormal}
		if c.Kind == energy.CmdLimit {
			cmd = DRCommand{Op: DRLimit, LimitW: c.LimitW}
		}
		var err error
		if v, err = cmd.Encode(); err != nil {
			return err
		}
		char = CharDR
	default:
		return fmt.Errorf("ble: %s %s: %w", c.Kind, c.Device, energy.ErrNotCapable)
	}
	if err := h.call(ctx, func(ctx context.Context) error { return conn.Write(ctx, char, v) }); err != nil {
		return fmt.Errorf("ble: %s %s: write: %w", c.Kind, c.Device, err)
	}
	h.mu.Lock()
	switch c.Kind {
	case energy.CmdOn, energy.CmdOff:
		d.state.On = c.Kind == energy.CmdOn
	case energy.CmdLimit:
		d.state.LimitW = c.LimitW
	case energy.CmdNormal:
		d.state.LimitW = 0
	}
	st := d.state
	h.mu.Unlock()
	h.o.Registry.Update(d.id, st)
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
