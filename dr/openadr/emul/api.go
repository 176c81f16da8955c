package emul

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/openadr"
)

// Handler returns the OpenADR REST API: /auth/token (and for 3.1
// /auth/server), /programs, /events, /reports with paging (skip, limit ≤
// 50), target filtering and problem JSON errors.
func (s *VTN) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/token", s.handleToken)
	mux.HandleFunc("GET /auth/server", s.handleServer)
	for _, c := range []struct {
		path, typ, prefix string
		st                *store
	}{{"programs", "PROGRAM", "prg", &s.programs}, {"events", "EVENT", "evt", &s.events}} {
		mux.HandleFunc("GET /"+c.path, s.auth(roleVEN, func(w http.ResponseWriter, r *http.Request) { s.list(w, r, c.st) }))
		mux.HandleFunc("GET /"+c.path+"/{id}", s.auth(roleVEN, func(w http.ResponseWriter, r *http.Request) { s.getOne(w, r, c.st) }))
		mux.HandleFunc("POST /"+c.path, s.auth(roleBL, func(w http.ResponseWriter, r *http.Request) { s.create(w, r, c.st, c.typ, c.prefix) }))
		mux.HandleFunc("PUT /"+c.path+"/{id}", s.auth(roleBL, func(w http.ResponseWriter, r *http.Request) { s.replace(w, r, c.st, c.typ) }))
		mux.HandleFunc("DELETE /"+c.path+"/{id}", s.auth(roleBL, func(w http.ResponseWriter, r *http.Request) { s.remove(w, r, c.st) }))
	}
	mux.HandleFunc("POST /reports", s.auth(roleVEN, s.postReport))
	mux.HandleFunc("GET /reports", s.auth(roleVEN, s.getReports))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down := s.down
		s.mu.Unlock()
		if down {
			problem(w, http.StatusServiceUnavailable, "VTN down (fault injection)")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
		s.log.Debug("emul: request", "method", r.Method, "path", r.URL.Path)
		mux.ServeHTTP(w, r)
	})
}

// problem writes an RFC 7807 problem (the OpenADR error object).
func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// auth wraps h: need is the least role allowed (BL may do what a VEN
// may). Without VEN credentials configured, VEN requests are open.
func (s *VTN) auth(need role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if need == roleBL && s.cfg.BLClientID == "" {
			problem(w, http.StatusForbidden, "business-logic writes are disabled (no BL credentials configured)")
			return
		}
		tok, hasTok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if need == roleVEN && s.cfg.ClientID == "" && !hasTok {
			h(w, r)
			return
		}
		if !hasTok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="openadr"`)
			problem(w, http.StatusUnauthorized, "bearer token required")
			return
		}
		s.mu.Lock()
		g, ok := s.tokens[tok]
		if ok && !s.cfg.Clock.Now().Before(g.expires) {
			delete(s.tokens, tok)
			ok = false
		}
		s.mu.Unlock()
		switch {
		case !ok:
			w.Header().Set("WWW-Authenticate", `Bearer realm="openadr", error="invalid_token"`)
			problem(w, http.StatusUnauthorized, "invalid or expired token")
		case g.role < need:
			problem(w, http.StatusForbidden, "token lacks the scope for this operation")
		default:
			h(w, r)
		}
	}
}

// handleToken is the OAuth2 client-credentials endpoint (form
// parameters, or HTTP Basic client authentication).
func (s *VTN) handleToken(w http.ResponseWriter, r *http.Request) {
	tokenErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		tokenErr(http.StatusBadRequest, "invalid_request", "bad form body")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		tokenErr(http.StatusBadRequest, "unsupported_grant_type", "want client_credentials")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	var ro role
	switch {
	case id == "":
	case s.cfg.ClientID != "" && id == s.cfg.ClientID && secret == s.cfg.ClientSecret:
		ro = roleVEN
	case s.cfg.BLClientID != "" && id == s.cfg.BLClientID && secret == s.cfg.BLClientSecret:
		ro = roleBL
	}
	if ro == 0 {
		tokenErr(http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	s.mu.Lock()
	now := s.cfg.Clock.Now()
	for t, g := range s.tokens { // keep the table small
		if !now.Before(g.expires) {
			delete(s.tokens, t)
		}
	}
	s.tokens[tok] = grant{role: ro, expires: now.Add(s.cfg.TokenTTL)}
	s.issued++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(s.cfg.TokenTTL / time.Second),
	})
}

// handleServer is 3.1 token discovery.
func (s *VTN) handleServer(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Version != openadr.V31 {
		problem(w, http.StatusNotFound, "no such endpoint in OpenADR 3.0.1")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		path = u.Path // the path before any StripPrefix
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"tokenURL": scheme + "://" + r.Host + strings.TrimSuffix(path, "/auth/server") + "/auth/token",
	})
}

// paging reads skip and limit (default 50, at most 50).
func paging(r *http.Request) (skip, limit int, err error) {
	q := r.URL.Query()
	skip, limit = 0, 50
	if v := q.Get("skip"); v != "" {
		if skip, err = strconv.Atoi(v); err != nil || skip < 0 {
			return 0, 0, errors.New("skip must be an integer ≥ 0")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 0 || limit > 50 {
			return 0, 0, errors.New("limit must be an integer 0..50")
		}
	}
	return skip, limit, nil
}

func (s *VTN) list(w http.ResponseWriter, r *http.Request, st *store) {
	skip, limit, err := paging(r)
	if err != nil {
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	active := false
	if v := q.Get("active"); v != "" && s.cfg.Version == openadr.V31 {
		if active, err = strconv.ParseBool(v); err != nil {
			problem(w, http.StatusBadRequest, "active must be true or false")
			return
		}
	}
	s.mu.Lock()
	all := st.list()
	now := s.cfg.Clock.Now()
	s.mu.Unlock()
	out := make([]map[string]json.RawMessage, 0, limit)
	n := 0
	for _, doc := range all {
		if p := q.Get("programID"); p != "" && stringField(doc, "programID") != p && stringField(doc, "id") != p {
			continue
		}
		if !s.targeted(doc, q) {
			continue
		}
		if active && st == &s.events && !s.isActive(doc, now) {
			continue
		}
		if n++; n <= skip {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, doc)
	}
	writeJSON(w, http.StatusOK, out)
}

// targeted: the object has no targets, or shares one with the query
// (3.0.1 targetType/targetValues, 3.1 targets).
func (s *VTN) targeted(doc map[string]json.RawMessage, q url.Values) bool {
	var want []string
	typ := ""
	if s.cfg.Version == openadr.V31 {
		for _, t := range q["targets"] {
			want = append(want, strings.Split(t, ",")...)
		}
	} else {
		typ = q.Get("targetType")
		for _, t := range q["targetValues"] {
			want = append(want, strings.Split(t, ",")...)
		}
	}
	if len(want) == 0 {
		return true
	}
	raw := doc["targets"]
	if s.cfg.Version == openadr.V31 {
		var ts []string
		if json.Unmarshal(raw, &ts) != nil || len(ts) == 0 {
			return true
		}
		for _, t := range ts {
			if slices.Contains(want, t) {
				return true
			}
		}
		return false
	}
	var ms []struct {
		Type   string `json:"type"`
		Values []any  `json:"values"`
	}
	if json.Unmarshal(raw, &ms) != nil || len(ms) == 0 {
		return true
	}
	for _, m := range ms {
		if typ != "" && m.Type != typ {
			continue
		}
		for _, v := range m.Values {
			if slices.Contains(want, fmt.Sprint(v)) {
				return true
			}
		}
	}
	return false
}

// isActive: the event has not transpired (3.1 active=true). Events the
// decoder rejects count as active.
func (s *VTN) isActive(doc map[string]json.RawMessage, now time.Time) bool {
	b, _ := json.Marshal(doc)
	ev, err := openadr.DecodeEvent(s.cfg.Version, b, openadr.DecodeOptions{Now: now})
	return err != nil || (ev.StatusAt(now) != openadr.StatusCompleted && ev.StatusAt(now) != openadr.StatusCancelled)
}

func (s *VTN) getOne(w http.ResponseWriter, r *http.Request, st *store) {
	s.mu.Lock()
	doc, ok := st.get(r.PathValue("id"))
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "no object with id "+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// readDoc reads a JSON object body and checks the fields the version
// requires (3.0.1 events: programID and intervals; programs: programName).
func (s *VTN) readDoc(w http.ResponseWriter, r *http.Request, typ string) (map[string]json.RawMessage, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "body too large or unreadable")
		return nil, false
	}
	doc, err := toDoc(b)
	if err != nil {
		problem(w, http.StatusBadRequest, "body must be a JSON object")
		return nil, false
	}
	var missing []string
	need := []string{"programName"}
	if typ == "EVENT" {
		need = []string{"programID"}
		if s.cfg.Version == openadr.V301 {
			need = append(need, "intervals")
		}
	}
	for _, k := range need {
		if _, ok := doc[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		problem(w, http.StatusBadRequest, "missing required field(s): "+strings.Join(missing, ", "))
		return nil, false
	}
	return doc, true
}

// create is POST: the VTN assigns the id, except that (an emulator
// convenience) an id in the body is kept when unused; a used one is 409.
func (s *VTN) create(w http.ResponseWriter, r *http.Request, st *store, typ, prefix string) {
	doc, ok := s.readDoc(w, r, typ)
	if !ok {
		return
	}
	s.mu.Lock()
	id := stringField(doc, "id")
	if _, taken := st.get(id); id != "" && taken {
		s.mu.Unlock()
		problem(w, http.StatusConflict, "id "+id+" exists")
		return
	}
	if len(st.order) >= MaxObjects {
		s.mu.Unlock()
		problem(w, http.StatusInsufficientStorage, "too many objects")
		return
	}
	if id == "" {
		id = s.newID(st, prefix)
	}
	s.stamp(st, id, typ, doc)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, doc)
}

func (s *VTN) replace(w http.ResponseWriter, r *http.Request, st *store, typ string) {
	doc, ok := s.readDoc(w, r, typ)
	if !ok {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	if _, exists := st.get(id); !exists {
		s.mu.Unlock()
		problem(w, http.StatusNotFound, "no object with id "+id)
		return
	}
	s.stamp(st, id, typ, doc)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

func (s *VTN) remove(w http.ResponseWriter, r *http.Request, st *store) {
	s.mu.Lock()
	doc, ok := st.del(r.PathValue("id"))
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "no object with id "+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// postReport stores a report after checking its shape: eventID,
// clientName and resources are required; programID is required in 3.0.1
// and refused in 3.1 (where the spec removed it).
func (s *VTN) postReport(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "body too large or unreadable")
		return
	}
	var rep struct {
		ProgramID  *string           `json:"programID"`
		EventID    string            `json:"eventID"`
		ClientName string            `json:"clientName"`
		Resources  []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		problem(w, http.StatusBadRequest, "body must be a report object")
		return
	}
	switch {
	case rep.EventID == "" || rep.ClientName == "" || rep.Resources == nil:
		problem(w, http.StatusBadRequest, "eventID, clientName and resources are required")
		return
	case s.cfg.Version == openadr.V301 && (rep.ProgramID == nil || *rep.ProgramID == ""):
		problem(w, http.StatusBadRequest, "programID is required (3.0.1)")
		return
	case s.cfg.Version == openadr.V31 && rep.ProgramID != nil:
		problem(w, http.StatusBadRequest, "programID is not part of a 3.1 report")
		return
	}
	s.mu.Lock()
	if len(s.reports) >= MaxObjects {
		s.reports = s.reports[1:]
	}
	s.reports = append(s.reports, json.RawMessage(b))
	s.seq++
	id := fmt.Sprintf("rpt-%d", s.seq)
	s.mu.Unlock()
	doc, _ := toDoc(b)
	doc["id"] = mustJSON(id)
	doc["objectType"] = mustJSON("REPORT")
	writeJSON(w, http.StatusCreated, doc)
}

func (s *VTN) getReports(w http.ResponseWriter, r *http.Request) {
	skip, limit, err := paging(r)
	if err != nil {
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	ev := r.URL.Query().Get("eventID")
	s.mu.Lock()
	all := slices.Clone(s.reports)
	s.mu.Unlock()
	out := []json.RawMessage{}
	n := 0
	for _, rep := range all {
		var k struct {
			EventID string `json:"eventID"`
		}
		_ = json.Unmarshal(rep, &k)
		if ev != "" && k.EventID != ev {
			continue
		}
		if n++; n <= skip {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, rep)
	}
	writeJSON(w, http.StatusOK, out)
}
