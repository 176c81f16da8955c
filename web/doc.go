// Package web is gatewayd's HTTP server: the JSON API under /api/v1, the
// live stream, authentication (users, sessions, API tokens), the TLS
// certificate, and the embedded web UI at /.
//
// # Routes and who may call them
//
// routes.go holds the one route table: method, path, and the permission
// each route needs (public, read, control, admin, self). dispatch checks
// the method (405 with Allow), authenticates (bearer token first, else the
// session cookie), authorises (401 without credentials, 403 when the role
// or scope does not allow it) and, for state-changing requests, checks
// CSRF: the Origin (or Sec-Fetch-Site) must be this server, and a cookie
// session must send its token in X-CSRF-Token. Public POSTs (login, setup)
// need a JSON body, so a plain HTML form cannot post them. A test walks
// the table with every kind of caller.
//
//	public   health, session, login, setup
//	read     viewer or admin session, read or control token
//	control  admin session, control token
//	admin    admin session only (users, tokens, tariff, backup)
//	self     any session (logout, own password)
//
// Unknown /api routes answer 401 before 404, so route names do not leak.
// The README lists the routes; web/ui/CONTRACT.md gives their JSON.
//
// # Users, sessions, setup
//
// Users (users.go) live in <state>/users.json, 0600, with argon2id hashes
// (DefaultKDF, at most MaxHashing at once). With no user, New makes a
// one-time setup token; the daemon prints the link; the first POST
// /api/v1/setup with it creates the admin and voids it. Sessions
// (sessions.go) are in memory, keyed by the SHA-256 of their id, idle
// SessionIdle, at most SessionMaxAge, MaxSessions in all. The login
// throttle locks a client (IPv4 address or IPv6 /64) out after
// LoginFreeFailures failures, LockoutBase doubling to LockoutMax.
//
// # Errors and languages
//
// Every error is {"error", "code", "param"}: code is stable (i18n.go
// lists them), error is English or Simplified Chinese after
// Accept-Language.
//
// # Live stream
//
// GET /api/v1/stream is Server-Sent Events: meter (polled every
// StreamPoll, sent when a reading is newer), health (on change) and log
// (events written by the daemon). At most MaxStreams clients; a slow
// client loses old log entries, never slows the gateway.
//
// # Tokens
//
// API tokens (tokens.go) are created with `gatewayd token create` or the
// UI, shown once, stored only as SHA-256 hashes in <state>/tokens.json
// (0600), and carry scope read or control. A token created while the
// daemon runs is accepted without a restart.
//
// History routes take from and to as RFC 3339 (default: the last 24 h, 7
// days for events); bad input gets 400 naming the parameter.
//
// # GET /api/v1/health
//
//	{"status": "degraded",
//	 "conditions": [{"code": "meter_link_down",
//	                 "message": "no reply from the meter",
//	                 "since": "2025-03-01T12:00:00Z"}]}
//
// status is "degraded" when a condition other than an informational one
// is active, "ok" otherwise; conditions is always an array, ordered by
// code; since is RFC 3339; "info": true marks an informational condition
// (what is off by configuration or hardware, e.g. board_io_unavailable).
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
// Every response carries X-Content-Type-Options: nosniff, X-Frame-Options:
// DENY and Referrer-Policy: no-referrer; over TLS also HSTS. API responses
// have Cache-Control: no-store and Content-Security-Policy: default-src
// 'none'; the UI ContentSecurityPolicy (no inline script or style).
// Request headers are limited to 16 KiB and must arrive within 5 s;
// request bodies are limited to 64 KiB. TLS: LoadOrCreateCert makes an
// ECDSA P-256 certificate valid 20 years on first start; Fingerprint is
// what the daemon logs.
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
// The config refuses plain HTTP off loopback. Two processes
// creating tokens at the same instant can lose one of the two (the file is
// replaced atomically but not locked). A corrupt tokens.json makes every
// token fail (fail closed) until it is fixed.
package web
