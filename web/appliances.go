package web

import (
	"errors"
	"net/http"

	"github.com/gatewayd-project/gatewayd/storage"
)

// ApplianceService pairs and revokes CoAP appliances (han.coap).
type ApplianceService interface {
	// Appliances lists the paired appliances (never their keys).
	Appliances() any
	// PairAppliance creates an identity and key; the answer holds the
	// key, shown this once, and the QR text. ErrApplianceName for a bad
	// name.
	PairAppliance(name string) (any, error)
	// RevokeAppliance deletes the key and closes the appliance's
	// sessions; ErrNoAppliance for an unknown identity.
	RevokeAppliance(id string) error
}

// Errors an ApplianceService returns (wrapped).
var (
	ErrApplianceName = errors.New("web: bad appliance name")
	ErrNoAppliance   = errors.New("web: no such appliance")
)

// GET /api/v1/appliances.
func (s *Server) handleAppliancesList(w http.ResponseWriter, r *http.Request) {
	if s.opts.Appliances == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "appliances")
		return
	}
	s.writeJSON(w, http.StatusOK, s.opts.Appliances.Appliances())
}

// POST /api/v1/appliances {"name": "..."}: the PSK is in this answer only.
func (s *Server) handleAppliancesPair(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if s.opts.Appliances == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "appliances")
		return
	}
	out, err := s.opts.Appliances.PairAppliance(in.Name)
	switch {
	case errors.Is(err, ErrApplianceName):
		fail(w, r, http.StatusBadRequest, "bad_appliance_name", "name")
		return
	case err != nil:
		s.log.Error("web: appliances", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
		return
	}
	s.logEvent(storage.EventConfig, "appliance paired", map[string]string{"name": in.Name, "by": who(r).user})
	s.writeJSON(w, http.StatusCreated, out)
}

// DELETE /api/v1/appliances/{id}.
func (s *Server) handleAppliancesRevoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.opts.Appliances == nil {
		fail(w, r, http.StatusNotFound, "no_appliance", "id", id)
		return
	}
	err := s.opts.Appliances.RevokeAppliance(id)
	switch {
	case errors.Is(err, ErrNoAppliance):
		fail(w, r, http.StatusNotFound, "no_appliance", "id", id)
		return
	case err != nil:
		s.log.Error("web: appliances", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
		return
	}
	s.logEvent(storage.EventConfig, "appliance revoked", map[string]string{"appliance": id, "by": who(r).user})
	w.WriteHeader(http.StatusNoContent)
}
