package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
)

// freshFor is how long a device's values count as fresh.
const freshFor = 2 * time.Minute

// devices lists the meter and the registry's devices.
func (s *Server) devices() []deviceJSON {
	out := []deviceJSON{}
	if s.opts.Meter != nil {
		out = append(out, s.meterDevice())
	}
	if s.opts.Devices != nil {
		now := s.now()
		for _, d := range s.opts.Devices.Devices() {
			out = append(out, s.registryDevice(d, now))
		}
	}
	return out
}

// meterID is the metrology core's device id.
func meterID(st energy.MeterStatus) string { return cmp.Or(string(st.Device), "meter") }

func (s *Server) meterDevice() deviceJSON {
	st := s.opts.Meter.MeterStatus()
	m := meterResponse(st, s.now())
	id := meterID(st)
	d := deviceJSON{
		ID: id, Name: "Electricity meter", Kind: "meter", Class: "meter",
		Transport: "serial " + st.Protocol, State: "offline", Legal: true,
		LastSeen: m.Received, Fresh: !m.Stale, Values: []deviceValueJSON{},
	}
	if st.LinkUp {
		d.State = "online"
	}
	for q, v := range m.Values {
		d.Values = append(d.Values, deviceValueJSON{Quantity: q, Value: v.Value, Unit: v.Unit, Measured: v.Measured, Legal: true})
	}
	sort.Slice(d.Values, func(i, j int) bool { return d.Values[i].Quantity < d.Values[j].Quantity })
	return d
}

// registryDevice shows one registry device: its state, and its latest
// values from the bus (every quantity its driver publishes), else the
// power and energy the registry holds.
func (s *Server) registryDevice(d energy.Device, now time.Time) deviceJSON {
	j := deviceJSON{ID: string(d.ID), Name: d.Name, Kind: d.Kind, Class: d.Kind, Transport: d.Transport,
		State: "offline", Values: []deviceValueJSON{}, Capabilities: d.Caps, Control: &d.State}
	if d.State.Online {
		j.State = "online"
	}
	if !d.State.Updated.IsZero() {
		ts := d.State.Updated.UTC().Format(time.RFC3339)
		j.LastSeen = &ts
		j.Fresh = now.Sub(d.State.Updated) < freshFor
	}
	seen := map[string]bool{}
	if s.opts.Latest != nil {
		for _, r := range s.opts.Latest(d.ID) {
			ts := r.Measured.UTC().Format(time.RFC3339)
			v, unit := r.Value.Float64(), r.Quantity.Unit()
			if unit == "Wh" && r.Quantity.IsCounter() {
				v, unit = v/1000, "kWh"
			}
			j.Values = append(j.Values, deviceValueJSON{Quantity: string(r.Quantity), Value: v, Unit: unit, Measured: &ts, Legal: r.Legal})
			seen[string(r.Quantity)] = true
		}
	}
	if j.LastSeen != nil && d.Caps.Has(energy.CapMeter) && !d.OwnReadings {
		if !seen[string(energy.Power)] {
			j.Values = append(j.Values, deviceValueJSON{Quantity: "power", Value: float64(d.State.PowerW), Unit: "W", Measured: j.LastSeen})
		}
		if !seen[string(energy.ImportEnergy)] {
			j.Values = append(j.Values, deviceValueJSON{Quantity: "energy", Value: float64(d.State.EnergyWh) / 1000, Unit: "kWh", Measured: j.LastSeen})
		}
	}
	return j
}

// GET /api/v1/devices: the metrology core and every registry device.
func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, struct {
		Devices []deviceJSON `json:"devices"`
	}{s.devices()})
}

// GET /api/v1/devices/{id}.
func (s *Server) handleDevice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.opts.Meter != nil && id == meterID(s.opts.Meter.MeterStatus()) {
		s.writeJSON(w, http.StatusOK, s.meterDevice())
		return
	}
	if s.opts.Devices != nil {
		if d, ok := s.opts.Devices.Device(energy.DeviceID(id)); ok {
			s.writeJSON(w, http.StatusOK, s.registryDevice(d, s.now()))
			return
		}
	}
	fail(w, r, http.StatusNotFound, "device_not_found", "id", id)
}

// commandJSON is the body of POST /api/v1/devices/{id}/command.
type commandJSON struct {
	Kind   energy.CommandKind `json:"kind"`
	LimitW *int64             `json:"limit_w"`
}

// POST /api/v1/devices/{id}/command: {"kind": "on|off|limit|normal",
// "limit_w": n}: the household's manual control, checked against the
// device's capabilities and state by the registry. The DR controller may
// command a device it manages again in a later period: to keep it out of
// demand response, exempt it (PUT /api/v1/dr/devices/{id}).
func (s *Server) handleDeviceCommand(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.opts.Meter != nil && id == meterID(s.opts.Meter.MeterStatus()) {
		fail(w, r, http.StatusConflict, "meter_read_only", "id")
		return
	}
	if s.opts.Devices == nil {
		fail(w, r, http.StatusNotFound, "device_not_found", "id", id)
		return
	}
	var in commandJSON
	if !readJSON(w, r, &in) {
		return
	}
	c := energy.Command{Device: energy.DeviceID(id), Kind: in.Kind, Reason: "manual command by " + who(r).name()}
	switch in.Kind {
	case energy.CmdOn, energy.CmdOff, energy.CmdNormal:
		if in.LimitW != nil {
			fail(w, r, http.StatusBadRequest, "bad_limit", "limit_w", "only with kind limit")
			return
		}
	case energy.CmdLimit:
		if in.LimitW == nil || *in.LimitW <= 0 || *in.LimitW > 1_000_000 {
			fail(w, r, http.StatusBadRequest, "bad_limit", "limit_w", "1 to 1000000 W")
			return
		}
		c.LimitW = *in.LimitW
	default:
		fail(w, r, http.StatusBadRequest, "bad_command", "kind", in.Kind)
		return
	}
	err := s.opts.Devices.Command(r.Context(), c)
	details := map[string]string{"kind": string(c.Kind), "by": who(r).name()}
	if c.Kind == energy.CmdLimit {
		details["limit_w"] = fmt.Sprint(c.LimitW)
	}
	switch {
	case err == nil:
		details["result"] = "ok"
	case errors.Is(err, energy.ErrUnknownDevice):
		fail(w, r, http.StatusNotFound, "device_not_found", "id", id)
		return
	case errors.Is(err, energy.ErrNotCapable):
		fail(w, r, http.StatusConflict, "not_capable", "kind", id, c.Kind)
		return
	case errors.Is(err, energy.ErrOffline):
		fail(w, r, http.StatusConflict, "device_offline", "id", id)
		return
	default:
		details["result"] = "failed: " + err.Error()
		s.logEvent(storage.EventControl, id, details)
		s.log.Warn("web: device command", "device", id, "kind", c.Kind, "err", err)
		fail(w, r, http.StatusBadGateway, "command_failed", "id", id)
		return
	}
	s.logEvent(storage.EventControl, id, details)
	d, _ := s.opts.Devices.Device(c.Device)
	s.writeJSON(w, http.StatusOK, s.registryDevice(d, s.now()))
}
