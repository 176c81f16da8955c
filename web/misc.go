package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// System describes the gateway for GET /api/v1/system.
type System struct {
	Version  string         `json:"version"`
	Metering SystemMetering `json:"metering"`
	Storage  SystemStorage  `json:"storage"`
	TLS      bool           `json:"tls"`
}

// SystemMetering is the configured metering link and its state.
type SystemMetering struct {
	Protocol string `json:"protocol"`
	Port     string `json:"port"`
	Baud     int    `json:"baud"`
	Address  string `json:"address"`
	Interval string `json:"interval"`
	TimeSync bool   `json:"time_sync"`
	LinkUp   bool   `json:"link_up"`
}

// SystemStorage describes the history database.
type SystemStorage struct {
	Path      string `json:"path"`
	SizeBytes int64  `json:"size_bytes"`
}

// GET /api/v1/system.
func (s *Server) handleSystem(w http.ResponseWriter, r *http.Request) {
	var out System
	if s.opts.System != nil {
		out = s.opts.System()
	}
	if s.opts.Meter != nil {
		st := s.opts.Meter.MeterStatus()
		out.Metering.LinkUp = st.LinkUp
		if st.Address != "" {
			out.Metering.Address = st.Address
		}
	}
	out.TLS = r.TLS != nil
	s.writeJSON(w, http.StatusOK, out)
}

type deviceJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Class is the device class (meter, gas_meter, air_conditioner, ...).
	Class     string            `json:"class"`
	Transport string            `json:"transport"`
	State     string            `json:"state"`
	Legal     bool              `json:"legal"`
	LastSeen  *string           `json:"last_seen"`
	Fresh     bool              `json:"fresh"`
	Values    []deviceValueJSON `json:"values"`
	// Capabilities and Control: devices in the registry (controllable).
	Capabilities energy.Capabilities `json:"capabilities,omitempty"`
	Control      *energy.DeviceState `json:"control,omitempty"`
}

type deviceValueJSON struct {
	Quantity string  `json:"quantity"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Measured *string `json:"measured"`
	Legal    bool    `json:"legal"`
}

// GET /api/v1/backup: a consistent copy of the database.
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	if s.opts.Backup == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "backup")
		return
	}
	lw := &lazyHeaders{w: w, set: func(h http.Header) {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"gatewayd-%s.db\"", s.now().UTC().Format("20060102-150405")))
	}}
	// A backup of a large database outlasts WriteTimeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(10 * time.Minute))
	n, err := s.opts.Backup(lw)
	if err != nil {
		s.log.Error("web: backup", "err", err, "bytes", n)
		if !lw.started {
			fail(w, r, http.StatusInternalServerError, "internal", "")
		}
		return
	}
	s.logEvent("storage", "backup downloaded", map[string]string{"by": who(r).user, "bytes": fmt.Sprint(n)})
}

// TariffDoc is the stored tariff as the API shows it.
type TariffDoc struct {
	Configured bool   `json:"configured"`
	YAML       string `json:"yaml"`
	Currency   string `json:"currency,omitempty"`
	Timezone   string `json:"timezone,omitempty"`
}

// TariffProblem is one validation problem of a tariff, localised.
type TariffProblem struct {
	Key     string `json:"key"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// ErrNoTariff is returned by a TariffService without a tariff.
var ErrNoTariff = errors.New("no tariff configured")

// ErrBadQuery is query input a TariffService refuses: the API answers
// Status (0 means 400) with the catalog message Code formatted with Args,
// naming Param.
type ErrBadQuery struct {
	Param, Code string
	Args        []any
	Status      int
}

func (e *ErrBadQuery) Error() string { return e.Param + ": " + localize(LangEN, e.Code, e.Args...) }

// TariffService stores the tariff and prices energy with it.
type TariffService interface {
	Tariff() (TariffDoc, error)
	// SetTariff validates and stores text; problems (in language lang)
	// mean nothing was changed.
	SetTariff(text []byte, lang string) (TariffDoc, []TariffProblem, error)
	// Prices and Costs return JSON-ready values (ErrNoTariff without a
	// tariff, *ErrBadQuery for bad input).
	Prices(from, to time.Time) (any, error)
	// Costs with device set prices that device's own metered energy.
	Costs(from, to time.Time, step string, device energy.DeviceID) (any, error)
}

func (s *Server) tariff(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.Tariff == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "tariff")
		return false
	}
	return true
}

func (s *Server) tariffError(w http.ResponseWriter, r *http.Request, err error) {
	var bq *ErrBadQuery
	switch {
	case errors.Is(err, ErrNoTariff):
		fail(w, r, http.StatusNotFound, "no_tariff", "")
	case errors.As(err, &bq):
		status := bq.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		fail(w, r, status, bq.Code, bq.Param, bq.Args...)
	default:
		s.log.Error("web: tariff", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
	}
}

// GET /api/v1/tariff.
func (s *Server) handleTariffGet(w http.ResponseWriter, r *http.Request) {
	if !s.tariff(w, r) {
		return
	}
	doc, err := s.opts.Tariff.Tariff()
	if err != nil {
		s.tariffError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, doc)
}

// PUT /api/v1/tariff {"yaml": "..."}.
func (s *Server) handleTariffPut(w http.ResponseWriter, r *http.Request) {
	if !s.tariff(w, r) {
		return
	}
	var in struct {
		YAML string `json:"yaml"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	l := lang(r)
	doc, problems, err := s.opts.Tariff.SetTariff([]byte(in.YAML), l)
	if err != nil {
		s.tariffError(w, r, err)
		return
	}
	if len(problems) > 0 {
		param := problems[0].Key
		writeAPIError(w, http.StatusBadRequest, apiError{
			Error: localize(l, "invalid_tariff", len(problems)), Code: "invalid_tariff", Param: param, Problems: problems,
		})
		return
	}
	s.logEvent("config", "tariff", map[string]string{"by": who(r).user, "currency": doc.Currency, "timezone": doc.Timezone})
	s.writeJSON(w, http.StatusOK, doc)
}

// GET /api/v1/prices?from=&to= (default: the next 24 h).
func (s *Server) handlePrices(w http.ResponseWriter, r *http.Request) {
	if !s.tariff(w, r) {
		return
	}
	from, to, ok := s.queryRangeForward(w, r, 24*time.Hour)
	if !ok {
		return
	}
	out, err := s.opts.Tariff.Prices(from, to)
	if err != nil {
		s.tariffError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// GET /api/v1/costs?from=&to=&step=day|month[&device=ID] (default: the
// last 31 days by day; the household unless a device is named).
func (s *Server) handleCosts(w http.ResponseWriter, r *http.Request) {
	if !s.tariff(w, r) {
		return
	}
	from, to, ok := s.queryRange(w, r, 31*24*time.Hour)
	if !ok {
		return
	}
	step := r.URL.Query().Get("step")
	if step == "" {
		step = "day"
	}
	out, err := s.opts.Tariff.Costs(from, to, step, energy.DeviceID(r.URL.Query().Get("device")))
	if err != nil {
		s.tariffError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// queryRangeForward is queryRange with defaults from = now, to = from + def.
func (s *Server) queryRangeForward(w http.ResponseWriter, r *http.Request, def time.Duration) (from, to time.Time, ok bool) {
	q := r.URL.Query()
	if q.Get("from") == "" && q.Get("to") == "" {
		from = s.now()
		return from, from.Add(def), true
	}
	return s.queryRange(w, r, def)
}
