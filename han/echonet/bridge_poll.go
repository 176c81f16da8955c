package echonet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatewayd-project/gatewayd/energy"
)

func (b *Bridge) pollAll(ctx context.Context) {
	b.mu.Lock()
	ids := slices.Sorted(maps.Keys(b.objs))
	b.mu.Unlock()
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		b.poll(ctx, id)
	}
}

func (b *Bridge) poll(ctx context.Context, id energy.DeviceID) {
	b.mu.Lock()
	o := b.objs[id]
	addr, eoj, get, scale := o.addr, o.eoj, o.get, o.scale
	b.mu.Unlock()
	c := eoj.Class()
	var sna *SNAError
	if se := ScaleEPCs(c, get); scale == nil && len(se) > 0 {
		sc, err := b.o.Client.Get(ctx, addr, eoj, se...)
		if err != nil && !errors.As(err, &sna) {
			b.failed(ctx, o, err)
			return
		}
		b.mu.Lock()
		o.scale = sc
		b.mu.Unlock()
	}
	epcs := PollEPCs(c, get)
	if len(epcs) == 0 {
		epcs = []byte{0x9F} // nothing to read: a liveness check
	}
	props, err := b.o.Client.Get(ctx, addr, eoj, epcs...)
	if err != nil && !errors.As(err, &sna) {
		b.failed(ctx, o, err)
		return
	}
	b.apply(o, props, nil)
}

// failed counts a poll that got no answer; the OfflineAfter-th in a row
// marks the device offline.
func (b *Bridge) failed(ctx context.Context, o *object, err error) {
	if ctx.Err() != nil {
		return // shutting down, not the device's fault
	}
	b.mu.Lock()
	o.failures++
	down := o.failures >= OfflineAfter && !o.down
	if down {
		o.down, o.state.Online = true, false
	}
	st := o.state
	b.mu.Unlock()
	if !down {
		b.o.Log.Debug("echonet: poll failed", "id", o.id, "failures", o.failures, "err", err)
		return
	}
	b.o.Log.Warn("echonet: device offline", "id", o.id, "failures", OfflineAfter, "err", err)
	b.o.Registry.Update(o.id, st)
	if b.o.Unreachable != nil {
		b.o.Unreachable(o.id, true)
	}
}

// apply records properties an object sent (a poll or an INF), publishes
// their values and updates the registry. extra readings (EA/EB records) are
// published with them.
func (b *Bridge) apply(o *object, props map[byte][]byte, extra []energy.Reading) {
	now := b.o.Clock.Now()
	c := o.eoj.Class()
	b.mu.Lock()
	for k, v := range props {
		o.cur[k] = v
	}
	in := props
	if o.scale != nil {
		in = maps.Clone(props)
		maps.Copy(in, o.scale)
	}
	vals, err := Values(c, in)
	if err != nil {
		b.o.Log.Warn("echonet: undecodable properties", "id", o.id, "err", err)
	}
	recovered := o.down
	o.failures, o.down, o.state.Online, o.state.Updated = 0, false, true, now
	o.state.On = isOn(c, o.cur)
	rs := extra
	for _, v := range vals {
		switch v.Quantity {
		case energy.Power:
			o.state.PowerW = wholeOf(v.Value)
		case energy.GeneratedPower:
			o.state.PowerW = -wholeOf(v.Value)
		case energy.ImportEnergy, energy.GeneratedEnergy:
			o.state.EnergyWh = wholeOf(v.Value)
		}
		if v.Quantity.IsCounter() {
			if last, ok := o.last[v.Quantity]; ok && v.Value.Cmp(last) < 0 {
				wrap, _ := WrapSize(c, v.Quantity, o.scale)
				b.o.Log.Info("echonet: counter went back (wrap or reset)", "id", o.id, "quantity", v.Quantity,
					"from", last.String(), "to", v.Value.String(), "wrap", wrap.String())
			}
			o.last[v.Quantity] = v.Value
		}
		rs = append(rs, energy.Reading{Device: o.id, Quantity: v.Quantity, Value: v.Value,
			Measured: now, Received: now, Source: b.source})
	}
	st := o.state
	b.mu.Unlock()
	b.o.Registry.Update(o.id, st)
	if recovered {
		b.o.Log.Info("echonet: device back online", "id", o.id)
		if b.o.Unreachable != nil {
			b.o.Unreachable(o.id, false)
		}
	}
	if len(rs) > 0 && b.o.Publisher != nil {
		if err := b.o.Publisher.Publish(rs); err != nil {
			b.o.Log.Warn("echonet: publish", "id", o.id, "err", err)
		}
	}
}

func wholeOf(d energy.Decimal) int64 {
	v, _ := d.Rescale(0)
	return v
}

// isOn derives the registry's switch state: 80 = 30, and for a water
// heater automatic heating not stopped (B0 != 43).
func isOn(c Class, cur map[byte][]byte) bool {
	op, ok := cur[0x80]
	on := ok && len(op) == 1 && op[0] == 0x30
	if c == ClassElectricWaterHtr {
		if m, ok := cur[0xB0]; ok && len(m) == 1 && m[0] == whStop {
			on = false
		}
	}
	return on
}

func (b *Bridge) notifications(ctx context.Context) {
	ch := b.o.Client.Notifications()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-ch:
			b.onNotify(n)
		}
	}
}

func (b *Bridge) onNotify(n Notification) {
	f := n.Frame
	if f.SEOJ.Class() == ClassNodeProfile {
		if _, ok := f.Prop(0xD5); ok {
			select {
			case b.rediscover <- struct{}{}:
			default:
			}
		}
		return
	}
	b.mu.Lock()
	var o *object
	for _, x := range b.objs {
		if x.eoj == f.SEOJ && strings.EqualFold(string(x.addr), string(n.Src)) {
			o = x
			break
		}
	}
	var scale map[byte][]byte
	if o != nil {
		scale = o.scale
	}
	b.mu.Unlock()
	if o == nil {
		return
	}
	now := b.o.Clock.Now()
	props := make(map[byte][]byte, len(f.Props))
	var extra []energy.Reading
	for _, p := range f.Props {
		if len(p.EDT) == 0 {
			continue
		}
		var q energy.Quantity
		switch {
		case f.SEOJ.Class() == ClassSmartMeter && p.EPC == 0xEA:
			q = energy.ImportEnergy
		case f.SEOJ.Class() == ClassSmartMeter && p.EPC == 0xEB:
			q = energy.ExportEnergy
		}
		if q == "" {
			props[p.EPC] = slices.Clone(p.EDT)
			continue
		}
		if scale == nil {
			continue // scale not read yet: the value cannot be placed
		}
		s, err := CounterScale(ClassSmartMeter, scale)
		var ft FixedTime
		if err == nil {
			ft, err = DecodeFixedTime(p.EDT, s, b.o.Location)
		}
		if err != nil || !ft.Counter.Valid() {
			b.o.Log.Warn("echonet: fixed-time record dropped", "id", o.id, "epc", fmt.Sprintf("%02X", p.EPC), "err", err)
			continue
		}
		extra = append(extra, energy.Reading{Device: o.id, Quantity: q, Value: ft.Counter.Wh(),
			Measured: ft.Time, Received: now, Source: b.source})
	}
	b.apply(o, props, extra)
}
