package dr

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/tariff"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

const goodFeed = `{"currency":"EUR","prices":[
 {"start":"2026-11-21T00:00:00Z","end":"2026-11-21T00:15:00Z","value":0.231},
 {"start":"2026-11-21T00:00:00Z","end":"2026-11-21T01:00:00Z","value":-0.01,"export":true}]}`

func TestParseFeed(t *testing.T) {
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	ps, err := ParseFeed([]byte(goodFeed), "EUR", at)
	if err != nil || len(ps) != 2 || ps[0].Value != 0.231 || !ps[1].Export || ps[1].Value != -0.01 || !ps[0].Fetched.Equal(at) {
		t.Fatalf("%+v %v", ps, err)
	}
	for _, c := range []struct{ in, want string }{
		{`{"prices":[{"start":"2026-11-21T00:00:00Z","end":"2026-11-21T00:15:00Z"}]}`, "prices[0].value is required"},
		{`{"prices":[{"start":"2026-11-21T00:00:00Z","end":"2026-11-21T00:00:30Z","value":1}]}`, "1 minute to 1 day"},
		{`{"prices":[{"end":"2026-11-21T00:00:30Z","value":1}]}`, "start and end are required"},
		{`{"prices":[{"start":"2026-11-21T00:00:00Z","end":"2026-11-21T00:15:00Z","value":1e9}]}`, "out of range"},
		{`{"currency":"CNY","prices":[]}`, "currency"},
		{`{"prices":[],"extra":1}`, "unknown field"},
		{`{"prices":[]} {}`, "trailing data"},
		{`[`, "price feed"},
	} {
		if _, err := ParseFeed([]byte(c.in), "EUR", at); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}

const feedTariff = `tariff:
  timezone: Europe/Berlin
  currency: EUR
  import:
    dynamic:
      provider: http
      params: {url: "%s"}
      fallback: {fixed: 0.30}
`

func TestFeedFetchKeepsLastGood(t *testing.T) {
	body := goodFeed
	status := 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	tf, err := tariff.Parse([]byte(strings.Replace(feedTariff, "%s", srv.URL, 1)))
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktest.New(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	f := NewFeed(clk, srv.Client(), func() *tariff.Tariff { return tf }, nil)
	u, _, cur := f.config()
	if u != srv.URL || cur != "EUR" {
		t.Fatalf("config %q %q", u, cur)
	}
	ctx := context.Background()
	if err := f.Fetch(ctx, u, cur); err != nil || len(f.Prices()) != 2 {
		t.Fatalf("fetch: %v %v", err, f.Prices())
	}
	// The tariff prices the slot from the feed, and falls back outside it.
	slots, err := tf.Slots(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC), f.Prices())
	if err != nil || len(slots) < 2 || slots[0].Import != 0.231 || slots[1].Import != 0.30 {
		t.Fatalf("slots: %+v %v", slots, err)
	}
	status, body = 500, "down"
	if err := f.Fetch(ctx, u, cur); err == nil || len(f.Prices()) != 2 {
		t.Fatalf("failed fetch dropped the prices: %v %v", err, f.Prices())
	}
	status, body = 200, `{"prices":[{"start":"x"}]}`
	if err := f.Fetch(ctx, u, cur); err == nil || len(f.Prices()) != 2 {
		t.Fatalf("malformed feed replaced the prices: %v", err)
	}
	if _, _, err := f.Status(); err == nil {
		t.Fatal("status hides the last error")
	}
	if err := f.Fetch(ctx, "http://prices.example/x", cur); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("plain http to a non-loopback host: %v", err)
	}
}

func FuzzParseFeed(f *testing.F) {
	f.Add([]byte(goodFeed))
	f.Add([]byte(`{"prices":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := ParseFeed(b, "EUR", time.Unix(0, 0))
		if err == nil {
			for _, p := range ps {
				if !p.End.After(p.Start) {
					t.Fatalf("accepted an empty price %+v", p)
				}
			}
		}
	})
}
