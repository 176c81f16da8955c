package tsenc

import "fmt"

// Merge returns the union of blocks a and b, which must have the same
// number of columns, ordered by time. On equal timestamps the point of b
// wins, so Merge(old, backfill) inserts or corrects points out of order.
// The inputs are fully validated; a corrupt input yields an error.
func Merge(a, b []byte) ([]byte, error) {
	var ia, ib Iter
	if err := ia.reset(a); err != nil {
		return nil, fmt.Errorf("tsenc: merge: a: %w", err)
	}
	if err := ib.reset(b); err != nil {
		return nil, fmt.Errorf("tsenc: merge: b: %w", err)
	}
	if ia.h.cols != ib.h.cols {
		return nil, fmt.Errorf("tsenc: merge: %d and %d columns: %w", ia.h.cols, ib.h.cols, ErrCols)
	}
	e := &Encoder{cols: ia.h.cols}
	e.w.buf = make([]byte, 0, len(a)+len(b))
	okA, okB := ia.Next(), ib.Next()
	for okA || okB {
		ta, va := ia.At()
		tb, vb := ib.At()
		var err error
		switch {
		case okA && (!okB || ta < tb):
			err = e.Append(ta, va...)
			okA = ia.Next()
		default:
			if okA && ta == tb {
				okA = ia.Next()
			}
			err = e.Append(tb, vb...)
			okB = ib.Next()
		}
		if err != nil {
			return nil, fmt.Errorf("tsenc: merge: %w", err)
		}
	}
	if err := ia.Err(); err != nil {
		return nil, fmt.Errorf("tsenc: merge: a: %w", err)
	}
	if err := ib.Err(); err != nil {
		return nil, fmt.Errorf("tsenc: merge: b: %w", err)
	}
	return e.Bytes(), nil
}
