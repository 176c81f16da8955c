package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/health"
)

// fakeMeter is an in-memory MeterView. If gate is set, MeterStatus signals
// entered and blocks until gate is closed.
type fakeMeter struct {
	st      energy.MeterStatus
	entered chan struct{}
	gate    chan struct{}
}

func (f *fakeMeter) MeterStatus() energy.MeterStatus {
	if f.gate != nil {
		close(f.entered)
		<-f.gate
	}
	return f.st
}

var _ energy.MeterView = (*fakeMeter)(nil)

func tm(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// testServer runs a Server on 127.0.0.1 and returns its base URL and a
// valid token. The server is shut down at the end of the test.
func testServer(t *testing.T, opts Options) (string, string) {
	t.Helper()
	tokens, err := OpenTokens(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Create("test", ScopeControl)
	if err != nil {
		t.Fatal(err)
	}
	opts.Tokens = tokens
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(opts).Run(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), tok
}

type response struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// checkError asserts a JSON error response.
func checkError(t *testing.T, r response, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d (body %s)", r.code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e["error"] == "" || e["error"] == nil || e["code"] == "" || e["code"] == nil {
		t.Errorf("body %q is not {\"error\": msg, \"code\": code}", r.body)
	}
	if _, ok := messages[fmt.Sprint(e["code"])]; !ok {
		t.Errorf("code %v is not in the message catalog", e["code"])
	}
	checkSecurityHeaders(t, r)
}

func checkSecurityHeaders(t *testing.T, r response) {
	t.Helper()
	for k, v := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "default-src 'none'",
	} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", gi, wi)
	}
}

func TestHealth(t *testing.T) {
	reg := health.New(func() time.Time { return tm("2025-03-01T12:00:00Z") })
	url, _ := testServer(t, Options{Health: reg})

	r := do(t, "GET", url+"/api/v1/health", "")
	if r.code != 200 {
		t.Fatalf("status %d", r.code)
	}
	checkSecurityHeaders(t, r)
	jsonEqual(t, r.body, `{"status":"ok","conditions":[]}`)

	// An informational condition is listed but does not degrade.
	reg.SetInfo("board_io_unavailable", "no GPIO")
	r = do(t, "GET", url+"/api/v1/health", "")
	jsonEqual(t, r.body, `{"status":"ok","conditions":[
		{"code":"board_io_unavailable","message":"no GPIO","since":"2025-03-01T12:00:00Z","info":true}]}`)
	reg.Clear("board_io_unavailable")

	reg.Set("meter_link_down", "no reply from the meter")
	r = do(t, "GET", url+"/api/v1/health", "")
	jsonEqual(t, r.body, `{"status":"degraded","conditions":[
		{"code":"meter_link_down","message":"no reply from the meter","since":"2025-03-01T12:00:00Z"}]}`)

	checkError(t, do(t, "POST", url+"/api/v1/health", ""), http.StatusMethodNotAllowed)
}

func TestHealthNilSource(t *testing.T) {
	url, _ := testServer(t, Options{})
	jsonEqual(t, do(t, "GET", url+"/api/v1/health", "").body, `{"status":"ok","conditions":[]}`)
}

func TestAuth(t *testing.T) {
	url, tok := testServer(t, Options{Meter: &fakeMeter{}})

	for name, hdr := range map[string]string{
		"missing":      "",
		"wrong":        "Bearer gwd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"other scheme": "Basic " + tok,
		"no token":     "Bearer ",
		"bare token":   tok,
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", url+"/api/v1/meter", nil)
			if hdr != "" {
				req.Header.Set("Authorization", hdr)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := response{resp.StatusCode, resp.Header, string(b)}
			checkError(t, r, http.StatusUnauthorized)
			if got := r.header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		})
	}

	// Unknown API routes need the token before they say 404.
	checkError(t, do(t, "GET", url+"/api/v1/nope", ""), http.StatusUnauthorized)
	checkError(t, do(t, "GET", url+"/api/v1/nope", tok), http.StatusNotFound)
	checkError(t, do(t, "GET", url+"/api/v2/meter", tok), http.StatusNotFound)
	checkError(t, do(t, "GET", url+"/api/v1", ""), http.StatusUnauthorized)
	checkError(t, do(t, "GET", url+"/api/v1", tok), http.StatusNotFound)
	checkError(t, do(t, "DELETE", url+"/api/v1/meter", tok), http.StatusMethodNotAllowed)
	if r := do(t, "GET", url+"/api/v1/meter", tok); r.code != 200 {
		t.Errorf("good token: status %d %s", r.code, r.body)
	}
	// Without built UI assets, / says how to build them (under the CSP).
	r := do(t, "GET", url+"/", "")
	if r.code != 200 || !strings.Contains(r.body, "npm run build") || r.header.Get("X-Content-Type-Options") != "nosniff" ||
		r.header.Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Errorf("/: %d %v", r.code, r.header)
	}
}

func TestMeterNil(t *testing.T) {
	url, tok := testServer(t, Options{})
	checkError(t, do(t, "GET", url+"/api/v1/meter", tok), http.StatusServiceUnavailable)
}

// status is a three-phase DL/T 645 meter exporting 1234.5 W.
func status() energy.MeterStatus {
	meterTime := tm("2025-03-01T12:00:00+08:00")
	recv := tm("2025-03-01T04:00:01.25Z")
	s := func(v energy.Decimal, maxAge time.Duration) energy.Sample {
		return energy.Sample{Value: v, Measured: meterTime, Received: recv, Legal: true, MaxAge: maxAge}
	}
	return energy.MeterStatus{
		Device:   "meter",
		Protocol: "dlt645",
		Address:  "000012345678",
		LinkUp:   true,
		Values: map[energy.Quantity]energy.Sample{
			energy.Power:                          s(energy.D(-12345, -1), 5*time.Second),
			energy.ImportEnergy:                   s(energy.D(123456789, -2), 2*time.Minute), // 1234567.89 Wh
			energy.ExportEnergy:                   s(energy.D(987, 1), 2*time.Minute),        // 9870 Wh
			energy.Tariff(energy.ImportEnergy, 1): s(energy.D(100, 3), 2*time.Minute),
			energy.Tariff(energy.ImportEnergy, 3): s(energy.D(2345, 2), 2*time.Minute),
			energy.Phase("voltage", 1):            s(energy.D(2301, -1), 5*time.Second),
			energy.Phase("voltage", 3):            s(energy.D(2299, -1), 5*time.Second),
			energy.Phase("current", 1):            s(energy.D(512, -2), 5*time.Second),
			energy.Frequency:                      s(energy.D(5000, -2), 5*time.Second),
			energy.PowerFactor:                    s(energy.D(-95, -2), 5*time.Second),
			energy.RelayOpen:                      {Value: energy.D(0, 0), Measured: meterTime, Received: tm("2025-03-01T04:00:00Z"), Legal: true},
			// Declared unavailable later: must not show.
			energy.ReactivePower: s(energy.D(1, 0), 5*time.Second),
		},
		Unavailable: map[energy.Quantity]bool{
			energy.ReactivePower:   true,
			energy.ClockBatteryLow: true,
		},
	}
}

const wantMeter = `{
  "protocol": "dlt645",
  "address": "000012345678",
  "time": "2025-03-01T12:00:00+08:00",
  "received": "2025-03-01T04:00:01.25Z",
  "stale": false,
  "legal": true,
  "power_w": -1234.5,
  "import_kwh": 1234.56789,
  "export_kwh": 9.87,
  "import_kwh_tariffs": [100, null, 234.5, null],
  "export_kwh_tariffs": null,
  "voltage_v": [230.1, null, 229.9],
  "current_a": [5.12],
  "frequency_hz": 50,
  "power_factor": -0.95,
  "reactive_power_var": null,
  "apparent_power_va": null,
  "relay": "closed",
  "link_up": true,
  "unavailable": ["clock_battery_low", "reactive_power"],
  "values": {
    "power": {"value": -1234.5, "unit": "W", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "energy_import": {"value": 1234567.89, "unit": "Wh", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "energy_export": {"value": 9870, "unit": "Wh", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "energy_import_t1": {"value": 100000, "unit": "Wh", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "energy_import_t3": {"value": 234500, "unit": "Wh", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "voltage_l1": {"value": 230.1, "unit": "V", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "voltage_l3": {"value": 229.9, "unit": "V", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "current_l1": {"value": 5.12, "unit": "A", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "frequency": {"value": 50, "unit": "Hz", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "power_factor": {"value": -0.95, "unit": "", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:01.25Z", "stale": false},
    "relay_open": {"value": 0, "unit": "", "measured": "2025-03-01T12:00:00+08:00", "received": "2025-03-01T04:00:00Z", "stale": false}
  }
}`

func TestMeter(t *testing.T) {
	now := tm("2025-03-01T04:00:03Z")
	url, tok := testServer(t, Options{Meter: &fakeMeter{st: status()}, Now: func() time.Time { return now }})
	r := do(t, "GET", url+"/api/v1/meter", tok)
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	checkSecurityHeaders(t, r)
	jsonEqual(t, r.body, wantMeter)
	// The exact decimal, not 1234567.89/1000 = 1234.5678899999999.
	if !strings.Contains(r.body, `"import_kwh":1234.56789,`) {
		t.Errorf("import_kwh not exact in %s", r.body)
	}
}

func TestMeterStale(t *testing.T) {
	tests := []struct {
		name  string
		now   string
		edit  func(*energy.MeterStatus)
		stale bool
	}{
		{"fresh", "2025-03-01T04:00:03Z", func(*energy.MeterStatus) {}, false},
		{"power old", "2025-03-01T04:00:07Z", func(*energy.MeterStatus) {}, true},
		{"link down", "2025-03-01T04:00:03Z", func(s *energy.MeterStatus) { s.LinkUp = false }, true},
		{"import old, no power", "2025-03-01T04:03:00Z", func(s *energy.MeterStatus) { delete(s.Values, energy.Power) }, true},
		{"only old voltage", "2025-03-01T04:03:00Z", func(s *energy.MeterStatus) {
			delete(s.Values, energy.Power)
			delete(s.Values, energy.ImportEnergy)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status()
			tt.edit(&st)
			got := meterResponse(st, tm(tt.now))
			if got.Stale != tt.stale {
				t.Errorf("stale = %v, want %v", got.Stale, tt.stale)
			}
		})
	}
	got := meterResponse(status(), tm("2025-03-01T04:00:07Z"))
	if !got.Values["power"].Stale || got.Values["energy_import"].Stale || got.Values["relay_open"].Stale {
		t.Errorf("per-value stale wrong: %+v", got.Values)
	}
}

func TestMeterEmpty(t *testing.T) {
	url, tok := testServer(t, Options{Meter: &fakeMeter{st: energy.MeterStatus{Protocol: "iec62056-21"}}})
	jsonEqual(t, do(t, "GET", url+"/api/v1/meter", tok).body, `{
		"protocol": "iec62056-21", "address": null, "time": null, "received": null,
		"stale": true, "legal": true, "power_w": null, "import_kwh": null, "export_kwh": null,
		"import_kwh_tariffs": null, "export_kwh_tariffs": null, "voltage_v": null, "current_a": null,
		"frequency_hz": null, "power_factor": null, "reactive_power_var": null, "apparent_power_va": null,
		"relay": "unknown", "link_up": false, "unavailable": [], "values": {}}`)
}

func TestMeterTimeFallsBackToImport(t *testing.T) {
	st := status()
	delete(st.Values, energy.Power)
	imp := st.Values[energy.ImportEnergy]
	imp.Measured = tm("2025-03-01T11:59:00+08:00")
	st.Values[energy.ImportEnergy] = imp
	st.Values[energy.RelayOpen] = energy.Sample{Value: energy.D(1, 0)}
	got := meterResponse(st, tm("2025-03-01T04:00:03Z"))
	if got.Time == nil || *got.Time != "2025-03-01T11:59:00+08:00" {
		t.Errorf("time = %v", got.Time)
	}
	if got.Relay != "open" {
		t.Errorf("relay = %q", got.Relay)
	}
	if got.PowerW != nil {
		t.Errorf("power_w = %v, want null", *got.PowerW)
	}
}

func TestWhToKWh(t *testing.T) {
	for _, tt := range []struct {
		d    energy.Decimal
		want float64
	}{
		{energy.D(123456789, -2), 1234.56789},
		{energy.D(1, 0), 0.001},
		{energy.D(-5, 3), -5},
		{energy.D(7, -126), 7e-129},
		{energy.D(0, 0), 0},
	} {
		if got := whToKWh(tt.d); got != tt.want {
			t.Errorf("whToKWh(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	tokens, err := OpenTokens(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Create("t", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	meter := &fakeMeter{st: status(), entered: make(chan struct{}), gate: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(Options{Meter: meter, Tokens: tokens}).Run(ctx, ln, nil) }()

	// A request in flight when the context ends still completes.
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/meter", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-meter.entered
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(meter.gate)
	if code := <-got; code != 200 {
		t.Errorf("in-flight request: %d", code)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(ShutdownTimeout + time.Second):
		t.Fatal("Run did not return")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("listener still open after Run returned")
	}
}
