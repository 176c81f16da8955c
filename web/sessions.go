package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Session limits. Sessions live in memory only: a restart (a firmware
// update, a power cut) logs everyone out, and nothing secret is on flash.
const (
	SessionCookie  = "gwd_session"
	SessionIdle    = 7 * 24 * time.Hour  // logged out after a week unused
	SessionMaxAge  = 30 * 24 * time.Hour // and after 30 days in any case
	MaxSessions    = 256                 // the oldest is dropped beyond this
	sessionIDBytes = 32
)

type session struct {
	user    string
	csrf    string
	created time.Time
	seen    time.Time
}

// sessions maps the SHA-256 of a session id to the session, so a memory
// dump or timing of map lookups reveals no usable id.
type sessions struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[[sha256.Size]byte]*session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: make(map[[sha256.Size]byte]*session)}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for user and returns its id.
func (s *sessions) create(user string) (id string, sess session) {
	id = randomToken(sessionIDBytes)
	now := s.now()
	ns := &session{user: user, csrf: randomToken(24), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	if len(s.m) >= MaxSessions {
		type aged struct {
			k [sha256.Size]byte
			t time.Time
		}
		all := make([]aged, 0, len(s.m))
		for k, v := range s.m {
			all = append(all, aged{k, v.seen})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
		for _, a := range all[:len(s.m)-MaxSessions+1] {
			delete(s.m, a.k)
		}
	}
	s.m[sha256.Sum256([]byte(id))] = ns
	return id, *ns
}

// get returns the live session of id and marks it used.
func (s *sessions) get(id string) (session, bool) {
	if id == "" {
		return session{}, false
	}
	k := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return session{}, false
	}
	if now.Sub(v.seen) > SessionIdle || now.Sub(v.created) > SessionMaxAge {
		delete(s.m, k)
		return session{}, false
	}
	v.seen = now
	return *v, true
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
}

// dropUser ends every session of user except keepID's.
func (s *sessions) dropUser(user, keepID string) {
	keep := sha256.Sum256([]byte(keepID))
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if v.user == user && (keepID == "" || k != keep) {
			delete(s.m, k)
		}
	}
}

func (s *sessions) expireLocked(now time.Time) {
	for k, v := range s.m {
		if now.Sub(v.seen) > SessionIdle || now.Sub(v.created) > SessionMaxAge {
			delete(s.m, k)
		}
	}
}

// Login throttling: after LoginFreeFailures failures from one client, each
// further failure locks that client out, LockoutBase doubling up to
// LockoutMax; a quiet LoginForget forgets the client.
const (
	LoginFreeFailures = 5
	LockoutBase       = 30 * time.Second
	LockoutMax        = 15 * time.Minute
	LoginForget       = time.Hour
	maxThrottled      = 4096
)

type throttle struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, m: make(map[string]*failures)}
}

// clientKey is the client's address; IPv6 clients are grouped by /64,
// since one host usually owns a whole /64.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// blocked returns how long client must still wait, 0 if it may try.
func (t *throttle) blocked(client string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.m[client]
	if !ok {
		return 0
	}
	if d := f.until.Sub(t.now()); d > 0 {
		return d
	}
	return 0
}

// fail records a failed attempt and returns the lockout it starts (0 if
// none yet).
func (t *throttle) fail(client string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.m[client]
	if ok && now.Sub(f.last) > LoginForget {
		f.n = 0
	}
	if !ok {
		if len(t.m) >= maxThrottled {
			t.pruneLocked(now)
		}
		f = &failures{}
		t.m[client] = f
	}
	f.n++
	f.last = now
	if f.n < LoginFreeFailures {
		return 0
	}
	d := LockoutBase
	for i := LoginFreeFailures; i < f.n && d < LockoutMax; i++ {
		d *= 2
	}
	d = min(d, LockoutMax)
	f.until = now.Add(d)
	return d
}

func (t *throttle) succeed(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, client)
}

func (t *throttle) pruneLocked(now time.Time) {
	for k, f := range t.m {
		if now.Sub(f.last) > LoginForget && now.After(f.until) {
			delete(t.m, k)
		}
	}
	// Still full (an attack from many addresses): forget the oldest half
	// rather than grow without bound.
	if len(t.m) >= maxThrottled {
		type aged struct {
			k string
			t time.Time
		}
		all := make([]aged, 0, len(t.m))
		for k, f := range t.m {
			all = append(all, aged{k, f.last})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
		for _, a := range all[:len(all)/2] {
			delete(t.m, a.k)
		}
	}
}
