package web

import "net/http"

// GET /api/v1/homekit: {"enabled", "running", "paired", "code",
// "setup_uri", "accessories", "name"}. The setup code lets anyone on the
// LAN pair, so only an admin's login session sees it.
func (s *Server) handleHomeKit(w http.ResponseWriter, r *http.Request) {
	if s.opts.HomeKit == nil {
		fail(w, r, http.StatusServiceUnavailable, "homekit_unavailable", "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, http.StatusOK, s.opts.HomeKit())
}
