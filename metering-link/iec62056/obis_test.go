package iec62056

import (
	"errors"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
)

func line(addr, raw, unit string) DataLine {
	return DataLine{Address: addr, Values: []Value{{Raw: raw, Unit: unit}}}
}

func valueOf(vals []meteringlink.Value, q energy.Quantity) (energy.Decimal, bool) {
	for _, v := range vals {
		if v.Quantity == q {
			return v.Value, true
		}
	}
	return energy.Decimal{}, false
}

func TestMapVerified(t *testing.T) {
	lines, err := ParseReadout([]byte(verified))
	if err != nil {
		t.Fatal(err)
	}
	vals, mt, id, err := Map(lines, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if id != "12345678" || !mt.IsZero() || len(vals) != 2 {
		t.Fatalf("id %q time %v values %v", id, mt, vals)
	}
	if v, _ := valueOf(vals, energy.ImportEnergy); v != energy.D(1234567, 0) {
		t.Fatalf("import %v, want 1234567 Wh", v)
	}
	if v, _ := valueOf(vals, energy.ExportEnergy); v != energy.D(12345, 0) {
		t.Fatalf("export %v, want 12345 Wh", v)
	}
}

func TestMapQuantities(t *testing.T) {
	tests := []struct {
		name string
		line DataLine
		q    energy.Quantity
		want energy.Decimal
	}{
		{"import kWh", line("1.8.0", "001234.567", "kWh"), energy.ImportEnergy, energy.D(1234567, 0)},
		{"import Wh", line("1.8.0", "1234567", "Wh"), energy.ImportEnergy, energy.D(1234567, 0)},
		{"import no unit", line("1.8.0", "12.5", ""), energy.ImportEnergy, energy.D(125, 2)},
		{"import KWH", line("1.8.0", "1.2", "KWH"), energy.ImportEnergy, energy.D(12, 2)},
		{"prefix and *255", line("1-0:1.8.0*255", "1.000", "kWh"), energy.ImportEnergy, energy.D(1000, 0)},
		{"tariff 1", line("1.8.1", "000100.001", "kWh"), energy.Tariff(energy.ImportEnergy, 1), energy.D(100001, 0)},
		{"tariff 4", line("1.8.4", "1", "kWh"), energy.Tariff(energy.ImportEnergy, 4), energy.D(1, 3)},
		{"export tariff 2", line("2.8.2", "2", "kWh"), energy.Tariff(energy.ExportEnergy, 2), energy.D(2, 3)},
		{"reactive 1", line("3.8.0", "000010.500", "kvarh"), energy.ReactiveEnergy1, energy.D(10500, 0)},
		{"reactive 2 negative", line("4.8.0", "-1.5", "kvarh"), energy.ReactiveEnergy2, energy.D(-1500, 0)},
		{"import power", line("1.7.0", "01.2345", "kW"), energy.Power, energy.D(12345, -1)},
		{"power L2", line("41.7.0", "0.5", "kW"), energy.Phase("power", 2), energy.D(500, 0)},
		{"voltage L1", line("32.7.0", "230.1", "V"), energy.Phase("voltage", 1), energy.D(2301, -1)},
		{"voltage L3", line("72.7.0", "229.0", ""), energy.Phase("voltage", 3), energy.D(2290, -1)},
		{"current L2", line("51.7.0", "-1.25", "A"), energy.Phase("current", 2), energy.D(-125, -2)},
		{"frequency", line("14.7.0", "49.98", "Hz"), energy.Frequency, energy.D(4998, -2)},
		{"power factor", line("13.7.0", "0.960", ""), energy.PowerFactor, energy.D(960, -3)},
		{"power downs", line("C.7.0", "00000003", ""), energy.PowerDownCount, energy.D(3, 0)},
		{"huge but exact", line("1.8.0", "922337203685477.580", "kWh"), energy.ImportEnergy, energy.D(922337203685477580, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, _, _, err := Map([]DataLine{tt.line}, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := valueOf(vals, tt.q)
			if !ok || got.Cmp(tt.want) != 0 {
				t.Fatalf("%s = %v (%v), want %v; all %v", tt.q, got, ok, tt.want, vals)
			}
		})
	}
}

func TestMapErrors(t *testing.T) {
	tests := []struct {
		name string
		line DataLine
	}{
		{"energy in W", line("1.8.0", "1.0", "W")},
		{"energy in kvarh", line("1.8.0", "1.0", "kvarh")},
		{"power in kWh", line("1.7.0", "1.0", "kWh")},
		{"voltage in A", line("32.7.0", "230", "A")},
		{"power factor with unit", line("13.7.0", "0.9", "%")},
		{"negative energy", line("1.8.0", "-000001.000", "kWh")},
		{"negative voltage", line("32.7.0", "-230", "V")},
		{"negative frequency", line("14.7.0", "-50", "Hz")},
		{"fractional count", line("C.7.0", "3.5", "")},
		{"huge", line("1.8.0", "99999999999999999999.999", "kWh")},
		{"not a number", line("1.8.0", "12a.5", "kWh")},
		{"two dots", line("1.8.0", "1.2.3", "kWh")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if vals, _, _, err := Map([]DataLine{tt.line}, time.UTC); !errors.Is(err, ErrValue) {
				t.Fatalf("err = %v, values %v", err, vals)
			}
		})
	}
}

func TestMapNetPower(t *testing.T) {
	for _, tt := range []struct {
		imp, exp string
		want     energy.Decimal
	}{
		{"01.5000", "00.0000", energy.D(15000, -1)},
		{"00.0000", "02.2500", energy.D(-22500, -1)},
		{"1.5", "", energy.D(1500, 0)},
		{"", "0.25", energy.D(-250, 0)},
		{"1", "0.0001", energy.D(9999, -1)},
	} {
		var lines []DataLine
		if tt.imp != "" {
			lines = append(lines, line("1.7.0", tt.imp, "kW"))
		}
		if tt.exp != "" {
			lines = append(lines, line("2.7.0", tt.exp, "kW"))
		}
		vals, _, _, err := Map(lines, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := valueOf(vals, energy.Power); got.Cmp(tt.want) != 0 || len(vals) != 1 {
			t.Fatalf("%s - %s = %v, want %v (%v)", tt.imp, tt.exp, got, tt.want, vals)
		}
	}
	lines := []DataLine{line("1.7.0", "-922337203685477580", "kW"), line("2.7.0", "0.001", "W")}
	if _, _, _, err := Map(lines, time.UTC); !errors.Is(err, ErrValue) {
		t.Fatalf("overflow: err = %v", err)
	}
}

func TestMapTimeAndID(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	tests := []struct {
		lines []DataLine
		time  time.Time
		id    string
	}{
		{[]DataLine{line("0.9.1", "13:45:30", ""), line("0.9.2", "240520", "")}, time.Date(2024, 5, 20, 13, 45, 30, 0, loc), ""},
		{[]DataLine{line("0.9.2", "1240520", ""), line("0-0:0.9.1", "134530", "")}, time.Date(2024, 5, 20, 13, 45, 30, 0, loc), ""},
		{[]DataLine{line("0.9.2", "0991231", ""), line("0.9.1", "23:59:59", "")}, time.Date(1999, 12, 31, 23, 59, 59, 0, loc), ""},
		{[]DataLine{line("0.9.1", "13:45:30", "")}, time.Time{}, ""},
		{[]DataLine{line("C.1.0", "ABC", ""), line("96.1.0", "X", "")}, time.Time{}, "ABC"},
		{[]DataLine{line("1-0:96.1.0", "X", ""), line("0.0.0", "42", "")}, time.Time{}, "42"},
		// Billing-period values and other media never map.
		{[]DataLine{line("1.8.0*12", "1", "kWh"), line("7-0:1.8.0", "1", "kWh"), line("1.8.0&01", "1", "kWh"), line("99.99.99", "x", "")}, time.Time{}, ""},
	}
	for i, tt := range tests {
		vals, mt, id, err := Map(tt.lines, loc)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !mt.Equal(tt.time) || id != tt.id {
			t.Fatalf("%d: time %v id %q, want %v %q", i, mt, id, tt.time, tt.id)
		}
		if len(vals) != 0 {
			t.Fatalf("%d: unexpected values %v", i, vals)
		}
	}
	for _, bad := range [][2]string{{"240231", "12:00:00"}, {"240520", "24:00:00"}, {"2405", "12:00:00"}, {"240520", "12:0x:00"}, {"240520", "12:00"}} {
		lines := []DataLine{line("0.9.2", bad[0], ""), line("0.9.1", bad[1], "")}
		if _, _, _, err := Map(lines, loc); !errors.Is(err, ErrValue) {
			t.Fatalf("%v: err = %v", bad, err)
		}
	}
}
