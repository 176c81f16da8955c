package openadr

import (
	"errors"
	"fmt"
	"time"
)

// Duration is an ISO 8601 duration as OpenADR writes it (the spec's
// regex: -?P[nY][nM][n(D|W)][T[nH][nM][n[.n]S]], at least one number).
// Years, months and days are calendar parts, applied with
// [time.Time.AddDate] in UTC (so a day is 24 h); weeks are folded into
// Days. The T part is exact. The spec advises against months; they are
// accepted and are calendar months.
type Duration struct {
	// Negative is the leading minus sign.
	Negative bool
	// Years, Months and Days are the calendar parts (weeks × 7 in Days).
	Years, Months, Days int
	// Clock is the exact T part (hours, minutes, seconds).
	Clock time.Duration
}

// Bounds on what [ParseDuration] accepts; larger values are an error
// rather than a silent overflow.
const (
	// ForeverYears is the P9999Y sentinel: a duration of this many years
	// or more (with any other parts) means "forever".
	ForeverYears = 9999
	// maxDurationLen bounds the text.
	maxDurationLen = 64
	// maxClock bounds the T part (100 years of 365.25 days).
	maxClock = 36525 * 24 * time.Hour
	// maxMonths and maxDays bound the calendar parts (about 9999 years).
	maxMonths = ForeverYears * 12
	maxDays   = ForeverYears * 366
)

// errDuration is wrapped by every ParseDuration error.
var errDuration = errors.New("not an ISO 8601 duration")

// ParseDuration parses an ISO 8601 duration per the OpenADR 3 regex.
// Fractional seconds beyond nanoseconds are truncated. It never panics.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	bad := func(why string) (Duration, error) {
		return Duration{}, fmt.Errorf("%w: %q: %s", errDuration, clip(s, maxDurationLen), why)
	}
	if len(s) > maxDurationLen {
		return bad("too long")
	}
	i := 0
	if i < len(s) && s[i] == '-' {
		d.Negative = true
		i++
	}
	if i >= len(s) || s[i] != 'P' {
		return bad("want P")
	}
	i++
	// The regex's lookahead (?=\d|T\d): something must follow P.
	if i >= len(s) || !(isDigit(s[i]) || (s[i] == 'T' && i+1 < len(s) && isDigit(s[i+1]))) {
		return bad("no number after P")
	}
	// Date part: designators must appear in the order Y, M, D|W.
	order := 0 // 1 after Y, 2 after M, 3 after D/W
	for i < len(s) && s[i] != 'T' {
		n, j, frac, err := number(s, i)
		if err != nil {
			return bad(err.Error())
		}
		if frac {
			return bad("fractions are allowed in seconds only")
		}
		if j >= len(s) {
			return bad("number without designator")
		}
		switch c := s[j]; {
		case c == 'Y' && order < 1:
			if n > ForeverYears {
				n = ForeverYears
			}
			d.Years, order = int(n), 1
		case c == 'M' && order < 2:
			if n > maxMonths {
				return bad("too many months")
			}
			d.Months, order = int(n), 2
		case (c == 'D' || c == 'W') && order < 3:
			if c == 'W' {
				n *= 7
			}
			if n > maxDays {
				return bad("too many days")
			}
			d.Days, order = int(n), 3
		default:
			return bad(fmt.Sprintf("unexpected %q", c))
		}
		i = j + 1
	}
	if i < len(s) { // s[i] == 'T'
		i++
		var secs, nanos int64
		order = 0 // 1 after H, 2 after M, 3 after S
		for i < len(s) {
			n, j, frac, err := number(s, i)
			if err != nil {
				return bad(err.Error())
			}
			if j >= len(s) {
				return bad("number without designator")
			}
			c := s[j]
			if frac && c != 'S' {
				return bad("fractions are allowed in seconds only")
			}
			switch {
			case c == 'H' && order < 1:
				secs += n * 3600
				order = 1
			case c == 'M' && order < 2:
				secs += n * 60
				order = 2
			case c == 'S' && order < 3:
				secs += n
				if frac {
					nanos = fraction(s[i:j])
				}
				order = 3
			default:
				return bad(fmt.Sprintf("unexpected %q", c))
			}
			if secs > int64(maxClock/time.Second) {
				return bad("time part too long")
			}
			i = j + 1
		}
		d.Clock = time.Duration(secs)*time.Second + time.Duration(nanos)
	}
	return d, nil
}

// number reads digits (and for seconds a fraction) at s[i:], returning the
// integer part (capped so it cannot overflow), the index after the number
// and whether a fraction was present.
func number(s string, i int) (n int64, j int, frac bool, err error) {
	j = i
	for j < len(s) && isDigit(s[j]) {
		if n < 1e12 {
			n = n*10 + int64(s[j]-'0')
		}
		j++
	}
	if j == i {
		return 0, j, false, errors.New("want a number")
	}
	if n >= 1e12 {
		return 0, j, false, errors.New("number too large")
	}
	if j < len(s) && s[j] == '.' {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == j+1 {
			return 0, j, false, errors.New("want digits after '.'")
		}
		return n, k, true, nil
	}
	return n, j, false, nil
}

// fraction returns the nanoseconds of the ".ddd" part of the text "n.ddd".
func fraction(num string) int64 {
	dot := 0
	for dot < len(num) && num[dot] != '.' {
		dot++
	}
	var ns int64
	digits := 0
	for k := dot + 1; k < len(num) && digits < 9; k++ {
		ns = ns*10 + int64(num[k]-'0')
		digits++
	}
	for ; digits < 9; digits++ {
		ns *= 10
	}
	return ns
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Forever reports whether d is the P9999Y sentinel (9999 years or more,
// not negative): an open-ended period.
func (d Duration) Forever() bool { return !d.Negative && d.Years >= ForeverYears }

// IsZero reports whether d is zero (PT0S).
func (d Duration) IsZero() bool {
	return d.Years == 0 && d.Months == 0 && d.Days == 0 && d.Clock == 0
}

// AddTo returns t + d: calendar parts with AddDate in UTC, then the T
// part. It is meaningless for a Forever duration.
func (d Duration) AddTo(t time.Time) time.Time {
	t = t.UTC()
	if d.Negative {
		return t.AddDate(-d.Years, -d.Months, -d.Days).Add(-d.Clock)
	}
	return t.AddDate(d.Years, d.Months, d.Days).Add(d.Clock)
}

// String formats d back to ISO 8601 (normalised: weeks become days, the
// T part is in whole hours, minutes and seconds).
func (d Duration) String() string {
	var b []byte
	if d.Negative {
		b = append(b, '-')
	}
	b = append(b, 'P')
	if d.Years != 0 {
		b = fmt.Appendf(b, "%dY", d.Years)
	}
	if d.Months != 0 {
		b = fmt.Appendf(b, "%dM", d.Months)
	}
	if d.Days != 0 {
		b = fmt.Appendf(b, "%dD", d.Days)
	}
	if d.Clock != 0 || (d.Years == 0 && d.Months == 0 && d.Days == 0) {
		b = append(b, 'T')
		c := d.Clock
		if h := c / time.Hour; h != 0 {
			b = fmt.Appendf(b, "%dH", h)
			c -= h * time.Hour
		}
		if m := c / time.Minute; m != 0 {
			b = fmt.Appendf(b, "%dM", m)
			c -= m * time.Minute
		}
		if c != 0 || d.Clock == 0 {
			if c%time.Second == 0 {
				b = fmt.Appendf(b, "%dS", c/time.Second)
			} else {
				b = fmt.Appendf(b, "%sS", trimZeros(fmt.Sprintf("%d.%09d", c/time.Second, c%time.Second)))
			}
		}
	}
	return string(b)
}

func trimZeros(s string) string {
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}

// clip shortens s for error messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
