// Package dlt645 is the DL/T 645-2007 codec and meter driver.
//
// The codec (frame.go, bcd.go, di.go) is pure: Encode and Decode work on
// byte slices and never panic on input. The driver (client.go, driver.go)
// runs transactions over a serialport.Conn: one outstanding request at a
// time, every wait bounded (response delay, inter-byte gap, frame size).
//
// Read-only by construction: the only frames this package can build are
// read data (0x11), read follow-up (0x12), read address (0x13) and the
// broadcast time sync (0x08 to 99..99). There is no code path that writes a
// meter parameter, changes a password, trips the relay or clears energy.
//
// Decisions where the digest (§8) leaves the standard unconfirmed:
//   - Load-profile records (DI 06 04 00 01, class 4 "active and reactive
//     total energy") are parsed as: A0 A0, LEN, YYMMDDhhmm, forward active
//     total (4 B), reverse active total (4 B), combined reactive 1 and 2
//     (4 B each), AA, CS (sum of A0 .. AA), E5. LEN counts time .. AA.
//   - Hourly freezes (05 04 00 nn time, 05 04 01 nn / 05 04 02 nn forward /
//     reverse total) are the fallback when the load profile is missing.
//
// Concurrency: a Driver is used by one goroutine at a time.
package dlt645
