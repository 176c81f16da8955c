package tsenc

import (
	"encoding/binary"
	"fmt"
)

// Point is one decoded point: a timestamp (Unix milliseconds by convention;
// the codec only needs it to increase) and one value per column.
type Point struct {
	T int64
	V []int64
}

type header struct {
	cols, count int
	first, last int64
}

// parseHeader validates the header of b and returns it with the offset of
// the bit stream.
func parseHeader(b []byte) (header, int, error) {
	var h header
	if len(b) == 0 {
		return h, 0, fmt.Errorf("empty input: %w", ErrCorrupt)
	}
	if b[0] != Version {
		return h, 0, fmt.Errorf("version %d: %w", b[0], ErrVersion)
	}
	off := 1
	uvar := func(what string) (uint64, error) {
		v, n := binary.Uvarint(b[off:])
		if n <= 0 {
			return 0, fmt.Errorf("header %s: %w", what, ErrCorrupt)
		}
		off += n
		return v, nil
	}
	svar := func(what string) (int64, error) {
		v, n := binary.Varint(b[off:])
		if n <= 0 {
			return 0, fmt.Errorf("header %s: %w", what, ErrCorrupt)
		}
		off += n
		return v, nil
	}
	cols, err := uvar("cols")
	if err != nil {
		return h, 0, err
	}
	if cols < 1 || cols > MaxCols {
		return h, 0, fmt.Errorf("header: %d columns: %w", cols, ErrCorrupt)
	}
	count, err := uvar("count")
	if err != nil {
		return h, 0, err
	}
	if count > MaxPoints {
		return h, 0, fmt.Errorf("header: %d points: %w", count, ErrCorrupt)
	}
	if h.first, err = svar("first"); err != nil {
		return h, 0, err
	}
	if h.last, err = svar("last"); err != nil {
		return h, 0, err
	}
	h.cols, h.count = int(cols), int(count)
	avail := (len(b) - off) * 8
	switch {
	case h.count == 0:
		if h.first != 0 || h.last != 0 || avail != 0 {
			return h, 0, fmt.Errorf("header: empty block with data: %w", ErrCorrupt)
		}
	case h.count == 1 && h.first != h.last,
		h.count > 1 && (h.last <= h.first || uint64(h.last)-uint64(h.first) < count-1):
		return h, 0, fmt.Errorf("header: %d points from %d to %d: %w", h.count, h.first, h.last, ErrCorrupt)
	case avail < 7*h.cols+h.count-1:
		// Every point after the first takes at least one bit: the count
		// cannot ask for more memory than the input justifies.
		return h, 0, fmt.Errorf("header: %d points in %d bits: %w", h.count, avail, ErrCorrupt)
	}
	return h, off, nil
}

// FirstLast reads the first and last timestamps and the point count from
// the header of b without decoding the points. Only the header is checked.
func FirstLast(b []byte) (first, last int64, n int, err error) {
	h, _, err := parseHeader(b)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("tsenc: first/last: %w", err)
	}
	return h.first, h.last, h.count, nil
}

// Iter decodes a block point by point without allocating per point.
type Iter struct {
	h    header
	i    int // points decoded
	r    bitReader
	rep  bool
	ts   model
	col  [MaxCols]model
	t    int64
	vals [MaxCols]int64
	err  error
}

// NewIter validates the header of b and returns an iterator over its
// points. b must not be modified while the iterator is in use.
func NewIter(b []byte) (*Iter, error) {
	it := new(Iter)
	if err := it.reset(b); err != nil {
		return nil, err
	}
	return it, nil
}

func (it *Iter) reset(b []byte) error {
	h, off, err := parseHeader(b)
	if err != nil {
		return fmt.Errorf("tsenc: decode: %w", err)
	}
	*it = Iter{h: h}
	it.r.init(b[off:])
	return nil
}

// Cols returns the number of columns per point.
func (it *Iter) Cols() int { return it.h.cols }

// Len returns the number of points in the block (from its header).
func (it *Iter) Len() int { return it.h.count }

// Err returns the first error met by Next, if any.
func (it *Iter) Err() error { return it.err }

// At returns the current point. vals is owned by the iterator and valid
// until the next call to Next.
func (it *Iter) At() (t int64, vals []int64) { return it.t, it.vals[:it.h.cols] }

// Next decodes the next point. It returns false at the end of the block or
// on error; check Err afterwards.
func (it *Iter) Next() bool {
	if it.err != nil || it.i >= it.h.count {
		return false
	}
	var err error
	if it.i == 0 {
		err = it.first()
	} else {
		err = it.next()
	}
	if err == nil {
		it.i++
		if it.i == it.h.count {
			err = it.finish()
		}
	}
	if err != nil {
		it.err = fmt.Errorf("tsenc: decode: point %d: %w", it.i, err)
		return false
	}
	return true
}

func (it *Iter) first() error {
	it.t = it.h.first
	it.ts.start(uint64(it.t), kindTime)
	for c := 0; c < it.h.cols; c++ {
		u, ok := it.r.readRaw()
		if !ok {
			return fmt.Errorf("column %d: %w", c, ErrCorrupt)
		}
		v := unzigzag(u)
		it.vals[c] = int64(v)
		it.col[c].start(v, kindFor(c, it.h.cols))
	}
	return nil
}

func (it *Iter) next() error {
	zero := false
	if it.rep {
		b, ok := it.r.read(1)
		if !ok {
			return fmt.Errorf("repeat flag: %w", ErrCorrupt)
		}
		zero = b == 1
	}
	allZero := true
	x := ctx{carryV: it.col[it.h.cols-1].prev}
	// Quantity 0 is the timestamp, c+1 is column c.
	for q := 0; q <= it.h.cols; q++ {
		m := &it.ts
		if q > 0 {
			m = &it.col[q-1]
		}
		p, k := m.choose()
		var u uint64
		if !zero {
			var ok bool
			if u, ok = it.r.readRice(k); !ok {
				return fmt.Errorf("quantity %d: %w", q, ErrCorrupt)
			}
			allZero = allZero && u == 0
		}
		d := unzigzag(u) + m.base(p, &x)
		v := m.prev + d
		if q == 0 {
			if int64(v) <= int64(m.prev) {
				return fmt.Errorf("timestamp %d after %d: %w", int64(v), int64(m.prev), ErrCorrupt)
			}
			it.t = int64(v)
		} else {
			it.vals[q-1] = int64(v)
		}
		m.update(d, &x)
		if q > 0 {
			x.crossD, x.levelV = d, v
		}
	}
	it.rep = zero || allZero
	return nil
}

// finish checks the end of the block: last timestamp as in the header and
// nothing but zero padding after the last point.
func (it *Iter) finish() error {
	if it.t != it.h.last {
		return fmt.Errorf("last timestamp %d, header says %d: %w", it.t, it.h.last, ErrCorrupt)
	}
	if it.r.remaining() >= 8 || it.r.acc != 0 {
		return fmt.Errorf("%d trailing bits: %w", it.r.remaining(), ErrCorrupt)
	}
	return nil
}

// Decode returns all points of block b. The V slices of the points share
// one backing array (two allocations in all).
func Decode(b []byte) (cols int, pts []Point, err error) {
	var it Iter
	if err := it.reset(b); err != nil {
		return 0, nil, err
	}
	cols = it.h.cols
	pts = make([]Point, it.h.count)
	vals := make([]int64, it.h.count*cols)
	for i := 0; it.Next(); i++ {
		t, v := it.At()
		lo, hi := i*cols, (i+1)*cols
		copy(vals[lo:hi], v)
		pts[i] = Point{T: t, V: vals[lo:hi:hi]}
	}
	if it.err != nil {
		return 0, nil, it.err
	}
	return cols, pts, nil
}
