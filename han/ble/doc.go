// Package ble is the gateway's BLE driver: BLE meters, sensors and
// appliances.
//
// [Adapter] is our narrow interface to a radio (scan advertisements with
// RSSI; connect, discover, read, write, subscribe, all with contexts);
// han/ble/hci implements it with go-ble on Linux HCI and han/ble/emul with
// emulated peripherals (the demo's).
//
// [Hub] is the driver. Every advertisement the gateway understands
// (BTHome v2 service data, SIG Environmental Sensing service data, the
// appliance service UUID of PROFILE.md) makes its sender a candidate
// ([Hub.Seen]: MAC, name, RSSI, last seen, what it advertises). Nothing
// is adopted automatically: the household adopts a candidate
// ([Hub.Adopt], POST /api/v1/devices) and may un-adopt it ([Hub.Forget]).
// Adopted devices join the device registry (transport "ble", id
// "ble:aabbccddeeff") with capabilities from their kind: a plug is
// meter+switch+curtail, a BTHome power meter is a meter, water and gas
// meters and sensors have none. Their readings go on the bus (energy in
// Wh, water and gas in m3, exact decimals); counters register where they
// wrap (2^24 or 2^32 raw steps of the BTHome object, 2^32 Wh for the
// appliance profile) through [Hub.Wrap], so storage handles them like
// other meters' counters.
//
// State in Options.Dir (<state_dir>/ble), written atomically:
// adopted.json (the allow-list), keys/AABBCCDDEEFF (a BTHome key, 32 hex
// digits, 0600; checked against the device's last advertisement at
// adoption) and counters.json (the last accepted encryption counter per
// device, for replay protection across restarts). Decision: counters are
// saved every 10 minutes and on shutdown, not per packet (flash wear); a
// packet replayed after a power cut inside that window could be accepted
// once. A device whose counter restarts (battery change) is refused until
// it is un-adopted and adopted again.
//
// Freshness: a broadcaster silent for StaleAfter (default 5 min) goes
// offline (registry state, and Options.Unreachable: the daemon's
// han_device_unreachable health condition); its next packet brings it
// back. An appliance is online while its GATT connection is up; a lost
// connection is retried with backoff from 1 s doubling to 1 min.
//
// Bounds: MaxSeen candidates (oldest dropped), MaxAdopted devices,
// MaxADLen bytes of advertising data, MaxValueLen bytes of a GATT value;
// every GATT call is bounded by ConnectTimeout.
//
// Concurrency: a Hub is safe for concurrent use; Run runs once at a time.
package ble
