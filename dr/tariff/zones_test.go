package tariff

import (
	"testing"
)

// quarters lists the set quarter-hours of a mask as "from-to" runs in
// minutes, for readable failures.
func runs(mask [2]uint64) [][2]int {
	var out [][2]int
	for q := 0; q < quartersPerDay; q++ {
		if mask[q/64]&(1<<(q%64)) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == q*15 {
			out[n-1][1] = (q + 1) * 15
		} else {
			out = append(out, [2]int{q * 15, (q + 1) * 15})
		}
	}
	return out
}

func TestParseHours(t *testing.T) {
	tests := []struct {
		in   string
		code string
		bad  string
		want [][2]int // minutes
	}{
		{"", "", "", [][2]int{{0, 1440}}},
		{"0-7,22-0", "", "", [][2]int{{0, 420}, {1320, 1440}}},
		{"22-0", "", "", [][2]int{{1320, 1440}}},
		{"0-0", "", "", [][2]int{{0, 1440}}},
		{"0-24", "", "", [][2]int{{0, 1440}}},
		{"23:45-24:00", "", "", [][2]int{{1425, 1440}}},
		{" 7:30 - 8:45 ", "", "", [][2]int{{450, 525}}},
		{"8-12,10-14", "", "", [][2]int{{480, 840}}},
		{"08-09,09-10", "", "", [][2]int{{480, 600}}},
		{"25-26", CodeBadHours, "25-26", nil},
		{"8-9,24-0", CodeBadHours, "24-0", nil},
		{"8", CodeBadHours, "8", nil},
		{"8-", CodeBadHours, "8-", nil},
		{"-8", CodeBadHours, "-8", nil},
		{"8-12-14", CodeBadHours, "8-12-14", nil},
		{"8:5-9", CodeBadHours, "8:5-9", nil},
		{"8:60-9", CodeBadHours, "8:60-9", nil},
		{"a-b", CodeBadHours, "a-b", nil},
		{"123-124", CodeBadHours, "123-124", nil},
		{"8-9,", CodeBadHours, "", nil},
		{"22-6", CodeHoursWrap, "22-6", nil},
		{"8-8", CodeHoursWrap, "8-8", nil},
		{"8:10-9", CodeHoursUnaligned, "8:10-9", nil},
		{"8-9:50", CodeHoursUnaligned, "8-9:50", nil},
	}
	for _, tc := range tests {
		mask, code, bad := parseHours(tc.in)
		if code != tc.code || bad != tc.bad {
			t.Errorf("parseHours(%q): code %q bad %q, want %q %q", tc.in, code, bad, tc.code, tc.bad)
			continue
		}
		if code == "" {
			got := runs(mask)
			if len(got) != len(tc.want) {
				t.Errorf("parseHours(%q) = %v, want %v", tc.in, got, tc.want)
				continue
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("parseHours(%q) = %v, want %v", tc.in, got, tc.want)
				}
			}
		}
	}
}

func TestParseMonthsAndDays(t *testing.T) {
	months := []struct {
		in   string
		want uint16 // bit m-1
		bad  string
	}{
		{"", allMonths, ""},
		{"Jan-Mar,Jun", 0b100111, ""},
		{"nov-feb", 0b110000000011, ""},
		{"December-January", 0b100000000001, ""},
		{"1-3, 12", 0b100000000111, ""},
		{"Jun,Jun-Jul", 0b1100000, ""},
		{"Foo-Bar", 0, "Foo-Bar"},
		{"Jan,13", 0, "13"},
		{"0", 0, "0"},
		{"Jan-", 0, "Jan-"},
		{"001", 0, "001"},
	}
	for _, tc := range months {
		mask, bad, ok := parseMonths(tc.in)
		if ok != (tc.bad == "") || bad != tc.bad || ok && mask != tc.want {
			t.Errorf("parseMonths(%q) = %b %q %v, want %b %q", tc.in, mask, bad, ok, tc.want, tc.bad)
		}
	}
	days := []struct {
		in   string
		want uint8 // bit = time.Weekday
		bad  string
	}{
		{"", allDays, ""},
		{"Mon-Fri", 0b0111110, ""},
		{"Sat,Sun", 0b1000001, ""},
		{"fri-mon", 0b1100011, ""},
		{"Sunday-Saturday", allDays, ""},
		{"Mon-Fry", 0, "Mon-Fry"},
		{"Mo", 0, "Mo"},
		{"1", 0, "1"},
	}
	for _, tc := range days {
		mask, bad, ok := parseDays(tc.in)
		if ok != (tc.bad == "") || bad != tc.bad || ok && mask != tc.want {
			t.Errorf("parseDays(%q) = %b %q %v, want %b %q", tc.in, mask, bad, ok, tc.want, tc.bad)
		}
	}
}
