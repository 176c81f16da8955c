package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKDF keeps argon2id cheap under the race detector; production
// parameters are in DefaultKDF.
var testKDF = KDF{Time: 1, Memory: 64, Threads: 1}

// fakeNow is a settable clock for sessions and lockouts.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

type authEnv struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	users  *Users
	tokens *Tokens
	clock  *fakeNow
	dir    string
}

func newAuthEnv(t *testing.T, opts Options) *authEnv {
	t.Helper()
	dir := t.TempDir()
	users, err := OpenUsers(dir, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := OpenTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeNow{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	opts.Users, opts.Tokens, opts.Now = users, tokens, clock.Now
	srv := New(opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &authEnv{t: t, srv: srv, ts: ts, users: users, tokens: tokens, clock: clock, dir: dir}
}

// client is a browser-like client: a cookie jar, our Origin, the CSRF
// token of its session.
type client struct {
	e      *authEnv
	hc     *http.Client
	csrf   string
	origin string
	lang   string
}

func (e *authEnv) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar}, origin: e.ts.URL}
}

func (c *client) do(method, path string, body any, hdr ...string) response {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.e.ts.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if mutating(method) {
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.csrf != "" {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{resp.StatusCode, resp.Header, string(b)}
	var s sessionJSON
	if resp.StatusCode == 200 && json.Unmarshal(b, &s) == nil && s.CSRF != "" {
		c.csrf = s.CSRF
	}
	return r
}

func (c *client) login(user, pw string) response {
	c.e.t.Helper()
	return c.do("POST", "/api/v1/login", map[string]string{"user": user, "password": pw})
}

func doLang(t *testing.T, url, token, lang string) response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", lang)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func errCode(r response) string {
	var e apiError
	_ = json.Unmarshal([]byte(r.body), &e)
	return e.Code
}

func TestSetupFlow(t *testing.T) {
	e := newAuthEnv(t, Options{})
	tok := e.srv.SetupToken()
	if len(tok) < 30 {
		t.Fatalf("setup token %q too short", tok)
	}
	c := e.client()
	if r := c.do("GET", "/api/v1/session", nil); !strings.Contains(r.body, `"setup_required":true`) {
		t.Fatalf("session before setup: %s", r.body)
	}
	if r := c.do("POST", "/api/v1/setup", map[string]string{"token": altered(tok), "user": "anna", "password": "correct horse battery"}); r.code != 403 || errCode(r) != "setup_token" {
		t.Fatalf("wrong setup token: %d %s", r.code, r.body)
	}
	if r := c.do("POST", "/api/v1/setup", map[string]string{"token": tok, "user": "anna", "password": "short"}); r.code != 400 || errCode(r) != "bad_password" || !strings.Contains(r.body, `"param":"password"`) {
		t.Fatalf("short password: %d %s", r.code, r.body)
	}
	if e.users.Count() != 0 {
		t.Fatal("a refused setup created a user")
	}
	r := c.do("POST", "/api/v1/setup", map[string]string{"token": tok, "user": "anna", "password": "correct horse battery"})
	if r.code != 200 || !strings.Contains(r.body, `"role":"admin"`) {
		t.Fatalf("setup: %d %s", r.code, r.body)
	}
	// The session works at once; the token is void.
	if r := c.do("GET", "/api/v1/users", nil); r.code != 200 || !strings.Contains(r.body, `"anna"`) {
		t.Fatalf("users after setup: %d %s", r.code, r.body)
	}
	if e.srv.SetupToken() != "" {
		t.Fatal("setup token still set")
	}
	other := e.client()
	if r := other.do("POST", "/api/v1/setup", map[string]string{"token": tok, "user": "mallory", "password": "correct horse battery"}); r.code != 409 {
		t.Fatalf("second setup: %d %s", r.code, r.body)
	}
	// The stored file holds an argon2id hash, never the password.
	data, err := os.ReadFile(filepath.Join(e.dir, UsersFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("correct horse")) || !bytes.Contains(data, []byte("$argon2id$v=19$")) {
		t.Fatalf("users.json: %s", data)
	}
	if st, _ := os.Stat(filepath.Join(e.dir, UsersFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("users.json mode %v", st.Mode())
	}
	// A daemon restarted with a user offers no setup.
	if New(Options{Users: e.users}).SetupToken() != "" {
		t.Error("setup offered with a user present")
	}
}

func TestLoginLogoutAndCookie(t *testing.T) {
	e := newAuthEnv(t, Options{})
	if err := e.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	if r := c.do("GET", "/api/v1/meter", nil); r.code != 401 {
		t.Fatalf("meter before login: %d", r.code)
	}
	r := c.login("anna", "correct horse battery")
	if r.code != 200 {
		t.Fatalf("login: %d %s", r.code, r.body)
	}
	ck := r.header.Get("Set-Cookie")
	for _, want := range []string{SessionCookie + "=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("cookie %q Secure on plain HTTP", ck)
	}
	if r := c.do("GET", "/api/v1/meter", nil); r.code != 503 { // authenticated; no meter in this server
		t.Fatalf("meter after login: %d %s", r.code, r.body)
	}
	if r := c.do("POST", "/api/v1/logout", nil); r.code != 204 {
		t.Fatalf("logout: %d %s", r.code, r.body)
	}
	if r := c.do("GET", "/api/v1/meter", nil); r.code != 401 {
		t.Fatalf("meter after logout: %d", r.code)
	}
	// Idle sessions expire.
	c.login("anna", "correct horse battery")
	e.clock.Advance(SessionIdle + time.Minute)
	if r := c.do("GET", "/api/v1/events", nil); r.code != 401 {
		t.Fatalf("idle session: %d", r.code)
	}
	// Over TLS the cookie is Secure.
	tlsSrv := New(Options{Users: e.users})
	ts := httptest.NewTLSServer(tlsSrv.Handler())
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/login", strings.NewReader(`{"user":"anna","password":"correct horse battery"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", ts.URL)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ck := resp.Header.Get("Set-Cookie"); resp.StatusCode != 200 || !strings.Contains(ck, "Secure") {
		t.Errorf("TLS login: %d cookie %q", resp.StatusCode, ck)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no HSTS over TLS")
	}
}

func TestLoginLockout(t *testing.T) {
	e := newAuthEnv(t, Options{})
	if err := e.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	for i := 1; i < LoginFreeFailures; i++ {
		if r := c.login("anna", "wrong password!"); r.code != 401 || errCode(r) != "bad_credentials" {
			t.Fatalf("failure %d: %d %s", i, r.code, r.body)
		}
	}
	r := c.login("anna", "wrong password!")
	if r.code != 429 || r.header.Get("Retry-After") != "30" || errCode(r) != "locked_out" {
		t.Fatalf("failure %d: %d %s (Retry-After %q)", LoginFreeFailures, r.code, r.body, r.header.Get("Retry-After"))
	}
	// Locked: even the right password is refused, in Chinese too.
	c.lang = "zh-CN"
	if r := c.login("anna", "correct horse battery"); r.code != 429 || !strings.Contains(r.body, "秒后重试") {
		t.Fatalf("locked login: %d %s", r.code, r.body)
	}
	c.lang = ""
	e.clock.Advance(31 * time.Second)
	// The next failure doubles the lockout.
	if r := c.login("anna", "wrong again!!"); r.code != 429 || r.header.Get("Retry-After") != "60" {
		t.Fatalf("second lockout: %d Retry-After %q", r.code, r.header.Get("Retry-After"))
	}
	e.clock.Advance(61 * time.Second)
	if r := c.login("anna", "correct horse battery"); r.code != 200 {
		t.Fatalf("login after lockout: %d %s", r.code, r.body)
	}
	// Unknown users fail like wrong passwords.
	if r := c.login("nobody", "correct horse battery"); r.code != 401 || errCode(r) != "bad_credentials" {
		t.Fatalf("unknown user: %d %s", r.code, r.body)
	}
	// The lockout grows to LockoutMax and no further.
	th := newThrottle(e.clock.Now)
	var d time.Duration
	for range 40 {
		d = th.fail("1.2.3.4")
	}
	if d != LockoutMax {
		t.Errorf("lockout after 40 failures = %v, want %v", d, LockoutMax)
	}
}

func TestCSRF(t *testing.T) {
	e := newAuthEnv(t, Options{})
	if err := e.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.login("anna", "correct horse battery")
	body := map[string]string{"name": "ci", "scope": "read"}
	csrf := c.csrf
	c.csrf = ""
	if r := c.do("POST", "/api/v1/tokens", body); r.code != 403 || errCode(r) != "csrf" {
		t.Fatalf("no CSRF token: %d %s", r.code, r.body)
	}
	c.csrf = altered(csrf)
	if r := c.do("POST", "/api/v1/tokens", body); r.code != 403 {
		t.Fatalf("wrong CSRF token: %d %s", r.code, r.body)
	}
	c.csrf = csrf
	c.origin = "http://evil.example"
	if r := c.do("POST", "/api/v1/tokens", body); r.code != 403 {
		t.Fatalf("foreign origin: %d %s", r.code, r.body)
	}
	c.origin = ""
	if r := c.do("POST", "/api/v1/tokens", body, "Sec-Fetch-Site", "cross-site"); r.code != 403 {
		t.Fatalf("cross-site fetch: %d %s", r.code, r.body)
	}
	// Login from another site is refused too (login CSRF).
	c2 := e.client()
	c2.origin = "http://evil.example"
	if r := c2.login("anna", "correct horse battery"); r.code != 403 {
		t.Fatalf("cross-origin login: %d %s", r.code, r.body)
	}
	// A form post (not JSON) is refused.
	c.origin = e.ts.URL
	if r := c.do("POST", "/api/v1/tokens", nil, "Content-Type", "application/x-www-form-urlencoded"); r.code != 415 {
		t.Fatalf("form post: %d %s", r.code, r.body)
	}
	if len(e.mustTokens()) != 0 {
		t.Fatal("a refused request created a token")
	}
	if r := c.do("POST", "/api/v1/tokens", body); r.code != 201 || !strings.Contains(r.body, TokenPrefix) {
		t.Fatalf("good request: %d %s", r.code, r.body)
	}
}

func (e *authEnv) mustTokens() []TokenInfo {
	l, err := e.tokens.List()
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// TestRouteTable walks every API route with every kind of caller and
// proves each route checks authentication, role and scope.
func TestRouteTable(t *testing.T) {
	e := newAuthEnv(t, Options{})
	for _, u := range []struct{ name, role string }{{"admin1", RoleAdmin}, {"viewer1", RoleViewer}} {
		if err := e.users.Add(u.name, "correct horse battery", u.role, false); err != nil {
			t.Fatal(err)
		}
	}
	readTok, _ := e.tokens.Create("reader", ScopeRead)
	ctlTok, _ := e.tokens.Create("controller", ScopeControl)
	admin, viewer := e.client(), e.client()
	admin.login("admin1", "correct horse battery")
	viewer.login("viewer1", "correct horse battery")
	anon := e.client()

	path := func(p string) string {
		p = strings.ReplaceAll(p, "{id}", "nope")
		return strings.ReplaceAll(p, "{name}", "nobody")
	}
	denied := func(r response) bool { return r.code == 401 || r.code == 403 }
	if len(e.srv.routes) < 25 {
		t.Fatalf("route table has %d routes", len(e.srv.routes))
	}
	for _, rt := range e.srv.routes {
		if rt.pattern == "/api/v1/logout" || rt.pattern == "/api/v1/stream" {
			continue // logout ends the session; the stream never ends (tested elsewhere)
		}
		p := path(rt.pattern)
		var body any
		if mutating(rt.method) {
			body = map[string]string{}
		}
		rAnon := anon.do(rt.method, p, body)
		rRead := anon.do(rt.method, p, body, "Authorization", "Bearer "+readTok)
		rCtl := anon.do(rt.method, p, body, "Authorization", "Bearer "+ctlTok)
		rBadTok := anon.do(rt.method, p, body, "Authorization", "Bearer gwd_forged")
		rViewer := viewer.do(rt.method, p, body)
		rAdmin := admin.do(rt.method, p, body)
		want := map[string][2]bool{ // caller -> {may, got}
			"anonymous":     {rt.perm == permPublic, !denied(rAnon)},
			"read token":    {rt.perm == permPublic || rt.perm == permRead, !denied(rRead)},
			"control token": {rt.perm == permPublic || rt.perm == permRead || rt.perm == permControl, !denied(rCtl)},
			"viewer":        {rt.perm != permAdmin && rt.perm != permControl, !denied(rViewer)},
			"admin":         {true, !denied(rAdmin)},
		}
		if rt.perm != permPublic {
			want["forged token"] = [2]bool{false, !denied(rBadTok)}
		}
		if rt.perm == permPublic {
			// Public routes may still refuse bad input (setup: 403 for a
			// wrong token), but never ask for a login.
			for who, r := range map[string]response{"anonymous": rAnon, "read token": rRead, "viewer": rViewer} {
				if r.code == 401 {
					t.Errorf("%s %s (public) by %s: 401", rt.method, rt.pattern, who)
				}
			}
			continue
		}
		for who, w := range want {
			if w[0] != w[1] {
				t.Errorf("%s %s (%s) by %s: allowed=%v, want %v", rt.method, rt.pattern, rt.perm, who, w[1], w[0])
			}
		}
		if !denied(rAnon) && rt.perm != permPublic {
			t.Errorf("%s %s open to anonymous: %d", rt.method, rt.pattern, rAnon.code)
		}
		// Every route answers JSON errors from the catalog.
		for _, r := range []response{rAnon, rRead, rViewer} {
			if r.code >= 400 {
				if c := errCode(r); c == "" || messages[c].en == "" {
					t.Errorf("%s %s: error %d without a catalog code: %s", rt.method, rt.pattern, r.code, r.body)
				}
			}
		}
	}
	// Mutations by a session without the CSRF token fail on every route.
	for _, rt := range e.srv.routes {
		if !mutating(rt.method) || rt.perm == permPublic {
			continue
		}
		bare := &client{e: e, hc: admin.hc, origin: e.ts.URL}
		if r := bare.do(rt.method, path(rt.pattern), map[string]string{}); r.code != 403 || errCode(r) != "csrf" {
			t.Errorf("%s %s without CSRF token: %d %s", rt.method, rt.pattern, r.code, r.body)
		}
	}
	// Unknown API paths: 401 to strangers, 404 to users; unknown methods 405.
	if r := anon.do("GET", "/api/v1/nope", nil); r.code != 401 {
		t.Errorf("unknown route, anonymous: %d", r.code)
	}
	if r := admin.do("GET", "/api/v1/nope", nil); r.code != 404 {
		t.Errorf("unknown route, admin: %d", r.code)
	}
	if r := admin.do("PATCH", "/api/v1/users", map[string]string{}); r.code != 405 || r.header.Get("Allow") == "" {
		t.Errorf("PATCH users: %d Allow %q", r.code, r.header.Get("Allow"))
	}
}

func TestUsersAdmin(t *testing.T) {
	e := newAuthEnv(t, Options{})
	if err := e.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	a := e.client()
	a.login("anna", "correct horse battery")
	cases := []struct {
		body  map[string]string
		code  int
		ecode string
	}{
		{map[string]string{"user": "bob", "password": "bob's long password", "role": "root"}, 400, "bad_role"},
		{map[string]string{"user": "bob smith", "password": "bob's long password", "role": "viewer"}, 400, "bad_user_name"},
		{map[string]string{"user": "bob", "password": "bob", "role": "viewer"}, 400, "bad_password"},
		{map[string]string{"user": "anna", "password": "another long one", "role": "viewer"}, 409, "user_exists"},
		{map[string]string{"user": "bob", "password": "bob's long password", "role": "viewer"}, 201, ""},
		{map[string]string{"user": "李雷", "password": "李雷的很长的密码密码", "role": "viewer"}, 201, ""},
	}
	for _, c := range cases {
		if r := a.do("POST", "/api/v1/users", c.body); r.code != c.code || errCode(r) != c.ecode {
			t.Errorf("add %v: %d %s", c.body, r.code, r.body)
		}
	}
	// A viewer session sees data but cannot manage users.
	b := e.client()
	if r := b.login("bob", "bob's long password"); r.code != 200 || !strings.Contains(r.body, `"role":"viewer"`) {
		t.Fatalf("bob login: %d %s", r.code, r.body)
	}
	if r := b.do("GET", "/api/v1/users", nil); r.code != 403 || errCode(r) != "forbidden" {
		t.Errorf("viewer lists users: %d", r.code)
	}
	// The last admin stays.
	if r := a.do("DELETE", "/api/v1/users/anna", nil); r.code != 409 || errCode(r) != "last_admin" {
		t.Errorf("delete last admin: %d %s", r.code, r.body)
	}
	if r := a.do("PUT", "/api/v1/users/anna", map[string]string{"role": "viewer"}); r.code != 409 {
		t.Errorf("demote last admin: %d %s", r.code, r.body)
	}
	// Promote bob: his open session gets admin rights at once.
	if r := a.do("PUT", "/api/v1/users/bob", map[string]string{"role": "admin"}); r.code != 200 {
		t.Fatalf("promote: %d %s", r.code, r.body)
	}
	if r := b.do("GET", "/api/v1/users", nil); r.code != 200 {
		t.Errorf("promoted bob lists users: %d", r.code)
	}
	// A password reset ends bob's sessions.
	if r := a.do("PUT", "/api/v1/users/bob", map[string]string{"password": "a brand new password"}); r.code != 200 {
		t.Fatalf("reset: %d %s", r.code, r.body)
	}
	if r := b.do("GET", "/api/v1/meter", nil); r.code != 401 {
		t.Errorf("bob's session after reset: %d", r.code)
	}
	// Own password: the old one must match; other sessions end.
	a2 := e.client()
	a2.login("anna", "correct horse battery")
	if r := a.do("POST", "/api/v1/session/password", map[string]string{"old": "nope nope nope", "new": "anna's new password"}); r.code != 400 || errCode(r) != "wrong_password" {
		t.Errorf("own password, wrong old: %d %s", r.code, r.body)
	}
	if r := a.do("POST", "/api/v1/session/password", map[string]string{"old": "correct horse battery", "new": "anna's new password"}); r.code != 204 {
		t.Fatalf("own password: %d %s", r.code, r.body)
	}
	if r := a2.do("GET", "/api/v1/users", nil); r.code != 401 {
		t.Errorf("other session after password change: %d", r.code)
	}
	if r := a.do("GET", "/api/v1/users", nil); r.code != 200 {
		t.Errorf("own session after password change: %d", r.code)
	}
	// Deleting a user ends her session.
	if r := a.do("DELETE", "/api/v1/users/bob", nil); r.code != 204 {
		t.Errorf("delete bob: %d %s", r.code, r.body)
	}
	if _, ok := e.users.Authenticate("bob", "a brand new password"); ok {
		t.Error("deleted user authenticates")
	}
}

func TestTokensAPI(t *testing.T) {
	e := newAuthEnv(t, Options{})
	if err := e.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	a := e.client()
	a.login("anna", "correct horse battery")
	for _, c := range []struct {
		body  map[string]string
		ecode string
	}{
		{map[string]string{"name": "bad name", "scope": "read"}, "bad_token_name"},
		{map[string]string{"name": "ok", "scope": "admin"}, "bad_scope"},
	} {
		if r := a.do("POST", "/api/v1/tokens", c.body); r.code != 400 || errCode(r) != c.ecode {
			t.Errorf("%v: %d %s", c.body, r.code, r.body)
		}
	}
	r := a.do("POST", "/api/v1/tokens", map[string]string{"name": "ha", "scope": "control"})
	var created struct {
		ID, Scope, Token string
	}
	if r.code != 201 || json.Unmarshal([]byte(r.body), &created) != nil || created.Scope != "control" {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if r := a.do("GET", "/api/v1/tokens", nil); !strings.Contains(r.body, `"scope":"control"`) || strings.Contains(r.body, created.Token) {
		t.Errorf("list: %s", r.body)
	}
	anon := e.client()
	if r := anon.do("GET", "/api/v1/events", nil, "Authorization", "Bearer "+created.Token); r.code != 200 && r.code != 503 {
		t.Errorf("token works: %d", r.code)
	}
	if r := a.do("DELETE", "/api/v1/tokens/"+created.ID, nil); r.code != 204 {
		t.Fatalf("revoke: %d %s", r.code, r.body)
	}
	if r := anon.do("GET", "/api/v1/events", nil, "Authorization", "Bearer "+created.Token); r.code != 401 {
		t.Errorf("revoked token: %d", r.code)
	}
	if r := a.do("DELETE", "/api/v1/tokens/"+created.ID, nil); r.code != 404 {
		t.Errorf("revoke twice: %d", r.code)
	}
}

func TestBadBodies(t *testing.T) {
	e := newAuthEnv(t, Options{})
	c := e.client()
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"user":"a","password":"b"} trailing`, 400},
		{`{"user":"a","pasword":"b"}`, 400},
		{`[1,2]`, 400},
		{`{"user":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413},
	} {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/login", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%.40s: %d, want %d", tc.body, resp.StatusCode, tc.code)
		}
	}
}

func TestMessageCatalog(t *testing.T) {
	for code, m := range messages {
		if m.en == "" || m.zh == "" || m.en == m.zh {
			t.Errorf("%s: en %q zh %q", code, m.en, m.zh)
		}
		if strings.Count(m.en, "%") != strings.Count(m.zh, "%") {
			t.Errorf("%s: the languages take different arguments", code)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	for al, want := range map[string]string{"": LangEN, "zh-CN,zh;q=0.9": LangZH, "en-US,zh;q=0.5": LangEN, "de-DE,zh-TW;q=0.8": LangZH, "zh;q=0,en": LangEN} {
		r.Header.Set("Accept-Language", al)
		if got := lang(r); got != want {
			t.Errorf("lang(%q) = %s, want %s", al, got, want)
		}
	}
}

func TestPHCBounds(t *testing.T) {
	u, err := OpenUsers(t.TempDir(), testKDF)
	if err != nil {
		t.Fatal(err)
	}
	h, err := u.hash("a long password")
	if err != nil {
		t.Fatal(err)
	}
	if !u.verify(h, "a long password") || u.verify(h, "a long passwore") {
		t.Fatal("verify")
	}
	for _, bad := range []string{
		"", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$", strings.Replace(h, "m=64", "m=99999999", 1),
		strings.Replace(h, "t=1", "t=0", 1), strings.Replace(h, "v=19", "v=16", 1), "$argon2i" + h[9:],
	} {
		if _, ok := parsePHC(bad); ok {
			t.Errorf("parsePHC(%q) accepted", bad)
		}
	}
}

// altered returns s with its first character changed, whatever it is (a
// fixed "x" would leave a secret that starts with "x" unchanged, one run in
// 64).
func altered(s string) string {
	if s[0] == 'x' {
		return "y" + s[1:]
	}
	return "x" + s[1:]
}
