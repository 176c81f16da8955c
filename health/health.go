// Package health keeps the gateway's health as data: subsystems set and
// clear named conditions; the HTTP API, UI and systemd status read them.
//
// Concurrency: a Registry is safe for concurrent use.
package health

import (
	"sort"
	"sync"
	"time"
)

// Condition is one active health condition.
type Condition struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
	// Info marks a condition that says what is off by configuration or
	// hardware (no GPIO on this board), not that something is wrong: it
	// does not make the gateway "degraded", light the fault LED or hold
	// back the boot-success mark.
	Info bool `json:"info,omitempty"`
}

// Registry holds the active conditions.
type Registry struct {
	now func() time.Time

	mu    sync.Mutex
	conds map[string]Condition
	subs  []func(code string, active bool)
}

// New returns an empty registry using now for timestamps.
func New(now func() time.Time) *Registry {
	return &Registry{now: now, conds: map[string]Condition{}}
}

// Set raises (or updates the message of) the condition code. Since keeps the
// time it was first raised.
func (r *Registry) Set(code, message string) { r.set(code, message, false) }

// SetInfo raises an informational condition (see [Condition.Info]).
func (r *Registry) SetInfo(code, message string) { r.set(code, message, true) }

func (r *Registry) set(code, message string, info bool) {
	r.mu.Lock()
	c, ok := r.conds[code]
	if !ok {
		c = Condition{Code: code, Since: r.now()}
	}
	c.Message, c.Info = message, info
	r.conds[code] = c
	subs := r.subs
	r.mu.Unlock()
	if !ok {
		for _, f := range subs {
			f(code, true)
		}
	}
}

// Clear removes the condition code if it is active.
func (r *Registry) Clear(code string) {
	r.mu.Lock()
	_, ok := r.conds[code]
	delete(r.conds, code)
	subs := r.subs
	r.mu.Unlock()
	if ok {
		for _, f := range subs {
			f(code, false)
		}
	}
}

// Active reports whether code is raised.
func (r *Registry) Active(code string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.conds[code]
	return ok
}

// Conditions returns the active conditions ordered by code.
func (r *Registry) Conditions() []Condition {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Condition, 0, len(r.conds))
	for _, c := range r.conds {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// OnChange registers f to be called (outside the lock) whenever a condition
// is raised or cleared. Register before the subsystems start.
func (r *Registry) OnChange(f func(code string, active bool)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs = append(r.subs, f)
}
