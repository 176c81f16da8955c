package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
)

// BLESeen is one BLE device heard nearby (GET /api/v1/ble/seen).
type BLESeen struct {
	MAC         string    `json:"mac"`
	Name        string    `json:"name"`
	RSSI        int       `json:"rssi"`
	LastSeen    time.Time `json:"last_seen"`
	Connectable bool      `json:"connectable"`
	Advertises  []string  `json:"advertises"`
	Quantities  []string  `json:"quantities"`
	Kind        string    `json:"kind"`
	Adopted     bool      `json:"adopted"`
	Device      string    `json:"device,omitempty"`
}

// BLEService is the BLE driver as the API sees it: nearby candidates and
// the household's adoption.
type BLEService interface {
	Seen() []BLESeen
	// Adopt adopts the device mac; key is a BTHome key in hex ("" for none).
	Adopt(mac, name, key string) (energy.DeviceID, error)
	// Forget un-adopts a BLE device.
	Forget(id energy.DeviceID) error
}

// Errors a BLEService returns (wrapped) that the API answers specifically.
var (
	ErrBLENoAdapter   = errors.New("no BLE adapter")
	ErrBLENotSeen     = errors.New("device not seen nearby")
	ErrBLEAdopted     = errors.New("device already adopted")
	ErrBLENotAdopted  = errors.New("not an adopted BLE device")
	ErrBLEKeyRequired = errors.New("encrypted device: key required")
	ErrBLEKey         = errors.New("key wrong or malformed")
	ErrBLEInvalid     = errors.New("invalid adoption")
)

// The API's answers (web/ui/CONTRACT.md, "BLE devices"):
//
//	GET  /api/v1/ble/seen        200 {"enabled","seen":[...]}; 503 ble_disabled
//	POST /api/v1/devices         201 the device; 400 bad_json, bad_adoption
//	                             (no or malformed "ble", unsupported device),
//	                             ble_key_required, ble_key; 404 ble_not_found
//	                             (not heard nearby); 409 ble_adopted;
//	                             503 ble_disabled, ble_no_adapter
//	DELETE /api/v1/devices/{id}  204; 409 not_ble_device (a registry device
//	                             of another transport: never removed here);
//	                             404 ble_not_found; 503 ble_disabled,
//	                             ble_no_adapter
//
// All three need an admin's login session (tokens never).

// GET /api/v1/ble/seen: the BLE devices heard nearby, strongest first.
func (s *Server) handleBLESeen(w http.ResponseWriter, r *http.Request) {
	if s.opts.BLE == nil {
		fail(w, r, http.StatusServiceUnavailable, "ble_disabled", "")
		return
	}
	out := []BLESeen{}
	out = append(out, s.opts.BLE.Seen()...)
	s.writeJSON(w, http.StatusOK, struct {
		Enabled bool      `json:"enabled"`
		Seen    []BLESeen `json:"seen"`
	}{true, out})
}

// adoptJSON is the body of POST /api/v1/devices.
type adoptJSON struct {
	BLE  string `json:"ble"`
	Name string `json:"name"`
	Key  string `json:"key"`
}

// validMAC accepts what ble.ParseAddr does: six hex bytes with ":" or "-"
// between them, or 12 hex digits.
func validMAC(s string) bool {
	h := strings.NewReplacer(":", "", "-", "").Replace(strings.TrimSpace(s))
	if len(h) != 12 || len(s) > 17 {
		return false
	}
	for _, c := range []byte(h) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// POST /api/v1/devices {"ble": mac, "name": ..., "key": hex}: the
// household adopts a BLE device it saw in /api/v1/ble/seen. Adoption is
// never automatic.
func (s *Server) handleDeviceAdopt(w http.ResponseWriter, r *http.Request) {
	var in adoptJSON
	if !readJSON(w, r, &in) {
		return
	}
	if in.BLE == "" {
		fail(w, r, http.StatusBadRequest, "bad_adoption", "ble", "ble: the device's MAC address")
		return
	}
	if !validMAC(in.BLE) {
		fail(w, r, http.StatusBadRequest, "bad_mac", "ble", in.BLE)
		return
	}
	if s.opts.BLE == nil {
		fail(w, r, http.StatusServiceUnavailable, "ble_disabled", "ble")
		return
	}
	id, err := s.opts.BLE.Adopt(in.BLE, in.Name, in.Key)
	if err != nil {
		s.bleFail(w, r, err, "ble", in.BLE)
		return
	}
	s.logEvent(storage.EventControl, string(id), map[string]string{"action": "adopted", "ble": in.BLE, "by": who(r).name()})
	if s.opts.Devices != nil {
		if d, ok := s.opts.Devices.Device(id); ok {
			s.writeJSON(w, http.StatusCreated, s.registryDevice(d, s.now()))
			return
		}
	}
	s.writeJSON(w, http.StatusCreated, map[string]string{"id": string(id)})
}

// DELETE /api/v1/devices/{id}: un-adopt a BLE device. Devices of other
// transports come from discovery or config and are not removed here.
func (s *Server) handleDeviceForget(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.opts.Meter != nil && id == meterID(s.opts.Meter.MeterStatus()) {
		fail(w, r, http.StatusConflict, "not_ble_device", "id", id)
		return
	}
	if s.opts.Devices != nil {
		if d, ok := s.opts.Devices.Device(energy.DeviceID(id)); ok && d.Transport != "ble" {
			fail(w, r, http.StatusConflict, "not_ble_device", "id", id)
			return
		}
	}
	if s.opts.BLE == nil {
		fail(w, r, http.StatusServiceUnavailable, "ble_disabled", "id")
		return
	}
	if err := s.opts.BLE.Forget(energy.DeviceID(id)); err != nil {
		s.bleFail(w, r, err, "id", id)
		return
	}
	s.logEvent(storage.EventControl, id, map[string]string{"action": "forgotten", "by": who(r).name()})
	w.WriteHeader(http.StatusNoContent)
}

// bleFail answers a BLEService error; subject is the MAC or device id.
func (s *Server) bleFail(w http.ResponseWriter, r *http.Request, err error, param, subject string) {
	switch {
	case errors.Is(err, ErrBLENotSeen):
		fail(w, r, http.StatusNotFound, "ble_not_found", param, subject)
	case errors.Is(err, ErrBLENotAdopted):
		fail(w, r, http.StatusNotFound, "ble_not_adopted", param, subject)
	case errors.Is(err, ErrBLEAdopted):
		fail(w, r, http.StatusConflict, "ble_adopted", param)
	case errors.Is(err, ErrBLENoAdapter):
		fail(w, r, http.StatusServiceUnavailable, "ble_no_adapter", param)
	case errors.Is(err, ErrBLEKeyRequired):
		fail(w, r, http.StatusBadRequest, "ble_key_required", "key")
	case errors.Is(err, ErrBLEKey):
		fail(w, r, http.StatusBadRequest, "ble_key", "key")
	case errors.Is(err, ErrBLEInvalid):
		fail(w, r, http.StatusBadRequest, "bad_adoption", param, err.Error())
	default:
		s.log.Warn("web: ble", "err", err)
		fail(w, r, http.StatusInternalServerError, "ble_failed", param, err.Error())
	}
}
