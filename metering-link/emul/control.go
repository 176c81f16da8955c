package emul

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// ControlHandler is the emulator's test and demo control API (bind it to
// loopback only):
//
//	GET  /state                 registers and instantaneous values (JSON State)
//	GET  /faults, PUT /faults   injected faults (JSON Faults; late_by in ns)
//	POST /hold?on=true|false    freeze the registers for exact comparisons
//	POST /disconnect?for=2s     unplug the line (for=0: until /reconnect)
//	POST /reconnect             plug it in again
//	POST /clock?offset=30s      set the meter clock offset from true time
func ControlHandler(m *Meter, now func() time.Time) http.Handler {
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	bad := func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), http.StatusBadRequest) }
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, struct {
			State
			Address string `json:"address"`
			TTY     string `json:"tty"`
		}{m.Model.State(), m.cfg.Address, m.Line.TTY()})
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, m.Line.Faults()) })
	mux.HandleFunc("PUT /faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			bad(w, err)
			return
		}
		m.Line.SetFaults(f)
		writeJSON(w, f)
	})
	mux.HandleFunc("POST /hold", func(w http.ResponseWriter, r *http.Request) {
		m.Model.Hold(r.URL.Query().Get("on") != "false")
		writeJSON(w, m.Model.State())
	})
	mux.HandleFunc("POST /disconnect", func(w http.ResponseWriter, r *http.Request) {
		var d time.Duration
		if s := r.URL.Query().Get("for"); s != "" {
			var err error
			if d, err = time.ParseDuration(s); err != nil {
				bad(w, err)
				return
			}
		}
		m.Disconnect(d)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /reconnect", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Reconnect(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /clock", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("offset"))
		if err != nil {
			bad(w, err)
			return
		}
		m.Model.SetClock(now().Add(d))
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
