// Package energy is the domain of gatewayd: quantities, exact decimal values,
// readings, device identities and the injected clock.
//
// It imports nothing of ours; every other package may import it.
//
// Registers (energy, gas, water counters) are never floats: a [Decimal] is an
// int64 coefficient with a power-of-ten exponent, so 12345.67 kWh read from a
// meter is kept as 1234567e1 Wh, exactly as the meter sent it. Floats appear
// only at the edges (JSON for humans and charts).
//
// Concurrency: the types here are values; [SystemClock] is safe for
// concurrent use.
package energy
