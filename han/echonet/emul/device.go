package emul

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/gatewayd-project/gatewayd/han/echonet"
)

// MakerCode is the 8A maker code every emulated object reports: FFFFFF is
// not a registered maker, so nobody mistakes an emulator for a product.
const MakerCode = 0xFFFFFF

// Super-class property codes every device object supports.
const (
	epcStatus   = 0x80 // operation status
	epcLocation = 0x81 // installation location
	epcVersion  = 0x82 // standard version information
	epcIdent    = 0x83 // identification number (node profile)
	epcFault    = 0x88 // fault status
	epcMaker    = 0x8A // maker code
	epcAnnoMap  = 0x9D // status-change announcement property map
	epcSetMap   = 0x9E // Set property map
	epcGetMap   = 0x9F // Get property map
)

// Operation status values (EPC 80).
const (
	statusOn  = 0x30
	statusOff = 0x31
)

// model is the class-specific behaviour of one device object. The Home's
// mutex is held around every call.
type model interface {
	// epcs lists the class's own properties; the Device adds 81, 82, 88,
	// 8A and 9D-9F (and 81 to Set, 80/81/88 to the announcement map).
	epcs() (get, set, anno []byte)
	get(epc byte, now time.Time) ([]byte, bool)
	// set applies edt to a property of the Set map; false refuses it.
	set(epc byte, edt []byte) bool
	// step integrates the dt that ends at t.
	step(t time.Time, dt time.Duration, h *household)
	// power is what the object draws from the house now, in W (negative:
	// it supplies the house). Meters draw nothing.
	power() float64
}

// starter is implemented by models that record something at start.
type starter interface {
	start(now time.Time, h *household)
}

// Device is one emulated ECHONET Lite object (an EOJ) on a [Node]. Its
// property maps describe exactly what it answers.
type Device struct {
	eoj      echonet.EOJ
	profile  bool // node profile: no 81/88, its own 82
	location byte
	m        model

	getMap, setMap, annoMap echonet.PropertyMap
}

func newDevice(eoj echonet.EOJ, m model, profile bool) *Device {
	d := &Device{eoj: eoj, m: m, profile: profile}
	get, set, anno := m.epcs()
	if !profile {
		get = append(get, epcLocation, epcVersion, epcFault)
		set = append(set, epcLocation)
		anno = append(anno, epcStatus, epcLocation, epcFault)
	}
	get = append(get, epcMaker, epcAnnoMap, epcSetMap, epcGetMap)
	for _, e := range get {
		d.getMap.Add(e)
	}
	for _, e := range set {
		d.setMap.Add(e)
	}
	for _, e := range anno {
		d.annoMap.Add(e)
	}
	return d
}

// EOJ is the object's class and instance.
func (d *Device) EOJ() echonet.EOJ { return d.eoj }

// GetMap is the 9F map: every EPC a Get is answered for.
func (d *Device) GetMap() echonet.PropertyMap { return d.getMap }

// SetMap is the 9E map: every EPC a SetC/SetI may change.
func (d *Device) SetMap() echonet.PropertyMap { return d.setMap }

// AnnounceMap is the 9D map: the properties announced on change.
func (d *Device) AnnounceMap() echonet.PropertyMap { return d.annoMap }

func (d *Device) get(epc byte, now time.Time) ([]byte, bool) {
	if !d.getMap.Has(epc) {
		return nil, false
	}
	switch epc {
	case epcAnnoMap:
		return d.annoMap.Encode(), true
	case epcSetMap:
		return d.setMap.Encode(), true
	case epcGetMap:
		return d.getMap.Encode(), true
	case epcMaker:
		return []byte{MakerCode >> 16 & 0xFF, MakerCode >> 8 & 0xFF, MakerCode & 0xFF}, true
	}
	if !d.profile {
		switch epc {
		case epcLocation:
			return []byte{d.location}, true
		case epcVersion:
			return []byte{0x00, 0x00, 'R', 0x01}, true // Appendix Release R, revision 1
		case epcFault:
			return []byte{0x42}, true // no fault
		}
	}
	return d.m.get(epc, now)
}

func (d *Device) set(epc byte, edt []byte) bool {
	if !d.setMap.Has(epc) {
		return false
	}
	if epc == epcLocation && !d.profile {
		if len(edt) != 1 {
			return false
		}
		d.location = edt[0]
		return true
	}
	return d.m.set(epc, edt)
}

// onOff is operation status 80 for the models that have it.
type onOff struct{ on bool }

func (o *onOff) getStatus() []byte {
	if o.on {
		return []byte{statusOn}
	}
	return []byte{statusOff}
}

func (o *onOff) setStatus(edt []byte) bool {
	if len(edt) != 1 || edt[0] != statusOn && edt[0] != statusOff {
		return false
	}
	o.on = edt[0] == statusOn
	return true
}

func u8(v byte) []byte { return []byte{v} }

func u16(v float64) []byte {
	return binary.BigEndian.AppendUint16(nil, uint16(clamp(math.Round(v), 0, 0xFFFD)))
}

func u32(v float64) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(clamp(math.Round(v), 0, 0xFFFFFFFD)))
}

func s32(v float64) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(clamp(math.Round(v), -0x7FFFFFFF, 0x7FFFFFFD))))
}

func s8(v float64) []byte { return []byte{byte(int8(clamp(math.Round(v), -127, 125)))} }

func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return lo
	}
	return math.Max(lo, math.Min(hi, v))
}

func hours(dt time.Duration) float64 { return dt.Hours() }

// daily interpolates a value given for each hour of the day at t's wall
// clock time.
func daily(t time.Time, pts *[24]float64) float64 {
	h, m, s := t.Clock()
	x := float64(h) + float64(m)/60 + float64(s)/3600
	i := int(x) % 24
	f := x - float64(int(x))
	return pts[i]*(1-f) + pts[(i+1)%24]*f
}

// halfHour returns the :00/:30 boundary at or before t, in t's zone.
func halfHour(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, m, _ := t.Clock()
	return time.Date(y, mo, d, h, m/30*30, 0, 0, t.Location())
}

// isHalfHour reports whether t is exactly a :00/:30 boundary.
func isHalfHour(t time.Time) bool { return halfHour(t).Equal(t) }

// dateTime encodes YYYY(2) MM DD hh mm ss.
func dateTime(t time.Time) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(t.Year()))
	return append(b, byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()))
}

// dayNumber numbers t's civil date (days since 1970-01-01).
func dayNumber(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
