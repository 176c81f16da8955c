package tsenc

import "math/bits"

// Tuning constants. Changing any of them changes the format (bump version).
const (
	// qMax is the unary length at which a Rice code escapes to an explicit
	// bit length.
	qMax = 8
	// statHalve is the sample count at which the running residual sums are
	// halved, so the model follows regime changes within ~statHalve points.
	statHalve = 32
	// statCap bounds one residual's contribution to a running sum, so the
	// sums never overflow.
	statCap = 1 << 40
	// maxK bounds the Rice parameter (a read of k bits must fit in 56).
	maxK = 48
	// clampMul and clampAdd bound one residual's contribution to
	// sum/n*clampMul+clampAdd, so a rare jump neither inflates the Rice
	// parameter of the following points nor flips the predictor choice.
	clampMul = 4
	clampAdd = 16
)

// Predictors. Each predicts the delta (value minus previous value) of one
// quantity; the residual actually coded is delta minus prediction.
const (
	predHold  = iota // 0: value unchanged
	predSlope        // previous delta of this quantity (delta-of-delta)
	predCross        // this point's delta of the column before
	predLevel        // this point's value of the column before
	predCarry        // previous point's value of the last column
	numPred
)

// Model kinds: which predictors a quantity may use.
const (
	kindTime  = iota // timestamps: slope (delta-of-delta) preferred
	kindFirst        // column 0 of a one-column block
	kindHead         // column 0 of a multi-column block (carry from last)
	kindOther        // columns 1..cols-1
)

// model is the adaptive state of one coded quantity (the timestamp or one
// column). Encoder and decoder evolve it identically from decoded values
// only, so no side information is written.
type model struct {
	prev  uint64          // previous value (two's complement)
	delta uint64          // previous value minus the one before it
	sum   [numPred]uint64 // decayed sums of zigzag residuals per predictor
	n     uint64          // samples in sum (1..statHalve)
	order [numPred]uint8  // predictors to consider, preferred first on ties
	npred int             // number of valid entries in order
}

func (m *model) start(v uint64, kind int) {
	*m = model{prev: v, n: 1}
	switch kind {
	case kindTime:
		m.order, m.npred = [numPred]uint8{predSlope, predHold}, 2
	case kindFirst:
		m.order, m.npred = [numPred]uint8{predHold, predSlope}, 2
	case kindHead:
		m.order, m.npred = [numPred]uint8{predHold, predSlope, predCarry}, 3
	default:
		m.order, m.npred = [numPred]uint8{predHold, predSlope, predCross, predLevel}, 4
	}
}

// choose returns the predictor with the smallest running residual sum and
// the Rice parameter for it.
func (m *model) choose() (pred uint8, k uint) {
	pred = m.order[0]
	best := m.sum[pred]
	for _, p := range m.order[1:m.npred] {
		if m.sum[p] < best {
			pred, best = p, m.sum[p]
		}
	}
	for k < maxK && m.n<<(k+1) < best {
		k++
	}
	return pred, k
}

// ctx carries what the predictors of one quantity may look at. All of it is
// known to the decoder before it decodes the quantity.
type ctx struct {
	crossD uint64 // this point's delta of the column before
	levelV uint64 // this point's value of the column before
	carryV uint64 // previous point's value of the last column
}

// base returns the delta predicted by pred.
func (m *model) base(pred uint8, x *ctx) uint64 {
	switch pred {
	case predSlope:
		return m.delta
	case predCross:
		return x.crossD
	case predLevel:
		return x.levelV - m.prev
	case predCarry:
		return x.carryV - m.prev
	}
	return 0
}

// update records the actual delta d (value minus prev) of this point.
func (m *model) update(d uint64, x *ctx) {
	for _, p := range m.order[:m.npred] {
		lim := min(m.sum[p]/m.n*clampMul+clampAdd, statCap)
		m.sum[p] += min(zigzag(d-m.base(p, x)), lim)
	}
	m.n++
	if m.n >= statHalve {
		for p := range m.sum {
			m.sum[p] >>= 1
		}
		m.n >>= 1
	}
	m.prev += d
	m.delta = d
}

func zigzag(x uint64) uint64   { return x<<1 ^ uint64(int64(x)>>63) }
func unzigzag(u uint64) uint64 { return u>>1 ^ -(u & 1) }

// writeRice writes u as a Rice code with parameter k, escaping to
// qMax ones, a 6-bit (bit length - 1) and the bits below the leading one.
func (w *bitWriter) writeRice(u uint64, k uint) {
	if q := u >> k; q < qMax {
		w.write32(1<<(q+1)-2, uint(q)+1)
		w.write(u, k)
		return
	}
	nb := uint(bits.Len64(u)) - 1 // u > 0 here
	w.write32(1<<qMax-1, qMax)
	w.write32(uint64(nb), 6)
	w.write(u, nb)
}

func (r *bitReader) readRice(k uint) (uint64, bool) {
	q, ok := r.readUnary(qMax)
	if !ok {
		return 0, false
	}
	if q < qMax {
		low, ok := r.read(k)
		return uint64(q)<<k | low, ok
	}
	nb, ok := r.read(6)
	if !ok {
		return 0, false
	}
	low, ok := r.readLong(uint(nb))
	return 1<<nb | low, ok
}

// writeRaw writes u as a 7-bit bit length followed by the bits below the
// leading one (nothing for u == 0).
func (w *bitWriter) writeRaw(u uint64) {
	n := uint(bits.Len64(u))
	w.write32(uint64(n), 7)
	if n > 1 {
		w.write(u, n-1)
	}
}

func (r *bitReader) readRaw() (uint64, bool) {
	n, ok := r.read(7)
	if !ok || n > 64 {
		return 0, false
	}
	if n == 0 {
		return 0, true
	}
	low, ok := r.readLong(uint(n - 1))
	return 1<<(n-1) | low, ok
}
