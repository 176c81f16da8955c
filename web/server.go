package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/health"
)

// Limits of the HTTP server.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 16 << 10
	// MaxBodyBytes bounds request bodies (no route reads one yet).
	MaxBodyBytes = 64 << 10
	// ShutdownTimeout is how long Run waits for requests in flight.
	ShutdownTimeout = 3 * time.Second
)

// HealthSource is the part of *health.Registry the API reads.
type HealthSource interface {
	Conditions() []health.Condition
}

var _ HealthSource = (*health.Registry)(nil)

// Options configure a Server. All fields are optional.
type Options struct {
	// Logger receives server errors; nil discards them.
	Logger *slog.Logger
	// Health feeds /api/v1/health; nil reports no conditions.
	Health HealthSource
	// Meter feeds /api/v1/meter; nil makes it answer 503.
	Meter energy.MeterView
	// Tokens verifies bearer tokens; nil rejects every token.
	Tokens *Tokens
	// Now is the clock for staleness; nil means time.Now.
	Now func() time.Time
	// History feeds series, consumption, events and export; nil makes
	// them answer 503.
	History History
}

// Server is the HTTP API.
type Server struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	handler http.Handler
}

// New returns a Server for opts.
func New(opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}

	api := http.NewServeMux()
	api.HandleFunc("/api/v1/meter", s.get(s.handleMeter))
	api.HandleFunc("/api/v1/series", s.get(s.handleSeries))
	api.HandleFunc("/api/v1/consumption", s.get(s.handleConsumption))
	api.HandleFunc("/api/v1/events", s.get(s.handleEvents))
	api.HandleFunc("/api/v1/export", s.get(s.handleExport))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route")
	})

	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/health", s.get(s.handleHealth))
	mux.Handle("/api/v1/", s.requireToken(api))
	mux.Handle("/api/v1", s.requireToken(api)) // else ServeMux redirects
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	s.handler = securityHeaders(mux)
	return s
}

// Handler returns the HTTP handler of the API, for tests and for embedding
// in another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on ln until ctx is done, then stops accepting, waits up to
// ShutdownTimeout for requests in flight and returns nil. If they do not
// finish in time, their connections are closed and an error is returned.
// Run closes ln.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Keep ctx's values but not its cancellation: requests in flight
		// at shutdown should finish, not abort.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
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

// get restricts h to GET and HEAD.
func (s *Server) get(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
			return
		}
		h(w, r)
	}
}

// requireToken lets through requests with a valid bearer token.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		if _, ok := s.opts.Tokens.Verify(token); !ok {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeError(w, http.StatusUnauthorized, "invalid bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
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

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Security-Policy", "default-src 'none'")
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
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	out := healthJSON{Status: "ok", Conditions: []conditionJSON{}}
	if s.opts.Health != nil {
		for _, c := range s.opts.Health.Conditions() {
			out.Conditions = append(out.Conditions, conditionJSON{Code: c.Code, Message: c.Message, Since: formatTime(c.Since)})
		}
	}
	if len(out.Conditions) > 0 {
		out.Status = "degraded"
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleMeter(w http.ResponseWriter, r *http.Request) {
	if s.opts.Meter == nil {
		writeError(w, http.StatusServiceUnavailable, "meter not available")
		return
	}
	s.writeJSON(w, http.StatusOK, meterResponse(s.opts.Meter.MeterStatus(), s.now()))
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("web: encode response", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	writeBody(w, code, append(data, '\n'))
}

// writeError writes {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	data, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	writeBody(w, code, append(data, '\n'))
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
