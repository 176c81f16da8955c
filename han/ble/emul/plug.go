package emul

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/han/ble"
)

// PlugRatedW is the emulated plug's heater load.
const PlugRatedW = 1500

// plugState is the smart plug's behaviour: a thermostatic heater of
// PlugRatedW that obeys on/off and DR commands.
type plugState struct {
	on       bool
	dr       ble.DRCommand
	drUntil  time.Time
	energyWh float64
	powerW   float64
	updated  time.Time
}

// advance integrates energy up to now (a.mu held).
func (a *Adapter) advancePlug(now time.Time) {
	s := &a.plug
	if s.dr.Duration > 0 && !s.drUntil.IsZero() && !now.Before(s.drUntil) {
		s.dr, s.drUntil = ble.DRCommand{}, time.Time{}
	}
	dt := now.Sub(s.updated).Hours()
	if dt > 0 {
		s.energyWh += s.powerW * dt
	}
	s.updated = now
	w := 0.0
	if s.on {
		// Thermostat cycling: 20 min on in every 30.
		if math.Mod(float64(now.Unix())/60, 30) < 20 {
			w = PlugRatedW * (0.97 + 0.03*a.rng.Float64())
		} else {
			w = 2
		}
		switch s.dr.Op {
		case ble.DRLimit, ble.DRCurtail:
			w = math.Min(w, float64(s.dr.LimitW))
		case ble.DRShift:
			w = 0
		}
	}
	s.powerW = w
}

// PlugState reports the plug as the emulator holds it: on, power W, energy
// Wh and the DR command in force.
func (a *Adapter) PlugState() (on bool, powerW, energyWh int64, dr ble.DRCommand) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.advancePlug(a.cfg.Clock.Now())
	return a.plug.on, int64(math.Round(a.plug.powerW)), int64(a.plug.energyWh), a.plug.dr
}

type conn struct {
	a    *Adapter
	done chan struct{}
	once sync.Once

	mu   sync.Mutex
	subs map[ble.UUID]func([]byte)
}

func (c *conn) Done() <-chan struct{} { return c.done }

func (c *conn) Close() error {
	c.once.Do(func() {
		c.a.mu.Lock()
		delete(c.a.conns, c)
		c.a.mu.Unlock()
		close(c.done)
	})
	return nil
}

func (c *conn) alive(ctx context.Context) error {
	select {
	case <-c.done:
		return ble.ErrNotConnected
	default:
	}
	return ctx.Err()
}

func (c *conn) Discover(ctx context.Context) ([]ble.Service, error) {
	if err := c.alive(ctx); err != nil {
		return nil, err
	}
	return []ble.Service{
		{UUID: ble.ServiceDeviceInfo, Chars: []ble.Characteristic{
			{UUID: ble.CharManufacturer, Props: ble.PropRead}, {UUID: ble.CharModel, Props: ble.PropRead},
			{UUID: ble.CharSerial, Props: ble.PropRead}, {UUID: ble.CharFirmware, Props: ble.PropRead}}},
		{UUID: ble.ServiceAppliance, Chars: []ble.Characteristic{
			{UUID: ble.CharOnOff, Props: ble.PropRead | ble.PropWrite | ble.PropNotify},
			{UUID: ble.CharPower, Props: ble.PropRead | ble.PropNotify},
			{UUID: ble.CharEnergy, Props: ble.PropRead | ble.PropNotify},
			{UUID: ble.CharDR, Props: ble.PropRead | ble.PropWrite}}},
	}, nil
}

func (c *conn) value(u ble.UUID) ([]byte, error) {
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	a.advancePlug(a.cfg.Clock.Now())
	s := a.plug
	switch u {
	case ble.CharManufacturer:
		return []byte("gatewayd project"), nil
	case ble.CharModel:
		return []byte("Emulated Plug EP-1"), nil
	case ble.CharSerial:
		return []byte("EP1-100005"), nil
	case ble.CharFirmware:
		return []byte("1.0.0"), nil
	case ble.CharOnOff:
		return ble.EncodeOnOff(s.on), nil
	case ble.CharPower:
		return ble.EncodePower(int64(math.Round(s.powerW * 100))), nil
	case ble.CharEnergy:
		return ble.EncodeEnergy(int64(s.energyWh)), nil
	case ble.CharDR:
		return s.dr.Encode()
	}
	return nil, fmt.Errorf("ble emul: no characteristic %s", u)
}

func (c *conn) Read(ctx context.Context, u ble.UUID) ([]byte, error) {
	if err := c.alive(ctx); err != nil {
		return nil, err
	}
	return c.value(u)
}

func (c *conn) Write(ctx context.Context, u ble.UUID, v []byte) error {
	if err := c.alive(ctx); err != nil {
		return err
	}
	a := c.a
	a.mu.Lock()
	now := a.cfg.Clock.Now()
	a.advancePlug(now)
	switch u {
	case ble.CharOnOff:
		on, err := ble.DecodeOnOff(v)
		if err != nil {
			a.mu.Unlock()
			return fmt.Errorf("ble emul: write on/off: %w", err)
		}
		a.plug.on = on
	case ble.CharDR:
		dr, err := ble.DecodeDR(v)
		if err != nil {
			a.mu.Unlock()
			return fmt.Errorf("ble emul: write DR: %w", err)
		}
		a.plug.dr, a.plug.drUntil = dr, time.Time{}
		if dr.Duration > 0 {
			a.plug.drUntil = now.Add(dr.Duration)
		}
	default:
		a.mu.Unlock()
		return fmt.Errorf("ble emul: %s is not writable", u)
	}
	a.advancePlug(now)
	a.mu.Unlock()
	c.notify(u == ble.CharOnOff)
	return nil
}

func (c *conn) Subscribe(ctx context.Context, u ble.UUID, fn func([]byte)) error {
	if err := c.alive(ctx); err != nil {
		return err
	}
	switch u {
	case ble.CharOnOff, ble.CharPower, ble.CharEnergy:
	default:
		return fmt.Errorf("ble emul: %s does not notify", u)
	}
	c.mu.Lock()
	c.subs[u] = fn
	c.mu.Unlock()
	return nil
}

// notify sends power and energy (and on/off) to the subscribers.
func (c *conn) notify(onOff bool) {
	chars := []ble.UUID{ble.CharPower, ble.CharEnergy}
	if onOff {
		chars = append(chars, ble.CharOnOff)
	}
	for _, u := range chars {
		c.mu.Lock()
		fn := c.subs[u]
		c.mu.Unlock()
		if fn == nil {
			continue
		}
		if v, err := c.value(u); err == nil {
			select {
			case <-c.done:
				return
			default:
			}
			fn(v)
		}
	}
}

func (c *conn) notifier() {
	for {
		t := c.a.cfg.Clock.NewTimer(c.a.cfg.Notify)
		select {
		case <-c.done:
			t.Stop()
			return
		case <-t.C():
		}
		c.notify(false)
	}
}
