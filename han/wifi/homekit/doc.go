// Package homekit is the HomeKit bridge: households see and control the
// gateway's devices in Apple Home (and, for power and energy, in Eve and
// other HAP apps). It builds on github.com/brutella/hap v0.0.35.
//
// # What the bridge shows
//
// One bridge accessory (aid 1) and, behind it:
//   - aid 2, contact sensor "Grid event active": open (contact not
//     detected) while an actionable demand-response event is active;
//   - aid 3, switch "Opt out of this event": on while the household has
//     opted out of the active event; switching it on opts out through the
//     DR engine, switching it off is refused (an opt-out cannot be taken
//     back), and so is switching it on with no event active;
//   - aid 4, the legal meter (when a [MeterView] is given): a read-only
//     accessory whose service carries the Eve power (W) and total energy
//     (kWh) characteristics, visible in Eve, not in Apple Home;
//   - one accessory per registry device, aid >= 100, taken from a mapping
//     persisted in the hap store (key "gatewayd.aids"): a device keeps its
//     aid across restarts and whatever other devices come and go; an aid
//     is never given to another device.
//
// A device is shown as
//   - a thermostat when it has [energy.CapThermostat] or its kind is
//     "air_conditioner": target state Off or Auto (HomeKit's Heat and Cool
//     are not offered: the registry has no mode command), Off/Auto writes
//     become CmdOff/CmdOn; temperatures come from the device's latest
//     readings and the target temperature is read-only (setpoints are the
//     DR engine's lever, not a registry command);
//   - an outlet when it is switchable ([energy.CapSwitch] or
//     [energy.CapDeferrable]) and meters itself (OutletInUse = power > 0);
//   - a switch when it is switchable without metering;
//   - a read-only meter accessory when it only meters ([energy.CapMeter]);
//   - not at all otherwise (gas and water meters, curtail-only devices).
//
// Every On write goes through the device registry as a command with the
// reason "HomeKit": no write reaches a driver directly, and the registry's
// capability and online checks apply. A refused command is answered with
// HAP status -70402 and the characteristic keeps its value.
//
// # Pairing and the setup code
//
// Pairings, the accessory key pair and hap's bookkeeping live in the
// [hap.Store] the caller gives (the gateway passes storage's bbolt-backed
// adapter, whose writes are atomic and durable). The 8-digit setup code is
// generated at random on first use ([SetupCode]) and kept in the same
// store; codes hap rejects as trivial are never drawn; there is no default
// code. [SetupURI] gives the X-HM:// payload for a QR code.
//
// # Rebuilds
//
// hap cannot add accessories to a running server, so [Bridge.Run] stops
// and rebuilds the server when the device set changes (ids, names,
// kinds, capabilities), debounced; pairings and aids are kept because both
// are in the store. Value changes (on, power, energy, events) are pushed
// into the running server's characteristics, which notifies subscribed
// controllers.
//
// # mDNS
//
// hap announces _hap._tcp through brutella/dnssd. Its responder joins the
// mDNS group on every multicast interface of the host whatever
// Server.Ifaces says, so the bridge cannot be confined to loopback on a
// normal host: `gatewayd demo` keeps HomeKit disabled. The tests run the
// real server and a real mDNS lookup inside a network namespace the test
// creates (only its own loopback exists there), so no multicast ever
// reaches a real interface.
//
// # Concurrency
//
// [Bridge] is safe for concurrent use: Status may be called while Run runs.
// Characteristic write callbacks run on hap's HTTP goroutines.
package homekit
