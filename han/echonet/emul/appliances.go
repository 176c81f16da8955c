package emul

import (
	"math"
	"time"
)

// Air conditioner (0x0130) model constants. In cooling it draws about
// 900 W at 24 °C and 150 W less per degree above; in heating 900 W at
// 22 °C and 150 W more per degree above.
const (
	acCoolW      = 900
	acCoolRef    = 24
	acHeatRef    = 22
	acPerDegree  = 150
	acMinW       = 100 // compressor at its lowest, fan running
	acMaxW       = 1800
	acFanW       = 40
	acMinSet     = 16
	acMaxSet     = 30
	acTauOn      = 15 * time.Minute
	acTauOff     = 3 * time.Hour
	modeAuto     = 0x41
	modeCool     = 0x42
	modeHeat     = 0x43
	modeDry      = 0x44
	modeFan      = 0x45
	modeOther    = 0x40
	fanSpeedAuto = 0x41
)

// Summer outdoor temperature in °C by hour.
var outdoorCurve = [24]float64{26, 25.5, 25, 24.7, 24.5, 24.8, 25.5, 26.5, 28, 29.5, 30.5, 31.5, 32.5, 33, 33, 32.5, 31.5, 30.5, 29.5, 28.5, 27.8, 27.2, 26.8, 26.4}

type airConditioner struct {
	onOff
	mode, setpoint, fan byte
	room, outdoor       float64
	watts, wh           float64
}

func newAirConditioner(h *household) *airConditioner {
	return &airConditioner{mode: modeCool, setpoint: 26, fan: fanSpeedAuto, room: 28, outdoor: 28,
		wh: 50_000 + float64(h.rng.IntN(50_000))}
}

func (a *airConditioner) epcs() (get, set, anno []byte) {
	return []byte{0x80, 0x84, 0x85, 0xA0, 0xB0, 0xB3, 0xBB, 0xBE},
		[]byte{0x80, 0xA0, 0xB0, 0xB3},
		[]byte{0xB0}
}

func (a *airConditioner) start(now time.Time, _ *household) {
	a.outdoor = daily(now, &outdoorCurve)
	a.room = a.outdoor - 1
}

func (a *airConditioner) step(t time.Time, dt time.Duration, h *household) {
	a.outdoor = daily(t, &outdoorCurve)
	a.watts = 0
	target, tau := a.outdoor-1, acTauOff // a closed house lags the outdoors
	if a.on {
		sp := float64(a.setpoint)
		mode := a.mode
		if mode == modeAuto || mode == modeOther {
			mode = modeCool
			if a.outdoor < acHeatRef {
				mode = modeHeat
			}
		}
		switch mode {
		case modeCool, modeDry:
			a.watts = clamp(acCoolW-acPerDegree*(sp-acCoolRef), acMinW, acMaxW)
			if mode == modeDry {
				a.watts *= 0.7
			}
			if a.room > sp {
				target, tau = sp, acTauOn
			}
		case modeHeat:
			a.watts = clamp(acCoolW+acPerDegree*(sp-acHeatRef), acMinW, acMaxW)
			if a.room < sp {
				target, tau = sp, acTauOn
			}
		case modeFan:
			a.watts = acFanW
		}
		a.watts *= 0.97 + 0.06*h.rng.Float64()
	}
	a.room += (target - a.room) * (1 - math.Exp(-float64(dt)/float64(tau)))
	a.wh += a.watts * hours(dt)
}

func (a *airConditioner) power() float64 { return a.watts }

func (a *airConditioner) get(epc byte, _ time.Time) ([]byte, bool) {
	switch epc {
	case 0x80:
		return a.getStatus(), true
	case 0x84:
		return u16(a.watts), true
	case 0x85:
		return u32(math.Mod(a.wh, 1e9)), true
	case 0xA0:
		return u8(a.fan), true
	case 0xB0:
		return u8(a.mode), true
	case 0xB3:
		return u8(a.setpoint), true
	case 0xBB:
		return s8(a.room), true
	case 0xBE:
		return s8(a.outdoor), true
	}
	return nil, false
}

func (a *airConditioner) set(epc byte, edt []byte) bool {
	if len(edt) != 1 {
		return false
	}
	v := edt[0]
	switch epc {
	case 0x80:
		return a.setStatus(edt)
	case 0xA0:
		if v == fanSpeedAuto || v >= 0x31 && v <= 0x38 {
			a.fan = v
			return true
		}
	case 0xB0:
		if v >= modeOther && v <= modeFan {
			a.mode = v
			return true
		}
	case 0xB3:
		if v >= acMinSet && v <= acMaxSet {
			a.setpoint = v
			return true
		}
	}
	return false
}

// Electric water heater (0x026B) model constants: a 370 L tank heated by
// a 3 kW element; one litre takes about 58 Wh (15 -> 65 °C).
const (
	heaterW          = 3000
	heaterTankL      = 370
	heaterWhPerLitre = 58
	heaterRestart    = 0.95 // automatic heating restarts below 95 %
	heaterAuto       = 0x41
	heaterManual     = 0x42
	heaterStop       = 0x43
	heatingOn        = 0x41
	heatingOff       = 0x42
)

// Hot water drawn in L/h by hour: showers in the morning, the bath and
// dishes in the evening.
var hotWaterCurve = [24]float64{0, 0, 0, 0, 0, 5, 25, 35, 15, 5, 5, 5, 10, 5, 5, 5, 8, 15, 30, 70, 90, 40, 15, 5}

type waterHeater struct {
	onOff
	setting byte // B0
	heating bool // B2
	litres  float64
	watts   float64
	wh      float64
}

func newWaterHeater(h *household) *waterHeater {
	return &waterHeater{onOff: onOff{on: true}, setting: heaterAuto, litres: 250,
		wh: 800_000 + float64(h.rng.IntN(100_000))}
}

func (w *waterHeater) epcs() (get, set, anno []byte) {
	return []byte{0x80, 0x84, 0x85, 0xB0, 0xB2, 0xE1},
		[]byte{0x80, 0xB0},
		[]byte{0xB0, 0xB2}
}

func (w *waterHeater) step(t time.Time, dt time.Duration, h *household) {
	hr := hours(dt)
	w.litres = math.Max(0, w.litres-daily(t, &hotWaterCurve)*h.noise*hr)
	switch {
	case !w.on || w.setting == heaterStop:
		w.heating = false
	case w.setting == heaterManual:
		w.heating = w.litres < heaterTankL
	case w.litres < heaterTankL*heaterRestart:
		w.heating = true
	}
	w.watts = 0
	if !w.heating {
		return
	}
	add := math.Min(heaterW*hr/heaterWhPerLitre, heaterTankL-w.litres)
	w.litres += add
	w.wh += add * heaterWhPerLitre
	w.watts = heaterW
	if w.litres >= heaterTankL {
		w.heating = false
		if w.setting == heaterManual {
			w.setting = heaterAuto // manual heating ends with a full tank
		}
	}
}

func (w *waterHeater) power() float64 { return w.watts }

func (w *waterHeater) get(epc byte, _ time.Time) ([]byte, bool) {
	switch epc {
	case 0x80:
		return w.getStatus(), true
	case 0x84:
		return u16(w.watts), true
	case 0x85:
		return u32(math.Mod(w.wh, 1e9)), true
	case 0xB0:
		return u8(w.setting), true
	case 0xB2:
		if w.heating {
			return u8(heatingOn), true
		}
		return u8(heatingOff), true
	case 0xE1:
		return u16(w.litres), true
	}
	return nil, false
}

func (w *waterHeater) set(epc byte, edt []byte) bool {
	switch epc {
	case 0x80:
		if !w.setStatus(edt) {
			return false
		}
	case 0xB0:
		if len(edt) != 1 || edt[0] < heaterAuto || edt[0] > heaterStop {
			return false
		}
		w.setting = edt[0]
	default:
		return false
	}
	if !w.on || w.setting == heaterStop {
		w.heating, w.watts = false, 0 // stopping is immediate
	}
	return true
}

// Storage battery (0x027D) model constants: 10 kWh, ±2 kW, lossless so
// that E4 follows the integrated D3 exactly.
const (
	batteryWh        = 10_000
	batteryW         = 2000
	batteryCharge    = 0x42
	batteryDischarge = 0x43
	batteryStandby   = 0x44
	batteryAuto      = 0x46
)

type battery struct {
	onOff
	mode                    byte
	stored                  float64 // Wh
	watts                   float64 // + charging
	chargedWh, dischargedWh float64
	at                      time.Time // end of the last step
}

func newBattery(h *household) *battery {
	return &battery{onOff: onOff{on: true}, mode: batteryStandby, stored: batteryWh / 2,
		chargedWh: 1_000_000 + float64(h.rng.IntN(100_000)), dischargedWh: 900_000 + float64(h.rng.IntN(100_000))}
}

func (b *battery) epcs() (get, set, anno []byte) {
	return []byte{0x80, 0xD0, 0xD3, 0xD6, 0xD8, 0xDA, 0xE2, 0xE4},
		[]byte{0x80, 0xDA},
		[]byte{0xDA}
}

// want is the power the mode asks for at t; auto charges at night and
// covers the evening peak.
func (b *battery) want(t time.Time) float64 {
	if !b.on {
		return 0
	}
	switch b.mode {
	case batteryCharge:
		return batteryW
	case batteryDischarge:
		return -batteryW
	case batteryAuto:
		switch h := t.Hour(); {
		case h < 6:
			return batteryW / 2
		case h >= 17 && h < 22:
			return -batteryW * 3 / 4
		}
	}
	return 0
}

func (b *battery) step(t time.Time, dt time.Duration, _ *household) {
	b.at = t
	b.watts = 0
	hr := hours(dt)
	if hr <= 0 {
		return
	}
	e := clamp(b.want(t)*hr, -b.stored, batteryWh-b.stored)
	b.stored += e
	if e > 0 {
		b.chargedWh += e
	} else {
		b.dischargedWh -= e
	}
	b.watts = e / hr
}

func (b *battery) power() float64 { return b.watts }

func (b *battery) get(epc byte, _ time.Time) ([]byte, bool) {
	switch epc {
	case 0x80:
		return b.getStatus(), true
	case 0xD0:
		return u32(batteryWh), true
	case 0xD3:
		return s32(b.watts), true
	case 0xD6:
		return u32(math.Mod(b.dischargedWh, 1e9)), true
	case 0xD8:
		return u32(math.Mod(b.chargedWh, 1e9)), true
	case 0xDA:
		return u8(b.mode), true
	case 0xE2:
		return u32(b.stored), true
	case 0xE4:
		return u8(byte(math.Round(b.stored * 100 / batteryWh))), true
	}
	return nil, false
}

func (b *battery) set(epc byte, edt []byte) bool {
	switch epc {
	case 0x80:
		if !b.setStatus(edt) {
			return false
		}
		if !b.on {
			b.watts = 0
		}
		return true
	case 0xDA:
		if len(edt) != 1 {
			return false
		}
		switch edt[0] {
		case batteryCharge, batteryDischarge, batteryStandby, batteryAuto:
			b.mode = edt[0]
			// D3 follows at once, unless the battery is full or empty.
			b.watts = b.want(b.at)
			if b.watts > 0 && b.stored >= batteryWh || b.watts < 0 && b.stored <= 0 {
				b.watts = 0
			}
			return true
		}
	}
	return false
}
