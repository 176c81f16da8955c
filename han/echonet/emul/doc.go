// Package emul provides virtual ECHONET Lite nodes with plausible
// behaviour, for tests, demos and `gatewayd emulate`: a route-B
// low-voltage smart meter (0x0288), a gas meter (0x0282), a water flow
// meter (0x0281), a home air conditioner (0x0130), an electric water
// heater (0x026B) and a storage battery (0x027D), each behind a node
// profile (0x0EF001).
//
// A [Home] is a set of [Node]s sharing one injected [energy.Clock] and one
// household: the smart meter measures a house load curve plus what the
// air conditioners, water heaters and batteries of the same Home draw.
// Nothing runs in the background. Whenever a node is asked something the
// Home integrates its state from the last time it was asked to the
// clock's now in steps of at most one minute (split at every :00 and :30
// so the meter's half-hourly records land exactly); a gap longer than two
// days is not simulated (the counters stand still over it). With a fake
// clock a test runs a day in milliseconds.
//
// [Node.Handle] takes request bytes and returns the reply frames; the
// transports (han/wifi/echonetip over UDP, a Wi-SUN module emulator via
// [Home.Deliver]) carry them.
//
// Concurrency: every method is safe for concurrent use. One mutex per Home
// guards all device state, so a Home answers one request at a time.
// Faults ([Node.GetSNA], [Node.Silent], [Node.Slow]) are atomic and can
// be switched while requests are in flight.
//
// Caveats: the models are plausible, not faithful. Values the digest
// does not fix are choices: the water meter counts in litres (E1 = 03,
// 0.001 m³); the gas and water history E2 lists the last 48 half-hour
// boundaries oldest first; the maker code is FFFFFF (unregistered).
package emul
