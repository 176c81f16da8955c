package coap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"

	"github.com/gatewayd-project/gatewayd/energy"
)

func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	h := func(p string, f func(w mux.ResponseWriter, r *mux.Message)) {
		if err := r.Handle(p, mux.HandlerFunc(f)); err != nil {
			panic(err) // constant patterns: caught by every test
		}
	}
	h("/.well-known/core", s.wellKnown)
	h("/rd", s.register)
	h("/rd/{n}", s.refresh)
	h("/dev/{ep}/info", s.info)
	h("/dev/{ep}/meas", s.meas)
	h("/dev/{ep}/ctl", s.ctl)
	h("/dev/{ep}/status", s.status)
	h("/price", func(w mux.ResponseWriter, r *mux.Message) {
		s.observable(w, r, "/price", func() []byte { s.mu.Lock(); defer s.mu.Unlock(); return s.price })
	})
	h("/grid/limit", func(w mux.ResponseWriter, r *mux.Message) {
		s.observable(w, r, "/grid/limit", func() []byte { s.mu.Lock(); defer s.mu.Unlock(); return s.limit })
	})
	return r
}

func reply(w mux.ResponseWriter, c codes.Code, format string, args ...any) {
	_ = w.SetResponse(c, message.TextPlain, bytes.NewReader(fmt.Appendf(nil, format, args...)))
}

func replyJSON(w mux.ResponseWriter, c codes.Code, b []byte) {
	_ = w.SetResponse(c, message.AppJSON, bytes.NewReader(b))
}

// identity is the session's PSK identity, "" for a plain peer.
func identity(w mux.ResponseWriter) (string, bool) {
	id, ok := w.Conn().Context().Value(identityKey{}).(string)
	return id, ok
}

// allowed reports whether the session may act for endpoint ep, answering
// 4.03 when not: a DTLS session only for its own identity (still paired),
// a plain loopback peer for any paired endpoint.
func (s *Server) allowed(w mux.ResponseWriter, ep string) bool {
	id, ok := identity(w)
	if ok && id != "" && id != ep {
		reply(w, codes.Forbidden, "endpoint %s belongs to another identity", ep)
		return false
	}
	if !ok {
		reply(w, codes.Forbidden, "no session identity")
		return false
	}
	if _, paired := s.o.Store.Lookup(ep); !paired {
		reply(w, codes.Forbidden, "endpoint %s is not paired", ep)
		return false
	}
	return true
}

func (s *Server) wellKnown(w mux.ResponseWriter, r *mux.Message) {
	if r.Code() != codes.GET {
		reply(w, codes.MethodNotAllowed, "GET only")
		return
	}
	id, _ := identity(w)
	q, _ := r.Queries()
	_ = w.SetResponse(codes.Content, message.AppLinkFormat, bytes.NewReader([]byte(wellKnown(id, q))))
}

func (s *Server) register(w mux.ResponseWriter, r *mux.Message) {
	if r.Code() != codes.POST {
		reply(w, codes.MethodNotAllowed, "POST only")
		return
	}
	q, _ := r.Queries()
	ep, lt, et, err := parseRDQuery(q)
	if err != nil {
		reply(w, codes.BadRequest, "%v", err)
		return
	}
	if !s.allowed(w, ep) {
		return
	}
	body, err := readBody(r)
	if err != nil {
		reply(w, codes.RequestEntityTooLarge, "%v", err)
		return
	}
	if err := checkLinkFormat(body); err != nil {
		reply(w, codes.BadRequest, "%v", err)
		return
	}
	n, err := s.registerEP(ep, lt, et)
	if err != nil {
		reply(w, codes.InternalServerError, "%v", err)
		return
	}
	_ = w.SetResponse(codes.Created, message.TextPlain, nil,
		message.Option{ID: message.LocationPath, Value: []byte("rd")},
		message.Option{ID: message.LocationPath, Value: []byte(strconv.Itoa(n))})
}

func (s *Server) lifetime(lt int64) time.Duration {
	d := time.Duration(lt) * time.Second
	if lt == 0 {
		d = DefaultLifetime
	}
	return min(d, s.o.MaxLifetime)
}

// registerEP records a registration (RFC 9176 semantics: a repeated
// registration of the same ep replaces the old one and keeps its
// resource) and puts the appliance in the device registry.
func (s *Server) registerEP(ep string, lt int64, et string) (int, error) {
	app, _ := s.o.Store.Lookup(ep)
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.eps[ep]
	if !ok {
		e = &endpoint{ep: ep}
		s.eps[ep] = e
	}
	if e.rdID == 0 {
		s.nextRD++
		e.rdID = s.nextRD
		s.rds[e.rdID] = ep
	}
	if et != "" {
		e.kind = et
	} else if e.kind == "" {
		e.kind = "appliance"
	}
	e.lifetime = s.lifetime(lt)
	e.expires = now.Add(e.lifetime)
	e.online = true
	if !e.added {
		caps, rated := capsOf(e.kind)
		if e.info.PNomW > 0 {
			rated = e.info.PNomW
		}
		info := energy.DeviceInfo{ID: deviceID(ep), Name: app.Name, Transport: "coap", Kind: e.kind, Caps: caps, RatedW: rated}
		if err := s.o.Registry.Add(info, driver{s}); err != nil {
			return 0, fmt.Errorf("coap: register %s: %w", ep, err)
		}
		e.added = true
		s.log.Info("coap: appliance registered", "ep", ep, "kind", e.kind, "lifetime", e.lifetime)
	}
	s.updateLocked(e, now)
	return e.rdID, nil
}

func (s *Server) refresh(w mux.ResponseWriter, r *mux.Message) {
	n, err := strconv.Atoi(r.RouteParams.Vars["n"])
	s.mu.Lock()
	ep, ok := s.rds[n]
	s.mu.Unlock()
	if err != nil || !ok {
		reply(w, codes.NotFound, "no registration %s", r.RouteParams.Vars["n"])
		return
	}
	if !s.allowed(w, ep) {
		return
	}
	switch r.Code() {
	case codes.POST:
		q, _ := r.Queries()
		var lt int64
		for _, x := range q {
			if v, ok := cutPrefix(x, "lt="); ok {
				lt, err = strconv.ParseInt(v, 10, 64)
				if err != nil || lt < 1 {
					reply(w, codes.BadRequest, "rd: bad lifetime %q", v)
					return
				}
			}
		}
		now := s.o.Clock.Now()
		s.mu.Lock()
		if e, ok := s.eps[ep]; ok {
			if lt > 0 {
				e.lifetime = s.lifetime(lt)
			}
			e.expires, e.online = now.Add(e.lifetime), true
			s.updateLocked(e, now)
		}
		s.mu.Unlock()
		reply(w, codes.Changed, "")
	case codes.DELETE:
		s.mu.Lock()
		if e, ok := s.eps[ep]; ok {
			if e.added {
				s.o.Registry.Remove(deviceID(ep))
			}
			delete(s.rds, e.rdID)
			delete(s.eps, ep)
		}
		s.mu.Unlock()
		s.log.Info("coap: appliance deregistered", "ep", ep)
		reply(w, codes.Deleted, "")
	default:
		reply(w, codes.MethodNotAllowed, "POST or DELETE")
	}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// registered returns the endpoint (under s.mu) or answers 4.04.
func (s *Server) registered(w mux.ResponseWriter, ep string) (*endpoint, bool) {
	e, ok := s.eps[ep]
	if !ok || !e.online {
		reply(w, codes.NotFound, "endpoint %s is not registered: POST /rd?ep=%s first", ep, ep)
		return nil, false
	}
	return e, true
}

// decodeDoc decodes a JSON (50) or CBOR (60) document strictly.
func decodeDoc(r *mux.Message, b []byte, v any) error {
	cf, err := r.ContentFormat()
	if err != nil {
		cf = message.AppJSON
	}
	switch cf {
	case message.AppJSON:
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("json: %w", err)
		}
		if dec.More() {
			return errors.New("json: trailing data")
		}
		return nil
	case message.AppCBOR:
		if err := docDec.Unmarshal(b, v); err != nil {
			return fmt.Errorf("cbor: %w", err)
		}
		return nil
	}
	return errUnsupported
}

// docDec decodes the CBOR documents (/info, /status); built once, not
// per request.
var docDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField}.DecMode()
	if err != nil {
		panic(err) // constant options: a programming error, caught by every test
	}
	return dm
}()

var errUnsupported = errors.New("content format: want application/json (50) or application/cbor (60)")

func (s *Server) info(w mux.ResponseWriter, r *mux.Message) {
	ep := r.RouteParams.Vars["ep"]
	if !s.allowed(w, ep) {
		return
	}
	switch r.Code() {
	case codes.GET:
		s.getDoc(w, ep, func(e *endpoint) any { return e.info })
	case codes.PUT, codes.POST:
		in, ok := readDoc[Info](w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		e, ok := s.registered(w, ep)
		if !ok {
			return
		}
		e.info = in
		if d, ok := s.o.Registry.Device(deviceID(ep)); ok && e.added && in.PNomW > 0 && d.RatedW != in.PNomW {
			// DeviceInfo is immutable in the registry: replace the device.
			s.o.Registry.Remove(d.ID)
			d.DeviceInfo.RatedW = in.PNomW
			if err := s.o.Registry.Add(d.DeviceInfo, driver{s}); err != nil {
				e.added = false
				reply(w, codes.InternalServerError, "%v", err)
				return
			}
			s.updateLocked(e, s.o.Clock.Now())
		}
		reply(w, codes.Changed, "")
	default:
		reply(w, codes.MethodNotAllowed, "GET or PUT")
	}
}

// getDoc answers a GET with the JSON of one of a registered endpoint's
// documents.
func (s *Server) getDoc(w mux.ResponseWriter, ep string, doc func(*endpoint) any) {
	s.mu.Lock()
	e, ok := s.registered(w, ep)
	var b []byte
	if ok {
		b, _ = json.Marshal(doc(e))
	}
	s.mu.Unlock()
	if ok {
		replyJSON(w, codes.Content, b)
	}
}

// readDoc reads, decodes (JSON or CBOR) and checks a request's document;
// on failure it has answered (4.13, 4.15 or 4.00 with the reason).
func readDoc[T interface{ check() error }](w mux.ResponseWriter, r *mux.Message) (T, bool) {
	var v T
	b, err := readBody(r)
	if err != nil {
		reply(w, codes.RequestEntityTooLarge, "%v", err)
		return v, false
	}
	if err := decodeDoc(r, b, &v); err != nil {
		badDoc(w, err)
		return v, false
	}
	if err := v.check(); err != nil {
		reply(w, codes.BadRequest, "%v", err)
		return v, false
	}
	return v, true
}

func badDoc(w mux.ResponseWriter, err error) {
	if errors.Is(err, errUnsupported) {
		reply(w, codes.UnsupportedMediaType, "%v", err)
		return
	}
	reply(w, codes.BadRequest, "%v", err)
}

func (s *Server) meas(w mux.ResponseWriter, r *mux.Message) {
	ep := r.RouteParams.Vars["ep"]
	if !s.allowed(w, ep) {
		return
	}
	if r.Code() == codes.GET {
		s.mu.Lock()
		e, ok := s.registered(w, ep)
		var m Measurement
		if ok {
			m = e.meas
		}
		s.mu.Unlock()
		if ok {
			v, sum := m.PowerW, m.EnergyWh
			b, _ := EncodeSenMLJSON([]Record{{BaseName: "urn:gw:" + ep + ":", Name: "power", Unit: "W", Value: &v},
				{Name: "energy", Unit: "Wh", Value: &sum}})
			_ = w.SetResponse(codes.Content, message.AppSenmlJSON, bytes.NewReader(b))
		}
		return
	}
	if r.Code() != codes.POST {
		reply(w, codes.MethodNotAllowed, "POST (or GET)")
		return
	}
	b, err := readBody(r)
	if err != nil {
		reply(w, codes.RequestEntityTooLarge, "%v", err)
		return
	}
	cf, err := r.ContentFormat()
	if err != nil {
		reply(w, codes.BadRequest, "senml: content format missing: want 110 (senml+json) or 112 (senml+cbor)")
		return
	}
	var recs []Record
	switch cf {
	case message.AppSenmlJSON, message.AppJSON:
		recs, err = DecodeSenMLJSON(b)
	case message.AppSenmlCbor, message.AppCBOR:
		recs, err = DecodeSenMLCBOR(b)
	default:
		reply(w, codes.UnsupportedMediaType, "senml: content format %d: want 110 or 112", cf)
		return
	}
	if err != nil {
		reply(w, codes.BadRequest, "%v", err)
		return
	}
	m, err := Resolve(recs)
	if err != nil {
		reply(w, codes.BadRequest, "%v", err)
		return
	}
	now := s.o.Clock.Now()
	s.mu.Lock()
	e, ok := s.registered(w, ep)
	if ok {
		if !m.HasPower {
			m.PowerW = e.meas.PowerW
		}
		if !m.HasEnergy {
			m.EnergyWh = e.meas.EnergyWh
		}
		e.meas, e.measAt = m, now
		s.updateLocked(e, now)
	}
	s.mu.Unlock()
	if ok {
		reply(w, codes.Changed, "")
	}
}

func (s *Server) ctl(w mux.ResponseWriter, r *mux.Message) {
	ep := r.RouteParams.Vars["ep"]
	if !s.allowed(w, ep) {
		return
	}
	s.mu.Lock()
	_, ok := s.registered(w, ep)
	s.mu.Unlock()
	if !ok {
		return
	}
	s.observable(w, r, "/dev/"+ep+"/ctl", func() []byte {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := Ctl{Mode: ModeNormal, Duration: "PT0S", RandomizeStart: "PT0S"}
		if e, ok := s.eps[ep]; ok && e.ctl.Mode != "" {
			c = e.ctl
		}
		b, _ := json.Marshal(c)
		return b
	})
}

func (s *Server) status(w mux.ResponseWriter, r *mux.Message) {
	ep := r.RouteParams.Vars["ep"]
	if !s.allowed(w, ep) {
		return
	}
	switch r.Code() {
	case codes.GET:
		s.getDoc(w, ep, func(e *endpoint) any { return e.status })
	case codes.POST, codes.PUT:
		st, ok := readDoc[Status](w, r)
		if !ok {
			return
		}
		now := s.o.Clock.Now()
		s.mu.Lock()
		e, ok := s.registered(w, ep)
		if ok {
			e.status = st
			s.updateLocked(e, now)
		}
		s.mu.Unlock()
		if ok {
			reply(w, codes.Changed, "")
		}
	default:
		reply(w, codes.MethodNotAllowed, "GET or POST")
	}
}

// observable answers a GET on an observable resource; Observe=0 registers
// (bounded: over the bounds the answer simply carries no Observe option,
// RFC 7641 §4.1), Observe=1 deregisters.
func (s *Server) observable(w mux.ResponseWriter, r *mux.Message, path string, body func() []byte) {
	if r.Code() != codes.GET {
		reply(w, codes.MethodNotAllowed, "GET (Observe) only")
		return
	}
	observing := false
	if obs, err := r.Observe(); err == nil {
		switch obs {
		case 0:
			observing = s.obs.add(w.Conn(), r.Token(), path, body)
		case 1:
			s.obs.remove(w.Conn(), r.Token(), path)
		}
	}
	replyJSON(w, codes.Content, body())
	if observing {
		w.Message().SetObserve(s.obs.nextSeq())
	}
}
