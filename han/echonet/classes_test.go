package echonet

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// propsOf decodes a verified frame and returns its properties as a map.
func propsOf(t testing.TB, frame string) map[byte][]byte {
	t.Helper()
	f, err := Decode(hx(t, frame))
	if err != nil {
		t.Fatal(err)
	}
	m := map[byte][]byte{}
	for _, p := range f.Props {
		m[p.EPC] = p.EDT
	}
	return m
}

func valueOf(vs []Value, q energy.Quantity) (Value, bool) {
	for _, v := range vs {
		if v.Quantity == q {
			return v, true
		}
	}
	return Value{}, false
}

func wantValue(t *testing.T, vs []Value, q energy.Quantity, want energy.Decimal, unit string) {
	t.Helper()
	v, ok := valueOf(vs, q)
	if !ok {
		t.Errorf("%s missing from %v", q, vs)
		return
	}
	if v.Value.Cmp(want) != 0 || v.Unit != unit {
		t.Errorf("%s = %s %s, want %s %s", q, v.Value, v.Unit, want, unit)
	}
}

func TestSmartMeterValues(t *testing.T) {
	vs, err := Values(ClassSmartMeter, propsOf(t, "10 81 00 01 02 88 01 05 FF 01 72 01 E7 04 00 00 01 F4"))
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, vs, energy.Power, energy.D(500, 0), "W")
	vs, _ = Values(ClassSmartMeter, map[byte][]byte{0xE7: hx(t, "FF FF FE D4")})
	wantValue(t, vs, energy.Power, energy.D(-300, 0), "W")

	// D3 1, D7 6, E1 0.1 kWh, E0 123456: 12345.6 kWh.
	props := propsOf(t, "10 81 00 02 02 88 01 05 FF 01 72 04 D3 04 00 00 00 01 D7 01 06 E1 01 01 E0 04 00 01 E2 40")
	vs, err = Values(ClassSmartMeter, props)
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, vs, energy.ImportEnergy, energy.D(123456, 2), "Wh")
	if v, _ := valueOf(vs, energy.ImportEnergy); v.Value.String() != "12345600" {
		t.Errorf("E0 = %s Wh", v.Value)
	}
	if len(vs) != 1 {
		t.Errorf("scale properties published: %v", vs)
	}

	vs, _ = Values(ClassSmartMeter, map[byte][]byte{0xE8: hx(t, "00 7B 00 2D")})
	wantValue(t, vs, energy.Phase("current", 1), energy.D(123, -1), "A")
	wantValue(t, vs, energy.Phase("current", 3), energy.D(45, -1), "A")
	vs, _ = Values(ClassSmartMeter, map[byte][]byte{0xE8: hx(t, "00 7B 7F FE")})
	if len(vs) != 1 || vs[0].Quantity != "current_l1" {
		t.Errorf("single phase: %v", vs)
	}
	// E7 out of range is absent, not an error.
	if vs, err := Values(ClassSmartMeter, map[byte][]byte{0xE7: hx(t, "7F FF FF FE")}); err != nil || len(vs) != 0 {
		t.Errorf("E7 7FFFFFFE: %v %v", vs, err)
	}
}

func TestFixedTime(t *testing.T) {
	props := propsOf(t, "10 81 00 03 02 88 01 05 FF 01 73 01 EA 0B 07 E8 05 14 0D 1E 00 00 00 30 39")
	scale, err := CounterScale(ClassSmartMeter, map[byte][]byte{0xE1: {0x01}, 0xD7: {0x06}})
	if err != nil {
		t.Fatal(err)
	}
	jst := time.FixedZone("JST", 9*3600)
	ft, err := DecodeFixedTime(props[0xEA], scale, jst)
	if err != nil {
		t.Fatal(err)
	}
	if !ft.Time.Equal(time.Date(2024, 5, 20, 13, 30, 0, 0, jst)) || ft.Counter.Raw != 12345 || ft.Counter.Wh().String() != "1234500" {
		t.Errorf("EA = %v raw %d %s Wh", ft.Time, ft.Counter.Raw, ft.Counter.Wh())
	}
	if vs, err := Values(ClassSmartMeter, props); err != nil || len(vs) != 0 {
		t.Errorf("EA through Values: %v %v", vs, err)
	}
	for _, bad := range []string{"07 E8 05 14 0D 1E 00 00 00 30", "07 E8 0D 14 0D 1E 00 00 00 30 39", "07 E8 02 1E 0D 1E 00 00 00 30 39"} {
		if _, err := Values(ClassSmartMeter, map[byte][]byte{0xEA: hx(t, bad)}); !errors.Is(err, ErrEDT) || !strings.Contains(err.Error(), "EA") {
			t.Errorf("EA %s: %v", bad, err)
		}
	}
}

func TestCounterWrap(t *testing.T) {
	s, err := CounterScale(ClassSmartMeter, map[byte][]byte{0xD3: {0, 0, 0, 10}, 0xD7: {0x06}, 0xE1: {0x02}})
	if err != nil {
		t.Fatal(err)
	}
	// 10^6 raw × 10 × 0.01 kWh = 100,000 kWh.
	c := Counter{Raw: 999999, Scale: s}
	if c.WrapWh().String() != "100000000" || c.Wh().String() != "99999900" || !c.Valid() {
		t.Errorf("wrap %s, value %s", c.WrapWh(), c.Wh())
	}
	if (Counter{Raw: 1000000, Scale: s}).Valid() {
		t.Error("raw past D7 digits valid")
	}
	vs, _ := Values(ClassSmartMeter, map[byte][]byte{0xD3: {0, 0, 0, 10}, 0xD7: {0x06}, 0xE1: {0x02}, 0xE0: {0x00, 0x0F, 0x42, 0x40}})
	if len(vs) != 0 {
		t.Errorf("E0 past its digits published: %v", vs)
	}
	w, ok := WrapSize(ClassSmartMeter, energy.ExportEnergy, map[byte][]byte{0xD7: {0x06}, 0xE1: {0x01}})
	if !ok || w.String() != "100000000" {
		t.Errorf("WrapSize = %s %v", w, ok)
	}
	if w, ok := WrapSize(ClassGasMeter, energy.GasVolume, nil); !ok || w.Cmp(energy.D(1, 6)) != 0 {
		t.Errorf("gas wrap %s %v", w, ok)
	}
	if _, ok := WrapSize(ClassGasMeter, energy.Power, nil); ok {
		t.Error("power has a wrap")
	}
	for _, bad := range []map[byte][]byte{{0xD7: {0}}, {0xD7: {9}}, {0xE1: {0x05}}, {0xD3: {0, 0x0F, 0x42, 0x40}}, {0xD3: {1}}} {
		if _, err := CounterScale(ClassSmartMeter, bad); !errors.Is(err, ErrEDT) {
			t.Errorf("scale %v: %v", bad, err)
		}
	}
}

func TestHistory(t *testing.T) {
	edt := []byte{0x00, 0x01}
	for i := range 48 {
		if i == 47 {
			edt = append(edt, 0xFF, 0xFF, 0xFF, 0xFE)
			continue
		}
		edt = append(edt, 0, 0, 0x30, byte(i))
	}
	s, _ := CounterScale(ClassSmartMeter, map[byte][]byte{0xE1: {0x01}, 0xD7: {0x06}})
	h, err := DecodeHistory(edt, s)
	if err != nil {
		t.Fatal(err)
	}
	if h.Day != 1 {
		t.Errorf("day %d", h.Day)
	}
	if v, ok := h.Slot(2); !ok || v.String() != "1229000" {
		t.Errorf("slot 2 = %s %v", v, ok)
	}
	if _, ok := h.Slot(47); ok {
		t.Error("FFFFFFFE slot has data")
	}
	if _, ok := h.Slot(48); ok {
		t.Error("slot 48")
	}
	now := time.Date(2024, 5, 21, 9, 0, 0, 0, time.UTC)
	if got := h.SlotTime(now, 47); !got.Equal(time.Date(2024, 5, 20, 23, 30, 0, 0, time.UTC)) {
		t.Errorf("slot 47 at %v", got)
	}
	if _, err := Values(ClassSmartMeter, map[byte][]byte{0xE2: edt[:193]}); !errors.Is(err, ErrEDT) || !strings.Contains(err.Error(), "E2") {
		t.Errorf("short E2: %v", err)
	}
	bad := slices.Clone(edt)
	bad[1] = 100
	if _, err := DecodeHistory(bad, s); err == nil {
		t.Error("day 100 accepted")
	}
}

func TestOtherClasses(t *testing.T) {
	// Water: E1 selects the unit; the default is 0.0001 m3.
	for _, tc := range []struct {
		unit []byte
		want string
	}{{nil, "12.3456"}, {[]byte{0x00}, "123456"}, {[]byte{0x03}, "123.456"}, {[]byte{0x06}, "0.123456"}} {
		props := map[byte][]byte{0xE0: {0x00, 0x01, 0xE2, 0x40}}
		if tc.unit != nil {
			props[0xE1] = tc.unit
		}
		vs, err := Values(ClassWaterFlowMeter, props)
		if err != nil || len(vs) != 1 || vs[0].Value.String() != tc.want || vs[0].Unit != "m3" || vs[0].Quantity != energy.WaterVolume {
			t.Errorf("water unit % X: %v %v", tc.unit, vs, err)
		}
	}
	if _, err := Values(ClassWaterFlowMeter, map[byte][]byte{0xE0: {0, 0, 0, 1}, 0xE1: {0x07}}); !errors.Is(err, ErrEDT) {
		t.Errorf("water unit 07: %v", err)
	}
	vs, _ := Values(ClassGasMeter, map[byte][]byte{0xE0: {0x00, 0x01, 0xE2, 0x40}})
	wantValue(t, vs, energy.GasVolume, energy.D(123456, -3), "m3")

	// Battery: the verified Get_Res, -1500 W, 80 %, discharge.
	vs, err := Values(ClassStorageBattery, propsOf(t, "10 81 00 09 02 7D 01 05 FF 01 72 03 D3 04 FF FF FA 24 E4 01 50 DA 01 43"))
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, vs, energy.Power, energy.D(-1500, 0), "W")
	wantValue(t, vs, energy.StateOfCharge, energy.D(80, 0), "%")
	wantValue(t, vs, ModeQuantity, energy.D(0x43, 0), "")

	vs, _ = Values(ClassSolar, map[byte][]byte{0xE0: {0x0B, 0xB8}, 0xE1: {0, 0, 0x30, 0x39}, 0x80: {0x30}})
	wantValue(t, vs, energy.GeneratedPower, energy.D(3000, 0), "W")
	wantValue(t, vs, energy.GeneratedEnergy, energy.D(12345, 0), "Wh")
	wantValue(t, vs, energy.Operating, energy.D(1, 0), "")

	vs, _ = Values(ClassEVChargerV2H, map[byte][]byte{0xC7: {0x43}, 0xD3: {0, 0, 0x0B, 0xB8}, 0xD8: {0, 0, 0, 7}, 0xD6: {0, 0, 0, 5}})
	wantValue(t, vs, VehicleQuantity, energy.D(0x43, 0), "")
	wantValue(t, vs, energy.Power, energy.D(3000, 0), "W")
	wantValue(t, vs, energy.ChargeEnergy, energy.D(7, 0), "Wh")
	wantValue(t, vs, energy.DischargeEnergy, energy.D(5, 0), "Wh")

	vs, _ = Values(ClassAirConditioner, propsOf(t, "10 81 00 08 01 30 01 05 FF 01 72 05 80 01 30 B0 01 42 B3 01 1A BB 01 FE BE 01 23"))
	wantValue(t, vs, energy.Operating, energy.D(1, 0), "")
	wantValue(t, vs, energy.SetTemperature, energy.D(26, 0), "°C")
	wantValue(t, vs, energy.Temperature, energy.D(-2, 0), "°C")
	wantValue(t, vs, energy.OutdoorTemperature, energy.D(35, 0), "°C")
	vs, _ = Values(ClassAirConditioner, map[byte][]byte{0xB3: {0xFD}, 0xBB: {0x7E}, 0x84: {0x01, 0xF4}, 0x85: {0, 0, 1, 0}})
	if _, ok := valueOf(vs, energy.SetTemperature); ok {
		t.Error("B3 FD published")
	}
	wantValue(t, vs, energy.Power, energy.D(500, 0), "W")
	wantValue(t, vs, energy.ImportEnergy, energy.D(256, 0), "Wh")

	vs, _ = Values(ClassElectricWaterHtr, map[byte][]byte{0xB0: {0x41}, 0xB2: {0x42}, 0xE1: {0x00, 0x96}, 0x84: {0x03, 0xE8}})
	wantValue(t, vs, ModeQuantity, energy.D(0x41, 0), "")
	wantValue(t, vs, HeatingQuantity, energy.D(0, 0), "")
	wantValue(t, vs, energy.RemainingWater, energy.D(150, 0), "L")
	wantValue(t, vs, energy.Power, energy.D(1000, 0), "W")

	// Malformed EDT names the EPC; unknown EPCs and classes are skipped.
	if _, err := Values(ClassAirConditioner, map[byte][]byte{0xB3: {1, 2}}); !errors.Is(err, ErrEDT) || !strings.Contains(err.Error(), "EPC B3") {
		t.Errorf("B3 of 2 bytes: %v", err)
	}
	if vs, err := Values(ClassAirConditioner, map[byte][]byte{0xF0: {1, 2, 3}}); err != nil || len(vs) != 0 {
		t.Errorf("unknown EPC: %v %v", vs, err)
	}
	if vs, err := Values(Class(0x0FFF), map[byte][]byte{0xE0: {1}}); err != nil || len(vs) != 0 {
		t.Errorf("unknown class: %v %v", vs, err)
	}
}

func TestPollEPCs(t *testing.T) {
	var get PropertyMap
	for _, e := range []byte{0x80, 0xD3, 0xD7, 0xE0, 0xE1, 0xE7} {
		get.Add(e)
	}
	if got := PollEPCs(ClassSmartMeter, get); !slices.Equal(got, []byte{0xE7, 0xE0}) {
		t.Errorf("poll % X", got)
	}
	if got := ScaleEPCs(ClassSmartMeter, get); !slices.Equal(got, []byte{0xD3, 0xD7, 0xE1}) {
		t.Errorf("scale % X", got)
	}
	if got := ScaleEPCs(ClassGasMeter, get); got != nil {
		t.Errorf("gas scale % X", got)
	}
	for _, c := range []Class{ClassSmartMeter, ClassGasMeter, ClassWaterFlowMeter, ClassSolar, ClassStorageBattery,
		ClassEVChargerV2H, ClassAirConditioner, ClassElectricWaterHtr} {
		if ClassName(c) == "" || len(pollFields[c]) == 0 {
			t.Errorf("class %04X unnamed or unpolled", uint16(c))
		}
	}
	if ClassName(ClassNodeProfile) != "" {
		t.Error("node profile named")
	}
}

var fuzzClasses = []Class{ClassSmartMeter, ClassGasMeter, ClassWaterFlowMeter, ClassSolar, ClassStorageBattery,
	ClassEVChargerV2H, ClassAirConditioner, ClassElectricWaterHtr}

// FuzzValues splits data into EPC, PDC, EDT runs for one of the classes.
func FuzzValues(f *testing.F) {
	f.Add(uint16(0x0288), []byte("\xd3\x04\x00\x00\x00\x01\xd7\x01\x06\xe1\x01\x01\xe0\x04\x00\x01\xe2\x40"))
	f.Add(uint16(0x027D), []byte("\xd3\x04\xff\xff\xfa\x24\xe4\x01\x50\xda\x01\x43"))
	f.Fuzz(func(t *testing.T, class uint16, data []byte) {
		c := Class(class)
		if ClassName(c) == "" {
			c = fuzzClasses[int(class)%len(fuzzClasses)]
		}
		props := map[byte][]byte{}
		for len(data) >= 2 {
			n := min(int(data[1]), len(data)-2)
			props[data[0]] = data[2 : 2+n]
			data = data[2+n:]
		}
		vs, err := Values(c, props)
		if err != nil && len(vs) != 0 {
			t.Fatal("values with an error")
		}
		for _, v := range vs {
			if v.Unit != v.Quantity.Unit() {
				t.Fatalf("%s unit %q", v.Quantity, v.Unit)
			}
		}
	})
}

func BenchmarkDecodeGetRes(b *testing.B) {
	frame := hx(b, "10 81 00 02 02 88 01 05 FF 01 72 04 D3 04 00 00 00 01 D7 01 06 E1 01 01 E0 04 00 01 E2 40")
	props := make(map[byte][]byte, 8)
	b.ReportAllocs()
	for b.Loop() {
		f, err := Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		clear(props)
		for _, p := range f.Props {
			props[p.EPC] = p.EDT
		}
		vs, err := Values(ClassSmartMeter, props)
		if err != nil || len(vs) != 1 {
			b.Fatal(vs, err)
		}
	}
}
