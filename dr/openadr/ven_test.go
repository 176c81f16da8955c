package openadr_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/dr/openadr/emul"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

var t0 = time.Date(2026, 8, 11, 12, 0, 0, 0, time.UTC)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

// fakeSource is a ReportSource with fixed answers.
type fakeSource struct {
	mu       sync.Mutex
	usageOK  bool
	demandKW float64
	state    string
}

func (f *fakeSource) Usage(from, to time.Time) (float64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return 2 * to.Sub(from).Hours(), f.usageOK // 2 kW flat
}

func (f *fakeSource) Demand(from, to time.Time) (float64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.demandKW, true
}

func (f *fakeSource) OperatingState(string, time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// env is a VEN against an emulated VTN over loopback HTTPS.
type env struct {
	clock *clocktest.Fake
	vtn   *emul.VTN
	srv   *httptest.Server
	ven   *openadr.VEN
	src   *fakeSource
	logs  *syncBuffer
	pool  *x509.CertPool
	// hook, if set, may answer a request instead of the VTN.
	hook     atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
	requests atomic.Int64
}

type envOpt struct {
	vtnVersion openadr.Version
	venVersion openadr.Version
	secret     string // VEN's secret; "" = the right one
	noAuth     bool
	untrusted  bool
	tokenTTL   time.Duration
}

var (
	certOnce sync.Once
	certPEM  []byte
	keyPEM   []byte
)

func newEnv(t testing.TB, o envOpt) *env {
	t.Helper()
	certOnce.Do(func() {
		var err error
		if certPEM, keyPEM, err = emul.NewCert(); err != nil {
			panic(err)
		}
	})
	if o.vtnVersion == "" {
		o.vtnVersion = openadr.V301
	}
	e := &env{clock: clocktest.New(t0), src: &fakeSource{usageOK: true, demandKW: 1.5, state: "RUNNING_CURTAILED"}, logs: &syncBuffer{}}
	vc := emul.Config{Version: o.vtnVersion, VENName: "gw-4711", Clock: e.clock, TokenTTL: o.tokenTTL,
		BLClientID: "bl", BLClientSecret: "bl-secret"}
	if !o.noAuth {
		vc.ClientID, vc.ClientSecret = "gw-4711", "s3cret"
	}
	e.vtn = emul.New(vc, nil)
	h := e.vtn.Handler()
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		if f := e.hook.Load(); f != nil && (*f)(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	e.srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // handshake failures are expected in TestTLSUntrusted
	e.srv.StartTLS()
	e.pool = x509.NewCertPool()
	e.pool.AppendCertsFromPEM(certPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pool, MinVersion: tls.VersionTLS12}}
	if o.untrusted {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		e.srv.Close()
	})
	cfg := openadr.Config{URL: e.srv.URL, VENName: "gw-4711", Version: o.venVersion, Clock: e.clock, Seed: 42,
		HTTP: &http.Client{Transport: tr}, Reports: e.src}
	if !o.noAuth {
		cfg.ClientID, cfg.ClientSecret = "gw-4711", "s3cret"
		if o.secret != "" {
			cfg.ClientSecret = o.secret
		}
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if e.ven, err = openadr.New(cfg, log); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) setHook(f func(w http.ResponseWriter, r *http.Request) bool) { e.hook.Store(&f) }

func (e *env) poll(t testing.TB) {
	t.Helper()
	if err := e.ven.Poll(context.Background()); err != nil {
		t.Fatalf("Poll: %v", err)
	}
}

func changed(v *openadr.VEN) bool {
	select {
	case <-v.Changed():
		return true
	default:
		return false
	}
}

func find(evs []openadr.Event, id string) (openadr.Event, bool) {
	for _, e := range evs {
		if e.ID == id {
			return e, true
		}
	}
	return openadr.Event{}, false
}

// event is a wire event in version v starting at start with n intervals
// of d, each with SIMPLE level and an import limit.
func event(v openadr.Version, id string, start time.Time, d time.Duration, n, level int, limit float64, extra string) string {
	var ivs []string
	for i := range n {
		ivs = append(ivs, fmt.Sprintf(`{"id":%d,"payloads":[{"type":"SIMPLE","values":[%d]},{"type":"IMPORT_CAPACITY_LIMIT","values":[%g]}]}`, i+5, level, limit))
	}
	targets := `[{"type":"VEN_NAME","values":["gw-4711"]}]`
	if v == openadr.V31 {
		targets = `["gw-4711"]`
	}
	return fmt.Sprintf(`{"id":%q,"programID":"prg-peak-relief","eventName":"test","priority":1,"targets":%s,
		"payloadDescriptors":[{"payloadType":"IMPORT_CAPACITY_LIMIT","units":"KW"}],
		"intervalPeriod":{"start":%q,"duration":%q},"intervals":[%s]%s}`,
		id, targets, start.UTC().Format(time.RFC3339), openadr.Duration{Clock: d}.String(), strings.Join(ivs, ","), extra)
}

func TestPollScenarioBothVersions(t *testing.T) {
	for _, c := range []struct {
		name     string
		vtn, ven openadr.Version
		noAuth   bool
	}{
		{"3.0.1", openadr.V301, openadr.V301, false},
		{"3.1", openadr.V31, openadr.V31, false},
		{"auto 3.0.1", openadr.V301, "", false},
		{"auto 3.1", openadr.V31, "", false},
		{"no auth 3.0.1", openadr.V301, "", true},
		{"no auth 3.1", openadr.V31, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, envOpt{vtnVersion: c.vtn, venVersion: c.ven, noAuth: c.noAuth})
			e.vtn.Scenario(t0)
			e.poll(t)
			if e.ven.Version() != c.vtn {
				t.Fatalf("version %q, want %q", e.ven.Version(), c.vtn)
			}
			if !changed(e.ven) {
				t.Fatal("Changed not signalled")
			}
			if ok, since, err := e.ven.Health(); !ok || err != nil || !since.Equal(t0) {
				t.Fatalf("health %v %v %v", ok, err, since)
			}
			evs := e.ven.Events()
			pricesID, peakID := emul.ScenarioEventIDs(t0, nil)
			prices, ok1 := find(evs, pricesID)
			peak, ok2 := find(evs, peakID)
			if len(evs) != 2 || !ok1 || !ok2 {
				t.Fatalf("events %+v", evs)
			}
			if len(prices.Intervals) != 96 || prices.ProgramName != "dynamic-prices" || prices.Currency != "EUR" {
				t.Fatalf("prices: %d intervals, program %q, currency %q", len(prices.Intervals), prices.ProgramName, prices.Currency)
			}
			wantTarget := "VEN_NAME:gw-4711"
			if c.vtn == openadr.V31 {
				wantTarget = "gw-4711"
			}
			if peak.ProgramName != "peak-relief" || len(peak.Targets) != 1 || peak.Targets[0] != wantTarget || len(peak.Reports) != 3 {
				t.Fatalf("peak: %+v", peak)
			}
			at := time.Date(2026, 8, 11, 17, 30, 0, 0, time.UTC)
			s := openadr.Resolve(evs, at, e.ven.IsOptedOut)
			if s.Level != 2 || s.ImportLimitKW == nil || *s.ImportLimitKW != 3.0 || s.LevelEvent != peakID {
				t.Fatalf("signals at 17:30: %+v", s)
			}
			ps := openadr.Prices(evs)
			if len(ps) != 192 || ps[0].Currency != "EUR" {
				t.Fatalf("%d prices", len(ps))
			}
			// A second poll with nothing new signals nothing.
			e.clock.Advance(30 * time.Second)
			e.poll(t)
			if changed(e.ven) {
				t.Fatal("Changed signalled without a change")
			}
		})
	}
}

func TestAuthWrongSecret(t *testing.T) {
	for _, v := range []openadr.Version{openadr.V301, openadr.V31} {
		t.Run(string(v), func(t *testing.T) {
			e := newEnv(t, envOpt{vtnVersion: v, secret: "Xyzzy-secret"})
			e.vtn.Scenario(t0)
			err := e.ven.Poll(context.Background())
			if !errors.Is(err, openadr.ErrAuth) || strings.Contains(err.Error(), "Xyzzy") {
				t.Fatalf("err = %v", err)
			}
			if len(e.ven.Events()) != 0 || changed(e.ven) {
				t.Fatal("acted on a refused poll")
			}
			if ok, _, herr := e.ven.Health(); ok || !errors.Is(herr, openadr.ErrAuth) {
				t.Fatalf("health %v %v", ok, herr)
			}
			if e.logs.count("Xyzzy") > 0 || e.logs.count("s3cret") > 0 {
				t.Fatal("secret in the log")
			}
		})
	}
}

func TestAuthRefusedAfterReauth(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.vtn.Scenario(t0)
	e.poll(t)
	changed(e.ven)
	before := e.vtn.TokensIssued()
	if _, err := e.vtn.PutEvent(event(openadr.V301, "new", t0, time.Hour, 1, 3, 1, "")); err != nil {
		t.Fatal(err)
	}
	// The VTN answers 403 to /events even with a fresh token.
	e.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/events" {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	})
	err := e.ven.Poll(context.Background())
	if !errors.Is(err, openadr.ErrAuth) {
		t.Fatalf("err = %v", err)
	}
	if e.vtn.TokensIssued() != before+1 {
		t.Fatalf("re-authenticated %d times, want once", e.vtn.TokensIssued()-before)
	}
	if _, ok := find(e.ven.Events(), "new"); ok || changed(e.ven) || len(e.ven.Events()) != 2 {
		t.Fatal("acted on a refused poll")
	}
}

func TestTLSUntrusted(t *testing.T) {
	e := newEnv(t, envOpt{untrusted: true})
	e.vtn.Scenario(t0)
	err := e.ven.Poll(context.Background())
	if !errors.Is(err, openadr.ErrTLS) {
		t.Fatalf("err = %v", err)
	}
	if len(e.ven.Events()) != 0 || e.vtn.TokensIssued() != 0 {
		t.Fatal("acted on an untrusted VTN (or sent it the secret)")
	}
	if ok, _, herr := e.ven.Health(); ok || herr == nil {
		t.Fatal("health ok")
	}
}

func TestTokenRenewal(t *testing.T) {
	for _, v := range []openadr.Version{openadr.V301, openadr.V31} {
		t.Run(string(v), func(t *testing.T) {
			e := newEnv(t, envOpt{vtnVersion: v, tokenTTL: time.Hour})
			e.poll(t)
			e.clock.Advance(50 * time.Minute)
			e.poll(t)
			if n := e.vtn.TokensIssued(); n != 1 {
				t.Fatalf("%d tokens after 50 min", n)
			}
			e.clock.Advance(5 * time.Minute) // past 90% of expires_in
			e.poll(t)
			if n := e.vtn.TokensIssued(); n != 2 {
				t.Fatalf("%d tokens after 55 min", n)
			}
			// A token the VTN forgot: one 401, a new token, success.
			e.vtn.RevokeTokens()
			e.poll(t)
			if n := e.vtn.TokensIssued(); n != 3 {
				t.Fatalf("%d tokens after revocation", n)
			}
		})
	}
}

func TestPaging(t *testing.T) {
	for _, n := range []int{120, 100, 49} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, envOpt{vtnVersion: openadr.V31})
			for i := range n {
				if _, err := e.vtn.PutEvent(event(openadr.V31, fmt.Sprintf("e%03d", i), t0.Add(time.Duration(i)*time.Minute), time.Hour, 1, 1, 5, "")); err != nil {
					t.Fatal(err)
				}
			}
			var pages atomic.Int64
			e.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path == "/events" {
					pages.Add(1)
					if r.URL.Query().Get("limit") != "50" {
						t.Errorf("limit %q", r.URL.Query().Get("limit"))
					}
				}
				return false
			})
			e.poll(t)
			if got := len(e.ven.Events()); got != n {
				t.Fatalf("%d events, want %d", got, n)
			}
			if want := int64(n/50 + 1); pages.Load() != want {
				t.Fatalf("%d pages, want %d", pages.Load(), want)
			}
		})
	}
}

func TestTargetFilter(t *testing.T) {
	e := newEnv(t, envOpt{vtnVersion: openadr.V301})
	cfg := openadr.Config{URL: e.srv.URL, VENName: "gw-4711", ClientID: "gw-4711", ClientSecret: "s3cret", Clock: e.clock,
		TargetFilter: true, HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pool}}}}
	ven, err := openadr.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	mine := event(openadr.V301, "mine", t0, time.Hour, 1, 1, 5, "")
	other := strings.Replace(event(openadr.V301, "other", t0, time.Hour, 1, 1, 5, ""), "gw-4711", "gw-9999", 1)
	untargeted := strings.Replace(event(openadr.V301, "all", t0, time.Hour, 1, 1, 5, ""), `[{"type":"VEN_NAME","values":["gw-4711"]}]`, `[]`, 1)
	for _, d := range []string{mine, other, untargeted} {
		if _, err := e.vtn.PutEvent(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ven.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs := ven.Events()
	_, okMine := find(evs, "mine")
	_, okAll := find(evs, "all")
	if len(evs) != 2 || !okMine || !okAll {
		t.Fatalf("events %v", evs)
	}
}

func TestChangeDeleteCancel(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.vtn.Scenario(t0)
	id := "shed"
	if _, err := e.vtn.PutEvent(event(openadr.V301, id, t0, time.Hour, 2, 1, 5, "")); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	changed(e.ven)
	// Modified on the VTN: signalled, new values.
	e.clock.Advance(time.Minute)
	if _, err := e.vtn.PutEvent(event(openadr.V301, id, t0, time.Hour, 2, 3, 2.5, "")); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	if !changed(e.ven) {
		t.Fatal("change not signalled")
	}
	got, _ := find(e.ven.Events(), id)
	if iv, ok := got.IntervalAt(e.clock.Now()); !ok || *iv.Simple != 3 || *iv.ImportLimitKW != 2.5 {
		t.Fatalf("interval %+v", iv)
	}
	// Deleted before its end: cancelled, kept for the UI.
	e.vtn.DeleteEvent(id)
	e.poll(t)
	if !changed(e.ven) {
		t.Fatal("deletion not signalled")
	}
	got, ok := find(e.ven.Events(), id)
	if !ok || got.StatusAt(e.clock.Now()) != openadr.StatusCancelled || len(got.Intervals) != 2 {
		t.Fatalf("deleted event: %+v", got)
	}
	if s := openadr.Resolve(e.ven.Events(), e.clock.Now(), nil); s.LevelEvent == id {
		t.Fatal("cancelled event still resolves")
	}
	// Cancelled on the wire (0001-01-01 + PT0S): cancelled, intervals kept.
	wire := `{"id":"wirecancel","programID":"prg-peak-relief","intervalPeriod":{"start":"0001-01-01","duration":"PT0S"},"intervals":[{"id":0}]}`
	if _, err := e.vtn.PutEvent(event(openadr.V301, "wirecancel", t0, 2*time.Hour, 1, 2, 4, "")); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	if _, err := e.vtn.PutEvent(wire); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	got, _ = find(e.ven.Events(), "wirecancel")
	if !got.Cancelled || len(got.Intervals) != 1 || !changed(e.ven) {
		t.Fatalf("wire cancel: %+v", got)
	}
	e.poll(t)
	if got, _ = find(e.ven.Events(), "wirecancel"); !got.Cancelled || len(got.Intervals) != 1 || changed(e.ven) {
		t.Fatalf("wire cancel, re-polled: %+v", got)
	}
	// Deleted after its end: completed, not cancelled.
	e.clock.Set(time.Date(2026, 8, 12, 0, 30, 0, 0, time.UTC))
	pricesID, _ := emul.ScenarioEventIDs(t0, nil)
	e.vtn.DeleteEvent(pricesID)
	e.poll(t)
	got, ok = find(e.ven.Events(), pricesID)
	if !ok || got.Cancelled || got.StatusAt(e.clock.Now()) != openadr.StatusCompleted {
		t.Fatalf("ended event: %v %+v", ok, got.Cancelled)
	}
	// Past retention they are forgotten.
	e.clock.Advance(8 * 24 * time.Hour)
	e.poll(t)
	for _, x := range []string{id, pricesID} {
		if _, ok := find(e.ven.Events(), x); ok {
			t.Fatalf("%s kept past retention", x)
		}
	}
}

func TestStableAcrossPolls(t *testing.T) {
	e := newEnv(t, envOpt{vtnVersion: openadr.V31})
	rnd := `{"id":"rnd","programID":"p","intervalPeriod":{"start":"2026-08-11T15:00:00Z","duration":"PT1H","randomizeStart":"PT5M"},"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[1]}]}]}`
	now := `{"id":"now","programID":"p","intervalPeriod":{"start":"0001-01-01","duration":"PT1H"},"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[2]}]}]}`
	for _, d := range []string{rnd, now} {
		if _, err := e.vtn.PutEvent(d); err != nil {
			t.Fatal(err)
		}
	}
	e.poll(t)
	first := e.ven.Events()
	changed(e.ven)
	e.clock.Advance(5 * time.Minute)
	e.poll(t)
	if changed(e.ven) {
		t.Fatal("re-poll of unchanged events signalled a change")
	}
	second := e.ven.Events()
	for i := range first {
		if !first[i].Intervals[0].Start.Equal(second[i].Intervals[0].Start) {
			t.Fatalf("%s moved: %v -> %v", first[i].ID, first[i].Intervals[0].Start, second[i].Intervals[0].Start)
		}
	}
	if n, _ := find(second, "now"); !n.Start.Equal(t0) {
		t.Fatalf("'now' start %v, want first seen %v", n.Start, t0)
	}
}

func TestVTNDownBackoffRecovery(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.vtn.Scenario(t0)
	e.poll(t)
	if d := e.ven.NextPoll().Sub(e.clock.Now()); d < 27*time.Second || d > 33*time.Second {
		t.Fatalf("next poll in %v", d)
	}
	e.vtn.SetDown(true)
	var prev time.Duration
	for i := range 8 {
		err := e.ven.Poll(context.Background())
		var herr *openadr.HTTPError
		if !errors.As(err, &herr) || herr.Status != http.StatusServiceUnavailable {
			t.Fatalf("poll %d: %v", i, err)
		}
		d := e.ven.NextPoll().Sub(e.clock.Now())
		want := min(30*time.Second<<i, openadr.MaxBackoff)
		if d > want || d < want*8/10 {
			t.Fatalf("failure %d: backoff %v, want %v-20%%", i+1, d, want)
		}
		if i > 0 && i < 5 && d <= prev {
			t.Fatalf("backoff does not grow: %v after %v", d, prev)
		}
		prev = d
		e.clock.Advance(d)
	}
	if ok, since, err := e.ven.Health(); ok || err == nil || !since.Equal(t0) {
		t.Fatalf("health %v %v %v", ok, err, since)
	}
	// Known events are kept and keep executing.
	if len(e.ven.Events()) != 2 {
		t.Fatal("events lost while the VTN is down")
	}
	e.vtn.SetDown(false)
	e.poll(t)
	if ok, since, err := e.ven.Health(); !ok || err != nil || !since.Equal(e.clock.Now()) {
		t.Fatalf("recovered health %v %v %v", ok, err, since)
	}
	if d := e.ven.NextPoll().Sub(e.clock.Now()); d > 33*time.Second {
		t.Fatalf("next poll after recovery in %v", d)
	}
	if e.logs.count("VTN unreachable") != 1 || e.logs.count("reachable again") != 1 {
		t.Fatalf("outage logged %d times:\n%s", e.logs.count("VTN unreachable"), e.logs.String())
	}
}

func TestRun(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.vtn.Scenario(t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.ven.Run(ctx) }()
	waitTimer := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for e.clock.Timers() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("Run armed no timer")
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitTimer()
	if len(e.ven.Events()) != 2 {
		t.Fatal("first poll did not run")
	}
	if _, err := e.vtn.PutEvent(event(openadr.V301, "later", t0, time.Hour, 1, 1, 1, "")); err != nil {
		t.Fatal(err)
	}
	changed(e.ven)
	e.clock.Advance(e.ven.NextPoll().Sub(e.clock.Now()))
	select {
	case <-e.ven.Changed():
	case <-time.After(5 * time.Second):
		t.Fatal("second poll did not signal the new event")
	}
	waitTimer()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

// report is the part of a posted report the tests check.
type report struct {
	ProgramID          *string `json:"programID"`
	EventID            string  `json:"eventID"`
	ClientName         string  `json:"clientName"`
	PayloadDescriptors []struct {
		PayloadType, ReadingType, Units string
	} `json:"payloadDescriptors"`
	Resources []struct {
		ResourceName   string `json:"resourceName"`
		IntervalPeriod struct {
			Start    string `json:"start"`
			Duration string `json:"duration"`
		} `json:"intervalPeriod"`
		Intervals []struct {
			ID       int `json:"id"`
			Payloads []struct {
				Type   string `json:"type"`
				Values []any  `json:"values"`
			} `json:"payloads"`
		} `json:"intervals"`
	} `json:"resources"`
}

func reports(t *testing.T, vtn *emul.VTN) []report {
	t.Helper()
	var out []report
	for _, raw := range vtn.Reports() {
		var r report
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func (r report) values() map[string]any {
	m := map[string]any{}
	for _, p := range r.Resources[0].Intervals[0].Payloads {
		m[p.Type] = p.Values[0]
	}
	return m
}

func TestReports(t *testing.T) {
	for _, v := range []openadr.Version{openadr.V301, openadr.V31} {
		t.Run(string(v), func(t *testing.T) {
			e := newEnv(t, envOpt{vtnVersion: v})
			descs := `,"reportDescriptors":[{"payloadType":"USAGE","readingType":"DIRECT_READ","units":"KWH"},{"payloadType":"DEMAND","readingType":"MEAN","units":"W"},{"payloadType":"OPERATING_STATE"},{"payloadType":"STORAGE_CHARGE_LEVEL"}]`
			if _, err := e.vtn.PutEvent(event(v, "rep", t0, 15*time.Minute, 2, 2, 3, descs)); err != nil {
				t.Fatal(err)
			}
			e.poll(t)
			if len(e.vtn.Reports()) != 0 {
				t.Fatal("report before the interval ended")
			}
			e.clock.Advance(15 * time.Minute)
			e.poll(t)
			rs := reports(t, e.vtn)
			if len(rs) != 1 {
				t.Fatalf("%d reports", len(rs))
			}
			r := rs[0]
			if (v == openadr.V301) != (r.ProgramID != nil) || r.EventID != "rep" || r.ClientName != "gw-4711" {
				t.Fatalf("report header %+v", r)
			}
			res := r.Resources[0]
			if res.ResourceName != "AGGREGATED_REPORT" || res.IntervalPeriod.Start != "2026-08-11T12:00:00Z" || res.IntervalPeriod.Duration != "PT15M" || res.Intervals[0].ID != 5 {
				t.Fatalf("resource %+v", res)
			}
			vals := r.values()
			if vals["USAGE"] != 0.5 || vals["DEMAND"] != 1500.0 || vals["OPERATING_STATE"] != "RUNNING_CURTAILED" || len(vals) != 3 {
				t.Fatalf("values %v", vals)
			}
			if len(r.PayloadDescriptors) != 3 || r.PayloadDescriptors[1].Units != "W" || r.PayloadDescriptors[0].ReadingType != "DIRECT_READ" {
				t.Fatalf("descriptors %+v", r.PayloadDescriptors)
			}
			// No duplicate; the next interval while the VTN is down is
			// queued and posted after recovery.
			e.poll(t)
			e.clock.Advance(15 * time.Minute)
			e.vtn.SetDown(true)
			if err := e.ven.Poll(context.Background()); err == nil {
				t.Fatal("poll of a down VTN succeeded")
			}
			if e.ven.QueuedReports() != 1 {
				t.Fatalf("%d queued", e.ven.QueuedReports())
			}
			e.vtn.SetDown(false)
			e.poll(t)
			rs = reports(t, e.vtn)
			if len(rs) != 2 || rs[1].Resources[0].Intervals[0].ID != 6 || e.ven.QueuedReports() != 0 {
				t.Fatalf("after recovery: %d reports", len(rs))
			}
		})
	}
}

func TestReportWaitsForData(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.src.usageOK = false
	if _, err := e.vtn.PutEvent(event(openadr.V301, "rep", t0, 15*time.Minute, 1, 2, 3, `,"reportDescriptors":[{"payloadType":"USAGE"},{"payloadType":"DEMAND"}]`)); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	e.clock.Advance(20 * time.Minute)
	e.poll(t)
	if len(e.vtn.Reports()) != 0 {
		t.Fatal("reported without usage within the grace time")
	}
	e.clock.Advance(openadr.ReportGrace)
	e.poll(t)
	rs := reports(t, e.vtn)
	if len(rs) != 1 {
		t.Fatalf("%d reports after grace", len(rs))
	}
	if vals := rs[0].values(); len(vals) != 1 || vals["DEMAND"] != 1.5 {
		t.Fatalf("values %v", vals)
	}
}

func TestOptOut(t *testing.T) {
	for _, c := range []struct{ state, want string }{{"RUNNING_CURTAILED", "RUNNING_OPTED_OUT"}, {"IDLE_NORMAL", "IDLE_OPTED_OUT"}} {
		t.Run(c.want, func(t *testing.T) {
			e := newEnv(t, envOpt{vtnVersion: openadr.V31})
			e.src.state = c.state
			if _, err := e.vtn.PutEvent(event(openadr.V31, "shed", t0.Add(-20*time.Minute), 15*time.Minute, 3, 2, 3, "")); err != nil {
				t.Fatal(err)
			}
			e.poll(t)
			changed(e.ven)
			if err := e.ven.OptOut(context.Background(), "shed"); err != nil {
				t.Fatal(err)
			}
			if !changed(e.ven) || !e.ven.IsOptedOut("shed") || strings.Join(e.ven.OptedOut(), ",") != "shed" {
				t.Fatal("opt-out not recorded")
			}
			if s := openadr.Resolve(e.ven.Events(), e.clock.Now(), e.ven.IsOptedOut); s.Level != 0 || s.ImportLimitKW != nil {
				t.Fatalf("opted-out event resolves: %+v", s)
			}
			rs := reports(t, e.vtn)
			if len(rs) != 1 || rs[0].Resources[0].Intervals[0].ID != 6 || rs[0].values()["OPERATING_STATE"] != c.want || rs[0].ProgramID != nil {
				t.Fatalf("opt-out report %+v", rs)
			}
			if err := e.ven.OptOut(context.Background(), "nope"); !errors.Is(err, openadr.ErrUnknownEvent) {
				t.Fatalf("unknown event: %v", err)
			}
			e.ven.SetOptedOut(nil)
			if e.ven.IsOptedOut("shed") {
				t.Fatal("SetOptedOut(nil) kept it")
			}
		})
	}
}

func TestOptOutQueuedWhenDown(t *testing.T) {
	e := newEnv(t, envOpt{})
	if _, err := e.vtn.PutEvent(event(openadr.V301, "shed", t0, time.Hour, 1, 2, 3, "")); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	e.vtn.SetDown(true)
	err := e.ven.OptOut(context.Background(), "shed")
	if err == nil || !e.ven.IsOptedOut("shed") || e.ven.QueuedReports() != 1 {
		t.Fatalf("err %v, queued %d", err, e.ven.QueuedReports())
	}
	e.vtn.SetDown(false)
	e.poll(t)
	if len(e.vtn.Reports()) != 1 {
		t.Fatal("queued opt-out report not posted")
	}
}

func TestMalformedSkipped(t *testing.T) {
	e := newEnv(t, envOpt{})
	bad := strings.Replace(event(openadr.V301, "bad", t0, time.Hour, 1, 2, 3, ""), `"values":[2]`, `"values":[7]`, 1)
	for _, d := range []string{event(openadr.V301, "good", t0, time.Hour, 1, 2, 3, ""), bad} {
		if _, err := e.vtn.PutEvent(d); err != nil {
			t.Fatal(err)
		}
	}
	e.poll(t)
	evs := e.ven.Events()
	if len(evs) != 1 || evs[0].ID != "good" {
		t.Fatalf("events %v", evs)
	}
	e.clock.Advance(time.Minute)
	e.poll(t)
	if n := e.logs.count("skipping malformed event"); n != 1 {
		t.Fatalf("%d warnings, want 1", n)
	}
	if !strings.Contains(e.logs.String(), `event \"bad\": intervals[0].payloads[0].values[0]: SIMPLE must be an integer 0..3`) {
		t.Fatalf("warning does not name the event and field:\n%s", e.logs.String())
	}
	// A changed (still bad) version warns again; a good event that turns
	// bad keeps its last good version.
	if _, err := e.vtn.PutEvent(strings.Replace(bad, `"values":[7]`, `"values":[8]`, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.vtn.PutEvent(strings.Replace(event(openadr.V301, "good", t0, time.Hour, 1, 2, 3, ""), `"values":[3]`, `"values":[-3]`, 1)); err != nil {
		t.Fatal(err)
	}
	e.poll(t)
	if n := e.logs.count("skipping malformed event"); n != 3 {
		t.Fatalf("%d warnings, want 3", n)
	}
	if g, ok := find(e.ven.Events(), "good"); !ok || g.Cancelled || *g.Intervals[0].ImportLimitKW != 3 {
		t.Fatalf("good event after a bad update: %+v", g)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, envOpt{noAuth: true})
	e.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/events" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("["))
		chunk := []byte(`{"id":"` + strings.Repeat("x", 1000) + `"},`)
		for range openadr.MaxBodyBytes/len(chunk) + 10 {
			w.Write(chunk)
		}
		w.Write([]byte(`{}]`))
		return true
	})
	err := e.ven.Poll(context.Background())
	if !errors.Is(err, openadr.ErrBodyTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if ok, _, _ := e.ven.Health(); ok {
		t.Fatal("healthy after an oversized response")
	}
}

func TestNotAnArray(t *testing.T) {
	e := newEnv(t, envOpt{noAuth: true})
	e.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/events" {
			w.Write([]byte(`{"events":[]}`))
			return true
		}
		return false
	})
	if err := e.ven.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "not a JSON array") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewValidation(t *testing.T) {
	for _, c := range []struct {
		cfg  openadr.Config
		want string
	}{
		{openadr.Config{URL: "http://vtn.example.com", VENName: "x"}, "loopback"},
		{openadr.Config{URL: "ftp://127.0.0.1", VENName: "x"}, "https"},
		{openadr.Config{URL: "https://user:pw@vtn.example.com", VENName: "x"}, "credentials"},
		{openadr.Config{URL: "https://vtn.example.com"}, "VEN name"},
		{openadr.Config{URL: "https://vtn.example.com", VENName: "x", ClientID: "a"}, "together"},
		{openadr.Config{URL: "https://vtn.example.com", VENName: "x", Poll: time.Millisecond}, "1s"},
		{openadr.Config{URL: "https://vtn.example.com", VENName: "x", Version: "2.0b"}, "version"},
	} {
		if _, err := openadr.New(c.cfg, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/openadr", "http://[::1]:1", "http://localhost", "https://vtn.example.com/base/"} {
		if _, err := openadr.New(openadr.Config{URL: u, VENName: "x", Version: "auto"}, nil); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}
