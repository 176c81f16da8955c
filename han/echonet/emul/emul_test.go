package emul

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/han/echonet"
)

var jst = time.FixedZone("JST", 9*3600)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newHome(t testing.TB, start time.Time, o Options) (*Home, *clocktest.Fake) {
	t.Helper()
	clk := clocktest.New(start)
	h, err := NewHome(clk, o)
	if err != nil {
		t.Fatal(err)
	}
	return h, clk
}

// ask sends f to n and expects exactly one decoded reply.
func ask(t testing.TB, n *Node, f echonet.Frame) echonet.Frame {
	t.Helper()
	b, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	out := n.Handle(b)
	if len(out) != 1 {
		t.Fatalf("%d replies to %X, want 1", len(out), b)
	}
	r, err := echonet.Decode(out[0])
	if err != nil {
		t.Fatal(err)
	}
	if !echonet.IsReplyTo(f, r) {
		t.Fatalf("%X does not answer %X", out[0], b)
	}
	return r
}

func get(t testing.TB, n *Node, eoj echonet.EOJ, epcs ...byte) echonet.Frame {
	t.Helper()
	f := echonet.Frame{TID: 7, SEOJ: echonet.Controller, DEOJ: eoj, ESV: echonet.Get}
	for _, e := range epcs {
		f.Props = append(f.Props, echonet.Property{EPC: e})
	}
	return ask(t, n, f)
}

func set(t testing.TB, n *Node, eoj echonet.EOJ, epc byte, edt ...byte) echonet.Frame {
	t.Helper()
	return ask(t, n, echonet.Frame{TID: 8, SEOJ: echonet.Controller, DEOJ: eoj, ESV: echonet.SetC,
		Props: []echonet.Property{{EPC: epc, EDT: edt}}})
}

func getU32(t testing.TB, n *Node, eoj echonet.EOJ, epc byte) uint32 {
	t.Helper()
	r := get(t, n, eoj, epc)
	if r.ESV != echonet.GetRes || len(r.Props[0].EDT) != 4 {
		t.Fatalf("Get %02X: %v %X", epc, r.ESV, r.Props)
	}
	return binary.BigEndian.Uint32(r.Props[0].EDT)
}

func getU8(t testing.TB, n *Node, eoj echonet.EOJ, epc byte) byte {
	t.Helper()
	r := get(t, n, eoj, epc)
	if r.ESV != echonet.GetRes || len(r.Props[0].EDT) != 1 {
		t.Fatalf("Get %02X: %v %X", epc, r.ESV, r.Props)
	}
	return r.Props[0].EDT[0]
}

var (
	meter   = echonet.NewEOJ(echonet.ClassSmartMeter, 1)
	gas     = echonet.NewEOJ(echonet.ClassGasMeter, 1)
	water   = echonet.NewEOJ(echonet.ClassWaterFlowMeter, 1)
	aircon  = echonet.NewEOJ(echonet.ClassAirConditioner, 1)
	heater  = echonet.NewEOJ(echonet.ClassElectricWaterHtr, 1)
	storage = echonet.NewEOJ(echonet.ClassStorageBattery, 1)
)

// The digest's verified exchanges, byte for byte where the state allows.
func TestVerifiedExchanges(t *testing.T) {
	h, _ := newHome(t, time.Date(2024, 5, 20, 13, 30, 0, 0, jst), Options{})
	nodes := h.Nodes()
	tests := []struct {
		name     string
		node     int
		req, out string // out "" = check the length only
		n        int
	}{
		{"Get D3 D7 E1 E0", 0, "10 81 00 02 05 FF 01 02 88 01 62 04 D3 00 D7 00 E1 00 E0 00",
			"10 81 00 02 02 88 01 05 FF 01 72 04 D3 04 00 00 00 01 D7 01 06 E1 01 01 E0 04 00 01 E2 40", 0},
		{"SetC E5", 0, "10 81 00 04 05 FF 01 02 88 01 61 01 E5 01 01", "10 81 00 04 02 88 01 05 FF 01 71 01 E5 00", 0},
		{"Get_SNA EC", 0, "10 81 00 05 05 FF 01 02 88 01 62 01 EC 00", "10 81 00 05 02 88 01 05 FF 01 52 01 EC 00", 0},
		{"AC SetC on cool 26", 3, "10 81 00 08 05 FF 01 01 30 01 61 03 80 01 30 B0 01 42 B3 01 1A",
			"10 81 00 08 01 30 01 05 FF 01 71 03 80 00 B0 00 B3 00", 0},
		{"Get E7", 0, "10 81 00 01 05 FF 01 02 88 01 62 01 E7 00", "", 18},
		{"INF_REQ D5", 0, "10 81 00 06 05 FF 01 0E F0 01 63 01 D5 00",
			"10 81 00 06 0E F0 01 05 FF 01 73 01 D5 04 01 02 88 01", 0},
		{"Get D6 to instance 0", 5, "10 81 00 07 05 FF 01 0E F0 00 62 01 D6 00",
			"10 81 00 07 0E F0 01 05 FF 01 72 01 D6 04 01 02 7D 01", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := nodes[tc.node].Handle(hx(t, tc.req))
			if len(out) != 1 {
				t.Fatalf("%d replies", len(out))
			}
			if tc.out != "" && !bytes.Equal(out[0], hx(t, tc.out)) {
				t.Fatalf("reply\n %X\nwant\n %X", out[0], hx(t, tc.out))
			}
			if tc.n != 0 && len(out[0]) != tc.n {
				t.Fatalf("reply %X: %d bytes, want %d", out[0], len(out[0]), tc.n)
			}
		})
	}
	r, err := echonet.Decode(nodes[0].Handle(hx(t, "10 81 00 01 05 FF 01 02 88 01 62 01 E7 00"))[0])
	if err != nil || r.ESV != echonet.GetRes || r.Props[0].EPC != 0xE7 || len(r.Props[0].EDT) != 4 {
		t.Fatalf("Get_Res E7: %+v %v", r, err)
	}
}

func TestIgnored(t *testing.T) {
	h, _ := newHome(t, time.Date(2024, 5, 20, 0, 0, 0, 0, jst), Options{})
	n := h.Nodes()[0]
	for _, s := range []string{
		"", // empty
		"10 81 00 01 05 FF 01 02 88 01 62 02 E7 00",     // OPC says 2
		"10 82 00 01 05 FF 01 02 88 01 62 01 E7 00",     // format 2
		"10 81 00 01 05 FF 01 02 88 01 72 01 E7 00",     // a reply
		"10 81 00 01 05 FF 01 02 88 01 73 01 E7 00",     // INF
		"10 81 00 01 05 FF 01 02 88 01 64 01 E7 00",     // unknown request ESV
		"10 81 00 01 05 FF 01 01 30 01 62 01 80 00",     // no AC on this node
		"10 81 00 01 05 FF 01 02 88 02 62 01 E7 00",     // no second meter
		"10 81 00 01 05 FF 01 0E F0 02 62 01 D6 00",     // no send-only profile
		"10 81 00 01 05 FF 01 02 88 01 62 01 E7 00 00 ", // trailing byte
	} {
		if out := n.Handle(hx(t, s)); out != nil {
			t.Errorf("%s: replied %X", s, out)
		}
	}
}

func TestSNARules(t *testing.T) {
	h, _ := newHome(t, time.Date(2024, 5, 20, 0, 0, 0, 0, jst), Options{})
	ac := h.Nodes()[3]
	// Get: the unsupported EPC gets PDC 0, the others their value.
	r := get(t, ac, aircon, 0x80, 0xEC, 0xB3)
	if r.ESV != echonet.GetSNA || len(r.Props) != 3 || len(r.Props[0].EDT) != 1 || len(r.Props[1].EDT) != 0 || r.Props[2].EDT[0] != 26 {
		t.Fatalf("Get_SNA: %v %+v", r.ESV, r.Props)
	}
	// SetC: the refused EDT is echoed, the accepted one has PDC 0.
	r = ask(t, ac, echonet.Frame{TID: 1, SEOJ: echonet.Controller, DEOJ: aircon, ESV: echonet.SetC,
		Props: []echonet.Property{{EPC: 0x80, EDT: []byte{0x30}}, {EPC: 0xB3, EDT: []byte{35}}, {EPC: 0xBB, EDT: []byte{20}}}})
	want := []echonet.Property{{EPC: 0x80}, {EPC: 0xB3, EDT: []byte{35}}, {EPC: 0xBB, EDT: []byte{20}}}
	if r.ESV != echonet.SetCSNA || !equalProps(r.Props, want) {
		t.Fatalf("SetC_SNA: %v %+v", r.ESV, r.Props)
	}
	if getU8(t, ac, aircon, 0xB3) != 26 || getU8(t, ac, aircon, 0x80) != 0x30 {
		t.Fatal("refused setpoint applied or accepted status lost")
	}
	// SetI: silence on success, SetI_SNA on failure.
	b, _ := echonet.Frame{TID: 2, SEOJ: echonet.Controller, DEOJ: aircon, ESV: echonet.SetI,
		Props: []echonet.Property{{EPC: 0xB3, EDT: []byte{27}}}}.Encode()
	if out := ac.Handle(b); out != nil {
		t.Fatalf("SetI replied %X", out)
	}
	if getU8(t, ac, aircon, 0xB3) != 27 {
		t.Fatal("SetI not applied")
	}
	r = ask(t, ac, echonet.Frame{TID: 3, SEOJ: echonet.Controller, DEOJ: aircon, ESV: echonet.SetI,
		Props: []echonet.Property{{EPC: 0xB3, EDT: []byte{15}}}})
	if r.ESV != echonet.SetISNA || !equalProps(r.Props, []echonet.Property{{EPC: 0xB3, EDT: []byte{15}}}) {
		t.Fatalf("SetI_SNA: %v %+v", r.ESV, r.Props)
	}
	// An empty Get list is not possible.
	if r := get(t, ac, aircon); r.ESV != echonet.GetSNA || len(r.Props) != 0 {
		t.Fatalf("empty Get: %v", r.ESV)
	}
}

func equalProps(a, b []echonet.Property) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].EPC != b[i].EPC || !bytes.Equal(a[i].EDT, b[i].EDT) {
			return false
		}
	}
	return true
}

func TestSetGet(t *testing.T) {
	h, _ := newHome(t, time.Date(2024, 5, 20, 0, 0, 0, 0, jst), Options{})
	bat := h.Nodes()[5]
	f := echonet.Frame{TID: 9, SEOJ: echonet.Controller, DEOJ: storage, ESV: echonet.SetGet,
		Props:    []echonet.Property{{EPC: 0xDA, EDT: []byte{batteryCharge}}},
		GetProps: []echonet.Property{{EPC: 0xDA}, {EPC: 0xD3}}}
	r := ask(t, bat, f)
	if r.ESV != echonet.SetGetRes || len(r.Props) != 1 || len(r.Props[0].EDT) != 0 ||
		len(r.GetProps) != 2 || r.GetProps[0].EDT[0] != batteryCharge ||
		int32(binary.BigEndian.Uint32(r.GetProps[1].EDT)) != batteryW {
		t.Fatalf("SetGet_Res: %+v", r)
	}
	f.Props[0].EDT = []byte{0x45} // test mode is refused
	f.GetProps = append(f.GetProps, echonet.Property{EPC: 0xEC})
	r = ask(t, bat, f)
	if r.ESV != echonet.SetGetSNA || !bytes.Equal(r.Props[0].EDT, []byte{0x45}) ||
		r.GetProps[0].EDT[0] != batteryCharge || len(r.GetProps[2].EDT) != 0 {
		t.Fatalf("SetGet_SNA: %+v", r)
	}
}

// Instance 0 addresses every instance of the class on the node.
func TestInstanceZero(t *testing.T) {
	h, _ := newHome(t, time.Date(2024, 5, 20, 0, 0, 0, 0, jst), Options{Nodes: [][]echonet.Class{
		{echonet.ClassAirConditioner, echonet.ClassAirConditioner, echonet.ClassStorageBattery}}})
	n := h.Nodes()[0]
	b, _ := echonet.Frame{TID: 1, SEOJ: echonet.Controller, DEOJ: echonet.NewEOJ(echonet.ClassAirConditioner, 0),
		ESV: echonet.SetC, Props: []echonet.Property{{EPC: 0x80, EDT: []byte{0x30}}}}.Encode()
	out := n.Handle(b)
	if len(out) != 2 {
		t.Fatalf("%d replies", len(out))
	}
	for i, o := range out {
		r, _ := echonet.Decode(o)
		if r.SEOJ != echonet.NewEOJ(echonet.ClassAirConditioner, byte(i+1)) || r.ESV != echonet.SetRes {
			t.Fatalf("reply %d: %+v", i, r)
		}
	}
	r := get(t, n, echonet.NodeProfile, 0xD3, 0xD4, 0xD6, 0xD7)
	want := []echonet.Property{{EPC: 0xD3, EDT: []byte{0, 0, 3}}, {EPC: 0xD4, EDT: []byte{0, 3}},
		{EPC: 0xD6, EDT: hx(t, "03 013001 013002 027D01")}, {EPC: 0xD7, EDT: hx(t, "02 0130 027D")}}
	if r.ESV != echonet.GetRes || !equalProps(r.Props, want) {
		t.Fatalf("node profile: %+v", r.Props)
	}
	if got := n.Objects(); len(got) != 3 || got[1] != echonet.NewEOJ(echonet.ClassAirConditioner, 2) {
		t.Fatalf("Objects %v", got)
	}
}

// Every object answers exactly what its 9F map lists, and 9E/9D match.
func TestPropertyMapsConsistent(t *testing.T) {
	h, _ := newHome(t, time.Date(2024, 5, 20, 0, 0, 0, 0, jst), Options{})
	for _, n := range h.Nodes() {
		devs := append([]*Device{n.profile}, n.Devices()...)
		for _, d := range devs {
			r := get(t, n, d.EOJ(), 0x9D, 0x9E, 0x9F)
			if r.ESV != echonet.GetRes {
				t.Fatalf("%v maps: %v", d.EOJ(), r.ESV)
			}
			var maps [3]echonet.PropertyMap
			for i, p := range r.Props {
				m, err := echonet.DecodePropertyMap(p.EDT)
				if err != nil {
					t.Fatalf("%v %02X: %v", d.EOJ(), p.EPC, err)
				}
				maps[i] = m
			}
			if maps[0] != d.AnnounceMap() || maps[1] != d.SetMap() || maps[2] != d.GetMap() {
				t.Fatalf("%v: maps on the wire differ from the object's", d.EOJ())
			}
			for _, e := range []byte{0x80, 0x82, 0x8A, 0x9D, 0x9E, 0x9F} {
				if !maps[2].Has(e) {
					t.Errorf("%v: 9F lacks %02X", d.EOJ(), e)
				}
			}
			for epc := 0x80; epc <= 0xFF; epc++ {
				r := get(t, n, d.EOJ(), byte(epc))
				if ok := r.ESV == echonet.GetRes; ok != maps[2].Has(byte(epc)) {
					t.Errorf("%v: Get %02X = %v, in 9F %v", d.EOJ(), epc, r.ESV, maps[2].Has(byte(epc)))
				}
				if maps[1].Has(byte(epc)) && !maps[2].Has(byte(epc)) {
					t.Errorf("%v: %02X settable but not gettable", d.EOJ(), epc)
				}
			}
		}
	}
}

func TestFaults(t *testing.T) {
	h, _ := newHome(t, time.Date(2024, 5, 20, 0, 0, 0, 0, jst), Options{Faults: map[int]Faults{1: {Silent: true}}})
	nodes := h.Nodes()
	if out := nodes[1].Handle(hx(t, "10 81 00 01 05 FF 01 02 82 01 62 01 E0 00")); out != nil {
		t.Fatal("a silent node replied")
	}
	nodes[1].Silent(false)
	if r := get(t, nodes[1], gas, 0xE0); r.ESV != echonet.GetRes {
		t.Fatal(r.ESV)
	}
	nodes[0].GetSNA(true)
	if r := get(t, nodes[0], meter, 0xE7, 0x80); r.ESV != echonet.GetSNA || len(r.Props[0].EDT)+len(r.Props[1].EDT) != 0 {
		t.Fatalf("Get under GetSNA: %+v", r)
	}
	if r := set(t, nodes[0], meter, 0xE5, 1); r.ESV != echonet.SetRes {
		t.Fatal("Set failed under the Get fault")
	}
	nodes[0].GetSNA(false)
	nodes[2].Slow(50 * time.Millisecond)
	if nodes[2].Delay() != 50*time.Millisecond {
		t.Fatal("Slow not kept")
	}
}

func TestLinkLocalAndDeliver(t *testing.T) {
	if got := LinkLocal("001D129012345678"); got != "FE80:0000:0000:0000:021D:1290:1234:5678" {
		t.Fatal(got)
	}
	if LinkLocal("001D1290") != "" || LinkLocal("zz1D129012345678") != "" {
		t.Fatal("bad MAC accepted")
	}
	h, _ := newHome(t, time.Date(2024, 5, 20, 0, 0, 0, 0, jst), Options{})
	nodes := h.Nodes()
	seen := map[string]bool{}
	for _, n := range nodes {
		if len(n.MAC()) != 16 || seen[n.MAC()] {
			t.Fatalf("MAC %q", n.MAC())
		}
		seen[n.MAC()] = true
	}
	if nodes[0].MAC() != FirstMAC {
		t.Fatal(nodes[0].MAC())
	}
	req := hx(t, "10 81 00 01 05 FF 01 02 88 01 62 01 E7 00")
	out := h.Deliver(strings.ToLower(nodes[0].LinkLocal()), "FE80:0000:0000:0000:0000:0000:0000:0001", req)
	if len(out) != 1 || out[0].Src != "FE80:0000:0000:0000:021D:1290:1234:5678" {
		t.Fatalf("%+v", out)
	}
	if out := h.Deliver(nodes[1].LinkLocal(), "", req); len(out) != 0 {
		t.Fatal("the gas meter answered for a smart meter")
	}
	out = h.Deliver(AllNodes, "", hx(t, "10 81 00 06 05 FF 01 0E F0 01 62 01 D6 00"))
	if len(out) != len(nodes) {
		t.Fatalf("%d replies to the all-nodes Get D6", len(out))
	}
	for i, d := range out {
		r, _ := echonet.Decode(d.Data)
		if d.Src != nodes[i].LinkLocal() || !bytes.Equal(r.Props[0].EDT[1:], nodes[i].Objects()[0][:]) {
			t.Fatalf("reply %d: %+v", i, d)
		}
	}
	a, err := echonet.Decode(nodes[4].Announce())
	if err != nil || a.ESV != echonet.INF || a.Props[0].EPC != 0xD5 || !bytes.Equal(a.Props[0].EDT, hx(t, "01 026B01")) {
		t.Fatalf("Announce %+v %v", a, err)
	}
}

func TestNewHomeErrors(t *testing.T) {
	clk := clocktest.New(time.Date(2024, 5, 20, 0, 0, 0, 0, jst))
	if _, err := NewHome(clk, Options{Nodes: [][]echonet.Class{{echonet.ClassSolar}}}); err == nil {
		t.Fatal("unknown class accepted")
	}
	many := make([]echonet.Class, 85)
	for i := range many {
		many[i] = echonet.ClassAirConditioner
	}
	if _, err := NewHome(clk, Options{Nodes: [][]echonet.Class{many}}); err == nil {
		t.Fatal("85 objects accepted")
	}
}
