package web

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/health"
	"github.com/gatewayd-project/gatewayd/storage"
)

// liveMeter is a MeterView whose values a test changes.
type liveMeter struct {
	mu sync.Mutex
	st energy.MeterStatus
}

func (m *liveMeter) MeterStatus() energy.MeterStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	st.Values = map[energy.Quantity]energy.Sample{}
	for k, v := range m.st.Values {
		st.Values[k] = v
	}
	return st
}

func (m *liveMeter) set(w int64, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Values[energy.Power] = energy.Sample{Value: energy.D(w, 0), Measured: at, Received: at}
}

type sseEvent struct{ name, data string }

func readEvents(t *testing.T, body io.Reader, out chan<- sseEvent) {
	sc := bufio.NewScanner(body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		case line == "" && ev.name != "":
			out <- ev
			ev = sseEvent{}
		}
	}
	close(out)
}

func TestStream(t *testing.T) {
	meter := &liveMeter{st: energy.MeterStatus{Device: "meter", Protocol: "dlt645", LinkUp: true, Values: map[energy.Quantity]energy.Sample{}}}
	meter.set(500, time.Now())
	reg := health.New(time.Now)
	url, tok := testServer(t, Options{Meter: meter, Health: reg})
	req, _ := http.NewRequest("GET", url+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	evs := make(chan sseEvent, 64)
	go readEvents(t, resp.Body, evs)
	next := func(name string, within time.Duration) sseEvent {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case ev, ok := <-evs:
				if !ok {
					t.Fatalf("stream ended waiting for %s", name)
				}
				if ev.name == name {
					return ev
				}
			case <-deadline:
				t.Fatalf("no %s event within %v", name, within)
			}
		}
	}
	if ev := next("health", time.Second); !strings.Contains(ev.data, `"status":"ok"`) {
		t.Errorf("first health: %s", ev.data)
	}
	if ev := next("meter", time.Second); !strings.Contains(ev.data, `"power_w":500`) {
		t.Errorf("first meter: %s", ev.data)
	}
	// A new reading reaches the stream within 1 s.
	time.Sleep(50 * time.Millisecond)
	meter.set(-1234, time.Now())
	if ev := next("meter", time.Second); !strings.Contains(ev.data, `"power_w":-1234`) {
		t.Errorf("meter after change: %s", ev.data)
	}
	reg.Set("meter_link_down", "no answer")
	if ev := next("health", time.Second); !strings.Contains(ev.data, "meter_link_down") {
		t.Errorf("health after change: %s", ev.data)
	}
}

func TestStreamLogAndLimits(t *testing.T) {
	s := New(Options{})
	ss := s.streams
	var clients []*streamClient
	for range MaxStreams {
		c, ok := ss.add()
		if !ok {
			t.Fatal("refused below MaxStreams")
		}
		clients = append(clients, c)
	}
	if _, ok := ss.add(); ok {
		t.Fatal("accepted beyond MaxStreams")
	}
	// A client that never reads loses old log entries, never blocks.
	done := make(chan struct{})
	go func() {
		for i := range streamLogQueue * 3 {
			s.PublishLog(storage.Event{Kind: "link", Subject: string(rune('a' + i%26))})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("PublishLog blocked on a slow client")
	}
	if n := len(clients[0].logs); n != streamLogQueue {
		t.Errorf("queue holds %d, want %d", n, streamLogQueue)
	}
}

func TestUIAssets(t *testing.T) {
	var gz strings.Builder
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "console.log('gz')")
	zw.Close()
	fsys := fstest.MapFS{
		"index.html":            {Data: []byte("<!doctype html><title>ui</title>")},
		"assets/app-1234.js":    {Data: []byte("console.log('plain')")},
		"assets/app-1234.js.gz": {Data: []byte(gz.String())},
		"assets/app-1234.js.br": {Data: []byte("BROTLI")},
	}
	url, _ := testServer(t, Options{UI: fsys})
	get := func(path, enc string) *http.Response {
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, tc := range []struct{ enc, wantEnc, wantBody string }{
		{"gzip, deflate, br", "br", "BROTLI"},
		{"gzip", "gzip", gz.String()},
		{"br;q=0, gzip", "gzip", gz.String()},
		{"", "", "console.log('plain')"},
	} {
		resp := get("/assets/app-1234.js", tc.enc)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tc.wantEnc || string(b) != tc.wantBody ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("Accept-Encoding %q: %d %v %q", tc.enc, resp.StatusCode, resp.Header, b)
		}
	}
	resp := get("/", "br")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<title>ui</title>") || resp.Header.Get("Cache-Control") != "no-cache" ||
		resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Errorf("/: %d %v", resp.StatusCode, resp.Header)
	}
	for _, p := range []string{"/nope.js", "/assets/app-1234.js.gz", "/assets"} {
		if resp := get(p, ""); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

func TestSelfSignedCert(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	cert, fp, created, err := LoadOrCreateCert(dir, []string{"localhost", "127.0.0.1", "gw.local"}, now)
	if err != nil || !created || len(fp) != 95 {
		t.Fatalf("create: %v %v %q", err, created, fp)
	}
	if st, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, st)
	}
	_, fp2, created2, err := LoadOrCreateCert(dir, nil, now.Add(time.Hour))
	if err != nil || created2 || fp2 != fp {
		t.Fatalf("reload: %v %v %q != %q", err, created2, fp2, fp)
	}
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	if leaf.NotAfter.Sub(now) < 15*365*24*time.Hour || len(leaf.DNSNames) != 2 || len(leaf.IPAddresses) != 1 {
		t.Errorf("cert: until %v names %v ips %v", leaf.NotAfter, leaf.DNSNames, leaf.IPAddresses)
	}
	// Serve with it; a client that pins the certificate connects.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(Options{}).Run(ctx, ln, TLSConfig(cert)) }()
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	resp, err := hc.Get("https://" + ln.Addr().String() + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("health over TLS: %d %v", resp.StatusCode, resp.Header)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A corrupt certificate is an error, not silently replaced.
	os.WriteFile(filepath.Join(dir, CertFile), []byte("junk"), 0o644)
	if _, _, _, err := LoadOrCreateCert(dir, nil, now); err == nil {
		t.Error("corrupt cert accepted")
	}
}
