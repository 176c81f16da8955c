// Package meteringlink is the gateway's link to the legal metrology core:
// it opens the serial port by path, identifies the meter, runs the poll
// plan, tracks link health, keeps the last known values with freshness
// bounds, backfills gaps from the meter's own records and keeps the meter
// clock in step with broadcast time sync.
//
// Protocol drivers live in dlt645/ and iec62056/ and implement [Driver];
// emul/ is a virtual metrology core on a pseudo-terminal.
//
// Poll plan (gateway clock, shifted by the measured meter-clock offset so
// minute reads fall just after the meter's own minute):
//   - instantaneous values every Interval;
//   - energy registers at every meter minute boundary: the legal 1-minute
//     freeze, published with Legal and Minute set and the meter's time;
//   - status words and the meter clock every minute;
//   - event counters every 15 minutes;
//   - everything once right after the port opens, so the first legal
//     reading follows start-up within one poll.
//
// Failures: a poll stops at its first failed transaction (timeout, garbage,
// bad checksum, wrong address). The port is closed and reopened by path
// after every failure, with a backoff of 250 ms doubling to 5 s. Three
// consecutive failures raise the health condition meter_link_down; the
// first successful transaction clears it. Error replies ("no requested
// data") are not failures: the quantity is marked unavailable and the poll
// goes on.
//
// Backfill: after a gap (restart, link down) longer than 90 s, energy
// records the meter kept itself (load profile, else hourly freezes) between
// the last legal reading and now are read in chunks between regular polls
// and published as Legal and Backfilled, so no legal data is lost. The last
// legal reading time survives restarts through the [Checkpoint].
//
// Time sync: at most once a day, and only when the meter clock is off by
// more than 2 s and less than 5 min; a larger offset raises the health
// condition meter_clock_off for a human to look at.
//
// Concurrency: Run is called once; MeterStatus is safe to call from any
// goroutine while Run runs.
package meteringlink
