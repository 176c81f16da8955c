// Package hci is the [ble.Adapter] on a real radio: github.com/go-ble/ble
// over a Linux HCI user channel (linux/amd64, arm and arm64).
//
// Caveats (from go-ble's own code): it brings the adapter down and binds
// it exclusively (HCI_CHANNEL_USER), so bluetoothd cannot use the same
// adapter; it needs root or CAP_NET_ADMIN (and CAP_NET_RAW). go-ble's
// GATT calls take no context: each call runs in a goroutine and the
// caller stops waiting when its ctx ends (go-ble's HCI commands time out
// after 10 s themselves). Advertisements are handed over as raw AD bytes
// (advertising data, then scan response) and parsed by the gateway's own
// bounded parser, so a malformed advertisement cannot crash the daemon
// through go-ble's unchecked slicing.
//
// Open first checks /sys/class/bluetooth/hciN and returns ble.ErrNoAdapter
// for an adapter the kernel does not have: go-ble's socket.open returns
// without closing its raw HCI socket when the adapter's ioctls fail, and
// the daemon retries a missing adapter as long as it runs (a leaked fd per
// retry otherwise). On other systems Open returns ble.ErrNoAdapter.
//
// Concurrency: an Adapter is safe for concurrent use.
package hci
