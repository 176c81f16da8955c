package dr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/tariff"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/internal/loopback"
)

// Feed fetches dynamic prices from an HTTP JSON feed, for tariffs whose
// dynamic provider is "http":
//
//	dynamic:
//	  provider: http
//	  params: {url: "https://prices.example/day-ahead.json", interval: "1h"}
//	  fallback: {fixed: 0.30}
//
// The feed answers GET with
//
//	{"currency": "EUR",
//	 "prices": [{"start": "2026-11-21T00:00:00Z", "end": "2026-11-21T00:15:00Z",
//	             "value": 0.231, "export": false}, ...]}
//
// value is the base energy price per kWh (the tariff adds charges and
// tax); export marks feed-in prices; at most MaxFeedPrices entries, each
// 1 minute to 1 day long; the body is at most MaxFeedBytes. The currency,
// when given, must match the tariff's. The feed is fetched every interval
// (default 1 h, 5 min to 24 h). A failed fetch keeps the last good prices;
// where no price covers a slot the tariff's fallback prices it, so stale
// or missing data falls back as the tariff says. URLs are https://, or
// http:// on a loopback host.
type Feed struct {
	clk    energy.Clock
	client *http.Client
	tariff func() *tariff.Tariff
	log    *slog.Logger

	mu      sync.Mutex
	prices  []tariff.Price
	url     string
	fetched time.Time
	lastErr error
}

// Bounds of the price feed.
const (
	MaxFeedBytes  = 1 << 20
	MaxFeedPrices = 20000
	feedTimeout   = 15 * time.Second
)

// NewFeed returns a feed that follows the tariff t returns.
func NewFeed(clk energy.Clock, client *http.Client, t func() *tariff.Tariff, log *slog.Logger) *Feed {
	if client == nil {
		client = &http.Client{Timeout: feedTimeout}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{clk: clk, client: client, tariff: t, log: log}
}

// Prices returns the last good prices.
func (f *Feed) Prices() []tariff.Price {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tariff.Price(nil), f.prices...)
}

// Status is the URL in use, the last good fetch and the last error.
func (f *Feed) Status() (url string, fetched time.Time, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.url, f.fetched, f.lastErr
}

func (f *Feed) config() (u string, every time.Duration, currency string) {
	t := f.tariff()
	if t == nil {
		return "", 0, ""
	}
	every = time.Hour
	for _, exp := range []bool{false, true} {
		fd := t.Feed(exp)
		if fd == nil || fd.Provider != "http" || fd.Params["url"] == "" {
			continue
		}
		if s := fd.Params["interval"]; s != "" {
			if d, err := time.ParseDuration(s); err == nil && d >= 5*time.Minute && d <= 24*time.Hour {
				every = d
			}
		}
		return fd.Params["url"], every, t.Currency()
	}
	return "", 0, ""
}

// Run fetches on schedule until ctx ends.
func (f *Feed) Run(ctx context.Context) error {
	for {
		wait := time.Minute
		if u, every, cur := f.config(); u != "" {
			f.mu.Lock()
			due := u != f.url || f.fetched.IsZero() || f.clk.Now().Sub(f.fetched) >= every
			f.mu.Unlock()
			if due {
				if err := f.Fetch(ctx, u, cur); err != nil {
					f.log.Warn("dr: price feed", "url", u, "err", err)
				}
			}
		}
		t := f.clk.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

type feedDoc struct {
	Currency string `json:"currency"`
	Prices   []struct {
		Start  time.Time `json:"start"`
		End    time.Time `json:"end"`
		Value  *float64  `json:"value"`
		Export bool      `json:"export"`
	} `json:"prices"`
}

// Fetch reads the feed at u once and keeps its prices when they are valid.
func (f *Feed) Fetch(ctx context.Context, u, currency string) error {
	err := f.fetch(ctx, u, currency)
	f.mu.Lock()
	f.lastErr = err
	if u != f.url {
		f.url = u
		if err != nil {
			f.prices = nil
		}
	}
	f.mu.Unlock()
	return err
}

func (f *Feed) fetch(ctx context.Context, u, currency string) error {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && !(pu.Scheme == "http" && loopback.Host(pu.Hostname()))) {
		return fmt.Errorf("dr: price feed %q: want an https:// URL (http:// only on loopback)", u)
	}
	ctx, cancel := context.WithTimeout(ctx, feedTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("dr: price feed: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("dr: price feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dr: price feed: HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxFeedBytes+1))
	if err != nil {
		return fmt.Errorf("dr: price feed: read: %w", err)
	}
	prices, err := ParseFeed(body, currency, f.clk.Now())
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.prices, f.fetched = prices, f.clk.Now()
	f.mu.Unlock()
	return nil
}

// ParseFeed decodes a price feed document (see [Feed]) strictly; fetched
// stamps the prices. currency "" accepts any.
func ParseFeed(body []byte, currency string, fetched time.Time) ([]tariff.Price, error) {
	if len(body) > MaxFeedBytes {
		return nil, fmt.Errorf("dr: price feed: body larger than %d bytes", MaxFeedBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var doc feedDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("dr: price feed: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("dr: price feed: trailing data after the document")
	}
	if doc.Currency != "" && currency != "" && doc.Currency != currency {
		return nil, fmt.Errorf("dr: price feed: currency %q, the tariff's is %q", doc.Currency, currency)
	}
	if len(doc.Prices) > MaxFeedPrices {
		return nil, fmt.Errorf("dr: price feed: %d prices, at most %d", len(doc.Prices), MaxFeedPrices)
	}
	out := make([]tariff.Price, 0, len(doc.Prices))
	for i, p := range doc.Prices {
		switch d := p.End.Sub(p.Start); {
		case p.Start.IsZero() || p.End.IsZero():
			return nil, fmt.Errorf("dr: price feed: prices[%d]: start and end are required", i)
		case d < time.Minute || d > 24*time.Hour:
			return nil, fmt.Errorf("dr: price feed: prices[%d]: must last 1 minute to 1 day, not %s", i, d)
		case p.Value == nil:
			return nil, fmt.Errorf("dr: price feed: prices[%d].value is required", i)
		case math.IsNaN(*p.Value) || math.IsInf(*p.Value, 0) || math.Abs(*p.Value) > 1000:
			return nil, fmt.Errorf("dr: price feed: prices[%d].value %v out of range", i, *p.Value)
		}
		out = append(out, tariff.Price{Start: p.Start, End: p.End, Value: *p.Value, Export: p.Export, Fetched: fetched})
	}
	return out, nil
}
