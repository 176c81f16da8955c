package emul

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/han/echonet"
)

func getS32(t testing.TB, n *Node, eoj echonet.EOJ, epc byte) int32 {
	t.Helper()
	return int32(getU32(t, n, eoj, epc))
}

func getU16(t testing.TB, n *Node, eoj echonet.EOJ, epc byte) uint16 {
	t.Helper()
	r := get(t, n, eoj, epc)
	if r.ESV != echonet.GetRes || len(r.Props[0].EDT) != 2 {
		t.Fatalf("Get %02X: %v %X", epc, r.ESV, r.Props)
	}
	return binary.BigEndian.Uint16(r.Props[0].EDT)
}

// Over an hour E0 advances by the integrated E7, within 1 %.
func TestMeterCounterFollowsPower(t *testing.T) {
	h, clk := newHome(t, time.Date(2024, 5, 20, 18, 0, 0, 0, jst), Options{Seed: 3})
	n := h.Nodes()[0]
	m := n.devices[0].m.(*smartMeter)
	e0 := getU32(t, n, meter, 0xE0)
	startWh := m.importWh
	var sum float64
	for i := 0; i < 60; i++ {
		clk.Advance(time.Minute)
		sum += float64(getS32(t, n, meter, 0xE7)) / 60
	}
	if got := m.importWh - startWh; math.Abs(got-sum) > sum/100 {
		t.Fatalf("imported %.1f Wh, integrated E7 %.1f Wh", got, sum)
	}
	if sum < 500 || sum > 5000 {
		t.Fatalf("an evening hour used %.0f Wh", sum)
	}
	counts := float64(getU32(t, n, meter, 0xE0) - e0)
	if math.Abs(counts*meterUnitWh-sum) > meterUnitWh+sum/100 {
		t.Fatalf("E0 advanced %v counts (0.1 kWh) for %.1f Wh", counts, sum)
	}
	r := get(t, n, meter, 0xE8)
	if rr := int16(binary.BigEndian.Uint16(r.Props[0].EDT)); rr <= 0 {
		t.Fatalf("E8 R %d", rr)
	}
}

// A day of half-hourly records: EA at every :00/:30, E2 for E5 = 1 full,
// E2 for today empty past now.
func TestMeterHistory(t *testing.T) {
	start := time.Date(2024, 5, 20, 0, 0, 0, 0, jst)
	h, clk := newHome(t, start, Options{})
	n := h.Nodes()[0]
	clk.Advance(24*time.Hour + 45*time.Minute) // 2024-05-21 00:45
	r := get(t, n, meter, 0xEA, 0xEB)
	if r.ESV != echonet.GetRes || len(r.Props[0].EDT) != 11 {
		t.Fatalf("EA: %+v", r)
	}
	if want := hx(t, "07 E8 05 15 00 1E 00"); string(r.Props[0].EDT[:7]) != string(want) {
		t.Fatalf("EA time %X, want %X", r.Props[0].EDT[:7], want)
	}
	ea := binary.BigEndian.Uint32(r.Props[0].EDT[7:])

	if r := set(t, n, meter, 0xE5, 1); r.ESV != echonet.SetRes {
		t.Fatal(r.ESV)
	}
	if r := set(t, n, meter, 0xE5, 100); r.ESV != echonet.SetCSNA {
		t.Fatal("E5 = 100 accepted")
	}
	r = get(t, n, meter, 0xE5, 0xE2, 0xE4)
	if r.ESV != echonet.GetRes || r.Props[0].EDT[0] != 1 || len(r.Props[1].EDT) != 194 || len(r.Props[2].EDT) != 194 {
		t.Fatalf("E2: %+v", r)
	}
	e2 := r.Props[1].EDT
	if binary.BigEndian.Uint16(e2) != 1 {
		t.Fatal("day number")
	}
	prev := uint32(0)
	for i := 0; i < 48; i++ {
		v := binary.BigEndian.Uint32(e2[2+4*i:])
		if v == noData || v < prev {
			t.Fatalf("yesterday slot %d = %X after %X", i, v, prev)
		}
		prev = v
	}
	set(t, n, meter, 0xE5, 0)
	r = get(t, n, meter, 0xE2)
	e2 = r.Props[0].EDT
	for i := 0; i < 48; i++ {
		v := binary.BigEndian.Uint32(e2[2+4*i:])
		if (i <= 1) == (v == noData) {
			t.Fatalf("today slot %d = %X", i, v)
		}
		if i == 1 && v != ea {
			t.Fatalf("today 00:30 = %d, EA %d", v, ea)
		}
	}
	set(t, n, meter, 0xE5, 2) // before the emulator started
	if r := get(t, n, meter, 0xE2); binary.BigEndian.Uint32(r.Props[0].EDT[2:]) != noData {
		t.Fatal("data before the start")
	}
}

// A discharging battery beyond the house load makes the meter export.
func TestMeterExport(t *testing.T) {
	h, clk := newHome(t, time.Date(2024, 5, 20, 3, 0, 0, 0, jst), Options{})
	nodes := h.Nodes()
	set(t, nodes[4], heater, 0xB0, heaterStop)
	set(t, nodes[5], storage, 0xDA, batteryDischarge)
	e3 := getU32(t, nodes[0], meter, 0xE3)
	clk.Advance(time.Hour)
	if p := getS32(t, nodes[0], meter, 0xE7); p >= 0 {
		t.Fatalf("E7 %d W while discharging at night", p)
	}
	if d := getU32(t, nodes[0], meter, 0xE3) - e3; d < 10 || d > 20 {
		t.Fatalf("E3 advanced %d × 0.1 kWh", d)
	}
}

func TestGasAndWater(t *testing.T) {
	h, clk := newHome(t, time.Date(2024, 5, 20, 2, 0, 0, 0, jst), Options{})
	g, w := h.Nodes()[1], h.Nodes()[2]
	use := func(n *Node, eoj echonet.EOJ) uint32 {
		a := getU32(t, n, eoj, 0xE0)
		clk.Advance(time.Hour)
		return getU32(t, n, eoj, 0xE0) - a
	}
	night := use(g, gas) // 02-03
	clk.Set(time.Date(2024, 5, 20, 19, 0, 0, 0, jst))
	evening := use(g, gas) // 19-20
	if night > 10 || evening < 50 || evening > 1000 {
		t.Fatalf("gas night %d L, evening %d L", night, evening)
	}
	if getU8(t, w, water, 0xE1) != 0x03 || getU8(t, w, water, 0xD0) != 0x30 {
		t.Fatal("water unit or classification")
	}
	if d := use(w, water); d < 20 || d > 500 {
		t.Fatalf("water 20-21: %d L", d)
	}
	r := get(t, g, gas, 0xE2)
	if len(r.Props[0].EDT) != 192 {
		t.Fatal(len(r.Props[0].EDT))
	}
	last := binary.BigEndian.Uint32(r.Props[0].EDT[188:])
	first := binary.BigEndian.Uint32(r.Props[0].EDT[0:])
	if last == noData || first != noData {
		t.Fatalf("gas E2 first %X last %X", first, last)
	}
}

// Cooling at a higher setpoint draws less; out-of-range setpoints fail.
func TestAirConditioner(t *testing.T) {
	h, clk := newHome(t, time.Date(2024, 7, 20, 14, 0, 0, 0, jst), Options{})
	ac := h.Nodes()[3]
	if getU16(t, ac, aircon, 0x84) != 0 {
		t.Fatal("off but drawing")
	}
	set(t, ac, aircon, 0x80, 0x30)
	set(t, ac, aircon, 0xB0, modeCool)
	set(t, ac, aircon, 0xB3, 24)
	e := getU32(t, ac, aircon, 0x85)
	clk.Advance(30 * time.Minute)
	p24 := getU16(t, ac, aircon, 0x84)
	if p24 < 850 || p24 > 950 {
		t.Fatalf("%d W at 24 °C", p24)
	}
	if d := getU32(t, ac, aircon, 0x85) - e; d < 400 || d > 500 {
		t.Fatalf("half an hour used %d Wh", d)
	}
	if room := int8(getU8(t, ac, aircon, 0xBB)); room > 26 {
		t.Fatalf("room still %d °C", room)
	}
	if out := int8(getU8(t, ac, aircon, 0xBE)); out < 30 {
		t.Fatalf("outdoor %d °C on a July afternoon", out)
	}
	set(t, ac, aircon, 0xB3, 28)
	clk.Advance(5 * time.Minute)
	if p28 := getU16(t, ac, aircon, 0x84); p28 > 350 || p28 < 250 {
		t.Fatalf("%d W at 28 °C", p28)
	}
	for _, v := range []byte{15, 31, 0xFD} {
		if r := set(t, ac, aircon, 0xB3, v); r.ESV != echonet.SetCSNA || r.Props[0].EDT[0] != v {
			t.Fatalf("B3 = %d: %+v", v, r)
		}
	}
}

func TestWaterHeater(t *testing.T) {
	h, clk := newHome(t, time.Date(2024, 5, 20, 1, 0, 0, 0, jst), Options{})
	n := h.Nodes()[4]
	clk.Advance(10 * time.Minute)
	if getU8(t, n, heater, 0xB2) != heatingOn || getU16(t, n, heater, 0x84) != heaterW {
		t.Fatal("a part-empty tank is not heating in automatic mode")
	}
	l := getU16(t, n, heater, 0xE1)
	clk.Advance(time.Hour)
	if d := getU16(t, n, heater, 0xE1) - l; d < 45 || d > 55 {
		t.Fatalf("an hour of heating added %d L", d)
	}
	set(t, n, heater, 0xB0, heaterStop)
	if getU8(t, n, heater, 0xB2) != heatingOff || getU16(t, n, heater, 0x84) != 0 {
		t.Fatal("still heating after stop")
	}
	clk.Advance(time.Hour)
	if getU16(t, n, heater, 0x84) != 0 {
		t.Fatal("heating resumed while stopped")
	}
	set(t, n, heater, 0xB0, heaterManual)
	clk.Advance(6 * time.Hour) // fills the tank
	if getU16(t, n, heater, 0xE1) < heaterTankL-20 || getU8(t, n, heater, 0xB0) != heaterAuto {
		t.Fatal("manual heating did not fill the tank and return to automatic")
	}
	set(t, n, heater, 0x80, statusOff)
	clk.Advance(time.Hour)
	if getU16(t, n, heater, 0x84) != 0 {
		t.Fatal("heating while off")
	}
	if r := set(t, n, heater, 0xB0, 0x44); r.ESV != echonet.SetCSNA {
		t.Fatal("B0 = 44 accepted")
	}
}

// E4 follows the integrated D3 over the 10 kWh capacity and stops at
// 100 % and 0 %.
func TestBattery(t *testing.T) {
	h, clk := newHome(t, time.Date(2024, 5, 20, 10, 0, 0, 0, jst), Options{})
	b := h.Nodes()[5]
	if getU8(t, b, storage, 0xE4) != 50 || getU32(t, b, storage, 0xD0) != batteryWh {
		t.Fatal("start")
	}
	charged := getU32(t, b, storage, 0xD8)
	set(t, b, storage, 0xDA, batteryCharge)
	var integrated float64
	for i := 0; i < 60; i++ {
		clk.Advance(time.Minute)
		integrated += float64(getS32(t, b, storage, 0xD3)) / 60
	}
	soc := getU8(t, b, storage, 0xE4)
	if want := 50 + integrated*100/batteryWh; math.Abs(float64(soc)-want) > 0.5 || soc != 70 {
		t.Fatalf("SOC %d %%, want %.1f", soc, want)
	}
	if d := getU32(t, b, storage, 0xD8) - charged; d != 2000 {
		t.Fatalf("D8 advanced %d Wh", d)
	}
	clk.Advance(3 * time.Hour)
	if getU8(t, b, storage, 0xE4) != 100 || getS32(t, b, storage, 0xD3) != 0 || getU32(t, b, storage, 0xE2) != batteryWh {
		t.Fatal("charging past full")
	}
	set(t, b, storage, 0xDA, batteryDischarge)
	if getS32(t, b, storage, 0xD3) != -batteryW {
		t.Fatal("D3 does not follow the mode")
	}
	clk.Advance(6 * time.Hour)
	if getU8(t, b, storage, 0xE4) != 0 || getS32(t, b, storage, 0xD3) != 0 {
		t.Fatal("discharging past empty")
	}
	set(t, b, storage, 0xDA, batteryStandby)
	if r := set(t, b, storage, 0xDA, 0x45); r.ESV != echonet.SetCSNA {
		t.Fatal("test mode accepted")
	}
}

// A long silence is not simulated beyond two days, and a day with a fake
// clock is fast.
func TestLongGap(t *testing.T) {
	h, clk := newHome(t, time.Date(2024, 5, 20, 0, 0, 0, 0, jst), Options{})
	n := h.Nodes()[0]
	e0 := getU32(t, n, meter, 0xE0)
	clk.Advance(365 * 24 * time.Hour)
	d := getU32(t, n, meter, 0xE0) - e0
	if d == 0 || d > 2*24*60 { // at most 2 days at 3 kW
		t.Fatalf("E0 advanced %d counts over a year's silence", d)
	}
}
