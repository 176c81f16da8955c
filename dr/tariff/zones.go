package tariff

import (
	"strconv"
	"strings"
	"time"
)

// quartersPerDay is the number of 15-minute slots in a 24-hour local day.
const quartersPerDay = 96

// zone is one parsed entry of `zones` or `chargesZones`. A field left out
// in the file matches everything, so every mask is complete after parsing.
type zone struct {
	months   uint16    // bit m-1 = month m
	days     uint8     // bit d = time.Weekday d (0 = Sunday)
	quarters [2]uint64 // bit q = quarter-hour q of the local day (0 = 00:00-00:15)
	price    float64
	band     string // "" if the zone names none
}

const (
	allMonths = uint16(1<<12 - 1)
	allDays   = uint8(1<<7 - 1)
)

var allQuarters = [2]uint64{^uint64(0), 1<<(quartersPerDay-64) - 1}

func (z *zone) matches(month time.Month, day time.Weekday, quarter int) bool {
	return z.months&(1<<(month-1)) != 0 && z.days&(1<<day) != 0 && z.quarters[quarter/64]&(1<<(quarter%64)) != 0
}

var monthNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"january": 1, "february": 2, "march": 3, "april": 4, "june": 6,
	"july": 7, "august": 8, "september": 9, "sept": 9, "october": 10, "november": 11, "december": 12,
}

var dayNames = map[string]int{
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
	"tues": 2, "thur": 4, "thurs": 4,
}

// parseMonths parses "Jan-Mar,Jun" or "1-3,6" (names in English, any
// case). Ranges may wrap the year ("Nov-Feb"); repeats are harmless. It
// returns the first bad item on failure; "" means every month.
func parseMonths(s string) (mask uint16, bad string, ok bool) {
	if strings.TrimSpace(s) == "" {
		return allMonths, "", true
	}
	month := func(tok string) (int, bool) {
		tok = strings.ToLower(strings.TrimSpace(tok))
		if m, ok := monthNames[tok]; ok {
			return m, true
		}
		if n, err := strconv.Atoi(tok); err == nil && n >= 1 && n <= 12 && len(tok) <= 2 {
			return n, true
		}
		return 0, false
	}
	for item := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(item, "-")
		from, ok1 := month(a)
		to, ok2 := from, true
		if isRange {
			to, ok2 = month(b)
		}
		if !ok1 || !ok2 {
			return 0, strings.TrimSpace(item), false
		}
		for m := from; ; m = m%12 + 1 {
			mask |= 1 << (m - 1)
			if m == to {
				break
			}
		}
	}
	return mask, "", true
}

// parseDays parses "Mon-Fri,Sun" (English names, any case). Ranges may
// wrap the week ("Fri-Mon"); "" means every day.
func parseDays(s string) (mask uint8, bad string, ok bool) {
	if strings.TrimSpace(s) == "" {
		return allDays, "", true
	}
	day := func(tok string) (int, bool) {
		d, ok := dayNames[strings.ToLower(strings.TrimSpace(tok))]
		return d, ok
	}
	for item := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(item, "-")
		from, ok1 := day(a)
		to, ok2 := from, true
		if isRange {
			to, ok2 = day(b)
		}
		if !ok1 || !ok2 {
			return 0, strings.TrimSpace(item), false
		}
		for d := from; ; d = (d + 1) % 7 {
			mask |= 1 << d
			if d == to {
				break
			}
		}
	}
	return mask, "", true
}

// parseHours parses evcc's "HH[:MM]-HH[:MM]" lists: "0-7,22-0". An end of
// 0 (or 24) is midnight at the end of the day; a range never wraps
// midnight. Times must be on 15-minute boundaries, the resolution of
// every slot. code is "" or CodeBadHours, CodeHoursWrap,
// CodeHoursUnaligned; "" means the whole day.
func parseHours(s string) (mask [2]uint64, code, bad string) {
	if strings.TrimSpace(s) == "" {
		return allQuarters, "", ""
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		a, b, ok := strings.Cut(item, "-")
		if !ok {
			return mask, CodeBadHours, item
		}
		from, ok1 := clock(a)
		to, ok2 := clock(b)
		if !ok1 || !ok2 || from == 24*60 {
			return mask, CodeBadHours, item
		}
		if to == 0 {
			to = 24 * 60
		}
		if from%15 != 0 || to%15 != 0 {
			return mask, CodeHoursUnaligned, item
		}
		if from >= to {
			return mask, CodeHoursWrap, item
		}
		for q := from / 15; q < to/15; q++ {
			mask[q/64] |= 1 << (q % 64)
		}
	}
	return mask, "", ""
}

// clock parses "H", "HH", "H:MM" or "HH:MM" into minutes after midnight,
// 0..1440 (24:00 is the end of the day).
func clock(s string) (int, bool) {
	s = strings.TrimSpace(s)
	h, m, hasMin := strings.Cut(s, ":")
	digits := func(x string, min, max int) (int, bool) {
		if len(x) < min || len(x) > max {
			return 0, false
		}
		n := 0
		for i := range len(x) {
			if x[i] < '0' || x[i] > '9' {
				return 0, false
			}
			n = n*10 + int(x[i]-'0')
		}
		return n, true
	}
	hour, ok := digits(h, 1, 2)
	if !ok || hour > 24 {
		return 0, false
	}
	minute := 0
	if hasMin {
		if minute, ok = digits(m, 2, 2); !ok || minute > 59 {
			return 0, false
		}
	}
	if hour == 24 && minute != 0 {
		return 0, false
	}
	return hour*60 + minute, true
}

// looksLikeListItem reports whether a key is probably the tail of an
// unquoted comma list inside a flow mapping: { days: Sat,Sun, price: 1 }
// parses as days: Sat plus a key "Sun".
func looksLikeListItem(key string) bool {
	if _, _, ok := parseMonths(key); ok {
		return true
	}
	if _, _, ok := parseDays(key); ok {
		return true
	}
	_, code, _ := parseHours(key)
	return code == ""
}
