package web

import (
	"math"
	"sort"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// meterJSON is the body of GET /api/v1/meter. Pointers and nil slices
// encode as null: a missing quantity is null, never 0.
type meterJSON struct {
	Protocol         string               `json:"protocol"`
	Address          *string              `json:"address"`
	Time             *string              `json:"time"`
	Received         *string              `json:"received"`
	Stale            bool                 `json:"stale"`
	Legal            bool                 `json:"legal"`
	PowerW           *float64             `json:"power_w"`
	ImportKWh        *float64             `json:"import_kwh"`
	ExportKWh        *float64             `json:"export_kwh"`
	ImportKWhTariffs []*float64           `json:"import_kwh_tariffs"`
	ExportKWhTariffs []*float64           `json:"export_kwh_tariffs"`
	VoltageV         []*float64           `json:"voltage_v"`
	CurrentA         []*float64           `json:"current_a"`
	FrequencyHz      *float64             `json:"frequency_hz"`
	PowerFactor      *float64             `json:"power_factor"`
	ReactivePowerVar *float64             `json:"reactive_power_var"`
	ApparentPowerVA  *float64             `json:"apparent_power_va"`
	Relay            string               `json:"relay"`
	LinkUp           bool                 `json:"link_up"`
	Unavailable      []string             `json:"unavailable"`
	Values           map[string]valueJSON `json:"values"`
}

type valueJSON struct {
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Measured *string `json:"measured"`
	Received *string `json:"received"`
	Stale    bool    `json:"stale"`
}

// meterResponse builds the API view of st at now.
func meterResponse(st energy.MeterStatus, now time.Time) meterJSON {
	// A quantity the meter declared unavailable is absent even if an old
	// sample of it lingers.
	sample := func(q energy.Quantity) (energy.Sample, bool) {
		if st.Unavailable[q] {
			return energy.Sample{}, false
		}
		s, ok := st.Values[q]
		return s, ok
	}
	num := func(q energy.Quantity) *float64 {
		s, ok := sample(q)
		if !ok {
			return nil
		}
		f := s.Value.Float64()
		return &f
	}
	kwh := func(q energy.Quantity) *float64 {
		s, ok := sample(q)
		if !ok {
			return nil
		}
		f := whToKWh(s.Value)
		return &f
	}
	list := func(n int, q func(i int) energy.Quantity, conv func(energy.Quantity) *float64) []*float64 {
		// Up to the highest index present; nil (null) if none is.
		all := make([]*float64, n)
		last := 0
		for i := range n {
			all[i] = conv(q(i + 1))
			if all[i] != nil {
				last = i + 1
			}
		}
		if last == 0 {
			return nil
		}
		return all[:last]
	}

	out := meterJSON{
		Protocol:    st.Protocol,
		Address:     optString(st.Address),
		Legal:       true,
		LinkUp:      st.LinkUp,
		PowerW:      num(energy.Power),
		ImportKWh:   kwh(energy.ImportEnergy),
		ExportKWh:   kwh(energy.ExportEnergy),
		FrequencyHz: num(energy.Frequency),
		PowerFactor: num(energy.PowerFactor),

		ReactivePowerVar: num(energy.ReactivePower),
		ApparentPowerVA:  num(energy.ApparentPower),
		Relay:            "unknown",
		Unavailable:      []string{},
		Values:           map[string]valueJSON{},
	}
	tariffs := func(base energy.Quantity) []*float64 {
		// All four or nothing: positions are tariff numbers.
		t := list(4, func(i int) energy.Quantity { return energy.Tariff(base, i) }, kwh)
		if t == nil {
			return nil
		}
		return append(t, make([]*float64, 4-len(t))...)
	}
	out.ImportKWhTariffs = tariffs(energy.ImportEnergy)
	out.ExportKWhTariffs = tariffs(energy.ExportEnergy)
	out.VoltageV = list(3, func(i int) energy.Quantity { return energy.Phase("voltage", i) }, num)
	out.CurrentA = list(3, func(i int) energy.Quantity { return energy.Phase("current", i) }, num)

	if s, ok := sample(energy.RelayOpen); ok {
		switch {
		case s.Value.Cmp(energy.Decimal{}) == 0:
			out.Relay = "closed"
		case s.Value.Cmp(energy.D(1, 0)) == 0:
			out.Relay = "open"
		}
	}

	power, havePower := sample(energy.Power)
	imp, haveImport := sample(energy.ImportEnergy)
	switch {
	case havePower && !power.Measured.IsZero():
		out.Time = optTime(power.Measured)
	case haveImport && !imp.Measured.IsZero():
		out.Time = optTime(imp.Measured)
	}
	out.Stale = !st.LinkUp || len(st.Values) == 0 ||
		(havePower && power.Stale(now)) || (haveImport && imp.Stale(now))

	for q, s := range st.Values {
		if st.Unavailable[q] {
			continue
		}
		out.Values[string(q)] = valueJSON{
			Value:    s.Value.Float64(),
			Unit:     q.Unit(),
			Measured: optTime(s.Measured),
			Received: optTime(s.Received),
			Stale:    s.Stale(now),
		}
	}
	out.Received = optTime(newestReceived(st))

	for q, u := range st.Unavailable {
		if u {
			out.Unavailable = append(out.Unavailable, string(q))
		}
	}
	sort.Strings(out.Unavailable)
	return out
}

// newestReceived is the gateway time of st's newest reading.
func newestReceived(st energy.MeterStatus) time.Time {
	var newest time.Time
	for _, s := range st.Values {
		if s.Received.After(newest) {
			newest = s.Received
		}
	}
	return newest
}

// whToKWh converts exactly: the decimal exponent moves by 3 before the one
// conversion to float.
func whToKWh(d energy.Decimal) float64 {
	if d.Exp < math.MinInt8+3 {
		return d.Float64() / 1000
	}
	return energy.Decimal{Coef: d.Coef, Exp: d.Exp - 3}.Float64()
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}
