// Package board drives the appliance's own I/O through periph.io GPIO:
// relay outputs (load-control contacts, registered in the device registry
// as switchable devices with transport "relay"), status LEDs (meter link,
// HAN, DR active, fault) and an S0 pulse input (the meter's test output,
// counted with debouncing as a plausibility check of the serial readings).
//
// Pins are named by their GPIO name (periph's gpioreg names, e.g.
// "GPIO17") and found through a [Lookup]; [HostLookup] initialises
// periph's host drivers. Tests use periph's gpiotest fake pins.
//
// Decisions:
//   - A relay starts off (released) at every start: a reboot never switches
//     a load on by itself; the DR controller switches it on again.
//   - The S0 count is derived data (device "s0", Legal false): it never
//     replaces the serial meter's registers, it checks them. Over each
//     window the energy counted from pulses is compared with the increase of
//     the meter's import register; a difference beyond the tolerance (and
//     beyond two pulses of quantisation) raises [CondS0Mismatch].
//   - S0 pulses (DIN 43864: at least 30 ms closed) are debounced by time:
//     an active edge closer than Debounce to the previous accepted one is
//     contact bounce and not counted.
//   - Without GPIO hardware (no driver, or a name not found) the features
//     are off; the caller raises [CondUnavailable] so health says so.
//
// Concurrency: Relays, LEDs and S0 are safe for concurrent use; their Run
// methods end when ctx is done.
package board
