package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Errors a DRService returns (wrapped).
var (
	// ErrDRNotFound: no event or device with that id.
	ErrDRNotFound = errors.New("not found")
	// ErrDRConflict: the request does not fit the state (an event that
	// already ended, a device the controller does not manage). An error
	// in the chain with a Why() string method gives the reason shown.
	ErrDRConflict = errors.New("conflict")
)

// DROverride is a household override of one device: exempt it from
// demand response, or boost it (run now) for a while. Absent fields keep
// their value; BoostMinutes 0 ends a boost.
type DROverride struct {
	Exempt       *bool `json:"exempt,omitempty"`
	BoostMinutes *int  `json:"boost_minutes,omitempty"`
}

// MaxBoostMinutes bounds a boost (a day).
const MaxBoostMinutes = 24 * 60

// DRService is the demand-response engine as the API sees it. Values are
// JSON-ready; who names the user or token acting, for the events log.
type DRService interface {
	// Events returns {"events":[...]} as in web/ui/CONTRACT.md.
	Events() any
	// OptOut opts the household out of an event and returns the event.
	OptOut(ctx context.Context, id, who string) (any, error)
	// Status returns the limits in force, what is shed and planned, and
	// the overrides.
	Status() any
	// Override applies o to a device and returns the new status.
	Override(ctx context.Context, device energy.DeviceID, o DROverride, who string) (any, error)
}

func (s *Server) dr(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.DR == nil {
		fail(w, r, http.StatusServiceUnavailable, "dr_unavailable", "")
		return false
	}
	return true
}

func (s *Server) drError(w http.ResponseWriter, r *http.Request, err error, what string) {
	switch {
	case errors.Is(err, ErrDRNotFound):
		fail(w, r, http.StatusNotFound, "dr_not_found", "", what)
	case errors.Is(err, ErrDRConflict):
		why := err.Error()
		var reason interface{ Why() string }
		if errors.As(err, &reason) {
			why = reason.Why()
		}
		fail(w, r, http.StatusConflict, "dr_conflict", "", why)
	default:
		s.log.Error("web: dr", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
	}
}

// GET /api/v1/dr/events.
func (s *Server) handleDREvents(w http.ResponseWriter, r *http.Request) {
	if s.dr(w, r) {
		s.writeJSON(w, http.StatusOK, s.opts.DR.Events())
	}
}

// POST /api/v1/dr/events/{id}/optout.
func (s *Server) handleDROptOut(w http.ResponseWriter, r *http.Request) {
	if !s.dr(w, r) {
		return
	}
	id := r.PathValue("id")
	ev, err := s.opts.DR.OptOut(r.Context(), id, who(r).name())
	if err != nil {
		s.drError(w, r, err, id)
		return
	}
	s.writeJSON(w, http.StatusOK, ev)
}

// GET /api/v1/dr/status.
func (s *Server) handleDRStatus(w http.ResponseWriter, r *http.Request) {
	if s.dr(w, r) {
		s.writeJSON(w, http.StatusOK, s.opts.DR.Status())
	}
}

// PUT /api/v1/dr/devices/{id}: {"exempt": bool, "boost_minutes": n}.
func (s *Server) handleDROverride(w http.ResponseWriter, r *http.Request) {
	if !s.dr(w, r) {
		return
	}
	var o DROverride
	if !readJSON(w, r, &o) {
		return
	}
	if o.Exempt == nil && o.BoostMinutes == nil {
		fail(w, r, http.StatusBadRequest, "required", "exempt", "exempt or boost_minutes")
		return
	}
	if o.BoostMinutes != nil && (*o.BoostMinutes < 0 || *o.BoostMinutes > MaxBoostMinutes) {
		fail(w, r, http.StatusBadRequest, "bad_boost", "boost_minutes", MaxBoostMinutes)
		return
	}
	id := r.PathValue("id")
	st, err := s.opts.DR.Override(r.Context(), energy.DeviceID(id), o, who(r).name())
	if err != nil {
		s.drError(w, r, err, id)
		return
	}
	s.writeJSON(w, http.StatusOK, st)
}
