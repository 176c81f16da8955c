package tsenc

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// genPoints returns n random points of cols columns drawn from a mix of
// regimes, extremes included.
func genPoints(r *rand.Rand, n, cols int) []Point {
	pts := make([]Point, 0, n)
	t := r.Int64() - math.MaxInt64/2 // may be negative
	if r.IntN(4) == 0 {
		t = math.MinInt64 + r.Int64N(1000)
	}
	vals := make([]int64, cols)
	step := int64(1 + r.IntN(100000))
	for range n {
		switch r.IntN(6) {
		case 0: // huge gap
			gap := r.Uint64() >> uint(r.IntN(64))
			if gap == 0 || uint64(math.MaxInt64)-uint64(t) < gap {
				return pts
			}
			t += int64(gap)
		case 1: // jitter
			t += step + r.Int64N(9) - 4
		default:
			t += step
		}
		if len(pts) > 0 && t <= pts[len(pts)-1].T {
			return pts
		}
		v := make([]int64, cols)
		for c := range v {
			switch r.IntN(10) {
			case 0:
				v[c] = math.MinInt64
			case 1:
				v[c] = math.MaxInt64
			case 2:
				v[c] = r.Int64() * int64(1-2*(len(pts)%2)) // alternating signs
			case 3:
				v[c] = int64(r.Uint64())
			case 4, 5:
				v[c] = vals[c] + r.Int64N(11) - 5
			default:
				v[c] = vals[c]
			}
		}
		copy(vals, v)
		pts = append(pts, Point{T: t, V: v})
	}
	return pts
}

func equalPoints(a, b []Point) bool {
	return slices.EqualFunc(a, b, func(x, y Point) bool { return x.T == y.T && slices.Equal(x.V, y.V) })
}

func roundTrip(t *testing.T, cols int, pts []Point) []byte {
	t.Helper()
	b, err := Encode(cols, pts)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	gotCols, got, err := Decode(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if gotCols != cols || !equalPoints(got, pts) {
		t.Fatalf("round trip mismatch: cols %d/%d, %d/%d points", gotCols, cols, len(got), len(pts))
	}
	first, last, n, err := FirstLast(b)
	if err != nil || n != len(pts) {
		t.Fatalf("FirstLast: %d points, %v", n, err)
	}
	if n > 0 && (first != pts[0].T || last != pts[n-1].T) {
		t.Fatalf("FirstLast: %d..%d, want %d..%d", first, last, pts[0].T, pts[n-1].T)
	}
	it, err := NewIter(b)
	if err != nil {
		t.Fatal(err)
	}
	if it.Cols() != cols || it.Len() != len(pts) {
		t.Fatalf("iter: cols %d len %d", it.Cols(), it.Len())
	}
	for i := 0; it.Next(); i++ {
		ts, v := it.At()
		if ts != pts[i].T || !slices.Equal(v, pts[i].V) {
			t.Fatalf("iter: point %d differs", i)
		}
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	return b
}

func TestRoundTripTable(t *testing.T) {
	tests := []struct {
		name string
		cols int
		pts  []Point
	}{
		{"empty", 3, nil},
		{"one", 1, []Point{{T: 5, V: []int64{-7}}}},
		{"extremes", 2, []Point{
			{T: math.MinInt64, V: []int64{math.MinInt64, math.MaxInt64}},
			{T: -1, V: []int64{math.MaxInt64, math.MinInt64}},
			{T: 0, V: []int64{0, 0}},
			{T: math.MaxInt64 - 1, V: []int64{math.MinInt64, -1}},
			{T: math.MaxInt64, V: []int64{math.MinInt64, math.MinInt64}},
		}},
		{"alternating", 1, func() []Point {
			var p []Point
			for i := range 100 {
				v := int64(math.MaxInt64)
				if i%2 == 1 {
					v = math.MinInt64
				}
				p = append(p, Point{T: int64(i) * 60000, V: []int64{v}})
			}
			return p
		}()},
		{"eight columns", 8, genPoints(rand.New(rand.NewPCG(1, 1)), 300, 8)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { roundTrip(t, tc.cols, tc.pts) })
	}
}

func TestRoundTripRandom(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 42))
		cols := 1 + r.IntN(MaxCols)
		roundTrip(t, cols, genPoints(r, r.IntN(500), cols))
	}
}

func TestBytesIncremental(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	pts := genPoints(r, 200, 3)
	e, _ := NewEncoder(3)
	for i, p := range pts {
		if err := e.Append(p.T, p.V...); err != nil {
			t.Fatal(err)
		}
		_, got, err := Decode(e.Bytes())
		if err != nil || !equalPoints(got, pts[:i+1]) {
			t.Fatalf("after %d points: %v", i+1, err)
		}
	}
	if err := e.Reset(1); err != nil || e.Len() != 0 || e.Cols() != 1 {
		t.Fatalf("reset: %v", err)
	}
	roundTrip(t, 1, nil)
}

func TestAppendRejects(t *testing.T) {
	if _, err := NewEncoder(0); !errors.Is(err, ErrCols) {
		t.Errorf("NewEncoder(0): %v", err)
	}
	if _, err := NewEncoder(9); !errors.Is(err, ErrCols) {
		t.Errorf("NewEncoder(9): %v", err)
	}
	var zero Encoder
	if err := zero.Append(1, 1); err == nil {
		t.Error("zero Encoder accepted a point")
	}
	e, _ := NewEncoder(2)
	if err := e.Append(100, 1, 2); err != nil {
		t.Fatal(err)
	}
	want := e.Bytes()
	for _, tc := range []struct {
		t    int64
		vals []int64
		err  error
	}{
		{100, []int64{1, 2}, ErrOrder},
		{99, []int64{1, 2}, ErrOrder},
		{math.MinInt64, []int64{1, 2}, ErrOrder},
		{200, []int64{1}, ErrCols},
		{200, []int64{1, 2, 3}, ErrCols},
	} {
		if err := e.Append(tc.t, tc.vals...); !errors.Is(err, tc.err) {
			t.Errorf("Append(%d, %v) = %v, want %v", tc.t, tc.vals, err, tc.err)
		}
		if e.Len() != 1 || !slices.Equal(e.Bytes(), want) {
			t.Errorf("Append(%d, %v) changed the encoder", tc.t, tc.vals)
		}
	}
	if err := e.Reset(0); !errors.Is(err, ErrCols) || e.Len() != 1 {
		t.Errorf("Reset(0): %v, len %d", err, e.Len())
	}
}

func TestBlockFull(t *testing.T) {
	e, _ := NewEncoder(1)
	for i := range MaxPoints {
		if err := e.Append(int64(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Append(MaxPoints, 0); !errors.Is(err, ErrFull) {
		t.Fatalf("point %d: %v", MaxPoints+1, err)
	}
	b := e.Bytes()
	t.Logf("%d constant points: %d bytes", MaxPoints, len(b))
	if _, _, n, err := FirstLast(b); err != nil || n != MaxPoints {
		t.Fatal(n, err)
	}
}

func mustEncode(t *testing.T, cols int, pts []Point) []byte {
	t.Helper()
	b, err := Encode(cols, pts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pts1(ts ...int64) []Point {
	p := make([]Point, len(ts))
	for i, t := range ts {
		p[i] = Point{T: t, V: []int64{t * 10}}
	}
	return p
}

func TestMerge(t *testing.T) {
	mark := func(p []Point) []Point { // b's values differ so the winner is visible
		for i := range p {
			p[i].V = []int64{-p[i].T}
		}
		return p
	}
	tests := []struct {
		name string
		a, b []Point
		want []Point
	}{
		{"both empty", nil, nil, nil},
		{"a empty", nil, mark(pts1(1, 2)), mark(pts1(1, 2))},
		{"b empty", pts1(1, 2), nil, pts1(1, 2)},
		{"disjoint b after", pts1(1, 2), mark(pts1(3, 4)), append(pts1(1, 2), mark(pts1(3, 4))...)},
		{"disjoint b before", pts1(3, 4), mark(pts1(1, 2)), append(mark(pts1(1, 2)), pts1(3, 4)...)},
		{"interleaved", pts1(1, 3, 5), mark(pts1(2, 4, 6)), []Point{
			pts1(1)[0], mark(pts1(2))[0], pts1(3)[0], mark(pts1(4))[0], pts1(5)[0], mark(pts1(6))[0]}},
		{"overlap b wins", pts1(1, 2, 3, 4), mark(pts1(2, 3, 9)), []Point{
			pts1(1)[0], mark(pts1(2))[0], mark(pts1(3))[0], pts1(4)[0], mark(pts1(9))[0]}},
		{"identical", pts1(1, 2), mark(pts1(1, 2)), mark(pts1(1, 2))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Merge(mustEncode(t, 1, tc.a), mustEncode(t, 1, tc.b))
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := Decode(m)
			if err != nil {
				t.Fatal(err)
			}
			if !equalPoints(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := Merge(mustEncode(t, 1, nil), mustEncode(t, 2, nil)); !errors.Is(err, ErrCols) {
		t.Errorf("cols mismatch: %v", err)
	}
	if _, err := Merge(nil, mustEncode(t, 1, nil)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("nil a: %v", err)
	}
}

func TestMergeRandom(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 5))
		cols := 1 + r.IntN(MaxCols)
		a, b := genPoints(r, r.IntN(300), cols), genPoints(r, r.IntN(300), cols)
		if r.IntN(2) == 0 && len(a) > 0 { // b as a corrected subset of a
			b = nil
			for _, p := range a {
				if r.IntN(3) == 0 {
					b = append(b, Point{T: p.T, V: make([]int64, cols)})
				}
			}
		}
		want := map[int64][]int64{}
		for _, p := range a {
			want[p.T] = p.V
		}
		for _, p := range b {
			want[p.T] = p.V
		}
		m, err := Merge(mustEncode(t, cols, a), mustEncode(t, cols, b))
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := Decode(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d points, want %d", seed, len(got), len(want))
		}
		for i, p := range got {
			if i > 0 && p.T <= got[i-1].T || !slices.Equal(p.V, want[p.T]) {
				t.Fatalf("seed %d: point %d wrong", seed, i)
			}
		}
	}
}

func TestCorruptInput(t *testing.T) {
	valid := mustEncode(t, 2, genPoints(rand.New(rand.NewPCG(3, 3)), 200, 2))
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"nil", nil, ErrCorrupt},
		{"version 0", append([]byte{0}, valid[1:]...), ErrVersion},
		{"version 2", append([]byte{2}, valid[1:]...), ErrVersion},
		{"cols 0", []byte{1, 0, 0, 0, 0}, ErrCorrupt},
		{"cols 9", []byte{1, 9, 0, 0, 0}, ErrCorrupt},
		{"huge count", []byte{1, 1, 0xff, 0xff, 0xff, 0x7f, 0, 0}, ErrCorrupt},
		{"count beyond input", []byte{1, 1, 0x80, 0x80, 0x40, 0, 2, 0xff}, ErrCorrupt},
		{"empty with data", []byte{1, 1, 0, 0, 0, 0}, ErrCorrupt},
		{"last before first", []byte{1, 1, 2, 4, 2, 0, 0}, ErrCorrupt},
		{"trailing byte", append(slices.Clone(valid), 0), ErrCorrupt},
		{"truncated header", valid[:3], ErrCorrupt},
	}
	for _, tc := range tests {
		if _, _, err := Decode(tc.b); !errors.Is(err, tc.err) {
			t.Errorf("%s: Decode: %v, want %v", tc.name, err, tc.err)
		}
	}
	// Every truncation fails; every single bit flip fails or decodes to
	// other points, without panicking.
	for n := range len(valid) {
		if _, _, err := Decode(valid[:n]); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	for i := range len(valid) * 8 {
		b := slices.Clone(valid)
		b[i/8] ^= 1 << (i % 8)
		_, _, _ = Decode(b)
		_, _ = Merge(b, valid)
		_, _, _, _ = FirstLast(b)
	}
	r := rand.New(rand.NewPCG(4, 4))
	for range 2000 {
		b := slices.Clone(valid)
		for range 1 + r.IntN(8) {
			b[r.IntN(len(b))] = byte(r.Uint32())
		}
		_, _, _ = Decode(b)
	}
}
