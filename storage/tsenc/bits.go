package tsenc

import "math/bits"

// bitWriter appends bits most-significant first.
type bitWriter struct {
	buf  []byte
	acc  uint64 // pending bits in the low nacc bits
	nacc uint   // 0..7 between calls
}

func (w *bitWriter) reset() {
	w.buf = w.buf[:0]
	w.acc, w.nacc = 0, 0
}

// write appends the low n bits of v (n <= 64).
func (w *bitWriter) write(v uint64, n uint) {
	if n > 32 {
		w.write32(v>>32, n-32)
		n = 32
	}
	w.write32(v, n)
}

func (w *bitWriter) write32(v uint64, n uint) {
	if n == 0 {
		return
	}
	w.acc = w.acc<<n | v&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		w.buf = append(w.buf, byte(w.acc>>w.nacc))
	}
}

// appendTo appends the written bits, zero-padded to a whole byte.
func (w *bitWriter) appendTo(dst []byte) []byte {
	dst = append(dst, w.buf...)
	if w.nacc > 0 {
		dst = append(dst, byte(w.acc<<(8-w.nacc)))
	}
	return dst
}

// bitReader reads bits most-significant first. Bits of acc below the n
// valid ones are always zero.
type bitReader struct {
	b   []byte
	i   int    // next byte of b to load
	acc uint64 // valid bits left-aligned
	n   uint   // number of valid bits in acc
}

func (r *bitReader) init(b []byte) { *r = bitReader{b: b} }

func (r *bitReader) refill() {
	for r.n <= 56 && r.i < len(r.b) {
		r.acc |= uint64(r.b[r.i]) << (56 - r.n)
		r.n += 8
		r.i++
	}
}

// remaining returns the number of unread bits.
func (r *bitReader) remaining() int { return (len(r.b)-r.i)*8 + int(r.n) }

// read reads k <= 56 bits.
func (r *bitReader) read(k uint) (uint64, bool) {
	if r.n < k {
		r.refill()
		if r.n < k {
			return 0, false
		}
	}
	if k == 0 {
		return 0, true
	}
	v := r.acc >> (64 - k)
	r.acc <<= k
	r.n -= k
	return v, true
}

// readLong reads k <= 64 bits.
func (r *bitReader) readLong(k uint) (uint64, bool) {
	if k <= 56 {
		return r.read(k)
	}
	hi, ok1 := r.read(k - 32)
	lo, ok2 := r.read(32)
	return hi<<32 | lo, ok1 && ok2
}

// readUnary counts leading one bits, at most max (<= 32). If fewer than max
// ones precede a zero, the zero is consumed too. It reports false when the
// input ends first.
func (r *bitReader) readUnary(max uint) (uint, bool) {
	if r.n <= max {
		r.refill()
	}
	// Bits below the valid ones are zero, so q never exceeds r.n.
	q := uint(bits.LeadingZeros64(^r.acc))
	if q >= max {
		r.acc <<= max
		r.n -= max
		return max, true
	}
	if q >= r.n {
		return 0, false
	}
	r.acc <<= q + 1
	r.n -= q + 1
	return q, true
}
