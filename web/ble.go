package web

import (
	"errors"
	"net/http"
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
	ErrBLENoAdapter  = errors.New("no BLE adapter")
	ErrBLENotSeen    = errors.New("device not seen nearby")
	ErrBLEAdopted    = errors.New("device already adopted")
	ErrBLENotAdopted = errors.New("not an adopted BLE device")
	ErrBLEKey        = errors.New("key missing or wrong")
	ErrBLEInvalid    = errors.New("invalid adoption")
)

// GET /api/v1/ble/seen: the BLE devices heard nearby, strongest first.
func (s *Server) handleBLESeen(w http.ResponseWriter, r *http.Request) {
	out := []BLESeen{}
	if s.opts.BLE != nil {
		out = append(out, s.opts.BLE.Seen()...)
	}
	s.writeJSON(w, http.StatusOK, struct {
		Enabled bool      `json:"enabled"`
		Seen    []BLESeen `json:"seen"`
	}{s.opts.BLE != nil, out})
}

// adoptJSON is the body of POST /api/v1/devices.
type adoptJSON struct {
	BLE  string `json:"ble"`
	Name string `json:"name"`
	Key  string `json:"key"`
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
	if s.opts.BLE == nil {
		fail(w, r, http.StatusConflict, "ble_disabled", "ble")
		return
	}
	id, err := s.opts.BLE.Adopt(in.BLE, in.Name, in.Key)
	if err != nil {
		s.bleFail(w, r, err, "ble")
		return
	}
	s.logEvent(storage.EventControl, string(id), map[string]string{"action": "adopted", "ble": in.BLE, "by": who(r).name()})
	d, ok := s.opts.Devices.Device(id)
	if !ok {
		s.writeJSON(w, http.StatusCreated, map[string]string{"id": string(id)})
		return
	}
	s.writeJSON(w, http.StatusCreated, s.registryDevice(d, s.now()))
}

// DELETE /api/v1/devices/{id}: un-adopt a BLE device.
func (s *Server) handleDeviceForget(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.opts.BLE == nil {
		fail(w, r, http.StatusNotFound, "device_not_found", "id", id)
		return
	}
	if err := s.opts.BLE.Forget(energy.DeviceID(id)); err != nil {
		s.bleFail(w, r, err, "id")
		return
	}
	s.logEvent(storage.EventControl, id, map[string]string{"action": "forgotten", "by": who(r).name()})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) bleFail(w http.ResponseWriter, r *http.Request, err error, param string) {
	switch {
	case errors.Is(err, ErrBLENotSeen), errors.Is(err, ErrBLENotAdopted):
		fail(w, r, http.StatusNotFound, "ble_not_found", param, err.Error())
	case errors.Is(err, ErrBLEAdopted):
		fail(w, r, http.StatusConflict, "ble_adopted", param)
	case errors.Is(err, ErrBLENoAdapter):
		fail(w, r, http.StatusConflict, "ble_no_adapter", param)
	case errors.Is(err, ErrBLEKey):
		fail(w, r, http.StatusBadRequest, "ble_key", "key", err.Error())
	case errors.Is(err, ErrBLEInvalid):
		fail(w, r, http.StatusBadRequest, "bad_adoption", param, err.Error())
	default:
		s.log.Warn("web: ble", "err", err)
		fail(w, r, http.StatusInternalServerError, "ble_failed", param, err.Error())
	}
}
