// Package wisun drives a Wi-SUN module speaking SKSTACK-IP (ROHM BP35A1,
// ROHM BP35C0, Tessera RL7023 Stick-D) over a serial port, joins the smart
// meter's route-B PAN and carries ECHONET Lite frames as an
// [echonet.Transport]: Send is SKSENDTO, Packets delivers ERXUDP datagrams
// on UDP 3610 (PANA on 716 is ignored).
//
// The parsers (ParseEvent, ParsePANDesc, ParseERXUDP, DecodeERXUDPData,
// ParseFail, LinkLocal) are pure, bounded and fuzzed. The line reader is
// length-aware: after the ERXUDP datalen field it takes exactly datalen raw
// bytes (binary mode, WOPT 00) or 2×datalen hex characters (ASCII mode,
// WOPT 01), so CR/LF inside binary data does not split a line. Lines longer
// than MaxLine and data longer than MaxData are discarded and counted in
// Stats.
//
// # Sequence
//
// Run sends SKRESET (optional), SKSREG SFE 0 (echo off; echoed lines before
// it are tolerated), SKVER, ROPT and, only when the mode differs, WOPT (it
// writes flash), SKSETPWD, SKSETRBID, SKSCAN with growing durations until a
// beacon whose PairID is the last 8 characters of the route-B ID appears,
// SKSREG S2/S3, SKLL64 and SKJOIN, then waits for EVENT 25. It re-joins
// after EVENT 24/26/27/28, after the module echoes commands again (echo
// comes back on after a reset), when SKINFO reports another channel or PAN,
// when SKSENDTO fails with ER10 (no session), and after three commands in a
// row got no answer (then starting with SKRESET). Failed joins back off
// exponentially; after two failed joins the PAN is scanned again. EVENT 29
// is informational; EVENT 32 suspends Send until EVENT 33. The health
// condition HealthNotJoined is raised whenever no session is up.
//
// # Dialect detection
//
// With Config.Dialect "" the dialect is detected:
//   - ROPT answered FAIL ER04 (unsupported command): RL7023, which has no
//     ROPT/WOPT and always prints hex ASCII.
//   - Otherwise a ROHM module: the first SKSCAN is sent with the BP35C0 side
//     argument ("SKSCAN 2 FFFFFFFF 4 0"). OK means BP35C0; FAIL ER05 (wrong
//     number of arguments) or ER06 means BP35A1, and the scan is repeated
//     without the side. When the scan is skipped (channel, PAN ID and
//     coordinator MAC configured) a one-channel SKSCAN of duration 0 is run
//     only to detect the dialect.
//
// Events and ERXUDP lines are parsed without the dialect: the BP35C0 side
// is a one-digit field where the other modules print a two-digit parameter
// or the four-digit datalen.
//
// # Concurrency
//
// One goroutine owns the port reader; it reads with a short timeout and
// stops when Run's context is done (Run also closes the port, which
// unblocks it). Commands are serialised: one is outstanding at a time, and
// OK/FAIL (or the SKLL64 address) is routed to it; EVENT, EPANDESC and
// ERXUDP are routed asynchronously. Send, Multicast, Joined, WaitJoined,
// Peer, Dialect and Stats are safe for concurrent use while Run runs.
// Packets is bounded: when the consumer is slow the oldest datagram is
// dropped and counted.
//
// # Caveats
//
//   - The password and the route-B ID are never logged nor put into errors;
//     logs show only the last 4 characters of the ID.
//   - A late OK for a command that already timed out may be taken as the
//     answer to the next command (SKSTACK-IP has no command tags).
//   - ERXUDP data mode is taken from ROPT/WOPT; a module switched to another
//     mode behind the driver's back yields truncated datagrams until the next
//     re-join.
//   - Run may be called once; the Module is not reusable after it returns.
package wisun
