package emul

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/energy"
)

// Limits of the emulated VTN.
const (
	// MaxRequestBytes bounds a request body.
	MaxRequestBytes = 1 << 20
	// MaxObjects bounds stored programs, events and reports each.
	MaxObjects = 10000
	// DefaultTokenTTL is the lifetime of issued tokens when
	// Config.TokenTTL is 0.
	DefaultTokenTTL = time.Hour
)

// Config configures the emulated VTN.
type Config struct {
	// Version selects the 3.0.1 or 3.1 API (paths, targets, reports).
	// "": 3.0.1.
	Version openadr.Version
	// ClientID and ClientSecret are the VEN credentials (read programs
	// and events, write reports). Both empty: VEN requests need no token.
	ClientID, ClientSecret string
	// BLClientID and BLClientSecret are the business-logic credentials
	// with write scope (create, replace and delete programs and events
	// over HTTP). Both empty: BL writes over HTTP are refused with 403;
	// the Go methods (PutEvent, ...) always work.
	BLClientID, BLClientSecret string
	// VENName is the VEN the scenario's peak event is targeted at (""
	// : untargeted).
	VENName string
	// Clock is the time source (token expiry, metadata, active filter);
	// nil: the system clock.
	Clock energy.Clock
	// Location is the scenario's local time zone; nil: UTC.
	Location *time.Location
	// TokenTTL is the lifetime of issued tokens (expires_in); 0:
	// DefaultTokenTTL.
	TokenTTL time.Duration
}

// VTN is an in-memory OpenADR 3 VTN for the demo and the tests. All
// methods are safe for concurrent use.
type VTN struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	programs store
	events   store
	reports  []json.RawMessage
	tokens   map[string]grant
	issued   int
	down     bool
	seq      int
}

// role is what a token may do.
type role int

const (
	roleVEN role = iota + 1
	roleBL
)

type grant struct {
	role    role
	expires time.Time
}

// store keeps objects in creation order.
type store struct {
	order []string
	docs  map[string]map[string]json.RawMessage
}

func (s *store) get(id string) (map[string]json.RawMessage, bool) {
	d, ok := s.docs[id]
	return d, ok
}

func (s *store) put(id string, doc map[string]json.RawMessage) {
	if s.docs == nil {
		s.docs = map[string]map[string]json.RawMessage{}
	}
	if _, ok := s.docs[id]; !ok {
		s.order = append(s.order, id)
	}
	s.docs[id] = doc
}

func (s *store) del(id string) (map[string]json.RawMessage, bool) {
	d, ok := s.docs[id]
	if ok {
		delete(s.docs, id)
		s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
	}
	return d, ok
}

func (s *store) list() []map[string]json.RawMessage {
	out := make([]map[string]json.RawMessage, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.docs[id])
	}
	return out
}

// New returns an empty VTN. log may be nil.
func New(cfg Config, log *slog.Logger) *VTN {
	if cfg.Version == "" {
		cfg.Version = openadr.V301
	}
	if cfg.Clock == nil {
		cfg.Clock = energy.SystemClock{}
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &VTN{cfg: cfg, log: log, tokens: map[string]grant{}}
}

// SetDown injects a fault: while down every request is answered 503.
func (s *VTN) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// TokensIssued returns how many tokens /auth/token has issued.
func (s *VTN) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// RevokeTokens forgets every issued token (clients get 401 until they
// fetch a new one).
func (s *VTN) RevokeTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// Reports returns the reports VENs posted, oldest first, as posted.
func (s *VTN) Reports() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reports)
}

// PutProgram creates or replaces a program. v is the wire JSON
// ([]byte, string or json.RawMessage) or any value that marshals to a
// JSON object. The VTN sets id (if absent), createdDateTime,
// modificationDateTime and objectType. It returns the id.
func (s *VTN) PutProgram(v any) (string, error) { return s.putObject(&s.programs, "PROGRAM", "prg", v) }

// PutEvent creates or replaces an event like PutProgram. The content is
// not validated (tests put malformed events on purpose).
func (s *VTN) PutEvent(v any) (string, error) { return s.putObject(&s.events, "EVENT", "evt", v) }

// DeleteEvent removes an event (the OpenADR way to cancel it); false if
// there was none.
func (s *VTN) DeleteEvent(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.events.del(id)
	return ok
}

// DeleteProgram removes a program; false if there was none.
func (s *VTN) DeleteProgram(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.programs.del(id)
	return ok
}

func toDoc(v any) (map[string]json.RawMessage, error) {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case json.RawMessage:
		b = x
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil || doc == nil {
		return nil, errors.New("emul: want a JSON object")
	}
	return doc, nil
}

func (s *VTN) putObject(st *store, objectType, prefix string, v any) (string, error) {
	doc, err := toDoc(v)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := stringField(doc, "id")
	if id == "" {
		id = s.newID(st, prefix)
	}
	if _, ok := st.get(id); !ok && len(st.order) >= MaxObjects {
		return "", fmt.Errorf("emul: more than %d objects", MaxObjects)
	}
	s.stamp(st, id, objectType, doc)
	return id, nil
}

// stamp sets the VTN-owned fields and stores doc. s.mu is held.
func (s *VTN) stamp(st *store, id, objectType string, doc map[string]json.RawMessage) {
	now := s.cfg.Clock.Now().UTC().Format(time.RFC3339Nano)
	created := now
	if old, ok := st.get(id); ok {
		if c := stringField(old, "createdDateTime"); c != "" {
			created = c
		}
	}
	doc["id"] = mustJSON(id)
	doc["createdDateTime"] = mustJSON(created)
	doc["modificationDateTime"] = mustJSON(now)
	doc["objectType"] = mustJSON(objectType)
	st.put(id, doc)
}

func (s *VTN) newID(st *store, prefix string) string {
	for {
		s.seq++
		id := fmt.Sprintf("%s-%d", prefix, s.seq)
		if _, ok := st.get(id); !ok {
			return id
		}
	}
}

func stringField(doc map[string]json.RawMessage, k string) string {
	var s string
	_ = json.Unmarshal(doc[k], &s)
	return s
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with strings and plain values
	}
	return b
}
