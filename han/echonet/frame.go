package echonet

import (
	"errors"
	"fmt"
)

// Header bytes of an ECHONET Lite frame.
const (
	EHD1    = 0x10 // ECHONET Lite
	EHD2Fmt = 0x81 // format 1 (specified message format)
)

// MaxFrame bounds a frame: a UDP datagram on route B is far smaller, and
// IP peers get no more than this from us or into us.
const MaxFrame = 1500

// EOJ is an ECHONET object: class group, class, instance.
type EOJ [3]byte

// Class is the class group and class code, e.g. 0x0288.
func (e EOJ) Class() Class { return Class(uint16(e[0])<<8 | uint16(e[1])) }

// Instance is the instance code (1-0x7F; 0 addresses all instances).
func (e EOJ) Instance() byte { return e[2] }

func (e EOJ) String() string { return fmt.Sprintf("%02X%02X%02X", e[0], e[1], e[2]) }

// NewEOJ returns the object of class c, instance i.
func NewEOJ(c Class, i byte) EOJ { return EOJ{byte(c >> 8), byte(c), i} }

// Class is an object class (class group code << 8 | class code).
type Class uint16

// Object classes the gateway knows.
const (
	ClassNodeProfile      Class = 0x0EF0
	ClassController       Class = 0x05FF
	ClassSmartMeter       Class = 0x0288 // low-voltage smart electric energy meter
	ClassGasMeter         Class = 0x0282
	ClassWaterFlowMeter   Class = 0x0281
	ClassSolar            Class = 0x0279 // household solar power generation
	ClassStorageBattery   Class = 0x027D
	ClassEVChargerV2H     Class = 0x027E // EV charger/discharger
	ClassAirConditioner   Class = 0x0130 // home air conditioner
	ClassElectricWaterHtr Class = 0x026B // electric water heater
)

// Well-known objects.
var (
	NodeProfile = EOJ{0x0E, 0xF0, 0x01}
	Controller  = EOJ{0x05, 0xFF, 0x01}
)

// ESV is an ECHONET Lite service code.
type ESV byte

// Service codes (requests 0x6x, replies 0x7x, "not possible" 0x5x).
const (
	SetI      ESV = 0x60
	SetC      ESV = 0x61
	Get       ESV = 0x62
	INFReq    ESV = 0x63
	SetGet    ESV = 0x6E
	SetRes    ESV = 0x71
	GetRes    ESV = 0x72
	INF       ESV = 0x73
	INFC      ESV = 0x74
	INFCRes   ESV = 0x7A
	SetGetRes ESV = 0x7E
	SetISNA   ESV = 0x50
	SetCSNA   ESV = 0x51
	GetSNA    ESV = 0x52
	INFSNA    ESV = 0x53
	SetGetSNA ESV = 0x5E
)

// IsSNA reports whether v is a "not possible" reply.
func (v ESV) IsSNA() bool { return v >= 0x50 && v <= 0x5F }

// IsRequest reports whether v asks something of the receiver.
func (v ESV) IsRequest() bool { return v >= 0x60 && v <= 0x6F }

// IsSetGet reports whether v carries two property lists.
func (v ESV) IsSetGet() bool { return v == SetGet || v == SetGetRes || v == SetGetSNA }

// Replies returns the normal and the "not possible" reply to request v;
// ok is false when v expects no reply (SetI's SNA aside).
func (v ESV) Replies() (normal, sna ESV, ok bool) {
	switch v {
	case SetI:
		return 0, SetISNA, true
	case SetC:
		return SetRes, SetCSNA, true
	case Get:
		return GetRes, GetSNA, true
	case INFReq:
		return INF, INFSNA, true
	case SetGet:
		return SetGetRes, SetGetSNA, true
	case INFC:
		return INFCRes, 0, true
	}
	return 0, 0, false
}

func (v ESV) String() string {
	names := map[ESV]string{SetI: "SetI", SetC: "SetC", Get: "Get", INFReq: "INF_REQ", SetGet: "SetGet",
		SetRes: "Set_Res", GetRes: "Get_Res", INF: "INF", INFC: "INFC", INFCRes: "INFC_Res", SetGetRes: "SetGet_Res",
		SetISNA: "SetI_SNA", SetCSNA: "SetC_SNA", GetSNA: "Get_SNA", INFSNA: "INF_SNA", SetGetSNA: "SetGet_SNA"}
	if n, ok := names[v]; ok {
		return n
	}
	return fmt.Sprintf("ESV(%02X)", byte(v))
}

// Property is one EPC with its data (EDT; empty = PDC 0).
type Property struct {
	EPC byte
	EDT []byte
}

// Frame is a format-1 ECHONET Lite message. For SetGet and its replies,
// Props is the Set list and GetProps the Get list.
type Frame struct {
	TID      uint16
	SEOJ     EOJ
	DEOJ     EOJ
	ESV      ESV
	Props    []Property
	GetProps []Property
}

// Prop returns the EDT of the first property epc in Props.
func (f Frame) Prop(epc byte) ([]byte, bool) {
	for _, p := range f.Props {
		if p.EPC == epc {
			return p.EDT, true
		}
	}
	return nil, false
}

// Decoding errors.
var (
	ErrShort  = errors.New("echonet: frame too short")
	ErrHeader = errors.New("echonet: not an ECHONET Lite format-1 frame")
	ErrLength = errors.New("echonet: property counts and lengths do not add up to the frame")
	ErrLarge  = errors.New("echonet: frame too large")
)

// Decode parses one frame. Every OPC/PDC must add up to the frame length
// exactly; EDT slices alias b.
func Decode(b []byte) (Frame, error) {
	var f Frame
	if len(b) > MaxFrame {
		return f, ErrLarge
	}
	if len(b) < 12 {
		return f, ErrShort
	}
	if b[0] != EHD1 || b[1] != EHD2Fmt {
		return f, fmt.Errorf("%w: EHD %02X %02X", ErrHeader, b[0], b[1])
	}
	f.TID = uint16(b[2])<<8 | uint16(b[3])
	copy(f.SEOJ[:], b[4:7])
	copy(f.DEOJ[:], b[7:10])
	f.ESV = ESV(b[10])
	rest := b[11:]
	var err error
	if f.Props, rest, err = decodeProps(rest); err != nil {
		return Frame{}, err
	}
	if f.ESV.IsSetGet() {
		if f.GetProps, rest, err = decodeProps(rest); err != nil {
			return Frame{}, err
		}
	}
	if len(rest) != 0 {
		return Frame{}, fmt.Errorf("%w: %d bytes left over", ErrLength, len(rest))
	}
	return f, nil
}

func decodeProps(b []byte) ([]Property, []byte, error) {
	if len(b) < 1 {
		return nil, nil, fmt.Errorf("%w: no OPC", ErrLength)
	}
	n := int(b[0])
	b = b[1:]
	props := make([]Property, 0, n)
	for i := 0; i < n; i++ {
		if len(b) < 2 {
			return nil, nil, fmt.Errorf("%w: property %d of %d cut off", ErrLength, i+1, n)
		}
		pdc := int(b[1])
		if len(b) < 2+pdc {
			return nil, nil, fmt.Errorf("%w: EPC %02X PDC %d with %d bytes left", ErrLength, b[0], pdc, len(b)-2)
		}
		var edt []byte
		if pdc > 0 {
			edt = b[2 : 2+pdc : 2+pdc]
		}
		props = append(props, Property{EPC: b[0], EDT: edt})
		b = b[2+pdc:]
	}
	return props, b, nil
}

// Append encodes f after b. It fails on more than 255 properties in a
// list, an EDT over 255 bytes or a frame over MaxFrame.
func (f Frame) Append(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, EHD1, EHD2Fmt, byte(f.TID>>8), byte(f.TID))
	b = append(b, f.SEOJ[:]...)
	b = append(b, f.DEOJ[:]...)
	b = append(b, byte(f.ESV))
	lists := [][]Property{f.Props}
	if f.ESV.IsSetGet() {
		lists = append(lists, f.GetProps)
	}
	for _, l := range lists {
		if len(l) > 255 {
			return nil, fmt.Errorf("echonet: %d properties in one list", len(l))
		}
		b = append(b, byte(len(l)))
		for _, p := range l {
			if len(p.EDT) > 255 {
				return nil, fmt.Errorf("echonet: EPC %02X: %d bytes of data", p.EPC, len(p.EDT))
			}
			b = append(b, p.EPC, byte(len(p.EDT)))
			b = append(b, p.EDT...)
		}
	}
	if len(b)-start > MaxFrame {
		return nil, ErrLarge
	}
	return b, nil
}

// Encode returns f's bytes.
func (f Frame) Encode() ([]byte, error) { return f.Append(make([]byte, 0, 32)) }

// IsReplyTo reports whether resp answers req: the same TID, the objects
// swapped (a request to instance 0 is answered by any instance of the
// class), and a reply ESV of the request's class.
func IsReplyTo(req, resp Frame) bool {
	if resp.TID != req.TID || resp.DEOJ != req.SEOJ {
		return false
	}
	if resp.SEOJ != req.DEOJ && !(req.DEOJ.Instance() == 0 && resp.SEOJ.Class() == req.DEOJ.Class()) {
		return false
	}
	normal, sna, ok := req.ESV.Replies()
	return ok && (resp.ESV == normal && normal != 0 || resp.ESV == sna && sna != 0)
}

// PropertyMap is a set of EPCs (0x80-0xFF), as in 9D/9E/9F.
type PropertyMap [16]byte

// Has reports whether epc is in the map.
func (m PropertyMap) Has(epc byte) bool {
	if epc < 0x80 {
		return false
	}
	return m[epc&0x0F]&(1<<((epc>>4)-8)) != 0
}

// Add puts epc in the map (EPCs below 0x80 are ignored).
func (m *PropertyMap) Add(epc byte) {
	if epc >= 0x80 {
		m[epc&0x0F] |= 1 << ((epc >> 4) - 8)
	}
}

// EPCs lists the map in ascending order.
func (m PropertyMap) EPCs() []byte {
	var out []byte
	for e := 0x80; e <= 0xFF; e++ {
		if m.Has(byte(e)) {
			out = append(out, byte(e))
		}
	}
	return out
}

// ErrPropertyMap is returned for a malformed property map.
var ErrPropertyMap = errors.New("echonet: malformed property map")

// DecodePropertyMap parses both encodings: a count under 16 followed by
// the EPCs, or a count of 16 or more followed by a 16-byte bitmap (the
// bit for EPC 0xXY in byte Y at bit X-8). The count must match.
func DecodePropertyMap(b []byte) (PropertyMap, error) {
	var m PropertyMap
	if len(b) < 1 {
		return m, fmt.Errorf("%w: empty", ErrPropertyMap)
	}
	n := int(b[0])
	if n < 16 {
		if len(b) != 1+n {
			return m, fmt.Errorf("%w: count %d with %d EPCs", ErrPropertyMap, n, len(b)-1)
		}
		for _, e := range b[1:] {
			if e < 0x80 {
				return m, fmt.Errorf("%w: EPC %02X below 0x80", ErrPropertyMap, e)
			}
			m.Add(e)
		}
	} else {
		if len(b) != 17 {
			return m, fmt.Errorf("%w: bitmap form with %d bytes, want 17", ErrPropertyMap, len(b))
		}
		copy(m[:], b[1:])
	}
	if got := len(m.EPCs()); got != n {
		return PropertyMap{}, fmt.Errorf("%w: count %d but %d EPCs", ErrPropertyMap, n, got)
	}
	return m, nil
}

// Encode returns the map in the form the standard asks for its size.
func (m PropertyMap) Encode() []byte {
	e := m.EPCs()
	if len(e) < 16 {
		return append([]byte{byte(len(e))}, e...)
	}
	return append([]byte{byte(len(e))}, m[:]...)
}
