// Package echonet is ECHONET Lite: the format-1 frame codec, property
// maps, request/reply correlation, the device classes the gateway reads
// and controls, and a client over any [Transport] (Wi-SUN route B and HAN
// via han/wisun, UDP on the LAN via han/wifi/echonetip).
//
// Layers, each usable alone:
//   - [Decode] and [Frame.Encode]: pure and bounded; every OPC and PDC must
//     add up to the frame length exactly, and input never panics.
//   - [Values], [CounterScale], [DecodeFixedTime], [DecodeHistory]: pure
//     typed decoding of the classes in [ClassName]. [PollEPCs] and
//     [ScaleEPCs] say what to read.
//   - [Capabilities] and [Action]: the demand-response levers, checked
//     against the object's Set property map (9E) before anything is sent.
//   - [Client]: TIDs, reply correlation (TID, swapped objects, reply ESV and
//     the source address; a multicast request accepts any address),
//     timeouts, INFC answered with INFC_Res, INF/INFC delivered on
//     [Client.Notifications], discovery.
//   - [Bridge]: discovered objects become devices in the registry, polled,
//     published as derived (non-legal) readings and commanded.
//
// # Concurrency
//
// [Client] and [Bridge] are safe for concurrent use. [Client.Run] must run
// (once) for any reply to arrive; it never blocks on a consumer: when
// Notifications is full the oldest is dropped, INFC_Res is sent from a
// separate goroutine. At most [MaxPending] requests wait at a time. The
// client takes ownership of each [Packet]'s Data; replies returned by
// [Client.Get] are copies. [Bridge.Run] consumes the client's
// Notifications (one consumer per client) and runs its polls one device at
// a time; [Bridge.Command] may run concurrently with it. Both Run methods
// return when their context is done and leave no goroutine behind.
//
// # Assumptions (not verified against the standard's text)
//
//   - Electric water heater 0x026B is not in our protocol digest: 80
//     operation status, B0 automatic water heating setting (41 auto, 42
//     manual heating, 43 manual stop), B2 heating status (41 heating, 42
//     not), E1 remaining hot water (uint16 L), and the super-class 84
//     (uint16 W) and 85 (uint32, 0.001 kWh = 1 Wh) measured power and
//     energy.
//   - Smart meter: D3 absent or 0 means coefficient 1; D7 absent means 8
//     digits; E1 absent means code 00 (1 kWh). E8's R phase is published as
//     current_l1 and T as current_l3 (R, S, T = L1, L2, L3).
//   - Counters other than the smart meter's (gas E0 0.001 m3, water E0 with
//     its E1 unit, solar E1, battery and V2H D6/D8, 85) have 9 digits and
//     wrap at 10^9 raw. Out-of-range raw values are "no data" and skipped.
//   - Temperatures 0x7E-0x80 and setpoint FD are "unknown" and skipped.
//   - Solar E0 is published as power_generated (positive); the registry's
//     PowerW for solar is its negative (power drawn).
//   - Air conditioner limit moves the setpoint B3 by 2 °C away from the
//     demand (cool or dry +2, heat -2, auto by room temperature BB against
//     B3, fan: nothing to do); it ignores LimitW. Repeated limits shift
//     from the household's setpoint, not cumulatively. Normal restores
//     the setpoint but does not switch the unit on.
//   - Device ids embed the node's address (last 16 hex digits: an IPv4
//     address becomes 8 hex digits, the port dropped). A LAN device that
//     changes its DHCP address appears as a new device; the old one goes
//     offline and is never removed automatically.
//   - EA/EB fixed-time records are read on the meter's wall clock in
//     BridgeOptions.Location (Japanese meters keep JST).
//
// # Decisions
//
//   - Readings are polled, not waited for: the bridge reads each object's
//     [PollEPCs] every BridgeOptions.Poll (default 10 s in the daemon,
//     minutes at most), and an INF or INFC an object sends on its own
//     (e.g. a meter's half-hourly EA/EB) updates the values at once. No
//     device depends on INFs arriving: meters that never push (and INFs
//     lost on a lossy Wi-SUN link) still give fresh readings. For the same
//     reason the emulators answer requests and do not push EA/EB.
//   - No history back-fill for HAN devices: a gap in a gas or water
//     meter's series after a link loss stays a gap; the counter itself is
//     cumulative, so consumption across the gap is still right (the
//     difference of the counters on both sides). The legal route-B meter
//     does back-fill (metering-link/routeb: E5 then E2/E4, up to 7 days),
//     because its series is the household's bill. The gas and water
//     meters' E2 (past 24 h at 30 min) has no documented anchor time in
//     our sources, and a wrong anchor would shift history by half-hours.
package echonet
