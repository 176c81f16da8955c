package devices

import (
	"context"
	"fmt"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// SampleEvery is how often [Registry.PublishReadings] samples: the
// storage's finest derived tier is the minute.
const SampleEvery = time.Minute

// Readings returns the metering devices' energy counters and power as
// derived readings (never legal: a plug's or an appliance's own meter is
// not the metrology core), measured when their driver last updated them.
// Devices whose state has not changed since last[id] are left out, so a
// driver that went quiet is not repeated with fresh timestamps; last is
// updated. Offline devices, those without [energy.CapMeter] and those
// whose driver publishes its own readings give none.
func (r *Registry) Readings(now time.Time, last map[energy.DeviceID]time.Time) []energy.Reading {
	var out []energy.Reading
	devs := r.Devices()
	present := make(map[energy.DeviceID]bool, len(devs))
	for _, d := range devs {
		present[d.ID] = true
		st := d.State
		if d.OwnReadings || !d.Caps.Has(energy.CapMeter) || !st.Online || st.Updated.IsZero() || !st.Updated.After(last[d.ID]) {
			continue
		}
		last[d.ID] = st.Updated
		src := "device/" + d.Transport
		out = append(out,
			energy.Reading{Device: d.ID, Quantity: energy.ImportEnergy, Value: energy.D(st.EnergyWh, 0), Measured: st.Updated, Received: now, Source: src},
			energy.Reading{Device: d.ID, Quantity: energy.Power, Value: energy.D(st.PowerW, 0), Measured: st.Updated, Received: now, Source: src},
		)
	}
	for id := range last {
		if !present[id] {
			delete(last, id)
		}
	}
	return out
}

// PublishReadings samples [Registry.Readings] every [SampleEvery], on the
// minute, until ctx is done: history, the consumption view and costs per
// device are built from these.
func (r *Registry) PublishReadings(ctx context.Context, clk energy.Clock, pub energy.Publisher) error {
	last := map[energy.DeviceID]time.Time{}
	for {
		now := clk.Now()
		t := clk.NewTimer(now.Truncate(SampleEvery).Add(SampleEvery).Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
		now = clk.Now()
		if rs := r.Readings(now, last); len(rs) > 0 {
			if err := pub.Publish(rs); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("devices: publish readings: %w", err)
			}
		}
	}
}
