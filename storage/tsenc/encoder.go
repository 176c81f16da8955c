package tsenc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the format version written in the first byte of every block.
const Version = 1

// Limits of a block.
const (
	MaxCols   = 8       // columns per point
	MaxPoints = 1 << 20 // points per block
)

// Sentinel errors, wrapped with context by every function of the package.
var (
	ErrCorrupt = errors.New("corrupt block")
	ErrVersion = errors.New("unsupported version")
	ErrCols    = errors.New("bad column count")
	ErrOrder   = errors.New("timestamp not after the previous one")
	ErrFull    = errors.New("block full")
)

// Encoder builds one block incrementally. The zero value is not usable;
// create one with NewEncoder or initialise it with Reset.
type Encoder struct {
	cols        int
	n           int
	first, last int64
	rep         bool // previous point had only zero residuals
	w           bitWriter
	ts          model
	col         [MaxCols]model
}

// NewEncoder returns an encoder for points of cols (1..MaxCols) columns.
func NewEncoder(cols int) (*Encoder, error) {
	if cols < 1 || cols > MaxCols {
		return nil, fmt.Errorf("tsenc: new encoder: %d columns: %w", cols, ErrCols)
	}
	return &Encoder{cols: cols}, nil
}

// Reset empties the encoder and sets its column count, keeping its buffer.
// On error the encoder is unchanged.
func (e *Encoder) Reset(cols int) error {
	if cols < 1 || cols > MaxCols {
		return fmt.Errorf("tsenc: reset: %d columns: %w", cols, ErrCols)
	}
	e.w.reset()
	*e = Encoder{cols: cols, w: e.w}
	return nil
}

// Cols returns the number of columns per point.
func (e *Encoder) Cols() int { return e.cols }

// Len returns the number of points appended so far.
func (e *Encoder) Len() int { return e.n }

// Append adds a point. t must be strictly greater than the previous
// timestamp and len(vals) must equal Cols(); otherwise Append returns an
// error and leaves the encoder unchanged.
func (e *Encoder) Append(t int64, vals ...int64) error {
	switch {
	case e.cols == 0:
		return fmt.Errorf("tsenc: append: encoder not initialised: %w", ErrCols)
	case len(vals) != e.cols:
		return fmt.Errorf("tsenc: append: %d values for %d columns: %w", len(vals), e.cols, ErrCols)
	case e.n >= MaxPoints:
		return fmt.Errorf("tsenc: append: %d points: %w", e.n, ErrFull)
	case e.n > 0 && t <= e.last:
		return fmt.Errorf("tsenc: append: t=%d after %d: %w", t, e.last, ErrOrder)
	}
	if e.n == 0 {
		e.first = t
		e.ts.start(uint64(t), kindTime)
		for c, v := range vals {
			e.w.writeRaw(zigzag(uint64(v)))
			e.col[c].start(uint64(v), kindFor(c, e.cols))
		}
	} else {
		e.encode(t, vals)
	}
	e.last = t
	e.n++
	return nil
}

func kindFor(col, cols int) int {
	switch {
	case col > 0:
		return kindOther
	case cols > 1:
		return kindHead
	}
	return kindFirst
}

func (e *Encoder) encode(t int64, vals []int64) {
	var (
		us [MaxCols + 1]uint64 // residual to write, zigzagged
		ks [MaxCols + 1]uint   // Rice parameter
		x  = ctx{carryV: e.col[e.cols-1].prev}
	)
	// Quantity 0 is the timestamp, c+1 is column c. Models are updated as
	// soon as their residual is known, exactly as the decoder does.
	d := uint64(t) - e.ts.prev
	p, k := e.ts.choose()
	us[0], ks[0] = zigzag(d-e.ts.base(p, &x)), k
	e.ts.update(d, &x)
	zero := us[0] == 0
	for c, v := range vals {
		m := &e.col[c]
		d := uint64(v) - m.prev
		p, k := m.choose()
		us[c+1], ks[c+1] = zigzag(d-m.base(p, &x)), k
		m.update(d, &x)
		zero = zero && us[c+1] == 0
		x.crossD, x.levelV = d, uint64(v)
	}
	if e.rep {
		if zero {
			e.w.write32(1, 1)
		} else {
			e.w.write32(0, 1)
		}
	}
	if !e.rep || !zero {
		for i := 0; i <= e.cols; i++ {
			e.w.writeRice(us[i], ks[i])
		}
	}
	e.rep = zero
}

// Bytes returns the block so far in a new slice owned by the caller. It is a
// complete, valid block; Append may continue afterwards.
func (e *Encoder) Bytes() []byte {
	return e.AppendBlock(nil)
}

// AppendBlock appends the block so far to dst and returns the extended slice.
func (e *Encoder) AppendBlock(dst []byte) []byte {
	dst = append(dst, Version)
	dst = binary.AppendUvarint(dst, uint64(e.cols))
	dst = binary.AppendUvarint(dst, uint64(e.n))
	dst = binary.AppendVarint(dst, e.first)
	dst = binary.AppendVarint(dst, e.last)
	return e.w.appendTo(dst)
}

// Encode returns the block of the given points, which must be in strictly
// increasing time order and have cols values each.
func Encode(cols int, pts []Point) ([]byte, error) {
	e, err := NewEncoder(cols)
	if err != nil {
		return nil, err
	}
	for i, p := range pts {
		if err := e.Append(p.T, p.V...); err != nil {
			return nil, fmt.Errorf("tsenc: encode: point %d: %w", i, err)
		}
	}
	return e.Bytes(), nil
}
