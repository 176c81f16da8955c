package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/storage"
)

// perm is what a route requires of its caller.
type perm int

const (
	// permPublic: anyone (health, session state, login, setup).
	permPublic perm = iota
	// permRead: any logged-in user or any token.
	permRead
	// permControl: an admin, or a token with scope control.
	permControl
	// permAdmin: an admin's login session (tokens never).
	permAdmin
	// permSelf: any user's login session (own password, logout).
	permSelf
)

func (p perm) String() string {
	return [...]string{"public", "read", "control", "admin", "self"}[p]
}

// route is one entry of the API's route table: every API route is here,
// with the permission it needs (a test walks the table).
type route struct {
	method  string
	pattern string
	perm    perm
	h       http.HandlerFunc
}

func (s *Server) routeTable() []route {
	return []route{
		{"GET", "/api/v1/health", permPublic, s.handleHealth},
		{"GET", "/api/v1/session", permPublic, s.handleSession},
		{"POST", "/api/v1/setup", permPublic, s.handleSetup},
		{"POST", "/api/v1/login", permPublic, s.handleLogin},
		{"POST", "/api/v1/logout", permSelf, s.handleLogout},
		{"POST", "/api/v1/session/password", permSelf, s.handleOwnPassword},

		{"GET", "/api/v1/meter", permRead, s.handleMeter},
		{"GET", "/api/v1/stream", permRead, s.handleStream},
		{"GET", "/api/v1/devices", permRead, s.handleDevices},
		{"GET", "/api/v1/devices/{id}", permRead, s.handleDevice},
		{"POST", "/api/v1/devices/{id}/command", permControl, s.handleDeviceCommand},
		{"POST", "/api/v1/devices", permAdmin, s.handleDeviceAdopt},
		{"DELETE", "/api/v1/devices/{id}", permAdmin, s.handleDeviceForget},
		{"GET", "/api/v1/ble/seen", permAdmin, s.handleBLESeen},
		{"GET", "/api/v1/series", permRead, s.handleSeries},
		{"GET", "/api/v1/consumption", permRead, s.handleConsumption},
		{"GET", "/api/v1/events", permRead, s.handleEvents},
		{"GET", "/api/v1/export", permRead, s.handleExport},
		{"GET", "/api/v1/system", permRead, s.handleSystem},

		{"GET", "/api/v1/tariff", permRead, s.handleTariffGet},
		{"PUT", "/api/v1/tariff", permAdmin, s.handleTariffPut},
		{"GET", "/api/v1/prices", permRead, s.handlePrices},
		{"GET", "/api/v1/costs", permRead, s.handleCosts},

		{"GET", "/api/v1/dr/events", permRead, s.handleDREvents},
		{"POST", "/api/v1/dr/events/{id}/optout", permControl, s.handleDROptOut},
		{"GET", "/api/v1/dr/status", permRead, s.handleDRStatus},
		{"PUT", "/api/v1/dr/devices/{id}", permControl, s.handleDROverride},

		{"GET", "/api/v1/homekit", permAdmin, s.handleHomeKit},

		{"GET", "/api/v1/users", permAdmin, s.handleUsersList},
		{"POST", "/api/v1/users", permAdmin, s.handleUsersAdd},
		{"PUT", "/api/v1/users/{name}", permAdmin, s.handleUsersUpdate},
		{"DELETE", "/api/v1/users/{name}", permAdmin, s.handleUsersDelete},
		{"GET", "/api/v1/tokens", permAdmin, s.handleTokensList},
		{"POST", "/api/v1/tokens", permAdmin, s.handleTokensCreate},
		{"DELETE", "/api/v1/tokens/{id}", permAdmin, s.handleTokensRevoke},
		{"GET", "/api/v1/backup", permAdmin, s.handleBackup},
		{"GET", "/api/v1/appliances", permAdmin, s.handleAppliancesList},
		{"POST", "/api/v1/appliances", permAdmin, s.handleAppliancesPair},
		{"DELETE", "/api/v1/appliances/{id}", permAdmin, s.handleAppliancesRevoke},
	}
}

// principal is who makes a request.
type principal struct {
	user      string // login user, "" for tokens
	role      string // RoleAdmin or RoleViewer for logins
	sessionID string
	csrf      string
	token     *TokenInfo
}

func (p principal) may(need perm) bool {
	switch need {
	case permPublic:
		return true
	case permRead:
		return p.user != "" || p.token != nil
	case permControl:
		return p.role == RoleAdmin || (p.token != nil && p.token.EffectiveScope() == ScopeControl)
	case permAdmin:
		return p.user != "" && p.role == RoleAdmin
	case permSelf:
		return p.user != ""
	}
	return false
}

// name says who acts, for the events log: the user, or "token NAME".
func (p principal) name() string {
	if p.user != "" {
		return p.user
	}
	if p.token != nil {
		return "token " + p.token.Name
	}
	return ""
}

type ctxKey struct{}

func who(r *http.Request) principal {
	p, _ := r.Context().Value(ctxKey{}).(principal)
	return p
}

// dispatch serves one path pattern: method check, authentication,
// authorisation and CSRF, then the handler.
func (s *Server) dispatch(rts []route) http.Handler {
	var allow []string
	for _, rt := range rts {
		allow = append(allow, rt.method)
		if rt.method == "GET" {
			allow = append(allow, "HEAD")
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rt *route
		for i := range rts {
			if rts[i].method == r.Method || (r.Method == "HEAD" && rts[i].method == "GET") {
				rt = &rts[i]
			}
		}
		if rt == nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			fail(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "", r.Method)
			return
		}
		p, code := s.authenticate(r)
		if rt.perm != permPublic && code != "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			fail(w, r, http.StatusUnauthorized, code, "")
			return
		}
		if !p.may(rt.perm) {
			if p.user == "" && p.token == nil {
				fail(w, r, http.StatusUnauthorized, "unauthenticated", "")
			} else {
				fail(w, r, http.StatusForbidden, "forbidden", "")
			}
			return
		}
		if mutating(r.Method) {
			// Cookies ride along on cross-site requests; bearer tokens do
			// not. So a cookie session must prove the page is ours: the
			// Origin and the session's CSRF token. Public POSTs (login,
			// setup) still need our Origin and a JSON body.
			if !sameOrigin(r) || (p.sessionID != "" && !csrfOK(r, p.csrf)) {
				fail(w, r, http.StatusForbidden, "csrf", "")
				return
			}
		}
		rt.h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	})
}

func mutating(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// authenticate finds the caller: a bearer token when one is sent, else
// the session cookie. code is the reason it failed ("" = none or ok).
func (s *Server) authenticate(r *http.Request) (principal, string) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := bearer(h)
		if !ok {
			return principal{}, "bad_token"
		}
		info, ok := s.opts.Tokens.Verify(tok)
		if !ok {
			return principal{}, "bad_token"
		}
		return principal{token: &info}, ""
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return principal{}, "unauthenticated"
	}
	sess, ok := s.sessions.get(c.Value)
	if !ok || s.opts.Users == nil {
		return principal{}, "unauthenticated"
	}
	// The role is the user's current one: a demotion or deletion takes
	// effect on the next request.
	u, ok := s.opts.Users.Get(sess.user)
	if !ok {
		s.sessions.delete(c.Value)
		return principal{}, "unauthenticated"
	}
	return principal{user: u.Name, role: u.Role, sessionID: c.Value, csrf: sess.csrf}, ""
}

// sameOrigin reports whether the request's Origin (or, without one, its
// Fetch metadata) says it comes from a page of this server. A request
// with neither (curl, scripts) passes: only browsers attach cookies
// cross-site, and browsers always send one of the two on mutations.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		site := r.Header.Get("Sec-Fetch-Site")
		return site == "" || site == "same-origin" || site == "none"
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return u.Scheme == scheme && strings.EqualFold(u.Host, r.Host)
}

func csrfOK(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	return want != "" && len(got) == len(want) && constantEq(got, want)
}

func constantEq(a, b string) bool {
	var v byte
	for i := range len(a) {
		v |= a[i] ^ b[i]
	}
	return v == 0 && len(a) == len(b)
}

// readJSON decodes the JSON body of r into v strictly (unknown fields are
// errors) and answers 400 itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		fail(w, r, http.StatusUnsupportedMediaType, "bad_content_type", "")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, r, http.StatusRequestEntityTooLarge, "body_too_large", "", tooBig.Limit)
			return false
		}
		fail(w, r, http.StatusBadRequest, "bad_json", "", err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		fail(w, r, http.StatusBadRequest, "bad_json", "", "trailing data")
		return false
	}
	return true
}

// logEvent records an event in the events log (and the live stream).
func (s *Server) logEvent(kind, subject string, details map[string]string) {
	e := storage.Event{Time: s.now(), Kind: kind, Subject: subject, Details: details}
	if s.opts.Log != nil {
		if err := s.opts.Log.AddEvent(e); err != nil {
			s.log.Warn("web: event not stored", "kind", kind, "err", err)
		}
	}
	s.streams.publishLog(e)
}

// PublishLog sends an event written elsewhere (health changes, DR) to
// the live streams.
func (s *Server) PublishLog(e storage.Event) { s.streams.publishLog(e) }

func retryAfter(w http.ResponseWriter, r *http.Request, d time.Duration) {
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeAPIError(w, http.StatusTooManyRequests, apiError{
		Error: localize(lang(r), "locked_out", secs), Code: "locked_out", RetryAfter: secs,
	})
}
