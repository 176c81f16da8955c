// Package openadr is gatewayd's OpenADR 3 VEN: a client that polls a
// utility's VTN for programs and events, turns them into one
// version-free event model, posts reports and records opt-outs.
//
// The model ([Event], [Interval], [ReportDescriptor]) is shared by two
// wire adapters, 3.0.1 and 3.1, which are not wire compatible: 3.0.1
// targets are valuesMaps (normalised to "TYPE:value"), 3.1 targets plain
// strings; 3.1 has event.duration loops, /auth/server token discovery,
// optional intervals and no programID in reports. [Resolve] turns the
// events into the signals in force, [Prices] into prices for the tariff
// engine, [NextBoundary] tells a controller when to look again.
//
// # Decoding
//
// [DecodeEvent] is a pure function of the document, the version and
// [DecodeOptions]. It is strict on what the gateway acts on and lenient
// on the rest: unknown fields are ignored, unknown payload types are kept
// in Interval.Other. Rejected (a *[DecodeError] naming the event id and
// the JSON path of the field): bad JSON; a missing id; in 3.0.1 a missing
// programID or intervals; a wrongly typed field; SIMPLE other than an
// integer 0..3; a negative IMPORT/EXPORT_CAPACITY_LIMIT or GHG; a
// non-numeric PRICE, EXPORT_PRICE or limit; a duration that does not
// parse or a negative one; PRICE or limit units the VEN cannot convert
// (prices: KWH, MWH, WH; limits: KW, W, MW; absent = KWH / KW); duplicate
// payload types in one interval; more than [MaxIntervals] intervals,
// [MaxValues] values per payload, [MaxPayloads] payloads per interval or
// [MaxExpanded] intervals after expansion; times outside years 1-9999.
// JSON cannot carry NaN or infinities, and numbers beyond float64 are
// rejected. Priority absent means [LowPriority] (below every explicit
// one).
//
// Timing (User Guide §7.3-7.9), in the order applied:
//
//   - event.intervalPeriod is the default of every interval; an
//     interval's own intervalPeriod overrides its start, duration and
//     randomizeStart (an own period without duration inherits the
//     event's). Without an event intervalPeriod every interval needs its
//     own.
//   - The first interval starts at its own start, else the event's.
//     Every later interval without its own absolute start follows the
//     previous one (in wire order) back to back.
//   - A start on 0001-01-01 means "now" for the first interval (the time
//     the VEN first saw this version of the event, so re-polls do not
//     move it) and "follow the previous" for the others.
//   - A duration of P9999Y (or more years) is open-ended: End is zero.
//     Nothing may follow an open-ended interval without its own start.
//   - randomizeStart R shifts an interval by an offset uniform in
//     [-|R|, +|R|] (whole seconds when |R| ≥ 1 s). The offset is a hash of
//     the VEN's seed, the event id, its modificationDateTime and the
//     interval, so VENs spread out while one VEN gets the same offset on
//     every re-poll until the event is modified. Following intervals move
//     with the one they follow; an interval with its own absolute start
//     takes the event's offset unless it has its own randomizeStart.
//   - Compact multi-value payloads (3.1, accepted on 3.0.1 too): N values
//     of PRICE, EXPORT_PRICE, GHG, SIMPLE or an IMPORT/EXPORT capacity
//     limit split the interval into N equal sub-intervals that keep the
//     interval id; other types in the interval apply to every
//     sub-interval. Payloads with more than one value must agree on N.
//   - 3.1 event.duration: intervals repeat while the event lasts (P9999Y
//     forever) and are cut at its end; PT0S is ignored. A loop that would
//     exceed MaxExpanded intervals, or an endless one, is unrolled only
//     from the cycle before DecodeOptions.Now to [LoopHorizon] after it;
//     the VEN re-decodes on every poll, so the window moves along (and
//     Changed fires when a new cycle comes into the window).
//   - Cancellation: a first start of 0001-01-01 with duration PT0S (every
//     interval zero-length) decodes as Cancelled.
//
// Durations are ISO 8601 per the spec's regex ([ParseDuration]); years,
// months and days are calendar parts applied in UTC (a day is 24 h),
// weeks are 7 days, fractions are allowed in seconds only.
//
// # Resolving
//
// [Resolve] resolves each signal (SIMPLE level, import limit, export
// limit) on its own over the intervals in force: the lowest priority
// number wins; at equal priority the more restrictive value (the highest
// level, the lowest limit); then the smaller event id. Opted-out and
// cancelled events are left out. Where intervals of one event overlap,
// the one that started last is in force. [Prices] resolves overlapping
// prices between events by priority, then the later modification.
//
// # The VEN
//
// [New] checks a [Config] (https only, http:// only to a loopback host);
// [VEN.Run] polls until its context ends. A poll (also [VEN.Poll]):
//
//   - detects the version if not configured (GET /auth/server: 200 with a
//     tokenURL is 3.1, any other answer below 500 is 3.0.1);
//   - gets a token by OAuth2 client credentials (a form POST with
//     client_id and client_secret to /auth/token in 3.0.1, to the
//     discovered tokenURL in 3.1), caches it and renews it at 90% of
//     expires_in; a 401 or 403 gets a new token once, a second one is
//     [ErrAuth]. Without credentials no token is sent;
//   - GETs every page (skip, limit=50, until a short page) of /programs
//     and /events, optionally filtered by the VEN name (TargetFilter).
//     3.1 active=true is not used, so an event that ended is not
//     mistaken for one that was deleted;
//   - applies the result only if every request succeeded: an error
//     (connection, timeout of [RequestTimeout], 5xx, [ErrAuth], [ErrTLS],
//     [ErrBodyTooLarge]) changes no event. Known events keep running to
//     their end; the next poll backs off exponentially from Poll to
//     [MaxBackoff] with jitter; Health reports unreachable until a poll
//     succeeds;
//   - decodes each event; a malformed one is skipped with one warning per
//     version of it (a known event whose new version is malformed keeps
//     its last good version);
//   - marks an event that disappeared from the VTN before its end as
//     cancelled (one that disappears after its end stays completed), and
//     signals Changed when anything changed;
//   - posts due reports and retries queued ones.
//
// Events stay in [VEN.Events] for Retention after their end or
// cancellation, also while the VTN is unreachable.
//
// # Reports and opt-out
//
// For each event asking for USAGE, DEMAND or OPERATING_STATE (other
// report types are ignored), the VEN posts one report per ended interval
// (sub-intervals of a split count as one), resource AGGREGATED_REPORT,
// clientName the VEN name, the event's interval id and the interval's
// intervalPeriod; 3.0.1 reports carry programID, 3.1 reports do not.
// The descriptor's startInterval, numIntervals, frequency and repeat are
// read but every descriptor is answered that way (the simplest reading
// of the defaults -1/-1/-1/1). Values come from the [ReportSource],
// converted to WH or W when the descriptor asks; a report waits for
// every value up to [ReportGrace] after the interval, then goes with
// what there is. Intervals that ended before the VEN first saw the event
// (e.g. before a restart) are not reported. Reports that fail to post are
// queued (at most [MaxQueuedReports], the oldest dropped) and retried
// after the next good poll; one the VTN rejects with a 4xx is dropped.
//
// OpenADR 3 has no opt message: [VEN.OptOut] records the opt-out (in
// memory: persist [VEN.OptedOut] and restore it with [VEN.SetOptedOut])
// and posts an OPERATING_STATE report of RUNNING_OPTED_OUT (IDLE_OPTED_OUT
// when the source says the site is idle) for the current interval.
//
// # Caveats
//
// Subscriptions (webhooks, MQTT) are not used: a gateway behind NAT polls.
// The VEN does not create ven or resource objects, so a 3.1 VTN that
// enforces object privacy must be set up by the utility. DOE fallback to
// the capacity subscription (§8.10.1) is left to the controller.
//
// Concurrency: a *VEN is safe for concurrent use; polls are serialised.
// Decoding functions are pure and safe for concurrent use.
package openadr
