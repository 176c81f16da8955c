package web

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
)

// History is what the API needs of the store.
type History interface {
	QuerySeries(d energy.DeviceID, q energy.Quantity, from, to time.Time, points int) (storage.SeriesResult, error)
	Consumption(d energy.DeviceID, q energy.Quantity, from, to time.Time, st storage.Step) (storage.ConsumptionResult, error)
	Events(from, to time.Time, kind string, limit int) ([]storage.Event, error)
	Export(d energy.DeviceID, q energy.Quantity, tier string, from, to time.Time, fn func(storage.ExportRow) error) error
}

var _ History = (*storage.Store)(nil)

// badParam answers 400 naming the query parameter, in the request's
// language.
func badParam(w http.ResponseWriter, r *http.Request, param, code string, args ...any) {
	fail(w, r, http.StatusBadRequest, code, param, args...)
}

// queryRange parses from and to (RFC 3339); defaults: to = now,
// from = to - def.
func (s *Server) queryRange(w http.ResponseWriter, r *http.Request, def time.Duration) (from, to time.Time, ok bool) {
	q := r.URL.Query()
	to = s.now()
	if v := q.Get("to"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			badParam(w, r, "to", "bad_time", "to", v)
			return from, to, false
		}
		to = t
	}
	from = to.Add(-def)
	if v := q.Get("from"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			badParam(w, r, "from", "bad_time", "from", v)
			return from, to, false
		}
		from = t
	}
	if !from.Before(to) {
		badParam(w, r, "from", "from_after_to")
		return from, to, false
	}
	if to.Sub(from) > 100*365*24*time.Hour {
		badParam(w, r, "from", "range_too_long", "100 years")
		return from, to, false
	}
	return from, to, true
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.History == nil {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "history")
		return false
	}
	return true
}

// knownDevice reports whether d is the meter or a registry device.
func (s *Server) knownDevice(d energy.DeviceID) bool {
	meter := energy.DeviceID("meter")
	if s.opts.Meter != nil {
		if id := s.opts.Meter.MeterStatus().Device; id != "" {
			meter = id
		}
	}
	if d == meter {
		return true
	}
	if s.opts.Devices != nil {
		for _, dev := range s.opts.Devices.Devices() {
			if dev.ID == d {
				return true
			}
		}
	}
	return false
}

// storeError maps store errors to 400s naming the parameter.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, storage.ErrUnknownSeries):
		badParam(w, r, "device", "unknown_series")
	case errors.Is(err, storage.ErrRange):
		badParam(w, r, "from", "from_after_to")
	case errors.Is(err, storage.ErrPoints):
		badParam(w, r, "points", "bad_int", "points", storage.MaxPoints, r.URL.Query().Get("points"))
	case errors.Is(err, storage.ErrStep):
		badParam(w, r, "step", "bad_step", "quarter, hour, day, month")
	case errors.Is(err, storage.ErrNotCounter):
		badParam(w, r, "quantity", "not_counter", r.URL.Query().Get("quantity"))
	case errors.Is(err, storage.ErrTooMany):
		badParam(w, r, "step", "too_many_steps", storage.MaxPoints)
	case errors.Is(err, storage.ErrTier):
		badParam(w, r, "tier", "bad_tier")
	default:
		s.log.Error("web: history query", "err", err)
		fail(w, r, http.StatusInternalServerError, "internal", "")
	}
}

// intParam parses an optional integer parameter in 1..max.
func intParam(w http.ResponseWriter, r *http.Request, name string, def, max int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		badParam(w, r, name, "bad_int", name, max, v)
		return 0, false
	}
	return n, true
}

func required(w http.ResponseWriter, r *http.Request, names ...string) bool {
	for _, n := range names {
		if r.URL.Query().Get(n) == "" {
			badParam(w, r, n, "required", n)
			return false
		}
	}
	return true
}

// seriesQuery parses what series and consumption share: device,
// quantity, from and to.
func (s *Server) seriesQuery(w http.ResponseWriter, r *http.Request) (d energy.DeviceID, q energy.Quantity, from, to time.Time, ok bool) {
	if !s.history(w, r) || !required(w, r, "device", "quantity") {
		return
	}
	if from, to, ok = s.queryRange(w, r, 24*time.Hour); !ok {
		return
	}
	v := r.URL.Query()
	return energy.DeviceID(v.Get("device")), energy.Quantity(v.Get("quantity")), from, to, true
}

// GET /api/v1/series?device=D&quantity=Q&from=T&to=T&points=N
func (s *Server) handleSeries(w http.ResponseWriter, r *http.Request) {
	d, q, from, to, ok := s.seriesQuery(w, r)
	if !ok {
		return
	}
	points, ok := intParam(w, r, "points", 500, storage.MaxPoints)
	if !ok {
		return
	}
	res, err := s.opts.History.QuerySeries(d, q, from, to, points)
	if errors.Is(err, storage.ErrUnknownSeries) && s.knownDevice(d) && q.Unit() != "" {
		// A device we know with no data for the quantity yet: nothing to
		// draw, which is not an error.
		res, err = storage.SeriesResult{Device: d, Quantity: q, Unit: q.Unit(), Points: []storage.SeriesPoint{}}, nil
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, res)
}

// GET /api/v1/consumption?device=D&quantity=Q&from=T&to=T&step=hour|day|month
// (the store validates step; storeError names it).
func (s *Server) handleConsumption(w http.ResponseWriter, r *http.Request) {
	d, q, from, to, ok := s.seriesQuery(w, r)
	if !ok {
		return
	}
	step := storage.Step(r.URL.Query().Get("step"))
	if step == "" {
		step = storage.StepHour
	}
	res, err := s.opts.History.Consumption(d, q, from, to, step)
	if errors.Is(err, storage.ErrUnknownSeries) && s.knownDevice(d) && q.IsCounter() {
		res, err = storage.ConsumptionResult{Device: d, Quantity: q, Unit: q.Unit(), Step: step, Intervals: []storage.Interval{}}, nil
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, res)
}

// GET /api/v1/events?from=&to=&kind=&limit=
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if !s.history(w, r) {
		return
	}
	from, to, ok := s.queryRange(w, r, 7*24*time.Hour)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", 1000, 10000)
	if !ok {
		return
	}
	kind := r.URL.Query().Get("kind")
	if len(kind) > 64 {
		badParam(w, r, "kind", "too_long", "kind")
		return
	}
	evs, err := s.opts.History.Events(from, to, kind, limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if evs == nil {
		evs = []storage.Event{}
	}
	s.writeJSON(w, http.StatusOK, struct {
		Events []storage.Event `json:"events"`
	}{evs})
}

// GET /api/v1/export?format=csv|json&device=&quantity=&tier=raw&from=&to=
// streams every stored point (JSON: one object per line).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	if !s.history(w, r) {
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		badParam(w, r, "format", "bad_format", format)
		return
	}
	tier := q.Get("tier")
	if tier == "" {
		tier = "raw"
	}
	from, to, ok := s.queryRange(w, r, 24*time.Hour)
	if !ok {
		return
	}
	// Headers go out with the first byte: an error the store returns
	// before any row (unknown series, bad tier) still gets a JSON 400.
	lw := &lazyHeaders{w: w, set: func(h http.Header) {
		if format == "csv" {
			h.Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			h.Set("Content-Type", "application/x-ndjson")
		}
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"gatewayd-export.%s\"", map[string]string{"csv": "csv", "json": "ndjson"}[format]))
		h.Set("Cache-Control", "no-store")
	}}
	bw := bufio.NewWriterSize(lw, 32<<10)
	err := WriteExport(bw, format, func(fn func(storage.ExportRow) error) error {
		return s.opts.History.Export(energy.DeviceID(q.Get("device")), energy.Quantity(q.Get("quantity")), tier, from, to, fn)
	})
	if err != nil && !lw.started && bw.Buffered() == 0 {
		s.storeError(w, r, err)
		return
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		s.log.Warn("web: export interrupted", "err", err)
	}
}

// lazyHeaders sets the response headers right before the first write.
type lazyHeaders struct {
	w       http.ResponseWriter
	set     func(http.Header)
	started bool
}

func (l *lazyHeaders) Write(b []byte) (int, error) {
	if !l.started {
		l.set(l.w.Header())
		l.started = true
	}
	return l.w.Write(b)
}

// WriteExport writes rows as CSV (with a header) or JSON lines; the CLI's
// `gatewayd export` uses it too.
func WriteExport(w *bufio.Writer, format string, rows func(func(storage.ExportRow) error) error) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		return rows(func(r storage.ExportRow) error { return enc.Encode(r) })
	}
	cw := csv.NewWriter(w)
	header := false
	writeHeader := func() {
		if !header {
			cw.Write([]string{"time", "device", "quantity", "unit", "tier", "legal", "value", "min", "max", "mean", "first", "last", "n"})
			header = true
		}
	}
	str := func(d *energy.Decimal) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	err := rows(func(r storage.ExportRow) error {
		writeHeader()
		mean, n := "", ""
		if r.Mean != nil {
			mean = strconv.FormatFloat(*r.Mean, 'f', -1, 64)
			n = strconv.FormatInt(r.N, 10)
		}
		return cw.Write([]string{r.Time.Format(time.RFC3339Nano), string(r.Device), string(r.Quantity), r.Unit, r.Tier,
			strconv.FormatBool(r.Legal), str(r.Value), str(r.Min), str(r.Max), mean, str(r.First), str(r.Last), n})
	})
	if err == nil {
		writeHeader() // an empty export still has its header
	}
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return err
}
