package web

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/health"
	"github.com/gatewayd-project/gatewayd/storage"
)

// Limits of the HTTP server.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 16 << 10
	// MaxBodyBytes bounds request bodies (the tariff is the largest).
	MaxBodyBytes = 64 << 10
	// ShutdownTimeout is how long Run waits for requests in flight.
	ShutdownTimeout = 3 * time.Second
)

// HealthSource is the part of *health.Registry the API reads.
type HealthSource interface {
	Conditions() []health.Condition
}

var _ HealthSource = (*health.Registry)(nil)

// EventLog records events (logins, config changes) in the events log.
type EventLog interface {
	AddEvent(storage.Event) error
}

// Options configure a Server. All fields are optional.
type Options struct {
	// Logger receives server errors; nil discards them.
	Logger *slog.Logger
	// Health feeds /api/v1/health; nil reports no conditions.
	Health HealthSource
	// Meter feeds /api/v1/meter, the stream and devices; nil makes them
	// answer 503.
	Meter energy.MeterView
	// Tokens verifies bearer tokens; nil rejects every token.
	Tokens *Tokens
	// Users are the household's logins; nil disables login and setup.
	Users *Users
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// History feeds series, consumption, events and export; nil makes
	// them answer 503.
	History History
	// Log receives login and config events; nil drops them.
	Log EventLog
	// UI holds the built web UI (index.html at its root); nil serves a
	// page that says how to build it.
	UI fs.FS
	// Backup streams a consistent copy of the database; nil makes
	// /api/v1/backup answer 503.
	Backup func(io.Writer) (int64, error)
	// System describes the gateway for /api/v1/system.
	System func() System
	// Tariff stores and applies the tariff; nil makes tariff routes 503.
	Tariff TariffService
	// DR is the demand-response engine; nil makes DR routes answer 503
	// dr_unavailable.
	DR DRService
	// Devices is the device registry for /api/v1/devices and manual
	// commands; nil lists the meter only.
	Devices DeviceService
	// Latest returns a device's newest readings (all quantities) for
	// /api/v1/devices; nil shows the registry's power and energy only.
	Latest func(energy.DeviceID) []energy.Reading
	// HomeKit returns the HomeKit bridge's state with its setup code for
	// GET /api/v1/homekit (admins only); nil answers 503.
	HomeKit func() any
	// BLE is the BLE driver for /api/v1/ble/seen and adoption; nil when
	// han.ble is off.
	BLE BLEService
	// Appliances is CoAP appliance pairing (/api/v1/appliances); nil
	// makes those routes answer 503.
	Appliances ApplianceService
}

// DeviceService is the device registry as the API sees it.
type DeviceService interface {
	energy.DeviceLister
	Device(id energy.DeviceID) (energy.Device, bool)
	Command(ctx context.Context, c energy.Command) error
}

// Server is the HTTP API and the web UI.
type Server struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	handler  http.Handler
	routes   []route
	sessions *sessions
	throttle *throttle
	ui       *uiFiles
	streams  *streams

	setupMu    sync.Mutex
	setupToken string // one-time first-start token; "" once a user exists
}

// New returns a Server for opts. With Users set and no user yet, it
// creates the one-time setup token (SetupToken).
func New(opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.sessions = newSessions(s.now)
	s.throttle = newThrottle(s.now)
	s.streams = newStreams()
	s.ui = newUIFiles(opts.UI)
	if opts.Users != nil && opts.Users.Count() == 0 && opts.Users.LoadError() == nil {
		s.setupToken = randomToken(24)
	}
	s.routes = s.routeTable()

	mux := http.NewServeMux()
	byPattern := map[string][]route{}
	var order []string
	for _, rt := range s.routes {
		if _, ok := byPattern[rt.pattern]; !ok {
			order = append(order, rt.pattern)
		}
		byPattern[rt.pattern] = append(byPattern[rt.pattern], rt)
	}
	for _, p := range order {
		mux.Handle(p, s.dispatch(byPattern[p]))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		// The route table is not for strangers: 401 before 404.
		if _, code := s.authenticate(r); code != "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			fail(w, r, http.StatusUnauthorized, code, "")
			return
		}
		fail(w, r, http.StatusNotFound, "not_found", "")
	})
	mux.HandleFunc("/", s.serveUI)
	s.handler = securityHeaders(mux)
	return s
}

// SetupToken returns the one-time first-start token, "" when the
// gateway has a user.
func (s *Server) SetupToken() string {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	return s.setupToken
}

// Handler returns the HTTP handler of the API, for tests and for embedding
// in another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on ln until ctx is done, then stops accepting, waits up to
// ShutdownTimeout for requests in flight and returns nil. If they do not
// finish in time, their connections are closed and an error is returned.
// Run closes ln. With tlsConf set it serves HTTPS.
func (s *Server) Run(ctx context.Context, ln net.Listener, tlsConf *tls.Config) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		TLSConfig:         tlsConf,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Keep ctx's values but not its cancellation: requests in flight
		// at shutdown should finish, not abort.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	// Streams never finish by themselves: end them first.
	s.streams.closeAll()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && serr != nil {
		return fmt.Errorf("web: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// ContentSecurityPolicy of the UI: no inline script or style, nothing
// from other origins, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		} else {
			h.Set("Content-Security-Policy", ContentSecurityPolicy)
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

type healthJSON struct {
	Status     string          `json:"status"`
	Conditions []conditionJSON `json:"conditions"`
}

type conditionJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Since   string `json:"since"`
	Info    bool   `json:"info,omitempty"`
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, s.healthNow())
}

func (s *Server) healthNow() healthJSON {
	out := healthJSON{Status: "ok", Conditions: []conditionJSON{}}
	if s.opts.Health != nil {
		for _, c := range s.opts.Health.Conditions() {
			out.Conditions = append(out.Conditions, conditionJSON{Code: c.Code, Message: c.Message, Since: formatTime(c.Since), Info: c.Info})
			if !c.Info {
				out.Status = "degraded"
			}
		}
	}
	return out
}

func (s *Server) handleMeter(w http.ResponseWriter, r *http.Request) {
	if s.opts.Meter == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "meter")
		return
	}
	s.writeJSON(w, http.StatusOK, meterResponse(s.opts.Meter.MeterStatus(), s.now()))
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("web: encode response", "err", err)
		writeBody(w, http.StatusInternalServerError, []byte(`{"error":"internal error","code":"internal"}`+"\n"))
		return
	}
	writeBody(w, code, append(data, '\n'))
}

// apiError is the body of every error reply.
type apiError struct {
	Error      string          `json:"error"`
	Code       string          `json:"code"`
	Param      string          `json:"param,omitempty"`
	RetryAfter int             `json:"retry_after,omitempty"`
	Problems   []TariffProblem `json:"problems,omitempty"`
}

// fail writes {"error", "code", "param"} with the message of code in
// the request's language.
func fail(w http.ResponseWriter, r *http.Request, status int, code, param string, args ...any) {
	writeAPIError(w, status, apiError{Error: localize(lang(r), code, args...), Code: code, Param: param})
}

func writeAPIError(w http.ResponseWriter, status int, e apiError) {
	data, _ := json.Marshal(e)
	writeBody(w, status, append(data, '\n'))
}

func writeBody(w http.ResponseWriter, code int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(code)
	w.Write(data)
}

// formatTime formats t as RFC 3339 with the fraction it has.
func formatTime(t time.Time) string { return t.Format(time.RFC3339Nano) }
