package openadr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/internal/loopback"
)

// Limits and defaults of the VEN.
const (
	// MaxBodyBytes bounds every response body the VEN reads (after gzip
	// decoding); a larger one fails the request with ErrBodyTooLarge.
	MaxBodyBytes = 4 << 20
	// DefaultPoll is the polling interval when Config.Poll is 0.
	DefaultPoll = 30 * time.Second
	// MaxBackoff caps the wait between polls while the VTN fails.
	MaxBackoff = 10 * time.Minute
	// RequestTimeout bounds each HTTP request.
	RequestTimeout = 10 * time.Second
	// DefaultRetention is how long ended and cancelled events stay in
	// Events when Config.Retention is 0.
	DefaultRetention = 7 * 24 * time.Hour
	// PageSize is the limit asked for on each page (the spec's maximum).
	PageSize = 50
	// MaxObjects bounds the programs and the events read in one poll.
	MaxObjects = 2000
)

// Config configures a VEN. Only URL and VENName are required.
type Config struct {
	// URL is the VTN's base URL, e.g. https://vtn.example/openadr3/3.0.1:
	// https://, or http:// only when the host is a loopback address.
	URL string
	// ClientID and ClientSecret are the OAuth2 client credentials; both
	// empty for a non-authenticating VTN (no token is sent). The secret
	// is never logged.
	ClientID, ClientSecret string
	// VENName is this gateway's name at the VTN: clientName of reports
	// and, with TargetFilter, the target asked for. 1 to 128 characters.
	VENName string
	// TargetFilter asks the VTN for the events targeted at VENName only
	// (3.0.1 targetType=VEN_NAME&targetValues=..., 3.1 targets=...).
	// Off by default: a VTN that filters strictly would hide events
	// targeted at groups or at nobody. The VEN itself never filters.
	TargetFilter bool
	// Poll is the polling interval, jittered by ±10%. 0: DefaultPoll;
	// at least 1s.
	Poll time.Duration
	// Version is the wire version; "" or "auto" detects it on the first
	// poll: 3.1 if GET /auth/server answers 200 with a tokenURL, else
	// 3.0.1.
	Version Version
	// HTTP is the client for every request; its transport carries the
	// TLS configuration (the CA pool for a private VTN). nil: a client
	// with the system roots and TLS ≥ 1.2. Each request is bounded by
	// RequestTimeout on top of the client's own timeout.
	HTTP *http.Client
	// Clock is the time source; nil: the system clock.
	Clock energy.Clock
	// Seed makes randomizeStart offsets and poll jitter specific to this
	// VEN (give each gateway its own, e.g. from its serial number).
	Seed uint64
	// Reports supplies report values; nil: the VEN posts no interval
	// reports (opt-out reports are still posted).
	Reports ReportSource
	// Retention is how long events stay in Events after they end or are
	// cancelled. 0: DefaultRetention.
	Retention time.Duration
}

// VEN is an OpenADR 3 client: it polls a VTN, keeps the events it knows
// (also while the VTN is unreachable), posts reports and records
// opt-outs. Create one with New; all methods are safe for concurrent use.
type VEN struct {
	cfg     Config
	log     *slog.Logger
	clock   energy.Clock
	hc      *http.Client
	base    *url.URL
	changed chan struct{}

	pollMu sync.Mutex // one poll (and report flush) at a time

	authMu   sync.Mutex // version detection and the token
	version  Version
	tokenURL *url.URL
	tok      string
	tokRenew time.Time // zero: no known expiry

	mu        sync.Mutex
	programs  map[string]Program
	events    map[string]*record
	optOut    map[string]bool
	warned    map[string]uint64 // malformed object key -> fingerprint warned about
	reachable bool
	lastErr   error
	since     time.Time
	failures  int
	nextPoll  time.Time
	rng       *rand.Rand
	queue     []queued
	seq       uint64
}

// record is the VEN's state of one event.
type record struct {
	ev          Event
	modKey      string    // modificationDateTime as sent (or the fingerprint)
	seen        time.Time // first seen in this version: the "now" anchor
	first       time.Time // first seen at all: earlier intervals are not reported
	gone        bool      // no longer listed by the VTN
	cancelledAt time.Time
	reported    map[reportKey]bool
}

// New checks cfg and returns a VEN; it does no I/O. log may be nil.
func New(cfg Config, log *slog.Logger) (*VEN, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("openadr: VTN URL must be https://host/..., not %q", cfg.URL)
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("openadr: VTN URL must not carry credentials, a query or a fragment")
	}
	if (cfg.ClientID == "") != (cfg.ClientSecret == "") {
		return nil, errors.New("openadr: client id and secret go together (both empty: no authentication)")
	}
	if cfg.VENName == "" || len(cfg.VENName) > 128 {
		return nil, errors.New("openadr: VEN name must be 1 to 128 characters")
	}
	switch {
	case cfg.Poll == 0:
		cfg.Poll = DefaultPoll
	case cfg.Poll < time.Second:
		return nil, fmt.Errorf("openadr: poll interval %s is below 1s", cfg.Poll)
	}
	if cfg.Version, err = ParseVersion(string(cfg.Version)); err != nil {
		return nil, err
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Clock == nil {
		cfg.Clock = energy.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTP
	if hc == nil {
		tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			tr = dt.Clone()
		}
		tr.TLSClientConfig = defaultTLS()
		hc = &http.Client{Transport: tr, Timeout: RequestTimeout}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return &VEN{
		cfg:      cfg,
		log:      log,
		clock:    cfg.Clock,
		hc:       hc,
		base:     u,
		changed:  make(chan struct{}, 1),
		version:  cfg.Version,
		programs: map[string]Program{},
		events:   map[string]*record{},
		optOut:   map[string]bool{},
		warned:   map[string]uint64{},
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x6f70656e616472)),
	}, nil
}

// checkScheme allows http only for a loopback host.
func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback.Host(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("openadr: plain http:// is allowed only for a loopback host, not %q", u.Host)
	}
	return fmt.Errorf("openadr: URL scheme must be https, not %q", u.Scheme)
}

// Changed is signalled (capacity 1, never blocking the VEN) whenever the
// event set or an event changed, or the opt-outs did. Read Events then.
func (v *VEN) Changed() <-chan struct{} { return v.changed }

func (v *VEN) signal() {
	select {
	case v.changed <- struct{}{}:
	default:
	}
}

// Version returns the wire version in use ("" until detected).
func (v *VEN) Version() Version {
	v.authMu.Lock()
	defer v.authMu.Unlock()
	return v.version
}

// Health reports whether the last poll succeeded, since when that state
// holds, and the error if not. Before the first poll it returns (false,
// zero, nil): raise a vtn_unreachable condition only when lastErr is not
// nil.
func (v *VEN) Health() (reachable bool, since time.Time, lastErr error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.reachable, v.since, v.lastErr
}

// NextPoll returns when Run polls next: Poll (jittered) after a good
// poll, an exponential backoff up to MaxBackoff after failures.
func (v *VEN) NextPoll() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.nextPoll
}

// Events returns the known events sorted by Start then ID: the VTN's
// current ones, cancelled ones and those that ended, until Retention
// after their end or cancellation. They are kept while the VTN is
// unreachable. The events share memory with the VEN: treat them as
// read-only.
func (v *VEN) Events() []Event {
	now := v.clock.Now()
	v.mu.Lock()
	out := make([]Event, 0, len(v.events))
	for _, r := range v.events {
		if !v.expired(r, now) {
			out = append(out, r.ev)
		}
	}
	v.mu.Unlock()
	slices.SortFunc(out, func(a, b Event) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// expired: the event ended or was cancelled more than Retention ago.
func (v *VEN) expired(r *record, now time.Time) bool {
	end := r.ev.End
	if r.ev.Cancelled {
		end = r.cancelledAt
	}
	return !end.IsZero() && now.Sub(end) > v.cfg.Retention
}

// Run polls until ctx is done, then returns nil. Errors are reported by
// Health and logged once per outage.
func (v *VEN) Run(ctx context.Context) error {
	for {
		_ = v.Poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		t := v.clock.NewTimer(v.NextPoll().Sub(v.clock.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}

// Poll reads programs and events from the VTN once and applies them, then
// posts due reports. A failed poll changes no event: nothing of a
// response is acted on unless every request of the poll succeeded.
func (v *VEN) Poll(ctx context.Context) error {
	v.pollMu.Lock()
	defer v.pollMu.Unlock()
	now := v.clock.Now()
	ver, progs, evs, err := v.fetch(ctx)
	if err != nil && ctx.Err() != nil {
		return err // shutting down: not a VTN failure
	}
	if err == nil {
		v.apply(ver, progs, evs, now)
	}
	v.finish(now, err)
	v.collectReports(now)
	if err == nil {
		v.flushReports(ctx)
	}
	v.purge(now)
	return err
}

// fetch reads every page of programs and events.
func (v *VEN) fetch(ctx context.Context) (Version, []json.RawMessage, []json.RawMessage, error) {
	ver, err := v.wireVersion(ctx)
	if err != nil {
		return "", nil, nil, err
	}
	progs, err := v.list(ctx, "programs", url.Values{})
	if err != nil {
		return "", nil, nil, err
	}
	q := url.Values{}
	if v.cfg.TargetFilter {
		if ver == V31 {
			q.Set("targets", v.cfg.VENName)
		} else {
			q.Set("targetType", "VEN_NAME")
			q.Set("targetValues", v.cfg.VENName)
		}
	}
	evs, err := v.list(ctx, "events", q)
	if err != nil {
		return "", nil, nil, err
	}
	return ver, progs, evs, nil
}

// list GETs every page of a collection (skip/limit) until a short page,
// or a page of ids already seen (a VTN that ignores skip).
func (v *VEN) list(ctx context.Context, path string, q url.Values) ([]json.RawMessage, error) {
	var all []json.RawMessage
	seen := map[string]bool{}
	for skip := 0; ; skip += PageSize {
		q.Set("skip", fmt.Sprint(skip))
		q.Set("limit", fmt.Sprint(PageSize))
		body, err := v.api(ctx, http.MethodGet, path, q, nil)
		if err != nil {
			return nil, err
		}
		var page []json.RawMessage
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, fmt.Errorf("openadr: GET /%s: response is not a JSON array", path)
		}
		fresh := 0
		for _, raw := range page {
			if id := peekEvent(raw).ID; id != "" {
				if seen[id] {
					continue
				}
				seen[id] = true
			}
			fresh++
			all = append(all, raw)
		}
		if len(all) > MaxObjects {
			return nil, fmt.Errorf("openadr: GET /%s: more than %d objects", path, MaxObjects)
		}
		if len(page) < PageSize || fresh == 0 {
			return all, nil
		}
	}
}

// apply merges one successful poll into the known events.
func (v *VEN) apply(ver Version, rawProgs, rawEvs []json.RawMessage, now time.Time) {
	progs := make(map[string]Program, len(rawProgs))
	for _, raw := range rawProgs {
		p, err := DecodeProgram(ver, raw)
		if err != nil {
			v.warnOnce("program:"+peekEvent(raw).ID, raw, "openadr: ignoring malformed program", err)
			continue
		}
		progs[p.ID] = p
	}

	v.mu.Lock()
	changed := false
	listed := make(map[string]bool, len(rawEvs))  // ids whose record stays current
	present := make(map[string]bool, len(rawEvs)) // every id in the listing
	for _, raw := range rawEvs {
		k := peekEvent(raw)
		present[k.ID] = true
		if k.ID != "" && listed[k.ID] {
			continue
		}
		fp := fingerprint(raw)
		modKey := k.Modified
		if modKey == "" {
			modKey = fmt.Sprint(fp)
		}
		rec := v.events[k.ID]
		seen := now
		if rec != nil && rec.modKey == modKey {
			seen = rec.seen
		}
		opt := DecodeOptions{Now: now, Seen: seen, Seed: v.cfg.Seed}
		if p, ok := progs[k.ProgramID]; ok {
			opt.Program = &p
		}
		ev, err := DecodeEvent(ver, raw, opt)
		if err != nil {
			key := "event:" + k.ID
			if k.ID == "" {
				key = fmt.Sprintf("event:#%x", fp)
			}
			v.warnOnceLocked(key, fp, "openadr: skipping malformed event", err)
			if rec != nil {
				listed[k.ID] = true // keep its last good version
			}
			continue
		}
		delete(v.warned, "event:"+ev.ID)
		listed[ev.ID] = true
		if rec == nil {
			rec = &record{first: now, reported: map[reportKey]bool{}}
			v.events[ev.ID] = rec
			changed = true
		}
		rec.gone = false
		if ev.Cancelled {
			if len(ev.Intervals) == 0 && len(rec.ev.Intervals) > 0 {
				// Keep what was known, for the UI.
				ev.Intervals, ev.Start, ev.End = rec.ev.Intervals, rec.ev.Start, rec.ev.End
			}
			if rec.cancelledAt.IsZero() {
				rec.cancelledAt = now
			}
		} else {
			rec.cancelledAt = time.Time{}
		}
		if !reflect.DeepEqual(rec.ev, ev) {
			rec.ev = ev
			changed = true
		}
		rec.modKey, rec.seen = modKey, seen
	}
	for id, rec := range v.events {
		if listed[id] || rec.gone {
			continue
		}
		rec.gone = true
		if !rec.ev.Cancelled && rec.ev.StatusAt(now) != StatusCompleted {
			ev := rec.ev
			ev.Cancelled = true
			rec.ev, rec.cancelledAt = ev, now
			changed = true
		}
	}
	for key := range v.warned {
		if id, ok := strings.CutPrefix(key, "event:"); ok && !strings.HasPrefix(id, "#") && !present[id] {
			delete(v.warned, key)
		}
	}
	v.programs = progs
	v.mu.Unlock()
	if changed {
		v.signal()
	}
}

// warnOnce logs a malformed object once per version of it.
func (v *VEN) warnOnce(key string, raw []byte, msg string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.warnOnceLocked(key, fingerprint(raw), msg, err)
}

func (v *VEN) warnOnceLocked(key string, fp uint64, msg string, err error) {
	if f, ok := v.warned[key]; ok && f == fp {
		return
	}
	if len(v.warned) >= 2*MaxObjects {
		clear(v.warned)
	}
	v.warned[key] = fp
	v.log.Warn(msg, "err", err)
}

func fingerprint(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// finish records the outcome of a poll: health and the next poll time.
func (v *VEN) finish(now time.Time, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err == nil {
		if !v.reachable {
			v.since = now
			if v.lastErr != nil {
				v.log.Info("openadr: VTN reachable again", "url", v.base.Redacted())
			}
		}
		v.reachable, v.lastErr, v.failures = true, nil, 0
		j := time.Duration(v.rng.Int64N(int64(v.cfg.Poll)/5+1)) - v.cfg.Poll/10
		v.nextPoll = now.Add(v.cfg.Poll + j)
		return
	}
	if v.reachable || v.lastErr == nil {
		v.since = now
		v.log.Warn("openadr: VTN unreachable; known events keep running", "url", v.base.Redacted(), "err", err)
	} else {
		v.log.Debug("openadr: poll failed", "err", err)
	}
	v.reachable, v.lastErr = false, err
	v.failures++
	b := MaxBackoff
	if v.failures <= 20 {
		b = min(v.cfg.Poll<<(v.failures-1), MaxBackoff)
	}
	b -= time.Duration(v.rng.Int64N(int64(b)/5 + 1))
	v.nextPoll = now.Add(b)
}

// purge forgets events the VTN no longer lists once they are past
// retention, with their opt-outs and report bookkeeping.
func (v *VEN) purge(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, r := range v.events {
		if r.gone && v.expired(r, now) {
			delete(v.events, id)
			delete(v.optOut, id)
			continue
		}
		for k := range r.reported {
			if now.Sub(time.Unix(0, k.start)) > v.cfg.Retention+24*time.Hour {
				delete(r.reported, k)
			}
		}
	}
}

// SetOptedOut replaces the set of opted-out events (to restore it after
// a restart; the VEN keeps it in memory only).
func (v *VEN) SetOptedOut(ids []string) {
	v.mu.Lock()
	clear(v.optOut)
	for _, id := range ids {
		v.optOut[id] = true
	}
	v.mu.Unlock()
	v.signal()
}

// OptedOut returns the opted-out event ids, sorted (to persist them).
func (v *VEN) OptedOut() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(v.optOut))
	for id := range v.optOut {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// IsOptedOut reports whether the household opted out of the event: the
// skip function for Resolve.
func (v *VEN) IsOptedOut(eventID string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.optOut[eventID]
}
