package tsenc

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0, 0, 0})
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 11))
		cols := 1 + r.IntN(MaxCols)
		b, err := Encode(cols, genPoints(r, 20, cols))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cols, pts, err := Decode(b)
		first, last, n, ferr := FirstLast(b)
		if err != nil {
			return
		}
		if ferr != nil || n != len(pts) || n > 0 && (first != pts[0].T || last != pts[n-1].T) {
			t.Fatalf("FirstLast disagrees with Decode: %v", ferr)
		}
		again, err := Encode(cols, pts)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		cols2, pts2, err := Decode(again)
		if err != nil || cols2 != cols || !equalPoints(pts, pts2) {
			t.Fatalf("re-encoded block differs: %v", err)
		}
		if _, err := Merge(b, again); err != nil {
			t.Fatalf("merge with itself: %v", err)
		}
	})
}

// pointsFrom derives a valid point sequence from arbitrary bytes.
func pointsFrom(data []byte) (int, []Point) {
	if len(data) == 0 {
		return 1, nil
	}
	cols := 1 + int(data[0]%MaxCols)
	data = data[1:min(len(data), 2048)] // keep executions (and minimisation) fast
	next8 := func() uint64 {
		var buf [8]byte
		n := copy(buf[:], data)
		data = data[n:]
		return binary.LittleEndian.Uint64(buf[:])
	}
	nextByte := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	var pts []Point
	t := int64(next8())
	prev := make([]int64, cols)
	for len(data) > 0 && len(pts) < 1000 {
		if len(pts) > 0 {
			sel := nextByte()
			var dt uint64
			switch sel % 4 {
			case 0:
				dt = 60000
			case 1:
				dt = 1000 + uint64(sel>>2)
			case 2:
				dt = next8()>>(sel>>2%64) | 1
			default:
				dt = uint64(sel>>2) + 1
			}
			if uint64(1<<63-1)-uint64(t) < dt {
				break
			}
			t += int64(dt)
		}
		v := make([]int64, cols)
		for c := range v {
			sel := nextByte()
			switch sel % 4 {
			case 0:
				v[c] = prev[c]
			case 1:
				v[c] = prev[c] + int64(int8(sel))
			case 2:
				v[c] = int64(next8())
			default:
				v[c] = prev[c] + int64(sel>>2)*int64(next8()&0xffff)
			}
		}
		prev = v
		pts = append(pts, Point{T: t, V: v})
	}
	return cols, pts
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{4, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add([]byte{7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 2, 2, 2, 2, 2, 2, 2, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		cols, pts := pointsFrom(data)
		b, err := Encode(cols, pts)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		cols2, got, err := Decode(b)
		if err != nil || cols2 != cols || !equalPoints(got, pts) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
