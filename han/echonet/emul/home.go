package emul

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/echonet"
)

// Simulation bounds: steps of at most a minute, and no more than two days
// of catching up after a long silence.
const (
	maxStep = time.Minute
	maxGap  = 48 * time.Hour
)

// FirstMAC is node 0's MAC (the route-B smart meter); node i has
// FirstMAC + i.
const FirstMAC = "001D129012345678"

// AllNodes is the Wi-SUN link-local all-nodes multicast address that
// [Home.Deliver] accepts (FF02::1 in the module's 8-group form).
const AllNodes = "FF02:0000:0000:0000:0000:0000:0000:0001"

// DefaultNodes is the default Home: one device per node, node 0 the
// smart meter, then the gas meter, water meter, air conditioner, water
// heater and storage battery.
func DefaultNodes() [][]echonet.Class {
	return [][]echonet.Class{
		{echonet.ClassSmartMeter}, {echonet.ClassGasMeter}, {echonet.ClassWaterFlowMeter},
		{echonet.ClassAirConditioner}, {echonet.ClassElectricWaterHtr}, {echonet.ClassStorageBattery},
	}
}

// Options configure a [Home]. The zero value is the default Home.
type Options struct {
	// Nodes lists each node's device classes; instances of a class on a
	// node are numbered from 1. Nil means DefaultNodes().
	Nodes [][]echonet.Class
	// Seed makes the random parts (load noise, initial counters)
	// reproducible; 0 is a valid seed.
	Seed uint64
	// Faults switched on at start, by node index.
	Faults map[int]Faults
}

// Faults are a node's misbehaviours (see [Node.GetSNA], [Node.Silent],
// [Node.Slow]).
type Faults struct {
	GetSNA bool
	Silent bool
	Slow   time.Duration
}

// Datagram is one reply from [Home.Deliver]: Src is the replying node's
// link-local address, Delay how long the node asks to hold it.
type Datagram struct {
	Src   string
	Data  []byte
	Delay time.Duration
}

// Home is a set of emulated nodes sharing one clock and one household.
type Home struct {
	clk   energy.Clock
	nodes []*Node

	mu     sync.Mutex // guards everything below and all device state
	last   time.Time
	house  household
	appls  []model // draw power: stepped first
	meters []model // measure: stepped after the appliances
}

// household is the shared load: a daily curve with a slowly wandering
// factor, plus the appliances' power.
type household struct {
	rng   *rand.Rand
	noise float64 // activity factor, 0.8-1.2
	appls []model
}

// Base household load in W by hour (without the emulated appliances).
var houseCurve = [24]float64{250, 230, 220, 220, 230, 300, 700, 1200, 900, 500, 450, 500, 650, 500, 450, 450, 550, 900, 1500, 1800, 1700, 1300, 800, 400}

func (h *household) step(dt time.Duration) {
	h.noise = clamp(h.noise+(h.rng.Float64()-0.5)*0.1*dt.Minutes(), 0.8, 1.2)
}

// load is what the meter sees at t, in W.
func (h *household) load(t time.Time) float64 {
	w := daily(t, &houseCurve) * h.noise
	for _, a := range h.appls {
		w += a.power()
	}
	return w
}

// NewHome builds the nodes of o. Behaviour starts at clk.Now().
func NewHome(clk energy.Clock, o Options) (*Home, error) {
	layout := o.Nodes
	if layout == nil {
		layout = DefaultNodes()
	}
	h := &Home{clk: clk}
	h.house = household{rng: rand.New(rand.NewPCG(o.Seed, 0x9E3779B97F4A7C15)), noise: 1}
	base, err := parseMAC(FirstMAC)
	if err != nil {
		return nil, err
	}
	for i, classes := range layout {
		n := &Node{home: h, index: i, mac: fmt.Sprintf("%016X", base+uint64(i))}
		n.profile = newDevice(echonet.NodeProfile, nodeProfile{n}, true)
		if len(classes) > maxListed {
			return nil, fmt.Errorf("emul: node %d: %d objects, at most %d", i, len(classes), maxListed)
		}
		count := map[echonet.Class]byte{}
		for _, c := range classes {
			m, meter, err := h.newModel(c)
			if err != nil {
				return nil, fmt.Errorf("emul: node %d: %w", i, err)
			}
			count[c]++
			n.devices = append(n.devices, newDevice(echonet.NewEOJ(c, count[c]), m, false))
			if meter {
				h.meters = append(h.meters, m)
			} else {
				h.appls = append(h.appls, m)
			}
		}
		f := o.Faults[i]
		n.GetSNA(f.GetSNA)
		n.Silent(f.Silent)
		n.Slow(f.Slow)
		h.nodes = append(h.nodes, n)
	}
	h.house.appls = h.appls
	h.mu.Lock()
	h.start(clk.Now())
	h.mu.Unlock()
	return h, nil
}

func (h *Home) newModel(c echonet.Class) (m model, meter bool, err error) {
	switch c {
	case echonet.ClassSmartMeter:
		return newSmartMeter(), true, nil
	case echonet.ClassGasMeter:
		return &volumeMeter{litres: 1_234_567 + float64(h.house.rng.IntN(1000))}, true, nil
	case echonet.ClassWaterFlowMeter:
		return &volumeMeter{water: true, litres: 345_678 + float64(h.house.rng.IntN(1000))}, true, nil
	case echonet.ClassAirConditioner:
		return newAirConditioner(&h.house), false, nil
	case echonet.ClassElectricWaterHtr:
		return newWaterHeater(&h.house), false, nil
	case echonet.ClassStorageBattery:
		return newBattery(&h.house), false, nil
	}
	return nil, false, fmt.Errorf("class %04X is not emulated", uint16(c))
}

// start sets the initial state: the appliances take a zero-length step
// to settle their power, then the meters read the household.
func (h *Home) start(now time.Time) {
	h.last = now
	for _, m := range h.appls {
		if s, ok := m.(starter); ok {
			s.start(now, &h.house)
		}
		m.step(now, 0, &h.house)
	}
	for _, m := range h.meters {
		if s, ok := m.(starter); ok {
			s.start(now, &h.house)
		}
	}
}

// advance integrates the household up to now. h.mu is held.
func (h *Home) advance(now time.Time) {
	if !now.After(h.last) {
		return
	}
	if now.Sub(h.last) > maxGap {
		h.last = now.Add(-maxGap)
	}
	for h.last.Before(now) {
		next := h.last.Add(maxStep)
		if b := halfHour(h.last).Add(30 * time.Minute); b.Before(next) {
			next = b
		}
		if now.Before(next) {
			next = now
		}
		dt := next.Sub(h.last)
		h.house.step(dt)
		for _, m := range h.appls {
			m.step(next, dt, &h.house)
		}
		for _, m := range h.meters {
			m.step(next, dt, &h.house)
		}
		h.last = next
	}
}

// Nodes returns the Home's nodes in index order.
func (h *Home) Nodes() []*Node { return append([]*Node(nil), h.nodes...) }

// Deliver hands payload to the node whose link-local address is dst, or
// to every node for [AllNodes] (or "FF02::1"), and returns the replies.
// src, the sender, is not needed to answer and is accepted for symmetry
// with the transports. Addresses compare case-insensitively.
func (h *Home) Deliver(dst, src string, payload []byte) []Datagram {
	_ = src
	all := strings.EqualFold(dst, AllNodes) || strings.EqualFold(dst, "FF02::1")
	var out []Datagram
	for _, n := range h.nodes {
		ll := n.LinkLocal()
		if !all && !strings.EqualFold(dst, ll) {
			continue
		}
		for _, r := range n.Handle(payload) {
			out = append(out, Datagram{Src: ll, Data: r, Delay: n.Delay()})
		}
	}
	return out
}

// LinkLocal is the Wi-SUN link-local IPv6 address of a 64-bit MAC: FE80::
// plus the MAC with the universal/local bit (0x02 of the first byte)
// flipped, as the module prints it (8 groups of 4 uppercase digits).
// "001D129012345678" gives "FE80:0000:0000:0000:021D:1290:1234:5678". It
// returns "" for anything but 16 hex digits.
func LinkLocal(mac string) string {
	v, err := parseMAC(mac)
	if err != nil {
		return ""
	}
	v ^= 0x02 << 56
	return fmt.Sprintf("FE80:0000:0000:0000:%04X:%04X:%04X:%04X", v>>48, v>>32&0xFFFF, v>>16&0xFFFF, v&0xFFFF)
}

func parseMAC(mac string) (uint64, error) {
	b, err := hex.DecodeString(mac)
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("emul: MAC %q is not 16 hex digits", mac)
	}
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v, nil
}
