package dlt645

import (
	"fmt"
	"time"
)

// bcdByte decodes one BCD byte (00..99).
func bcdByte(b byte) (int, error) {
	if b>>4 > 9 || b&0x0F > 9 {
		return 0, fmt.Errorf("%w: byte %02X", ErrBCD, b)
	}
	return int(b>>4)*10 + int(b&0x0F), nil
}

func toBCD(n int) byte { return byte(n/10)<<4 | byte(n%10) }

// decodeFields decodes BCD bytes given most significant field first (the
// order of the table notation, e.g. YYMMDDhhmm) from wire bytes (LSB first).
func decodeFields(b []byte, n int) ([]int, error) {
	if len(b) != n {
		return nil, fmt.Errorf("dlt645: %w: %d bytes, want %d", ErrLength, len(b), n)
	}
	out := make([]int, n)
	for i := 0; i < n; i++ {
		v, err := bcdByte(b[n-1-i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func mkTime(y, mo, d, h, mi, s int, loc *time.Location) (time.Time, error) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, fmt.Errorf("dlt645: invalid date-time %02d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s)
	}
	t := time.Date(2000+y, time.Month(mo), d, h, mi, s, 0, loc)
	if t.Day() != d {
		return time.Time{}, fmt.Errorf("dlt645: invalid date %02d-%02d-%02d", y, mo, d)
	}
	return t, nil
}

// DecodeDate decodes YYMMDDWW (wire order WW DD MM YY) into midnight of that
// day in loc. The weekday byte is checked to be BCD but otherwise ignored.
func DecodeDate(b []byte, loc *time.Location) (time.Time, error) {
	f, err := decodeFields(b, 4)
	if err != nil {
		return time.Time{}, err
	}
	return mkTime(f[0], f[1], f[2], 0, 0, 0, loc)
}

// DecodeClock decodes hhmmss (wire order ss mm hh) into a duration since midnight.
func DecodeClock(b []byte) (time.Duration, error) {
	f, err := decodeFields(b, 3)
	if err != nil {
		return 0, err
	}
	if f[0] > 23 || f[1] > 59 || f[2] > 59 {
		return 0, fmt.Errorf("dlt645: invalid time %02d:%02d:%02d", f[0], f[1], f[2])
	}
	return time.Duration(f[0])*time.Hour + time.Duration(f[1])*time.Minute + time.Duration(f[2])*time.Second, nil
}

// DecodeStamp5 decodes YYMMDDhhmm.
func DecodeStamp5(b []byte, loc *time.Location) (time.Time, error) {
	f, err := decodeFields(b, 5)
	if err != nil {
		return time.Time{}, err
	}
	return mkTime(f[0], f[1], f[2], f[3], f[4], 0, loc)
}

// DecodeStamp6 decodes YYMMDDhhmmss.
func DecodeStamp6(b []byte, loc *time.Location) (time.Time, error) {
	f, err := decodeFields(b, 6)
	if err != nil {
		return time.Time{}, err
	}
	return mkTime(f[0], f[1], f[2], f[3], f[4], f[5], loc)
}

func encodeFields(f ...int) []byte {
	b := make([]byte, len(f))
	for i, v := range f {
		b[len(f)-1-i] = toBCD(v)
	}
	return b
}

// EncodeDate encodes t as YYMMDDWW (wire order). WW 0 = Sunday.
func EncodeDate(t time.Time) []byte {
	return encodeFields(t.Year()%100, int(t.Month()), t.Day(), int(t.Weekday()))
}

// EncodeClock encodes t as hhmmss (wire order).
func EncodeClock(t time.Time) []byte { return encodeFields(t.Hour(), t.Minute(), t.Second()) }

// EncodeStamp5 encodes t as YYMMDDhhmm (wire order).
func EncodeStamp5(t time.Time) []byte {
	return encodeFields(t.Year()%100, int(t.Month()), t.Day(), t.Hour(), t.Minute())
}

// EncodeStamp6 encodes t as YYMMDDhhmmss (wire order).
func EncodeStamp6(t time.Time) []byte {
	return encodeFields(t.Year()%100, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second())
}

// EncodeBroadcastTime encodes the 0x08 payload ss mm hh DD MM YY.
func EncodeBroadcastTime(t time.Time) []byte {
	return encodeFields(t.Year()%100, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second())
}

// EncodeLoadStart encodes the load-profile start time mm hh DD MM YY.
func EncodeLoadStart(t time.Time) []byte { return EncodeStamp5(t) }

// LoadRecord is one decoded class-4 load-profile record.
type LoadRecord struct {
	Time                 time.Time
	Forward, Reverse     int64 // 0.01 kWh
	Reactive1, Reactive2 int64 // 0.01 kvarh, signed
}

// LoadRecordLen is the wire length of one class-4 record.
const LoadRecordLen = 2 + 1 + 5 + 16 + 1 + 1 + 1

// EncodeLoadRecord builds one class-4 record (see the package doc).
func EncodeLoadRecord(r LoadRecord) ([]byte, error) {
	b := []byte{0xA0, 0xA0, 5 + 16 + 1}
	b = append(b, EncodeStamp5(r.Time)...)
	for i, v := range []int64{r.Forward, r.Reverse, r.Reactive1, r.Reactive2} {
		e, err := EncodeBCD(v, 4, i >= 2)
		if err != nil {
			return nil, err
		}
		b = append(b, e...)
	}
	b = append(b, 0xAA)
	b = append(b, sum(b), 0xE5)
	return b, nil
}

// DecodeLoadRecords decodes consecutive class-4 records.
func DecodeLoadRecords(b []byte, loc *time.Location) ([]LoadRecord, error) {
	var out []LoadRecord
	for len(b) > 0 {
		if len(b) < 3 || b[0] != 0xA0 || b[1] != 0xA0 {
			return out, fmt.Errorf("dlt645: load record: missing A0 A0 header")
		}
		n := int(b[2])
		if n != 5+16+1 || len(b) < 3+n+2 {
			return out, fmt.Errorf("dlt645: load record: %w: LEN %d", ErrLength, n)
		}
		rec := b[:3+n+2]
		if rec[3+n-1] != 0xAA || rec[3+n+1] != 0xE5 {
			return out, fmt.Errorf("dlt645: load record: bad separator or end")
		}
		if sum(rec[:3+n]) != rec[3+n] {
			return out, fmt.Errorf("dlt645: load record: %w", ErrChecksum)
		}
		t, err := DecodeStamp5(rec[3:8], loc)
		if err != nil {
			return out, fmt.Errorf("dlt645: load record time: %w", err)
		}
		var vals [4]int64
		for i := range vals {
			vals[i], err = DecodeBCD(rec[8+4*i:12+4*i], i >= 2)
			if err != nil {
				return out, fmt.Errorf("dlt645: load record value: %w", err)
			}
		}
		out = append(out, LoadRecord{Time: t, Forward: vals[0], Reverse: vals[1], Reactive1: vals[2], Reactive2: vals[3]})
		b = b[len(rec):]
	}
	return out, nil
}
