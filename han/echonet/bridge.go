package echonet

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
)

// Bridge bounds and defaults.
const (
	// OfflineAfter is how many polls in a row must fail before a device is
	// marked offline.
	OfflineAfter = 3
	// MaxBridged bounds the objects one bridge adds to the registry.
	MaxBridged = 256
	// DefaultPoll and DefaultRediscover are the bridge's intervals.
	DefaultPoll       = 30 * time.Second
	DefaultRediscover = 10 * time.Minute
	// DefaultDiscoverWindow is how long a discovery collects replies.
	DefaultDiscoverWindow = 5 * time.Second
)

// BridgeOptions configure a [Bridge].
type BridgeOptions struct {
	// Client talks to the nodes; required. The bridge consumes its
	// Notifications; the caller runs Client.Run.
	Client *Client
	// Transport names the link, "wisun" or "echonet-ip": the first part of
	// device ids and DeviceInfo.Transport; required.
	Transport string
	// Registry receives the devices; required.
	Registry *devices.Registry
	// Publisher receives the readings; nil drops them.
	Publisher energy.Publisher
	// Clock times polls; nil means the system clock.
	Clock energy.Clock
	// Log; nil discards.
	Log *slog.Logger
	// Poll is the interval between polls of every device; 0 means 30 s.
	Poll time.Duration
	// Rediscover is the interval between discoveries; 0 means 10 min.
	Rediscover time.Duration
	// DiscoverWindow is how long a discovery waits for replies; 0 means 5 s.
	DiscoverWindow time.Duration
	// Location is the wall clock of smart meters' EA/EB records; nil means
	// time.Local.
	Location *time.Location
	// Skip, when set, keeps objects out of the registry (the route-B meter
	// that is the legal source, for one).
	Skip func(Addr, EOJ) bool
	// Unreachable, when set, is called when a device goes offline (down
	// true) after OfflineAfter failed polls and when it answers again.
	Unreachable func(id energy.DeviceID, down bool)
}

// Bridge turns ECHONET objects into registry devices: it discovers nodes,
// adds their device objects, polls them, publishes readings and carries
// out commands. It is safe for concurrent use.
type Bridge struct {
	o          BridgeOptions
	source     string
	rediscover chan struct{}

	mu   sync.Mutex
	objs map[energy.DeviceID]*object
}

var _ devices.Driver = (*Bridge)(nil)

type object struct {
	id       energy.DeviceID
	addr     Addr
	eoj      EOJ
	get, set PropertyMap
	scale    map[byte][]byte // nil until read (classes with ScaleEPCs)
	cur      map[byte][]byte // last known property data
	saved    []byte          // an air conditioner's setpoint before a limit
	last     map[energy.Quantity]energy.Decimal
	state    energy.DeviceState
	failures int
	down     bool // Unreachable(id, true) was reported
}

// NewBridge checks o and fills in the defaults.
func NewBridge(o BridgeOptions) (*Bridge, error) {
	switch {
	case o.Client == nil || o.Registry == nil:
		return nil, errors.New("echonet: bridge needs a client and a registry")
	case o.Transport == "" || strings.Contains(o.Transport, ":"):
		return nil, fmt.Errorf("echonet: bridge transport %q", o.Transport)
	}
	if o.Clock == nil {
		o.Clock = energy.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Rediscover <= 0 {
		o.Rediscover = DefaultRediscover
	}
	if o.DiscoverWindow <= 0 {
		o.DiscoverWindow = DefaultDiscoverWindow
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	return &Bridge{o: o, source: "echonet/" + o.Transport, rediscover: make(chan struct{}, 1),
		objs: map[energy.DeviceID]*object{}}, nil
}

// DeviceID is the stable id of object eoj at addr on transport: e.g.
// "wisun:gas_meter:021D129012345679-01" (the last 16 hex digits of the
// address, then the instance).
func DeviceID(transport string, addr Addr, eoj EOJ) energy.DeviceID {
	return energy.DeviceID(fmt.Sprintf("%s:%s:%s-%02X", transport, ClassName(eoj.Class()), addrHex(addr), eoj.Instance()))
}

func addrHex(a Addr) string {
	s := string(a)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	var h string
	if ip, err := netip.ParseAddr(s); err == nil {
		h = strings.ToUpper(hex.EncodeToString(ip.WithZone("").AsSlice()))
	} else {
		h = strings.ToUpper(strings.Map(func(r rune) rune {
			if strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return r
			}
			return -1
		}, s))
	}
	return h[max(0, len(h)-16):]
}

var displayNames = map[Class]string{
	ClassSmartMeter: "Smart meter", ClassGasMeter: "Gas meter", ClassWaterFlowMeter: "Water meter",
	ClassSolar: "Solar power", ClassStorageBattery: "Storage battery", ClassEVChargerV2H: "EV charger",
	ClassAirConditioner: "Air conditioner", ClassElectricWaterHtr: "Water heater",
}

// Run discovers, polls every Poll and rediscovers every Rediscover (and on
// a node's D5 announcement) until ctx is done. While it runs, devices are
// never removed: one that stops answering goes offline. When it returns,
// its devices leave the registry: the transport under it is gone, and a
// bridge over the reopened transport adds them again under the same ids
// (a registry id has one driver).
func (b *Bridge) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer b.release()
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.notifications(ctx)
	}()
	b.discover(ctx)
	b.pollAll(ctx)
	poll, redisc := b.o.Clock.NewTimer(b.o.Poll), b.o.Clock.NewTimer(b.o.Rediscover)
	defer func() { poll.Stop(); redisc.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C():
			b.pollAll(ctx)
			poll = b.o.Clock.NewTimer(b.o.Poll)
		case <-redisc.C():
			b.discover(ctx)
			redisc = b.o.Clock.NewTimer(b.o.Rediscover)
		case <-b.rediscover:
			b.discover(ctx)
		}
	}
}

func (b *Bridge) discover(ctx context.Context) {
	nodes, err := b.o.Client.Discover(ctx, b.o.DiscoverWindow)
	if err != nil {
		b.o.Log.Warn("echonet: discovery", "transport", b.o.Transport, "err", err)
	}
	for _, n := range nodes {
		for _, eoj := range n.Objects {
			if ClassName(eoj.Class()) == "" || b.o.Skip != nil && b.o.Skip(n.Addr, eoj) {
				continue
			}
			id := DeviceID(b.o.Transport, n.Addr, eoj)
			b.mu.Lock()
			_, known := b.objs[id]
			full := len(b.objs) >= MaxBridged
			b.mu.Unlock()
			if known || ctx.Err() != nil {
				continue
			}
			if full {
				b.o.Log.Warn("echonet: too many objects, not bridged", "id", id, "max", MaxBridged)
				continue
			}
			if err := b.add(ctx, id, n.Addr, eoj); err != nil {
				b.o.Log.Warn("echonet: object not bridged", "id", id, "err", err)
			}
		}
	}
}

// release removes the bridge's devices from the registry and withdraws
// its unreachable reports (a device no longer bridged is not "down").
func (b *Bridge) release() {
	b.mu.Lock()
	objs := make([]*object, 0, len(b.objs))
	for _, o := range b.objs {
		objs = append(objs, o)
	}
	clear(b.objs)
	b.mu.Unlock()
	for _, o := range objs {
		b.o.Registry.Remove(o.id)
		if o.down && b.o.Unreachable != nil {
			b.o.Unreachable(o.id, false)
		}
	}
}

// add reads an object's property maps (and maker and id when it has them)
// and registers it.
func (b *Bridge) add(ctx context.Context, id energy.DeviceID, addr Addr, eoj EOJ) error {
	c := eoj.Class()
	epcs := []byte{0x9E, 0x9F, 0x8A, 0x83}
	if c == ClassSolar {
		epcs = append(epcs, 0xE8) // rated output, W
	}
	props, err := b.o.Client.Get(ctx, addr, eoj, epcs...)
	var sna *SNAError
	if err != nil && !errors.As(err, &sna) {
		return err
	}
	get, err := DecodePropertyMap(props[0x9F])
	if err != nil {
		return fmt.Errorf("get property map 9F: %w", err)
	}
	var set PropertyMap
	if edt, ok := props[0x9E]; ok {
		if set, err = DecodePropertyMap(edt); err != nil {
			return fmt.Errorf("set property map 9E: %w", err)
		}
	}
	caps := Capabilities(c, set)
	if get.Has(0x84) && !caps.Has(energy.CapMeter) {
		caps = append(caps, energy.CapMeter)
	}
	name := displayNames[c]
	if eoj.Instance() > 1 {
		name += fmt.Sprintf(" %d", eoj.Instance())
	}
	info := energy.DeviceInfo{ID: id, Name: name, Transport: b.o.Transport, Kind: ClassName(c), Caps: caps, OwnReadings: true}
	if edt := props[0xE8]; len(edt) == 2 {
		info.RatedW = int64(be16(edt))
	}
	o := &object{id: id, addr: addr, eoj: eoj, get: get, set: set, cur: map[byte][]byte{},
		last: map[energy.Quantity]energy.Decimal{}}
	o.state = energy.DeviceState{Online: true, Updated: b.o.Clock.Now()}
	b.mu.Lock()
	if _, dup := b.objs[id]; dup {
		b.mu.Unlock()
		return nil
	}
	b.objs[id] = o
	b.mu.Unlock()
	if err := b.o.Registry.Add(info, b); err != nil {
		b.mu.Lock()
		delete(b.objs, id)
		b.mu.Unlock()
		return err
	}
	b.o.Registry.Update(id, o.state)
	b.o.Log.Info("echonet: device added", "id", id, "addr", addr, "eoj", eoj.String(),
		"maker", fmt.Sprintf("% X", props[0x8A]), "ident", fmt.Sprintf("% X", props[0x83]), "caps", caps)
	return nil
}

// Command carries out cmd on the object: [Action], then SetC.
func (b *Bridge) Command(ctx context.Context, cmd energy.Command) error {
	b.mu.Lock()
	o, ok := b.objs[cmd.Device]
	if !ok {
		b.mu.Unlock()
		return fmt.Errorf("echonet: %s %s: %w", cmd.Kind, cmd.Device, energy.ErrUnknownDevice)
	}
	c, addr, eoj, set := o.eoj.Class(), o.addr, o.eoj, o.set
	cur := maps.Clone(o.cur)
	prevSP := o.cur[0xB3]
	if c == ClassAirConditioner {
		switch cmd.Kind {
		case energy.CmdLimit: // shift from the household's setpoint: limits do not compound
			if o.saved != nil {
				cur[0xB3] = o.saved
			}
		case energy.CmdOn, energy.CmdNormal:
			delete(cur, 0xB3)
			if o.saved != nil {
				cur[0xB3] = o.saved
			}
		}
	}
	b.mu.Unlock()
	props, err := Action(c, set, cmd, cur)
	if err != nil {
		return fmt.Errorf("echonet: %s: %w", cmd.Device, err)
	}
	if len(props) > 0 {
		if err := b.o.Client.SetC(ctx, addr, eoj, props...); err != nil {
			return fmt.Errorf("echonet: %s %s EPC %s: %w", cmd.Kind, cmd.Device, epcList(props), err)
		}
	}
	b.mu.Lock()
	if c == ClassAirConditioner {
		switch {
		case cmd.Kind == energy.CmdLimit && o.saved == nil && len(props) > 0:
			o.saved = prevSP
		case cmd.Kind == energy.CmdOn || cmd.Kind == energy.CmdNormal:
			o.saved = nil
		}
	}
	for _, p := range props {
		o.cur[p.EPC] = slices.Clone(p.EDT)
	}
	switch cmd.Kind {
	case energy.CmdLimit:
		o.state.LimitW = cmd.LimitW
	case energy.CmdNormal:
		o.state.LimitW = 0
	}
	o.state.On = isOn(c, o.cur)
	st := o.state
	b.mu.Unlock()
	b.o.Registry.Update(cmd.Device, st)
	return nil
}

func epcList(props []Property) string {
	var sb strings.Builder
	for i, p := range props {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%02X", p.EPC)
	}
	return sb.String()
}

// Wrap returns the value at which the device's counter q wraps, in q's
// unit (Wh or m3), so storage can tell a wrap from a reset; ok is false for
// an unknown device or quantity, or a meter whose scale is not read yet.
func (b *Bridge) Wrap(id energy.DeviceID, q energy.Quantity) (energy.Decimal, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objs[id]
	if !ok {
		return energy.Decimal{}, false
	}
	c := o.eoj.Class()
	if o.scale == nil && len(ScaleEPCs(c, o.get)) > 0 {
		return energy.Decimal{}, false
	}
	return WrapSize(c, q, o.scale)
}
