// Package tsenc is a compact, exact codec for blocks of time-series points,
// written to keep 15 years of household history on flash.
//
// A block holds up to MaxPoints points of one series. A point is a
// timestamp (int64, by convention Unix milliseconds) and a fixed number of
// int64 columns (1..MaxCols): one for a raw sample, five for a rollup
// (first, min, max, mean, last). Values are integer coefficients; the caller
// keeps the decimal exponent per series. Every int64, math.MinInt64 and
// math.MaxInt64 included, round-trips exactly.
//
// Typical sizes for a one-day block of 1-minute points (see TestBytesPerPoint):
// a constant flag 0.14 B/point, an energy register 0.49 B/point, a voltage
// 0.66 B/point, a noisy power series 1.7 B/point.
//
// # Use
//
// An Encoder builds a block point by point; Bytes returns a complete block at
// any time and Append may continue. Decode returns all points, Iter streams
// them without per-point allocation, FirstLast reads only the header, and
// Merge inserts backfilled points (the second block wins on equal
// timestamps).
//
// # Format, version 1
//
// A block is a header followed by one bit stream.
//
//	byte 0        version, 1
//	uvarint       cols, 1..8
//	uvarint       count, 0..1<<20
//	varint        first timestamp (zigzag varint as encoding/binary)
//	varint        last timestamp
//	bytes         bit stream, most significant bit first, the last byte
//	              padded with zero bits; nothing may follow it
//
// An empty block (count 0) has first = last = 0 and no bit stream.
//
// The bit stream codes point 0's values, then points 1..count-1. Point 0's
// timestamp is the header's first timestamp; each of its columns is written
// raw: 7 bits n = bit length of zigzag(v) (0..64), then the n-1 bits of
// zigzag(v) below its leading one. zigzag(v) = (v<<1) ^ (v>>63).
//
// For each later point, quantity 0 is the timestamp and quantity c+1 is
// column c. Each quantity has an adaptive model (prev, delta, per-predictor
// running sums, n), and its actual delta d = v - prev (all arithmetic modulo
// 2^64) is predicted by one of:
//
//	hold   0                                     (all quantities)
//	slope  the quantity's previous delta         (all; delta-of-delta)
//	cross  this point's d of column c-1          (columns 1..cols-1)
//	level  this point's value of column c-1 - prev (columns 1..cols-1)
//	carry  the last column's previous value - prev (column 0, cols > 1)
//
// The model picks the allowed predictor with the smallest running sum
// (ties: slope for timestamps, otherwise the order above) and the Rice
// parameter k = the smallest k with n<<(k+1) >= that sum (k <= 48). The
// coded residual is u = zigzag(d - prediction), written as a Rice code: if
// q = u>>k < 8, q one bits, a zero bit, then the k low bits of u; otherwise
// eight one bits, 6 bits b = bit length(u) - 1, then the b bits of u below
// its leading one.
//
// After coding, every model adds min(zigzag(d - prediction_p),
// sum_p/n*4+16, 2^40) to the sum of each allowed predictor p, increments n,
// and halves all sums and n when n reaches 32; then prev += d, delta = d.
// The decoder repeats exactly this, so no model state is stored.
//
// A point whose residuals are all zero is a repeat. After a repeat, the next
// point starts with one flag bit: 1 means this point is a repeat too and
// nothing else is written; 0 means its residuals follow as above. Points
// after a non-repeat have no flag. A constant 1-minute series costs one bit
// per point; a regular 60 s spacing costs one bit per point in the
// timestamp.
//
// The decoder checks the version, the header ranges, that the bit stream
// holds at least 7*cols + count-1 bits before allocating anything, that
// timestamps strictly increase and end at the header's last timestamp, and
// that only zero padding follows the last point.
//
// # Concurrency
//
// Encoder and Iter are not safe for concurrent use; use one per goroutine.
// Decode, Merge, FirstLast and Encode are pure functions and may be called
// concurrently. The package has no global state.
//
// # Caveats
//
//   - The model constants are part of the format; changing any of them
//     needs a new version byte.
//   - Decoding is sequential: reading the last point decodes the block. Keep
//     blocks to about a day of 1-minute points (or an hour of 1 s points).
//   - Bytes copies the whole block on each call, which is O(size).
//   - Iter and Decode return an error for a corrupt block, but a bit flip
//     may also decode to different valid points: blocks carry no checksum
//     (bbolt checksums only its meta pages), so add one where silent
//     corruption matters.
//   - Merge decodes both blocks and encodes the union: O(len(a)+len(b)),
//     with the same bytes as Encode of the merged points.
package tsenc
