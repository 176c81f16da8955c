package energy

import "testing"

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		d    Decimal
		s    string
		f    float64
		e3   int64 // rescaled to 10^-3
		okE3 bool
	}{
		{D(1234567, -2), "12345.67", 12345.67, 12345670, true},
		{D(-12345, -1), "-1234.5", -1234.5, -1234500, true},
		{D(1234567, 1), "12345670", 12345670, 12345670000, true},
		{D(5, -3), "0.005", 0.005, 5, true},
		{D(-5, -4), "-0.0005", -0.0005, 0, true},
		{D(0, 2), "0", 0, 0, true},
		{D(1<<62, 2), "461168601842738790400", 4.611686018427388e20, 0, false},
	} {
		if got := tc.d.String(); got != tc.s {
			t.Errorf("%v.String() = %q, want %q", tc.d, got, tc.s)
		}
		if got := tc.d.Float64(); got != tc.f {
			t.Errorf("%v.Float64() = %v, want %v", tc.d, got, tc.f)
		}
		got, ok := tc.d.Rescale(-3)
		if ok != tc.okE3 || (ok && got != tc.e3) {
			t.Errorf("%v.Rescale(-3) = %d %v, want %d %v", tc.d, got, ok, tc.e3, tc.okE3)
		}
		if tc.okE3 {
			p, err := ParseDecimal(tc.s)
			if err != nil || p.Cmp(tc.d) != 0 {
				t.Errorf("ParseDecimal(%q) = %v %v", tc.s, p, err)
			}
		}
	}
	if D(1, 0).Cmp(D(10, -1)) != 0 || D(1, 0).Cmp(D(11, -1)) != -1 || D(2, 0).Cmp(D(-3, 5)) != 1 {
		t.Error("Cmp")
	}
	for _, bad := range []string{"", "-", ".", "1.2.3", "1e5", "12a", "99999999999999999999"} {
		if _, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) accepted", bad)
		}
	}
	if q := Tariff(ImportEnergy, 2); q != "energy_import_t2" || q.Unit() != "Wh" || !q.IsCounter() {
		t.Errorf("tariff quantity %q %q", q, q.Unit())
	}
	if q := Phase("voltage", 3); q != "voltage_l3" || q.Unit() != "V" || q.IsCounter() {
		t.Errorf("phase quantity %q", q)
	}
	if Power.Unit() != "W" || PowerFactor.Unit() != "" || ReactivePower.Unit() != "var" {
		t.Error("units")
	}
}
