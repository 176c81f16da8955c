// Package bthome decodes BTHome v2 advertisements: the service data (AD
// type 0x16) under UUID 0xFCD2 that Shelly BLU devices, DIY sensors and
// BLE water, gas and energy meters broadcast.
//
// [Decode] is a pure function over the service data (the bytes after the
// UUID): the device-info byte, then objects (id, little-endian value) in
// ascending id order. Encrypted packets (device-info bit 0) are AES-CCM
// with a 4-byte MIC under a per-device 16-byte key; the nonce is the
// device's MAC (as printed, most significant byte first), the UUID as on
// air (D2 FC), the device-info byte and the 4-byte counter. [Decoder] adds
// what a stream of packets needs: de-duplication on the packet id (object
// 0x00) and replay protection on the counter (it must grow), per device.
//
// The object table holds every id of the gateway's protocol digest
// (battery, temperature, humidity, pressure, illuminance, energy, power,
// voltage, current, volume, water, gas, flow, timestamp) plus the binary
// sensors (0x0F-0x2D) and the button event (0x3A), whose sizes are needed
// to walk past them. An id outside the table ends the walk: its size is
// unknown, so what follows cannot be found; the values before it are kept
// and [Packet.Unknown] says where it stopped.
//
// Caveats: values are exact decimals (raw × 10^Exp in the object's unit),
// never floats. Counters of the uint24/uint32 objects wrap at 2^24 or 2^32
// raw steps ([Object.Wrap]).
//
// Concurrency: Decode is pure; a Decoder is safe for concurrent use.
package bthome
