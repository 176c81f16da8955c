package emul

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

var t0 = time.Date(2026, 8, 11, 12, 0, 0, 0, time.UTC)

type client struct {
	t   *testing.T
	srv *httptest.Server
}

func newVTN(t *testing.T, cfg Config) (*VTN, *client, *clocktest.Fake) {
	clock := clocktest.New(t0)
	cfg.Clock = clock
	s := New(cfg, nil)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, &client{t: t, srv: srv}, clock
}

// do sends a request and decodes the JSON answer into out (if not nil).
func (c *client) do(method, path, token, body string, out any) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if strings.Contains(body, "grant_type=") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		c.t.Fatalf("%s %s: %d without JSON: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (c *client) token(id, secret string) string {
	c.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	if st := c.do("POST", "/auth/token", "", form.Encode(), &tok); st != 200 || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		c.t.Fatalf("token: %d %+v", st, tok)
	}
	return tok.AccessToken
}

func TestAuth(t *testing.T) {
	s, c, clock := newVTN(t, Config{ClientID: "ven", ClientSecret: "vs", BLClientID: "bl", BLClientSecret: "bs"})
	s.Scenario(t0)
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if st := c.do("GET", "/events", "", "", &p); st != 401 || p.Status != 401 || p.Title == "" {
		t.Fatalf("no token: %d %+v", st, p)
	}
	var e struct{ Error string }
	if st := c.do("POST", "/auth/token", "", "grant_type=client_credentials&client_id=ven&client_secret=no", &e); st != 401 || e.Error != "invalid_client" {
		t.Fatalf("wrong secret: %d %+v", st, e)
	}
	ven := c.token("ven", "vs")
	var evs []map[string]any
	if st := c.do("GET", "/events", ven, "", &evs); st != 200 || len(evs) != 2 {
		t.Fatalf("events: %d %d", st, len(evs))
	}
	// A VEN token may not write events.
	if st := c.do("DELETE", "/events/"+evs[0]["id"].(string), ven, "", &p); st != 403 {
		t.Fatalf("VEN delete: %d", st)
	}
	// Tokens expire by the VTN's clock.
	clock.Advance(time.Hour)
	if st := c.do("GET", "/events", ven, "", &p); st != 401 {
		t.Fatalf("expired token: %d", st)
	}
	if s.TokensIssued() != 1 {
		t.Fatalf("%d tokens", s.TokensIssued())
	}
}

func TestBLWrites(t *testing.T) {
	s, c, clock := newVTN(t, Config{BLClientID: "bl", BLClientSecret: "bs"})
	bl := c.token("bl", "bs")
	doc := `{"programID":"p1","intervalPeriod":{"start":"2026-08-11T17:00:00Z","duration":"PT1H"},"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[2]}]}]}`
	var created map[string]any
	if st := c.do("POST", "/events", bl, doc, &created); st != 201 || created["id"] == "" || created["objectType"] != "EVENT" || created["createdDateTime"] != "2026-08-11T12:00:00Z" {
		t.Fatalf("create: %d %v", st, created)
	}
	id := created["id"].(string)
	if st := c.do("POST", "/events", bl, `{"id":"`+id+`",`+doc[1:], nil); st != 409 {
		t.Fatalf("duplicate id: %d", st)
	}
	if st := c.do("POST", "/events", bl, `{"intervals":[]}`, nil); st != 400 {
		t.Fatalf("no programID: %d", st)
	}
	if st := c.do("POST", "/events", bl, `[1]`, nil); st != 400 {
		t.Fatalf("not an object: %d", st)
	}
	clock.Advance(time.Minute)
	var replaced map[string]any
	if st := c.do("PUT", "/events/"+id, bl, doc, &replaced); st != 200 || replaced["modificationDateTime"] != "2026-08-11T12:01:00Z" || replaced["createdDateTime"] != "2026-08-11T12:00:00Z" {
		t.Fatalf("replace: %d %v", st, replaced)
	}
	if st := c.do("PUT", "/events/nope", bl, doc, nil); st != 404 {
		t.Fatalf("replace missing: %d", st)
	}
	// Without VEN credentials reads are open.
	var one map[string]any
	if st := c.do("GET", "/events/"+id, "", "", &one); st != 200 || one["id"] != id {
		t.Fatalf("get: %d", st)
	}
	if st := c.do("DELETE", "/events/"+id, bl, "", nil); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if st := c.do("DELETE", "/events/"+id, bl, "", nil); st != 404 {
		t.Fatalf("delete again: %d", st)
	}
	if st := c.do("POST", "/programs", bl, `{"programName":"x"}`, nil); st != 201 {
		t.Fatalf("program: %d", st)
	}
	// Without BL credentials HTTP writes are refused.
	_, c2, _ := newVTN(t, Config{})
	if st := c2.do("POST", "/events", "", doc, nil); st != 403 {
		t.Fatalf("BL disabled: %d", st)
	}
	_ = s
}

func TestPagingAndTargets(t *testing.T) {
	for _, v := range []openadr.Version{openadr.V301, openadr.V31} {
		t.Run(string(v), func(t *testing.T) {
			s, c, _ := newVTN(t, Config{Version: v})
			for i := range 60 {
				target := fmt.Sprintf(`[{"type":"VEN_NAME","values":["ven-%d"]}]`, i%3)
				if v == openadr.V31 {
					target = fmt.Sprintf(`["ven-%d"]`, i%3)
				}
				if i%10 == 0 {
					target = `[]`
				}
				if _, err := s.PutEvent(fmt.Sprintf(`{"id":"e%02d","programID":"p","targets":%s}`, i, target)); err != nil {
					t.Fatal(err)
				}
			}
			var page []map[string]any
			if st := c.do("GET", "/events?skip=40&limit=50", "", "", &page); st != 200 || len(page) != 20 || page[0]["id"] != "e40" {
				t.Fatalf("page: %d %d", st, len(page))
			}
			if st := c.do("GET", "/events?limit=51", "", "", nil); st != 400 {
				t.Fatalf("limit 51: %d", st)
			}
			if st := c.do("GET", "/events?skip=-1", "", "", nil); st != 400 {
				t.Fatalf("skip -1: %d", st)
			}
			q := "targetType=VEN_NAME&targetValues=ven-1"
			if v == openadr.V31 {
				q = "targets=ven-1"
			}
			if st := c.do("GET", "/events?"+q, "", "", &page); st != 200 {
				t.Fatal(st)
			}
			// 20 targeted at ven-1 minus the untargeted among them, plus the 6 untargeted.
			want := 0
			for i := range 60 {
				if i%10 == 0 || i%3 == 1 {
					want++
				}
			}
			if len(page) != want {
				t.Fatalf("%d targeted events, want %d", len(page), want)
			}
		})
	}
}

func TestAuthServer(t *testing.T) {
	_, c, _ := newVTN(t, Config{Version: openadr.V31})
	var s struct{ TokenURL string }
	if st := c.do("GET", "/auth/server", "", "", &s); st != 200 || s.TokenURL != c.srv.URL+"/auth/token" {
		t.Fatalf("%d %q", st, s.TokenURL)
	}
	_, c30, _ := newVTN(t, Config{})
	if st := c30.do("GET", "/auth/server", "", "", nil); st != 404 {
		t.Fatalf("3.0.1 /auth/server: %d", st)
	}
	if st := c30.do("GET", "/nothing", "", "", nil); st != 404 {
		t.Fatalf("unknown path: %d", st)
	}
}

func TestReportValidation(t *testing.T) {
	for _, c := range []struct {
		v    openadr.Version
		body string
		want int
	}{
		{openadr.V301, `{"programID":"p","eventID":"e","clientName":"c","resources":[]}`, 201},
		{openadr.V301, `{"eventID":"e","clientName":"c","resources":[]}`, 400},
		{openadr.V31, `{"eventID":"e","clientName":"c","resources":[]}`, 201},
		{openadr.V31, `{"programID":"p","eventID":"e","clientName":"c","resources":[]}`, 400},
		{openadr.V31, `{"eventID":"e","resources":[]}`, 400},
		{openadr.V31, `not json`, 400},
	} {
		s, cl, _ := newVTN(t, Config{Version: c.v})
		if st := cl.do("POST", "/reports", "", c.body, nil); st != c.want {
			t.Errorf("%s %s: %d, want %d", c.v, c.body, st, c.want)
		}
		if c.want == 201 {
			var rs []map[string]any
			if len(s.Reports()) != 1 || cl.do("GET", "/reports?eventID=e", "", "", &rs) != 200 || len(rs) != 1 {
				t.Errorf("report not stored")
			}
		}
	}
}

func TestDown(t *testing.T) {
	s, c, _ := newVTN(t, Config{})
	s.SetDown(true)
	if st := c.do("GET", "/events", "", "", nil); st != 503 {
		t.Fatalf("down: %d", st)
	}
	s.SetDown(false)
	if st := c.do("GET", "/events", "", "", nil); st != 200 {
		t.Fatalf("up: %d", st)
	}
}

func TestScenario(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	for _, c := range []struct {
		day  time.Time
		want int
	}{{t0, 96}, {time.Date(2026, 3, 29, 12, 0, 0, 0, berlin), 92}, {time.Date(2026, 10, 25, 12, 0, 0, 0, berlin), 100}} {
		for _, v := range []openadr.Version{openadr.V301, openadr.V31} {
			s := New(Config{Version: v, VENName: "gw", Location: berlin, Clock: clocktest.New(t0)}, nil)
			s.Scenario(c.day)
			s.Scenario(c.day) // idempotent
			pricesID, peakID := ScenarioEventIDs(c.day, berlin)
			s.mu.Lock()
			docs := s.events.list()
			s.mu.Unlock()
			if len(docs) != 2 {
				t.Fatalf("%d events", len(docs))
			}
			for _, d := range docs {
				b, _ := json.Marshal(d)
				ev, err := openadr.DecodeEvent(v, b, openadr.DecodeOptions{Now: t0})
				if err != nil {
					t.Fatalf("%s: scenario event does not decode: %v", v, err)
				}
				switch ev.ID {
				case pricesID:
					if len(ev.Intervals) != c.want || !ev.Start.Equal(time.Date(c.day.Year(), c.day.Month(), c.day.Day(), 0, 0, 0, 0, berlin)) {
						t.Fatalf("%s: %d price intervals from %v", c.day, len(ev.Intervals), ev.Start)
					}
					for _, iv := range ev.Intervals {
						if *iv.Price <= 0 || *iv.ExportPrice <= 0 || *iv.ExportPrice >= *iv.Price {
							t.Fatalf("implausible prices %v %v", *iv.Price, *iv.ExportPrice)
						}
					}
				case peakID:
					st := time.Date(c.day.Year(), c.day.Month(), c.day.Day(), 17, 0, 0, 0, berlin)
					if !ev.Start.Equal(st) || !ev.End.Equal(st.Add(2*time.Hour)) || ev.Priority != 0 || len(ev.Reports) != 3 ||
						*ev.Intervals[1].Simple != 2 || *ev.Intervals[1].ImportLimitKW != 3.0 || len(ev.Targets) != 1 {
						t.Fatalf("peak %+v", ev)
					}
				default:
					t.Fatalf("unexpected event %s", ev.ID)
				}
			}
		}
	}
	// The evening peak costs more than the midday dip and the night.
	peak, _ := DemoPrice(time.Date(2026, 8, 11, 18, 30, 0, 0, time.UTC))
	dip, _ := DemoPrice(time.Date(2026, 8, 11, 13, 0, 0, 0, time.UTC))
	night, _ := DemoPrice(time.Date(2026, 8, 11, 3, 0, 0, 0, time.UTC))
	if !(peak > night && night > dip) {
		t.Fatalf("shape: peak %v night %v dip %v", peak, night, dip)
	}
}

func TestSelfSigned(t *testing.T) {
	dir := t.TempDir()
	cert, key, err := SelfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v %v", fi.Mode(), err)
	}
	b1, _ := os.ReadFile(cert)
	// Kept on the next call.
	if c2, _, err := SelfSigned(dir); err != nil || c2 != cert {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(cert); string(b1) != string(b2) {
		t.Fatal("certificate regenerated")
	}
	// A broken pair is replaced.
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("junk"), 0o600)
	if _, _, err := SelfSigned(dir); err != nil {
		t.Fatal(err)
	}
	if b3, _ := os.ReadFile(cert); string(b1) == string(b3) {
		t.Fatal("broken pair kept")
	}
	// A client trusting CertPool(cert) talks to a server using the pair.
	pool, err := CertPool(cert)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(New(Config{}, nil).Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		resp, err := (&http.Client{Transport: tr}).Get(u + "/programs")
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
	}
	if _, err := CertPool(key); err == nil {
		t.Fatal("a key file makes a pool")
	}
}
