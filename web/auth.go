package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatewayd-project/gatewayd/storage"
)

type sessionJSON struct {
	Authenticated bool   `json:"authenticated"`
	User          string `json:"user,omitempty"`
	Role          string `json:"role,omitempty"`
	CSRF          string `json:"csrf,omitempty"`
	SetupRequired bool   `json:"setup_required"`
}

func (s *Server) setupRequired() bool { return s.SetupToken() != "" }

// GET /api/v1/session: who am I (no auth needed).
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	p, _ := s.authenticate(r)
	out := sessionJSON{SetupRequired: s.setupRequired()}
	if p.user != "" {
		out.Authenticated, out.User, out.Role, out.CSRF = true, p.user, p.role, p.csrf
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u UserInfo) {
	id, sess := s.sessions.create(u.Name)
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionMaxAge / time.Second),
	})
	s.writeJSON(w, http.StatusOK, sessionJSON{Authenticated: true, User: u.Name, Role: u.Role, CSRF: sess.csrf})
}

type credentials struct {
	Token    string `json:"token,omitempty"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// credentialsIn reads the credentials of a login or setup unless the
// client is locked out (then it answers 429 itself).
func (s *Server) credentialsIn(w http.ResponseWriter, r *http.Request) (client string, c credentials, ok bool) {
	client = clientKey(r)
	if d := s.throttle.blocked(client); d > 0 {
		retryAfter(w, r, d)
		return client, c, false
	}
	return client, c, readJSON(w, r, &c)
}

// POST /api/v1/setup {token, user, password}: the first admin.
func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	if s.opts.Users == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "users")
		return
	}
	client, c, ok := s.credentialsIn(w, r)
	if !ok {
		return
	}
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.setupToken == "" {
		fail(w, r, http.StatusConflict, "setup_done", "")
		return
	}
	if len(c.Token) != len(s.setupToken) || !constantEq(c.Token, s.setupToken) {
		if d := s.throttle.fail(client); d > 0 {
			retryAfter(w, r, d)
			return
		}
		s.logEvent(storage.EventLogin, "setup", map[string]string{"result": "bad setup token", "client": client})
		fail(w, r, http.StatusForbidden, "setup_token", "token")
		return
	}
	if !s.userInputOK(w, r, c.User, c.Password) {
		return
	}
	if err := s.opts.Users.Add(c.User, c.Password, RoleAdmin, true); err != nil {
		s.userError(w, r, c.User, err)
		return
	}
	s.setupToken = "" // void: one use only
	s.throttle.succeed(client)
	s.logEvent(storage.EventConfig, "setup", map[string]string{"user": c.User, "client": client})
	u, _ := s.opts.Users.Get(c.User)
	s.startSession(w, r, u)
}

// userInputOK validates a user name and password, answering 400 itself.
func (s *Server) userInputOK(w http.ResponseWriter, r *http.Request, name, pw string) bool {
	if !ValidUserName(name) {
		fail(w, r, http.StatusBadRequest, "bad_user_name", "user")
		return false
	}
	if !ValidPassword(name, pw) {
		fail(w, r, http.StatusBadRequest, "bad_password", "password", MinPassword, MaxPassword)
		return false
	}
	return true
}

func (s *Server) userError(w http.ResponseWriter, r *http.Request, name string, err error) {
	switch {
	case errors.Is(err, ErrUserName):
		fail(w, r, http.StatusBadRequest, "bad_user_name", "user")
	case errors.Is(err, ErrPassword):
		fail(w, r, http.StatusBadRequest, "bad_password", "password", MinPassword, MaxPassword)
	case errors.Is(err, ErrRole):
		fail(w, r, http.StatusBadRequest, "bad_role", "role")
	case errors.Is(err, ErrUserExists):
		fail(w, r, http.StatusConflict, "user_exists", "user", name)
	case errors.Is(err, ErrNoUser):
		fail(w, r, http.StatusNotFound, "no_user", "user", name)
	case errors.Is(err, ErrLastAdmin):
		fail(w, r, http.StatusConflict, "last_admin", "role")
	case errors.Is(err, ErrBadPassword):
		fail(w, r, http.StatusBadRequest, "wrong_password", "old")
	default:
		s.log.Error("web: users", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
	}
}

// POST /api/v1/login {user, password}.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if s.opts.Users == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "users")
		return
	}
	client, c, ok := s.credentialsIn(w, r)
	if !ok {
		return
	}
	if len(c.User) > 128 || len(c.Password) > 4*MaxPassword {
		c.Password = "" // still costs a hash below: no length oracle
	}
	u, ok := s.opts.Users.Authenticate(c.User, c.Password)
	if !ok {
		d := s.throttle.fail(client)
		details := map[string]string{"result": "failed", "client": client}
		if d > 0 {
			details["result"] = "locked out"
			details["for"] = d.String()
		}
		subject := c.User
		if !ValidUserName(subject) {
			subject = "(invalid name)"
		}
		s.logEvent(storage.EventLogin, subject, details)
		if d > 0 {
			retryAfter(w, r, d)
			return
		}
		fail(w, r, http.StatusUnauthorized, "bad_credentials", "password")
		return
	}
	s.throttle.succeed(client)
	s.logEvent(storage.EventLogin, u.Name, map[string]string{"result": "ok", "client": client})
	s.startSession(w, r, u)
}

// POST /api/v1/logout.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.sessions.delete(who(r).sessionID)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

// POST /api/v1/session/password {old, new}: a user changes her own
// password; her other sessions end.
func (s *Server) handleOwnPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Old string `json:"old"`
		New string `json:"new"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	p := who(r)
	client := clientKey(r)
	if d := s.throttle.blocked(client); d > 0 {
		retryAfter(w, r, d)
		return
	}
	if !ValidPassword(p.user, in.New) {
		fail(w, r, http.StatusBadRequest, "bad_password", "new", MinPassword, MaxPassword)
		return
	}
	if err := s.opts.Users.SetPassword(p.user, &in.Old, in.New); err != nil {
		if errors.Is(err, ErrBadPassword) {
			if d := s.throttle.fail(client); d > 0 {
				retryAfter(w, r, d)
				return
			}
		}
		s.userError(w, r, p.user, err)
		return
	}
	s.sessions.dropUser(p.user, p.sessionID)
	s.logEvent(storage.EventConfig, "password", map[string]string{"user": p.user})
	w.WriteHeader(http.StatusNoContent)
}

// GET /api/v1/users.
func (s *Server) handleUsersList(w http.ResponseWriter, r *http.Request) {
	users, err := s.opts.Users.List()
	if err != nil {
		s.userError(w, r, "", err)
		return
	}
	if users == nil {
		users = []UserInfo{}
	}
	s.writeJSON(w, http.StatusOK, struct {
		Users []UserInfo `json:"users"`
	}{users})
}

// POST /api/v1/users {user, password, role}.
func (s *Server) handleUsersAdd(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if !readJSON(w, r, &in) || !s.userInputOK(w, r, in.User, in.Password) {
		return
	}
	if err := s.opts.Users.Add(in.User, in.Password, in.Role, false); err != nil {
		s.userError(w, r, in.User, err)
		return
	}
	s.logEvent(storage.EventConfig, "user added", map[string]string{"user": in.User, "role": in.Role, "by": who(r).user})
	u, _ := s.opts.Users.Get(in.User)
	s.writeJSON(w, http.StatusCreated, u)
}

// PUT /api/v1/users/{name} {role?, password?}.
func (s *Server) handleUsersUpdate(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var in struct {
		Role     *string `json:"role"`
		Password *string `json:"password"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if _, ok := s.opts.Users.Get(name); !ok {
		fail(w, r, http.StatusNotFound, "no_user", "user", name)
		return
	}
	// Validate everything before changing anything.
	if in.Role != nil && *in.Role != RoleAdmin && *in.Role != RoleViewer {
		fail(w, r, http.StatusBadRequest, "bad_role", "role")
		return
	}
	if in.Password != nil && !ValidPassword(name, *in.Password) {
		fail(w, r, http.StatusBadRequest, "bad_password", "password", MinPassword, MaxPassword)
		return
	}
	if in.Role != nil {
		if err := s.opts.Users.SetRole(name, *in.Role); err != nil {
			s.userError(w, r, name, err)
			return
		}
		s.logEvent(storage.EventConfig, "user role", map[string]string{"user": name, "role": *in.Role, "by": who(r).user})
	}
	if in.Password != nil {
		if err := s.opts.Users.SetPassword(name, nil, *in.Password); err != nil {
			s.userError(w, r, name, err)
			return
		}
		keep := ""
		if name == who(r).user {
			keep = who(r).sessionID
		}
		s.sessions.dropUser(name, keep)
		s.logEvent(storage.EventConfig, "user password reset", map[string]string{"user": name, "by": who(r).user})
	}
	u, _ := s.opts.Users.Get(name)
	s.writeJSON(w, http.StatusOK, u)
}

// DELETE /api/v1/users/{name}.
func (s *Server) handleUsersDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.opts.Users.Delete(name); err != nil {
		s.userError(w, r, name, err)
		return
	}
	s.sessions.dropUser(name, "")
	s.logEvent(storage.EventConfig, "user deleted", map[string]string{"user": name, "by": who(r).user})
	w.WriteHeader(http.StatusNoContent)
}

// GET /api/v1/tokens.
func (s *Server) handleTokensList(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.Tokens.List()
	if err != nil {
		s.log.Error("web: tokens", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
		return
	}
	for i := range list {
		list[i].Scope = list[i].EffectiveScope()
	}
	if list == nil {
		list = []TokenInfo{}
	}
	s.writeJSON(w, http.StatusOK, struct {
		Tokens []TokenInfo `json:"tokens"`
	}{list})
}

// POST /api/v1/tokens {name, scope}: the token is in this answer only.
func (s *Server) handleTokensCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string `json:"name"`
		Scope string `json:"scope"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if s.opts.Tokens == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "tokens")
		return
	}
	tok, info, err := s.opts.Tokens.CreateInfo(in.Name, in.Scope)
	switch {
	case errors.Is(err, ErrTokenName):
		fail(w, r, http.StatusBadRequest, "bad_token_name", "name")
		return
	case errors.Is(err, ErrTokenScope):
		fail(w, r, http.StatusBadRequest, "bad_scope", "scope")
		return
	case err != nil:
		s.log.Error("web: tokens", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
		return
	}
	s.logEvent(storage.EventConfig, "token created", map[string]string{"token": info.Name, "scope": info.Scope, "by": who(r).user})
	s.writeJSON(w, http.StatusCreated, struct {
		TokenInfo
		Token string `json:"token"`
	}{info, tok})
}

// DELETE /api/v1/tokens/{id}.
func (s *Server) handleTokensRevoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.opts.Tokens == nil {
		fail(w, r, http.StatusNotFound, "no_token", "id", id)
		return
	}
	ok, err := s.opts.Tokens.Revoke(id)
	if err != nil {
		s.log.Error("web: tokens", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
		return
	}
	if !ok {
		fail(w, r, http.StatusNotFound, "no_token", "id", id)
		return
	}
	s.logEvent(storage.EventConfig, "token revoked", map[string]string{"token": id, "by": who(r).user})
	w.WriteHeader(http.StatusNoContent)
}
