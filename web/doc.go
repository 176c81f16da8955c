// Package web is gatewayd's HTTP API.
//
// # Routes
//
// All routes are under /api/v1 and answer JSON (Content-Type
// application/json). Only GET and HEAD are allowed; other methods get 405
// with an Allow header.
//
//	GET /api/v1/health        no authentication
//	GET /api/v1/meter         bearer token
//	GET /api/v1/series        bearer token (history.go)
//	GET /api/v1/consumption   bearer token
//	GET /api/v1/events        bearer token
//	GET /api/v1/export        bearer token, streamed CSV or JSON lines
//
// History routes take from and to as RFC 3339 (default: the last 24 h, 7
// days for events); bad input gets 400 with {"error", "param"} naming the
// parameter. Their fields are documented in the README.
//
// # Authentication
//
// Every /api/v1 route except /api/v1/health, including unknown ones,
// requires an API token:
//
//	Authorization: Bearer gwd_...
//
// Tokens are created with `gatewayd token create --state DIR --name NAME`,
// shown once, and stored only as SHA-256 hashes in <state>/tokens.json
// (mode 0600). A token
// created while the daemon runs is accepted without a restart. A missing or
// wrong token gets 401 with WWW-Authenticate: Bearer. An unknown route gets
// 404 only after authentication, so route names do not leak.
//
// # Errors
//
// Every error is JSON with an HTTP status code:
//
//	{"error": "invalid bearer token"}
//
// 401 missing or wrong token, 404 unknown route, 405 wrong method, 503 the
// meter is not available (not configured or not started).
//
// # GET /api/v1/health
//
//	{"status": "degraded",
//	 "conditions": [{"code": "meter_link_down",
//	                 "message": "no reply from the meter",
//	                 "since": "2025-03-01T12:00:00Z"}]}
//
// status is "ok" when there are no conditions and "degraded" otherwise;
// conditions is always an array, ordered by code; since is RFC 3339.
//
// # GET /api/v1/meter
//
// The last known state of the legal metrology core. Quantities are in SI
// units with the unit in the field name. A quantity the meter does not
// provide, has not yet been read, or declared unavailable is null, never
// 0. Times are RFC 3339.
//
//	protocol            "dlt645" or "iec62056-21"
//	address             the meter's 12-digit address, null until known
//	time                meter time of the power reading (else of the import
//	                    energy register), null if neither was read
//	received            gateway time of the newest reading, null if none
//	stale               true if the link is down, nothing was read yet, or
//	                    the power or import energy reading is older than its
//	                    freshness bound; values are then last known, not current
//	legal               true: these are the metrology core's own values
//	power_w             total active power, W; negative when exporting
//	import_kwh          import (forward) active energy register, kWh
//	export_kwh          export (reverse) active energy register, kWh
//	import_kwh_tariffs  [t1, t2, t3, t4] import registers per tariff, kWh
//	                    (DL/T 645: sharp, peak, flat, valley); entries null
//	                    where missing, the whole array null if none is present
//	export_kwh_tariffs  likewise for export
//	voltage_v           [l1, l2, l3] phase voltages, V, only up to the highest
//	                    phase present (one entry on a single-phase meter);
//	                    null if none
//	current_a           [l1, l2, l3] phase currents, A, likewise
//	frequency_hz        grid frequency, Hz
//	power_factor        total power factor, -1..1
//	reactive_power_var  total reactive power, var
//	apparent_power_va   total apparent power, VA
//	relay               "closed" (supply on), "open" (supply off) or "unknown"
//	link_up             whether the serial link to the meter works now
//	unavailable         sorted names of quantities the meter does not provide
//	values              every quantity read, by name (e.g. "energy_import_t2",
//	                    "voltage_l1"), in the quantity's SI unit (energy in Wh):
//	                    {"value": 1234.5, "unit": "Wh",
//	                     "measured": "...", "received": "...", "stale": false}
//	                    measured is on the meter clock where the meter gives one
//
// Energy registers are converted from Wh to kWh exactly in decimal before
// the single conversion to a JSON number.
//
// # Security
//
// Every response carries X-Content-Type-Options: nosniff; API responses
// also Cache-Control: no-store and Content-Security-Policy: default-src
// 'none'. Request headers are limited to 16 KiB and must arrive within 5 s;
// request bodies are limited to 64 KiB.
//
// # Concurrency
//
// A Server and a Tokens are safe for concurrent use. Run may be called once
// per Server; it returns after a graceful shutdown (at most 3 s) when its
// context is done. Tokens rereads tokens.json when its size, mtime or inode
// changes.
//
// # Caveats
//
// Serve plain HTTP on loopback only; TLS is not set up here. Two processes
// creating tokens at the same instant can lose one of the two (the file is
// replaced atomically but not locked). A corrupt tokens.json makes every
// token fail (fail closed) until it is fixed.
package web
