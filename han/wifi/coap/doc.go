// Package coap is the CoAP appliance API (RFC 7252, go-coap v3 over pion
// DTLS): appliance makers' products connect to the gateway, register,
// report SenML measurements and obey demand-response commands.
//
// # Resources (all hosted by the gateway; appliances are CoAP clients)
//
//	/.well-known/core        GET, link-format (40), ?rt= filter (exact or prefix*)
//	/rd                      POST ?ep=&lt=&et=, link-format body: register (RFC 9176),
//	                         2.01 with Location-Path rd/<n>
//	/rd/<n>                  POST: refresh (optional lt), DELETE: deregister
//	/dev/{ep}/info           PUT/GET JSON (50) or CBOR (60): Info
//	/dev/{ep}/meas           POST SenML JSON (110) or CBOR (112): "power" (W, s in
//	                         W·s = J) and "energy" (Wh, kWh or J)
//	/dev/{ep}/ctl            GET + Observe: Ctl (NORMAL|CURTAIL|SHIFT|LIMIT, start,
//	                         duration, randomizeStart, notAfter), CON notifications
//	/dev/{ep}/status         POST/GET: Status (cmdId, OPERATING_STATE, remainingWh)
//	/price                   GET + Observe: Price (block-wise above 1 KiB)
//	/grid/limit              GET + Observe: GridLimit (import limit, SIMPLE level)
//
// # Security
//
// coaps (DTLS 1.2, TLS_PSK_WITH_AES_128_CCM_8 or _GCM_SHA256) with one
// identity and 128-bit key per appliance, made by pairing ([Store.Pair]:
// `gatewayd appliance pair`, the web UI) and kept in
// <state>/coap/appliances.json (0600, atomic writes). The PSK identity is
// the endpoint name: a session may register, post and observe only as
// that endpoint (4.03 otherwise). Keys are never logged. Revocation
// deletes the key and closes the appliance's sessions; a revocation by
// another process (the CLI) is noticed within Options.ReloadEvery. Plain
// coap exists only on a loopback address (tools and emulators on the
// gateway itself); a plain peer may act for any paired endpoint.
//
// # Registry bridge
//
// A registration adds the device coap:<ep> (transport "coap", kind from
// et, capabilities by kind) to the device registry with a driver whose
// Command stores the new /ctl document and hands it to the observers. An
// expired registration marks the device offline (health condition
// coap_appliance_expired); DELETE /rd/<n> and revocation remove it.
//
// # Robustness
//
//   - Notifications never block the controller: each observer has a
//     one-document mailbox where the newest document replaces an
//     undelivered one; a goroutine per observer sends CON notifications
//     and drops the observer when one fails. An observer that got
//     nothing for RefreshEvery (24 h) is sent the unchanged resource
//     again, so a dead observer is found within a day.
//   - Bounds: MaxSessions, MaxObservers, MaxObserversPerSession (over it
//     the answer carries no Observe option), MaxPayload per request body
//     (4.13 above), 16 KiB per CoAP message (block-wise assembled too),
//     SenML packs of at most 64 records, CBOR nesting/array/map limits.
//   - Malformed SenML, CBOR, JSON or link-format: 4.00 with the error as
//     a text diagnostic payload, and no state change.
//   - The inactivity timeout (default 1 h 5 min) is above the longest
//     registration lifetime granted (default 1 h; longer asks are capped),
//     so a live appliance's session outlives its refresh interval.
//
// CBOR is decoded with github.com/fxamacker/cbor/v2 (pinned) with limits,
// not a hand-written decoder: it is well fuzzed and supports the SenML
// integer labels through keyasint tags.
//
// Concurrency: a Server and a Store are safe for concurrent use. The
// [Emulator] is the appliance side, product code used by the demo,
// `gatewayd emulate appliance` and the tests.
package coap
