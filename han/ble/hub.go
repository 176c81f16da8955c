package ble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/ble/bthome"
)

// Hub bounds and defaults.
const (
	// MaxSeen bounds the candidates remembered (the oldest is dropped).
	MaxSeen = 256
	// MaxAdopted bounds the adopted devices.
	MaxAdopted = 128
	// DefaultStaleAfter: an adopted broadcaster silent this long is offline.
	DefaultStaleAfter = 5 * time.Minute
	// SeenFor: a candidate not heard for this long leaves the seen list.
	SeenFor = 10 * time.Minute
	// counterSaveEvery spaces the replay counters' writes (flash).
	counterSaveEvery = 10 * time.Minute
)

// Device kinds.
const (
	KindPlug       = "plug"
	KindWaterMeter = "water_meter"
	KindGasMeter   = "gas_meter"
	KindPowerMeter = "power_meter"
	KindSensor     = "sensor"
)

// Errors of Adopt and Forget (wrapped).
var (
	ErrNotSeen     = errors.New("ble: device not seen nearby")
	ErrAdopted     = errors.New("ble: device already adopted")
	ErrNotAdopted  = errors.New("ble: device not adopted")
	ErrKeyRequired = errors.New("ble: encrypted device: key required")
	ErrBadKey      = errors.New("ble: key does not decrypt the device's advertisements")
	ErrUnsupported = errors.New("ble: device advertises nothing the gateway reads")
	ErrFull        = errors.New("ble: too many adopted devices")
)

// Options configure a [Hub].
type Options struct {
	// Adapter is the radio; required.
	Adapter Adapter
	// Registry receives adopted devices; required.
	Registry *devices.Registry
	// Publisher receives readings; nil drops them.
	Publisher energy.Publisher
	// Dir is the hub's state directory (<state_dir>/ble): adopted.json,
	// counters.json, keys/; required.
	Dir string
	// Clock; nil is the system clock.
	Clock energy.Clock
	// Log; nil discards.
	Log *slog.Logger
	// StaleAfter: 0 means DefaultStaleAfter.
	StaleAfter time.Duration
	// ConnectTimeout bounds a GATT connect and each GATT call; 0 means 10 s.
	ConnectTimeout time.Duration
	// Backoff is the first reconnect delay (doubling to MaxBackoff); 0 means 1 s.
	Backoff time.Duration
	// MaxBackoff: 0 means 1 min.
	MaxBackoff time.Duration
	// Unreachable, when set, hears when an adopted device goes offline
	// (down true) and comes back.
	Unreachable func(id energy.DeviceID, down bool)
}

// Seen is one device heard nearby: a candidate to adopt, or adopted.
type Seen struct {
	Addr        Addr      `json:"mac"`
	Name        string    `json:"name"`
	RSSI        int       `json:"rssi"`
	LastSeen    time.Time `json:"last_seen"`
	Connectable bool      `json:"connectable"`
	// Advertises says what the gateway understands of it: "bthome",
	// "bthome-encrypted", "ess", "appliance".
	Advertises []string `json:"advertises"`
	// Quantities it broadcasts (encrypted ones once a key decrypts them).
	Quantities []string `json:"quantities"`
	Kind       string   `json:"kind"`
	Adopted    bool     `json:"adopted"`
	Device     string   `json:"device,omitempty"`
}

type seen struct {
	Seen
	bthome []byte // last BTHome service data (to check a key at adoption)
}

type device struct {
	a     Adopted
	id    energy.DeviceID
	key   []byte
	state energy.DeviceState
	last  time.Time // last packet or connection
	down  bool
	wraps map[energy.Quantity]energy.Decimal
	plug  *plugSession
}

// Hub is the BLE driver: it scans, keeps the nearby devices as candidates,
// turns adopted ones into registry devices, decodes their broadcasts into
// readings and keeps GATT sessions to adopted appliances.
type Hub struct {
	o   Options
	dec *bthome.Decoder

	mu     sync.Mutex
	seen   map[Addr]*seen
	devs   map[Addr]*device
	runCtx context.Context
	wg     sync.WaitGroup
}

var _ devices.Driver = (*Hub)(nil)

// New loads the adopted devices and their keys from o.Dir and registers
// them (offline until heard).
func New(o Options) (*Hub, error) {
	if o.Adapter == nil || o.Registry == nil || o.Dir == "" {
		return nil, errors.New("ble: hub needs an adapter, a registry and a state dir")
	}
	if o.Clock == nil {
		o.Clock = energy.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	h := &Hub{o: o, seen: map[Addr]*seen{}, devs: map[Addr]*device{}}
	h.dec = bthome.NewDecoder(h.key)
	list, err := LoadAdopted(o.Dir)
	if err != nil {
		return nil, err
	}
	ctrs, err := loadCounters(o.Dir)
	if err != nil {
		return nil, err
	}
	for a, c := range ctrs {
		h.dec.SetCounter(a.Bytes(), c)
	}
	for _, a := range list {
		key, err := LoadKey(o.Dir, a.Addr)
		if err != nil {
			return nil, err
		}
		if _, err := h.register(a, key); err != nil {
			h.Close()
			return nil, err
		}
	}
	return h, nil
}

// DeviceID is the registry id of an adopted device: "ble:aabbccddeeff".
func DeviceID(a Addr) energy.DeviceID {
	return energy.DeviceID("ble:" + strings.ToLower(keyName(a)))
}

func (h *Hub) key(mac [6]byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d, ok := h.devs[AddrOf(mac)]; ok {
		return d.key
	}
	return nil
}

// Caps returns the capabilities of a device kind.
func Caps(kind string) energy.Capabilities {
	switch kind {
	case KindPlug:
		return energy.Capabilities{energy.CapMeter, energy.CapSwitch, energy.CapCurtail}
	case KindPowerMeter:
		return energy.Capabilities{energy.CapMeter}
	}
	return energy.Capabilities{}
}

func (h *Hub) register(a Adopted, key []byte) (*device, error) {
	d := &device{a: a, id: DeviceID(a.Addr), key: key, wraps: map[energy.Quantity]energy.Decimal{}}
	info := energy.DeviceInfo{ID: d.id, Name: a.Name, Transport: "ble", Kind: a.Kind, Caps: Caps(a.Kind), OwnReadings: true}
	h.mu.Lock()
	if _, dup := h.devs[a.Addr]; dup {
		h.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrAdopted, a.Addr)
	}
	h.devs[a.Addr] = d
	runCtx := h.runCtx
	h.mu.Unlock()
	if err := h.o.Registry.Add(info, h); err != nil {
		h.mu.Lock()
		delete(h.devs, a.Addr)
		h.mu.Unlock()
		return nil, fmt.Errorf("ble: adopt %s: %w", a.Addr, err)
	}
	if a.Kind == KindPlug && runCtx != nil {
		h.startPlug(runCtx, d)
	}
	return d, nil
}

// Close removes the hub's devices from the registry (after Run returned).
func (h *Hub) Close() {
	h.mu.Lock()
	ids := make([]energy.DeviceID, 0, len(h.devs))
	for _, d := range h.devs {
		ids = append(ids, d.id)
	}
	h.mu.Unlock()
	for _, id := range ids {
		h.o.Registry.Remove(id)
	}
}

// Run scans and keeps the adopted appliances connected until ctx is done;
// the replay counters are saved on the way out. An adapter failure ends
// it with the error.
func (h *Hub) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h.mu.Lock()
	if h.runCtx != nil {
		h.mu.Unlock()
		return errors.New("ble: hub already running")
	}
	h.runCtx = ctx
	var plugs []*device
	for _, d := range h.devs {
		if d.a.Kind == KindPlug {
			plugs = append(plugs, d)
		}
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		h.housekeeping(ctx)
	}()
	for _, d := range plugs {
		h.startPlug(ctx, d)
	}
	err := h.o.Adapter.Scan(ctx, h.Handle)
	cancel()
	h.mu.Lock()
	h.runCtx = nil
	for _, d := range h.devs {
		d.plug = nil
	}
	h.mu.Unlock()
	h.wg.Wait()
	h.saveCounters()
	if ctx.Err() != nil && err == nil {
		return nil
	}
	if err == nil {
		err = errors.New("scan ended")
	}
	return fmt.Errorf("ble: scan: %w", err)
}

func (h *Hub) saveCounters() {
	ctrs, changed := h.dec.Counters()
	if !changed {
		return
	}
	out := make(map[Addr]uint32, len(ctrs))
	for mac, c := range ctrs {
		out[AddrOf(mac)] = c
	}
	if err := saveCounters(h.o.Dir, out); err != nil {
		h.o.Log.Warn("ble: replay counters not saved", "err", err)
	}
}

// housekeeping marks silent broadcasters offline, forgets old candidates
// and saves the replay counters now and then.
func (h *Hub) housekeeping(ctx context.Context) {
	every := max(time.Second, h.o.StaleAfter/4)
	lastSave := h.o.Clock.Now()
	for {
		t := h.o.Clock.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		now := h.o.Clock.Now()
		h.sweep(now)
		if now.Sub(lastSave) >= counterSaveEvery {
			h.saveCounters()
			lastSave = now
		}
	}
}

func (h *Hub) sweep(now time.Time) {
	type change struct {
		id energy.DeviceID
		st energy.DeviceState
	}
	var offline []change
	h.mu.Lock()
	for a, s := range h.seen {
		if now.Sub(s.LastSeen) > SeenFor {
			delete(h.seen, a)
		}
	}
	for _, d := range h.devs {
		if d.a.Kind == KindPlug || d.down || d.last.IsZero() && now.Sub(d.a.Adopted) < h.o.StaleAfter {
			continue
		}
		ref := d.last
		if ref.IsZero() {
			ref = d.a.Adopted
		}
		if now.Sub(ref) > h.o.StaleAfter {
			d.down, d.state.Online = true, false
			offline = append(offline, change{d.id, d.state})
		}
	}
	h.mu.Unlock()
	for _, c := range offline {
		h.o.Log.Warn("ble: device silent, offline", "id", c.id, "after", h.o.StaleAfter)
		h.o.Registry.Update(c.id, c.st)
		if h.o.Unreachable != nil {
			h.o.Unreachable(c.id, true)
		}
	}
}

// Handle takes one advertisement (the adapter's scan callback).
func (h *Hub) Handle(a Advertisement) {
	ad, err := ParseAD(a.Data)
	if err != nil {
		return
	}
	now := h.o.Clock.Now()
	var bt []byte
	adv, qs := []string{}, []string{}
	kind := ""
	for _, sd := range ad.ServiceData {
		switch {
		case sd.UUID == bthome.UUID && len(sd.Data) > 0:
			bt = sd.Data
			if sd.Data[0]&bthome.FlagEncrypted != 0 {
				adv = append(adv, "bthome-encrypted")
			} else {
				adv = append(adv, "bthome")
			}
		default:
			if q, _, ok := decodeESS(sd); ok {
				if !slices.Contains(adv, "ess") {
					adv = append(adv, "ess")
				}
				qs = append(qs, string(q))
				kind = KindSensor
			}
		}
	}
	if slices.Contains(ad.Services128, ServiceAppliance) {
		adv = append(adv, "appliance")
		kind = KindPlug
	}
	if len(adv) == 0 {
		return // nothing we read: not a candidate
	}
	var pkt bthome.Packet
	var pktOK bool
	if bt != nil && bt[0]&bthome.FlagEncrypted == 0 {
		if p, err := bthome.Decode(bt, a.Addr.Bytes(), nil); err == nil {
			pkt, pktOK = p, true
		}
	}
	if pktOK {
		qs = append(qs, quantitiesOf(pkt)...)
		kind = kindOf(pkt)
	}
	h.mu.Lock()
	s, ok := h.seen[a.Addr]
	if !ok {
		if len(h.seen) >= MaxSeen {
			h.evictOldest()
		}
		s = &seen{}
		h.seen[a.Addr] = s
	}
	s.Addr, s.RSSI, s.LastSeen, s.Connectable, s.Advertises = a.Addr, a.RSSI, now, a.Connectable, adv
	if ad.Name != "" {
		s.Name = ad.Name
	}
	if len(qs) > 0 || s.Quantities == nil {
		s.Quantities = qs
	}
	if kind != "" {
		s.Kind = kind
	}
	if bt != nil {
		s.bthome = append(s.bthome[:0], bt...)
	}
	d, adopted := h.devs[a.Addr]
	if adopted {
		s.Adopted, s.Device = true, string(d.id)
	}
	h.mu.Unlock()
	if !adopted || d.a.Kind == KindPlug {
		return
	}
	var rs []energy.Reading
	if bt != nil {
		p, dup, err := h.dec.Decode(bt, a.Addr.Bytes())
		switch {
		case err != nil:
			h.o.Log.Debug("ble: packet refused", "mac", a.Addr, "err", err)
			return
		case dup:
			return
		}
		if p.Encrypted {
			h.mu.Lock()
			s.Quantities = quantitiesOf(p)
			h.mu.Unlock()
		}
		rs = h.readings(d, p, now)
	}
	for _, sd := range ad.ServiceData {
		if q, v, ok := decodeESS(sd); ok {
			rs = append(rs, energy.Reading{Device: d.id, Quantity: q, Value: v, Measured: now, Received: now, Source: "ble/ess"})
		}
	}
	if len(rs) == 0 {
		return
	}
	h.heard(d, now, rs)
	if h.o.Publisher != nil {
		if err := h.o.Publisher.Publish(rs); err != nil {
			h.o.Log.Warn("ble: readings not published", "id", d.id, "err", err)
		}
	}
}

func (h *Hub) evictOldest() {
	var oldest Addr
	var t time.Time
	for a, s := range h.seen {
		if _, adopted := h.devs[a]; adopted {
			continue
		}
		if t.IsZero() || s.LastSeen.Before(t) {
			oldest, t = a, s.LastSeen
		}
	}
	delete(h.seen, oldest)
}

// heard records a device's fresh readings in its registry state.
func (h *Hub) heard(d *device, now time.Time, rs []energy.Reading) {
	h.mu.Lock()
	back := d.down
	d.down, d.last = false, now
	d.state.Online, d.state.Updated = true, now
	for _, r := range rs {
		switch r.Quantity {
		case energy.Power:
			if v, ok := r.Value.Rescale(0); ok {
				d.state.PowerW = v
			}
		case energy.ImportEnergy:
			if v, ok := r.Value.Rescale(0); ok {
				d.state.EnergyWh = v
			}
		}
	}
	st := d.state
	h.mu.Unlock()
	h.o.Registry.Update(d.id, st)
	if back && h.o.Unreachable != nil {
		h.o.Unreachable(d.id, false)
	}
}

// quantity maps a BTHome object onto a gateway quantity and the power of
// ten that turns its raw value into the quantity's unit.
func quantity(v bthome.Value) (energy.Quantity, int8, bool) {
	switch v.Name {
	case bthome.Energy:
		return energy.ImportEnergy, v.Exp + 3, true // kWh -> Wh
	case bthome.Power:
		return energy.Power, v.Exp, true
	case bthome.Gas:
		return energy.GasVolume, v.Exp, true
	case bthome.Water:
		return energy.WaterVolume, v.Exp - 3, true // L -> m3
	case bthome.Temperature:
		return energy.Temperature, v.Exp, true
	case bthome.Humidity:
		return energy.Humidity, v.Exp, true
	case bthome.Battery:
		return QBattery, v.Exp, true
	case bthome.Voltage:
		return QVoltage, v.Exp, true
	case bthome.Current:
		return QCurrent, v.Exp, true
	case bthome.Pressure:
		return QPressure, v.Exp, true
	case bthome.Illuminance:
		return QIlluminance, v.Exp, true
	}
	return "", 0, false
}

func quantitiesOf(p bthome.Packet) []string {
	out := []string{}
	for _, v := range p.Values {
		if q, _, ok := quantity(v); ok && !slices.Contains(out, string(q)) {
			out = append(out, string(q))
		}
	}
	return out
}

func kindOf(p bthome.Packet) string {
	k := KindSensor
	for _, v := range p.Values {
		switch q, _, _ := quantity(v); q {
		case energy.WaterVolume:
			return KindWaterMeter
		case energy.GasVolume:
			return KindGasMeter
		case energy.ImportEnergy, energy.Power:
			k = KindPowerMeter
		}
	}
	return k
}

func (h *Hub) readings(d *device, p bthome.Packet, now time.Time) []energy.Reading {
	src := "ble/bthome"
	rs := make([]energy.Reading, 0, len(p.Values))
	for _, v := range p.Values {
		q, exp, ok := quantity(v)
		if !ok {
			continue
		}
		if q.IsCounter() {
			h.mu.Lock()
			d.wraps[q] = energy.D(v.Wrap(), exp)
			h.mu.Unlock()
		}
		rs = append(rs, energy.Reading{Device: d.id, Quantity: q, Value: energy.D(v.Raw, exp), Measured: now, Received: now, Source: src})
	}
	return rs
}

// Wrap returns where a device's counter q wraps, in q's unit (the store's
// counter handling); ok false for an unknown device or quantity, or one
// not yet heard.
func (h *Hub) Wrap(id energy.DeviceID, q energy.Quantity) (energy.Decimal, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.devs {
		if d.id == id {
			if d.a.Kind == KindPlug && q == energy.ImportEnergy {
				return energy.D(EnergyWrap, 0), true
			}
			w, ok := d.wraps[q]
			return w, ok
		}
	}
	return energy.Decimal{}, false
}

// Seen returns the devices heard in the last SeenFor, strongest first.
func (h *Hub) Seen() []Seen {
	h.mu.Lock()
	out := make([]Seen, 0, len(h.seen))
	for _, s := range h.seen {
		c := s.Seen
		c.Advertises, c.Quantities = slices.Clone(c.Advertises), slices.Clone(c.Quantities)
		if d, ok := h.devs[s.Addr]; ok {
			c.Adopted, c.Device = true, string(d.id)
		} else {
			c.Adopted, c.Device = false, ""
		}
		out = append(out, c)
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b Seen) int {
		if a.RSSI != b.RSSI {
			return b.RSSI - a.RSSI
		}
		return strings.Compare(string(a.Addr), string(b.Addr))
	})
	return out
}

// Adoption is the household's request to adopt a device.
type Adoption struct {
	Addr Addr
	Name string
	// Key is the BTHome key of an encrypted device (16 bytes), else nil.
	Key []byte
}

// Adopt makes a seen device a registry device, persists it (and its key)
// and returns its id. The device must have been heard; an encrypted one
// needs a key that decrypts its last advertisement.
func (h *Hub) Adopt(r Adoption) (energy.DeviceID, error) {
	h.mu.Lock()
	s, ok := h.seen[r.Addr]
	_, dup := h.devs[r.Addr]
	n := len(h.devs)
	var last []byte
	var kind string
	var name string
	if ok {
		last, kind, name = append([]byte(nil), s.bthome...), s.Kind, s.Name
	}
	h.mu.Unlock()
	switch {
	case dup:
		return "", fmt.Errorf("%w: %s", ErrAdopted, r.Addr)
	case !ok:
		return "", fmt.Errorf("%w: %s", ErrNotSeen, r.Addr)
	case n >= MaxAdopted:
		return "", fmt.Errorf("%w (%d)", ErrFull, MaxAdopted)
	}
	if len(last) > 0 && last[0]&bthome.FlagEncrypted != 0 {
		if r.Key == nil {
			return "", fmt.Errorf("%w: %s", ErrKeyRequired, r.Addr)
		}
		p, err := bthome.Decode(last, r.Addr.Bytes(), r.Key)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrBadKey, r.Addr, err)
		}
		kind = kindOf(p)
	} else {
		r.Key = nil
	}
	if kind == "" {
		return "", fmt.Errorf("%w: %s", ErrUnsupported, r.Addr)
	}
	if r.Name = strings.TrimSpace(r.Name); r.Name == "" {
		r.Name = name
	}
	if r.Name == "" {
		r.Name = "BLE " + kind + " " + string(r.Addr)
	}
	if len(r.Name) > 64 {
		return "", fmt.Errorf("ble: name over 64 bytes")
	}
	a := Adopted{Addr: r.Addr, Name: r.Name, Kind: kind, Adopted: h.o.Clock.Now().UTC()}
	if r.Key != nil {
		if err := SaveKey(h.o.Dir, r.Addr, r.Key); err != nil {
			return "", err
		}
	}
	d, err := h.register(a, r.Key)
	if err != nil {
		return "", err
	}
	if err := h.persist(); err != nil {
		h.unregister(d)
		return "", err
	}
	h.o.Log.Info("ble: device adopted", "id", d.id, "mac", r.Addr, "kind", kind, "name", r.Name)
	return d.id, nil
}

// Forget un-adopts a device: it leaves the registry, the adopted list and
// its key file; it stays a candidate while it is heard.
func (h *Hub) Forget(id energy.DeviceID) error {
	h.mu.Lock()
	var d *device
	for _, x := range h.devs {
		if x.id == id {
			d = x
		}
	}
	h.mu.Unlock()
	if d == nil {
		return fmt.Errorf("%w: %s", ErrNotAdopted, id)
	}
	h.unregister(d)
	if err := h.persist(); err != nil {
		return err
	}
	h.dec.Forget(d.a.Addr.Bytes())
	if err := removeIfExists(KeyPath(h.o.Dir, d.a.Addr)); err != nil {
		return fmt.Errorf("ble: forget %s: %w", id, err)
	}
	h.o.Log.Info("ble: device forgotten", "id", id)
	return nil
}

func (h *Hub) unregister(d *device) {
	h.mu.Lock()
	delete(h.devs, d.a.Addr)
	p, down := d.plug, d.down
	h.mu.Unlock()
	if p != nil {
		p.stop()
	}
	h.o.Registry.Remove(d.id)
	if down && h.o.Unreachable != nil {
		h.o.Unreachable(d.id, false)
	}
}

func (h *Hub) persist() error {
	h.mu.Lock()
	list := make([]Adopted, 0, len(h.devs))
	for _, d := range h.devs {
		list = append(list, d.a)
	}
	h.mu.Unlock()
	slices.SortFunc(list, func(a, b Adopted) int { return strings.Compare(string(a.Addr), string(b.Addr)) })
	return SaveAdopted(h.o.Dir, list)
}
