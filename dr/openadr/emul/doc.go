// Package emul is an emulated OpenADR 3 VTN: the demo's utility and the
// peer of the VEN's tests. It is product code, in memory, and speaks
// either 3.0.1 or 3.1 (Config.Version).
//
// # API
//
// [VTN.Handler] serves, relative to the base URL the VEN is given:
//
//	POST   /auth/token           OAuth2 client credentials (form or Basic);
//	                             401 {"error":"invalid_client"} on a bad secret
//	GET    /auth/server          3.1 only: {"tokenURL": ".../auth/token"}
//	GET    /programs, /events    skip, limit (≤ 50, else 400), programID;
//	                             targets: 3.0.1 targetType + targetValues,
//	                             3.1 targets (repeatable); objects without
//	                             targets always match; 3.1 active=true
//	GET    /programs/{id}, /events/{id}
//	POST   /programs, /events    BL only; 201 with the stored object
//	PUT    /programs/{id}, /events/{id}   BL only; 404 if absent
//	DELETE /programs/{id}, /events/{id}   BL only; 200 with the object
//	POST   /reports              VEN; eventID, clientName and resources
//	                             required; programID required in 3.0.1 and
//	                             refused in 3.1
//	GET    /reports              eventID, skip, limit
//
// Errors are problem JSON (type, title, status, detail). The VTN sets id,
// createdDateTime, modificationDateTime and objectType of what it
// stores; as an emulator convenience a POST keeps an unused id given in
// the body (a used one is 409).
//
// # Credentials
//
// ClientID/ClientSecret are the VEN's: its tokens read programs and
// events and write reports (empty: those requests need no token).
// BLClientID/BLClientSecret are the business logic's, with write scope
// for programs and events over HTTP, so that a separate process (the
// tests of the real binary) can create and delete events; empty: HTTP
// writes are refused with 403. Tokens expire after TokenTTL by
// Config.Clock, so a fake clock tests renewal. The Go methods
// ([VTN.PutEvent], [VTN.DeleteEvent], ...) need no credentials and do not
// validate content, so tests can serve malformed events.
//
// # TLS
//
// [SelfSigned] writes (or keeps) a loopback certificate that is its own
// CA; serve with http.Server.ServeTLS(ln, certFile, keyFile) on
// 127.0.0.1 and give the VEN an http.Client whose transport has
// TLSClientConfig{RootCAs: CertPool(certFile), MinVersion: tls.VersionTLS12}.
// [NewCert] does the same in memory.
//
// # Faults and the scenario
//
// [VTN.SetDown] answers 503 to everything; [VTN.RevokeTokens] forgets
// issued tokens. [VTN.Scenario] loads the demo's programs and a day's
// events (day-ahead prices and a 17:00-19:00 peak-relief event).
//
// Concurrency: a *VTN is safe for concurrent use.
package emul
