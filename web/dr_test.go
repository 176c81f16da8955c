package web

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gatewayd-project/gatewayd/energy"
)

// whyErr is an error with a reason for the household, like dr's.
type whyErr string

func (e whyErr) Error() string { return "dr: " + string(e) }
func (e whyErr) Why() string   { return string(e) }

type fakeDR struct {
	mu       sync.Mutex
	optedOut map[string]string
	exempt   map[energy.DeviceID]bool
}

func (f *fakeDR) Events() any { return map[string]any{"events": []any{}} }

func (f *fakeDR) OptOut(_ context.Context, id, who string) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch id {
	case "done":
		return nil, fmt.Errorf("%w: %w", ErrDRConflict, whyErr("event done is completed"))
	case "peak":
		f.optedOut[id] = who
		return map[string]any{"id": id, "opted_out": true}, nil
	}
	return nil, ErrDRNotFound
}

func (f *fakeDR) Status() any { return map[string]any{"level": 0} }

func (f *fakeDR) Override(_ context.Context, d energy.DeviceID, o DROverride, who string) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d != "ev" {
		return nil, ErrDRNotFound
	}
	if o.Exempt != nil {
		f.exempt[d] = *o.Exempt
	}
	return map[string]any{"device": d}, nil
}

func TestDRRoutes(t *testing.T) {
	dr := &fakeDR{optedOut: map[string]string{}, exempt: map[energy.DeviceID]bool{}}
	e := newAuthEnv(t, Options{DR: dr})
	if err := e.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	if err := e.users.Add("ben", "correct horse battery", RoleViewer, false); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.login("anna", "correct horse battery")
	if r := c.do("GET", "/api/v1/dr/events", nil); r.code != 200 || !strings.Contains(r.body, `"events":[]`) {
		t.Fatalf("events: %d %s", r.code, r.body)
	}
	if r := c.do("POST", "/api/v1/dr/events/peak/optout", nil); r.code != 200 || dr.optedOut["peak"] != "anna" {
		t.Fatalf("opt out: %d %s (%v)", r.code, r.body, dr.optedOut)
	}
	if r := c.do("POST", "/api/v1/dr/events/done/optout", nil); r.code != 409 || errCode(r) != "dr_conflict" ||
		!strings.Contains(r.body, `"not possible now: event done is completed"`) {
		t.Fatalf("opt out of a completed event: %d %s", r.code, r.body)
	}
	if r := c.do("POST", "/api/v1/dr/events/nope/optout", nil); r.code != 404 || errCode(r) != "dr_not_found" {
		t.Fatalf("opt out of an unknown event: %d %s", r.code, r.body)
	}
	if r := c.do("PUT", "/api/v1/dr/devices/ev", map[string]any{"exempt": true}); r.code != 200 || !dr.exempt["ev"] {
		t.Fatalf("exempt: %d %s", r.code, r.body)
	}
	if r := c.do("PUT", "/api/v1/dr/devices/ev", map[string]any{"boost_minutes": 99999}); r.code != 400 || errCode(r) != "bad_boost" {
		t.Fatalf("boost too long: %d %s", r.code, r.body)
	}
	if r := c.do("PUT", "/api/v1/dr/devices/ev", map[string]any{}); r.code != 400 {
		t.Fatalf("empty override: %d %s", r.code, r.body)
	}
	if r := c.do("PUT", "/api/v1/dr/devices/ev", map[string]any{"exempt": true, "extra": 1}); r.code != 400 || errCode(r) != "bad_json" {
		t.Fatalf("unknown field: %d %s", r.code, r.body)
	}
	if r := c.do("GET", "/api/v1/dr/status", nil); r.code != 200 || !strings.Contains(r.body, `"level":0`) {
		t.Fatalf("status: %d %s", r.code, r.body)
	}
	// A viewer reads but does not act.
	v := e.client()
	v.login("ben", "correct horse battery")
	if r := v.do("GET", "/api/v1/dr/events", nil); r.code != 200 {
		t.Fatalf("viewer events: %d", r.code)
	}
	if r := v.do("POST", "/api/v1/dr/events/peak/optout", nil); r.code != 403 {
		t.Fatalf("viewer opt out: %d", r.code)
	}
	// Without the engine the routes say so.
	e2 := newAuthEnv(t, Options{})
	if err := e2.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	c2 := e2.client()
	c2.login("anna", "correct horse battery")
	if r := c2.do("GET", "/api/v1/dr/events", nil); r.code != 503 || errCode(r) != "dr_unavailable" {
		t.Fatalf("no engine: %d %s", r.code, r.body)
	}
}
