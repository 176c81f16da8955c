package emul

import (
	"encoding/binary"
	"math"
	"time"
)

// Smart meter (0x0288) facts: coefficient D3 = 1, D7 = 6 digits, E1 = 01
// (0.1 kWh), so the counters wrap at 99,999.9 kWh.
const (
	meterUnitWh  = 100
	meterWrap    = 1_000_000
	meterDays    = 100 // E5 0-99
	noData       = 0xFFFFFFFE
	meterStartWh = 12_345_600 // 12,345.6 kWh, as in the digest's example
)

// meterDay is one civil day of half-hourly counter readings (raw E0/E3).
type meterDay struct{ imp, exp [48]uint32 }

func newMeterDay() *meterDay {
	d := &meterDay{}
	for i := range d.imp {
		d.imp[i], d.exp[i] = noData, noData
	}
	return d
}

// smartMeter is a route-B low-voltage smart electric energy meter: it
// measures the household's load (curve plus appliances); negative power
// is export and advances E3.
type smartMeter struct {
	importWh, exportWh float64
	watts              float64
	histDay            byte // E5
	fixedAt            time.Time
	fixedImp, fixedExp uint32
	hist               map[int64]*meterDay
}

func newSmartMeter() *smartMeter {
	return &smartMeter{importWh: meterStartWh, hist: make(map[int64]*meterDay)}
}

func (m *smartMeter) epcs() (get, set, anno []byte) {
	return []byte{0x80, 0xD3, 0xD7, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE7, 0xE8, 0xEA, 0xEB},
		[]byte{0xE5},
		[]byte{0xEA, 0xEB}
}

func (m *smartMeter) raw(wh float64) uint32 {
	return uint32(int64(wh/meterUnitWh) % meterWrap)
}

func (m *smartMeter) start(now time.Time, h *household) {
	m.watts = h.load(now)
	m.record(halfHour(now))
}

// record stores the counters as the fixed-time reading at boundary b.
func (m *smartMeter) record(b time.Time) {
	m.fixedAt = b
	m.fixedImp, m.fixedExp = m.raw(m.importWh), m.raw(m.exportWh)
	day := dayNumber(b)
	d := m.hist[day]
	if d == nil {
		d = newMeterDay()
		m.hist[day] = d
		for k := range m.hist {
			if k <= day-meterDays {
				delete(m.hist, k)
			}
		}
	}
	slot := b.Hour()*2 + b.Minute()/30
	d.imp[slot], d.exp[slot] = m.fixedImp, m.fixedExp
}

func (m *smartMeter) step(t time.Time, dt time.Duration, h *household) {
	m.watts = h.load(t)
	e := m.watts * hours(dt)
	if e >= 0 {
		m.importWh += e
	} else {
		m.exportWh -= e
	}
	if isHalfHour(t) {
		m.record(t)
	}
}

func (m *smartMeter) power() float64 { return 0 }

func (m *smartMeter) get(epc byte, now time.Time) ([]byte, bool) {
	switch epc {
	case 0x80:
		return []byte{statusOn}, true
	case 0xD3:
		return []byte{0, 0, 0, 1}, true
	case 0xD7:
		return []byte{6}, true
	case 0xE1:
		return []byte{0x01}, true
	case 0xE0:
		return binary.BigEndian.AppendUint32(nil, m.raw(m.importWh)), true
	case 0xE3:
		return binary.BigEndian.AppendUint32(nil, m.raw(m.exportWh)), true
	case 0xE2, 0xE4:
		return m.history(epc == 0xE4, now), true
	case 0xE5:
		return []byte{m.histDay}, true
	case 0xE7:
		return s32(m.watts), true
	case 0xE8:
		// Single-phase three-wire: 200 V loads share R and T, the R leg
		// carrying a little more of the 100 V loads.
		a := m.watts / 200 * 10 // 0.1 A
		return append(current(a*1.1), current(a*0.9)...), true
	case 0xEA:
		return binary.BigEndian.AppendUint32(dateTime(m.fixedAt), m.fixedImp), true
	case 0xEB:
		return binary.BigEndian.AppendUint32(dateTime(m.fixedAt), m.fixedExp), true
	}
	return nil, false
}

// current encodes a signed 0.1 A value with the overflow/underflow codes.
func current(v float64) []byte {
	v = math.Round(v)
	switch {
	case v > 0x7FFD:
		return []byte{0x7F, 0xFF}
	case v < -0x7FFF:
		return []byte{0x80, 0x00}
	}
	return binary.BigEndian.AppendUint16(nil, uint16(int16(v)))
}

func (m *smartMeter) history(reverse bool, now time.Time) []byte {
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 194), uint16(m.histDay))
	d := m.hist[dayNumber(now)-int64(m.histDay)]
	for i := 0; i < 48; i++ {
		v := uint32(noData)
		if d != nil {
			v = d.imp[i]
			if reverse {
				v = d.exp[i]
			}
		}
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func (m *smartMeter) set(epc byte, edt []byte) bool {
	if epc == 0xE5 && len(edt) == 1 && edt[0] < meterDays {
		m.histDay = edt[0]
		return true
	}
	return false
}

// ring keeps the counter at the last 48 half-hour boundaries (E2 of the
// gas and water meters), oldest first.
type ring struct {
	v    [48]uint32
	n    int // filled
	head int // next write
}

func (r *ring) push(v uint32) {
	r.v[r.head] = v
	r.head = (r.head + 1) % len(r.v)
	if r.n < len(r.v) {
		r.n++
	}
}

func (r *ring) encode() []byte {
	b := make([]byte, 0, 4*len(r.v))
	for i := 0; i < len(r.v)-r.n; i++ {
		b = binary.BigEndian.AppendUint32(b, noData)
	}
	start := (r.head - r.n + len(r.v)) % len(r.v)
	for i := 0; i < r.n; i++ {
		b = binary.BigEndian.AppendUint32(b, r.v[(start+i)%len(r.v)])
	}
	return b
}

// Gas use in L/h (0.001 m³/h) by hour: breakfast, a little daytime,
// cooking and the bath in the evening, nothing at night.
var gasCurve = [24]float64{0, 0, 0, 0, 0, 5, 60, 90, 50, 10, 10, 20, 30, 10, 10, 10, 20, 60, 110, 150, 160, 80, 20, 5}

// Water use in L/h by hour.
var waterCurve = [24]float64{0, 0, 0, 0, 2, 10, 40, 55, 30, 10, 8, 10, 20, 10, 8, 8, 10, 25, 45, 70, 90, 50, 20, 5}

// volumeMeter is the gas meter (E0 in 0.001 m³) or the water flow meter
// (E0 with E1 = 03, also 0.001 m³): one litre per count, wrapping at nine
// digits.
type volumeMeter struct {
	water  bool
	litres float64
	hist   ring
}

func (m *volumeMeter) epcs() (get, set, anno []byte) {
	if m.water {
		return []byte{0x80, 0xD0, 0xE0, 0xE1, 0xE2, 0xE3}, nil, nil
	}
	return []byte{0x80, 0xE0, 0xE2}, nil, nil
}

func (m *volumeMeter) raw() uint32 { return uint32(int64(m.litres) % 1_000_000_000) }

func (m *volumeMeter) start(time.Time, *household) { m.hist.push(m.raw()) }

func (m *volumeMeter) step(t time.Time, dt time.Duration, h *household) {
	curve := &gasCurve
	if m.water {
		curve = &waterCurve
	}
	m.litres += daily(t, curve) * h.noise * hours(dt)
	if isHalfHour(t) {
		m.hist.push(m.raw())
	}
}

func (m *volumeMeter) power() float64 { return 0 }

func (m *volumeMeter) get(epc byte, _ time.Time) ([]byte, bool) {
	switch epc {
	case 0x80:
		return []byte{statusOn}, true
	case 0xE0:
		return binary.BigEndian.AppendUint32(nil, m.raw()), true
	case 0xE2:
		return m.hist.encode(), true
	}
	if m.water {
		switch epc {
		case 0xD0:
			return []byte{0x30}, true // running water
		case 0xE1:
			return []byte{0x03}, true // 0.001 m³
		case 0xE3:
			return []byte{0x42}, true // not abnormal
		}
	}
	return nil, false
}

func (m *volumeMeter) set(byte, []byte) bool { return false }
