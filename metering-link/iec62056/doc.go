// Package iec62056 is the IEC 62056-21 (formerly IEC 1107) mode C codec and
// meter driver: sign-on at 300 baud 7E1, identification, option select for a
// data readout at the negotiated rate, and the readout STX .. ETX BCC.
//
// The codec (ident.go, readout.go, obis.go) is pure: SignOn, ParseIdent,
// AckOption, ParseReadout, EncodeReadout and Map work on byte slices and
// strings and never panic on input; every input is bounded (identification
// 64 characters, readout 64 KiB and 1024 lines, address 32, value 128 and
// unit 16 characters). The driver (driver.go) runs one session per Identify
// or Poll over a serialport.Conn, and every wait is bounded: the first byte
// of the identification and of the readout within ResponseTimeout after the
// request left the line, each further byte within ByteTimeout.
//
// Read-only by construction: the only messages this package can build are
// the sign-on and the option select with Y = '0' (data readout). There is no
// programming mode, no password and so no clock setting: SyncClock and
// History return meteringlink.ErrNotSupported.
//
// Concurrency: a Driver is used by one goroutine at a time; the codec
// functions are safe for concurrent use. The package holds no mutable state.
//
// Decisions and caveats:
//   - Values are converted exactly into SI units (kWh -> Wh is exponent +3);
//     units compare case-insensitively ("kWh", "KWH"); a mapped value without
//     unit takes the default unit (kWh, kvarh, kW, V, A, Hz); any other unit
//     is an error, as are negative energy registers, voltages and
//     frequencies. An empty value "()" is treated as absent.
//   - 1.7.0 (import) and 2.7.0 (export) combine into energy.Power = import -
//     export; 21.7.0/41.7.0/61.7.0 are per-phase import power only.
//   - Only current values map: an A-B: prefix other than medium 0 or 1, and
//     a suffix other than "*255" (for example *12 or &01, billing periods),
//     leave a line unmapped. Unknown codes stay in the ParseReadout result.
//   - 0.9.2 is YYMMDD (20YY) or CYYMMDD with C = 0 for 19YY, 1 for 20YY
//     (assumption; the digest does not confirm it). Separators are ignored.
//   - Every received byte is masked to 7 bits, as a 7E1 UART delivers it.
//     Noise before '/' and STX is skipped within the bounds, and so is the
//     echo of our own sign-on on half-duplex optical heads.
//   - The baud switch happens after the option select's transmit time at
//     300 baud; Port has no drain, so this relies on Write returning once
//     the bytes are queued and the meter's reaction time (>= 20 ms).
//   - Battery meters needing a NUL wake-up are not supported; the enhanced
//     identification \W is accepted and ignored; partial blocks (EOT) and
//     line continuation are not supported.
//   - Default timeouts: ResponseTimeout 1.5 s (the standard's longest
//     reaction time), ByteTimeout 500 ms. Deadlines run on the real clock;
//     the injected Now only stamps Result.MeterTimeAt.
package iec62056
