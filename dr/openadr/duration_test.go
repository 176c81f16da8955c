package openadr

import (
	"regexp"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	ok := []struct {
		in   string
		want Duration
		str  string
	}{
		{"PT0S", Duration{}, "PT0S"},
		{"PT1H", Duration{Clock: time.Hour}, "PT1H"},
		{"PT15M", Duration{Clock: 15 * time.Minute}, "PT15M"},
		{"PT1H30M5S", Duration{Clock: time.Hour + 30*time.Minute + 5*time.Second}, "PT1H30M5S"},
		{"PT0.5S", Duration{Clock: 500 * time.Millisecond}, "PT0.5S"},
		{"PT1.0000000019S", Duration{Clock: time.Second + 1}, "PT1.000000001S"},
		{"P1D", Duration{Days: 1}, "P1D"},
		{"P2W", Duration{Days: 14}, "P14D"},
		{"P1Y2M3DT4H5M6S", Duration{Years: 1, Months: 2, Days: 3, Clock: 4*time.Hour + 5*time.Minute + 6*time.Second}, "P1Y2M3DT4H5M6S"},
		{"-PT5M", Duration{Negative: true, Clock: 5 * time.Minute}, "-PT5M"},
		{"P9999Y", Duration{Years: 9999}, "P9999Y"},
		{"P99999Y", Duration{Years: 9999}, "P9999Y"},
		{"PT36H", Duration{Clock: 36 * time.Hour}, "PT36H"},
		{"P1YT", Duration{Years: 1}, "P1Y"}, // the spec regex allows a bare T
		{"PT90M", Duration{Clock: 90 * time.Minute}, "PT1H30M"},
	}
	for _, c := range ok {
		d, err := ParseDuration(c.in)
		if err != nil || d != c.want {
			t.Errorf("%q: %+v %v, want %+v", c.in, d, err, c.want)
			continue
		}
		if d.String() != c.str {
			t.Errorf("%q: String %q, want %q", c.in, d.String(), c.str)
		}
	}
	if d, _ := ParseDuration("P9999Y"); !d.Forever() {
		t.Error("P9999Y is not forever")
	}
	if d, _ := ParseDuration("-P9999Y"); d.Forever() {
		t.Error("-P9999Y is forever")
	}
	bad := []string{"", "P", "PT", "T1H", "1H", "P1H", "PT1D", "P1.5D", "PT1.5H", "P1M1Y", "P1D1W", "P1W1D", "PT1S1M",
		"pt1h", "PT1H ", " PT1H", "P-1D", "PT1.S", "PT.5S", "--PT1H", "PT1H1H", "P1Y1Y", "PT9999999999999H",
		"P99999999999999D", "PT4000000000S", "P1X", "P1", "PT1HT1M"}
	for _, s := range bad {
		if d, err := ParseDuration(s); err == nil {
			t.Errorf("%q accepted: %+v", s, d)
		}
	}
}

func TestDurationAddTo(t *testing.T) {
	t0 := time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"P1M":     time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC), // calendar month (Go normalises Feb 31)
		"P1Y":     time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC),
		"P1DT1H":  time.Date(2024, 2, 1, 13, 0, 0, 0, time.UTC),
		"-PT12H":  time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC),
		"-P1DT1S": time.Date(2024, 1, 30, 11, 59, 59, 0, time.UTC),
	} {
		d, err := ParseDuration(in)
		if err != nil || !d.AddTo(t0).Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, d.AddTo(t0), err, want)
		}
	}
}

// specRegex is the OpenADR duration regex without its lookahead, which Go
// does not support; lookahead is checked by hand in matchesSpec.
var specRegex = regexp.MustCompile(`^(-?)P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

var longNumber = regexp.MustCompile(`\d{6}`)

func matchesSpec(s string) bool {
	if !specRegex.MatchString(s) {
		return false
	}
	i := 1
	if s[0] == '-' {
		i = 2
	}
	// (?=\d|T\d)
	return i < len(s) && (isDigit(s[i]) || (s[i] == 'T' && i+1 < len(s) && isDigit(s[i+1])))
}

// FuzzDuration: ParseDuration never panics, agrees with the spec regex on
// small inputs, and its String form parses back to the same value.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"PT1H", "P9999Y", "-PT5M", "P1Y2M3DT4H5M6.789S", "P2W", "PT0S", "P1YT", "PT", "P"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		small := !longNumber.MatchString(s) // numbers below the bounds
		if small && (err == nil) != matchesSpec(s) {
			t.Fatalf("%q: parser says %v, regex says %v", s, err, matchesSpec(s))
		}
		if err != nil {
			return
		}
		if !matchesSpec(s) {
			t.Fatalf("%q accepted but the regex does not match", s)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %q -> %+v %v", s, d.String(), back, err)
		}
		_ = d.AddTo(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	})
}
