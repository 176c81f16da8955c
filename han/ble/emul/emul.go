// Package emul is an emulated BLE adapter: product code that the demo
// runs on, not a test stub. It hosts peripherals that advertise real
// byte layouts (BTHome v2 service data, AES-CCM encrypted where the real
// device would be, the gatewayd appliance profile's service UUID) with
// plausible behaviour over an injected clock:
//
//   - a BTHome water meter (object 0x4F, litres, household draws),
//   - a BTHome gas meter (object 0x4C, m3, heating and cooking),
//   - a temperature/humidity sensor (0x02, 0x03, daily curve),
//   - an encrypted BTHome power meter (0x4A, 0x4D, 0x5C under AES-CCM,
//     the key given in Config),
//   - a BLE smart plug with the gatewayd GATT profile and Device
//     Information, whose heater load obeys on/off and DR limits.
//
// Each broadcaster sends every packet twice (a real device repeats to
// survive loss), so the receiver's packet-id de-duplication is exercised.
// Faults for tests and demos: Silence (a device stops advertising),
// Drop (the plug's connection is lost), RefuseConnect.
//
// Concurrency: an Adapter is safe for concurrent use.
package emul

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/ble"
	"github.com/gatewayd-project/gatewayd/han/ble/bthome"
)

// The emulated devices' addresses.
const (
	WaterMeter ble.Addr = "A4:C1:38:10:00:01"
	GasMeter   ble.Addr = "A4:C1:38:10:00:02"
	Thermo     ble.Addr = "A4:C1:38:10:00:03"
	PowerMeter ble.Addr = "A4:C1:38:10:00:04"
	Plug       ble.Addr = "A4:C1:38:10:00:05"
)

// Config configures an Adapter.
type Config struct {
	// Clock drives behaviour and advertising; nil is the system clock.
	Clock energy.Clock
	// Interval between advertising events (each packet goes out twice);
	// 0 means 2 s.
	Interval time.Duration
	// Notify is how often the plug notifies power and energy; 0 means 2 s.
	Notify time.Duration
	// PowerKey is the encrypted power meter's 16-byte key; required.
	PowerKey []byte
	// Seed varies RSSI and loads.
	Seed uint64
}

type peripheral struct {
	addr        ble.Addr
	name        string
	connectable bool
	silent      bool
	pkt         byte
	repeat      bool   // the next event repeats the last packet
	last        []byte // last AD payload
	ctr         uint32
	rssi        int
	// behaviour state
	total float64 // water L, gas m3, energy Wh
}

// Adapter is the emulated radio.
type Adapter struct {
	cfg   Config
	start time.Time

	mu     sync.Mutex
	rng    *rand.Rand
	ps     []*peripheral
	plug   plugState
	conns  map[*conn]bool
	refuse bool
	closed bool
}

var _ ble.Adapter = (*Adapter)(nil)

// New returns an adapter with the five devices.
func New(cfg Config) (*Adapter, error) {
	if len(cfg.PowerKey) != 16 {
		return nil, errors.New("ble emul: power meter key must be 16 bytes")
	}
	if cfg.Clock == nil {
		cfg.Clock = energy.SystemClock{}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Notify <= 0 {
		cfg.Notify = 2 * time.Second
	}
	a := &Adapter{cfg: cfg, start: cfg.Clock.Now(), rng: rand.New(rand.NewPCG(cfg.Seed, 0xB1E)), conns: map[*conn]bool{}}
	a.ps = []*peripheral{
		{addr: WaterMeter, name: "Water meter", rssi: -71, total: 123456.789},
		{addr: GasMeter, name: "Gas meter", rssi: -78, total: 1234.567},
		{addr: Thermo, name: "Thermo-hygrometer", rssi: -58},
		{addr: PowerMeter, name: "Power meter", rssi: -65, total: 4_321_000},
		{addr: Plug, name: "gatewayd Plug", rssi: -52, connectable: true},
	}
	a.plug = plugState{on: true, energyWh: 18_250, updated: a.start}
	return a, nil
}

// Scan advertises every device each Interval until ctx is done.
func (a *Adapter) Scan(ctx context.Context, fn func(ble.Advertisement)) error {
	for {
		a.mu.Lock()
		if a.closed {
			a.mu.Unlock()
			return errors.New("ble emul: adapter closed")
		}
		now := a.cfg.Clock.Now()
		var advs []ble.Advertisement
		for _, p := range a.ps {
			if p.silent {
				continue
			}
			data, err := a.advertise(p, now)
			if err != nil {
				continue
			}
			advs = append(advs, ble.Advertisement{Addr: p.addr, RSSI: p.rssi + a.rng.IntN(7) - 3, Connectable: p.connectable, Data: data})
		}
		a.mu.Unlock()
		for _, adv := range advs {
			fn(adv)
		}
		t := a.cfg.Clock.NewTimer(a.cfg.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}

// advertise returns p's AD structures for this event (a.mu held).
func (a *Adapter) advertise(p *peripheral, now time.Time) ([]byte, error) {
	if p.repeat && p.last != nil {
		p.repeat = false
		return p.last, nil
	}
	ad := ble.AppendAD(nil, ble.ADFlags, []byte{0x06})
	day := float64(now.Hour()) + float64(now.Minute())/60
	var sd []byte
	switch p.addr {
	case Plug:
		u, _ := ble.UUID128Bytes(ble.ServiceAppliance)
		ad = ble.AppendAD(ad, ble.ADUUID128All, u[:])
	case WaterMeter:
		// Draws in the morning and evening, a trickle otherwise.
		lpm := 0.2
		if (day >= 6.5 && day < 8.5) || (day >= 18 && day < 21.5) {
			lpm = 4 + 4*a.rng.Float64()
		}
		p.total += lpm * a.cfg.Interval.Minutes() * 2
		p.pkt++
		sd = []byte{0x40, 0x00, p.pkt, 0x01, 93, 0x4F}
		sd = binary.LittleEndian.AppendUint32(sd, uint32(math.Round(p.total*1000)))
	case GasMeter:
		m3h := 0.05
		if day >= 6 && day < 9 || day >= 17 && day < 22 {
			m3h = 0.6 + 0.4*a.rng.Float64()
		}
		p.total += m3h * a.cfg.Interval.Hours() * 2
		p.pkt++
		sd = []byte{0x40, 0x00, p.pkt, 0x01, 88, 0x4C}
		sd = binary.LittleEndian.AppendUint32(sd, uint32(math.Round(p.total*1000)))
	case Thermo:
		temp := 21 + 2.5*math.Sin((day-9)/24*2*math.Pi) + 0.2*a.rng.Float64()
		hum := 48 - 6*math.Sin((day-9)/24*2*math.Pi) + a.rng.Float64()
		p.pkt++
		sd = []byte{0x40, 0x00, p.pkt, 0x01, 76, 0x02}
		sd = binary.LittleEndian.AppendUint16(sd, uint16(int16(math.Round(temp*100))))
		sd = append(sd, 0x03)
		sd = binary.LittleEndian.AppendUint16(sd, uint16(math.Round(hum*100)))
	case PowerMeter:
		// A circuit meter: base load, a daily curve and noise.
		w := 180 + 350*math.Max(0, math.Sin((day-6)/24*2*math.Pi)) + 60*a.rng.Float64()
		p.total += w * a.cfg.Interval.Hours() * 2
		p.pkt++
		p.ctr++
		plain := []byte{0x00, p.pkt, 0x4A} // voltage, 0.1 V (0x0C's 0.001 V stops at 65 V)
		plain = binary.LittleEndian.AppendUint16(plain, uint16(math.Round((230+2*a.rng.Float64())*10)))
		plain = append(plain, 0x4D)
		plain = binary.LittleEndian.AppendUint32(plain, uint32(math.Round(p.total))) // 0.001 kWh = Wh
		plain = append(plain, 0x5C)
		plain = binary.LittleEndian.AppendUint32(plain, uint32(int32(math.Round(w*100))))
		enc, err := bthome.Encrypt(a.cfg.PowerKey, p.addr.Bytes(), 0x40, p.ctr, plain)
		if err != nil {
			return nil, err
		}
		sd = enc
	}
	if sd != nil {
		ad = ble.AppendAD(ad, ble.ADServiceData, append([]byte{byte(bthome.UUID & 0xFF), byte(bthome.UUID >> 8)}, sd...))
	}
	if len(ad)+2+len(p.name) <= ble.MaxADLen {
		ad = ble.AppendAD(ad, ble.ADCompleteName, []byte(p.name))
	}
	p.last, p.repeat = ad, true
	return ad, nil
}

func (a *Adapter) find(addr ble.Addr) *peripheral {
	for _, p := range a.ps {
		if p.addr == addr {
			return p
		}
	}
	return nil
}

// Silence stops (true) or resumes a device's advertising.
func (a *Adapter) Silence(addr ble.Addr, silent bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.find(addr); p != nil {
		p.silent = silent
	}
}

// RefuseConnect makes connection attempts fail (true) or succeed.
func (a *Adapter) RefuseConnect(refuse bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refuse = refuse
}

// Drop ends every open connection, as if the plug went out of range.
func (a *Adapter) Drop() {
	a.mu.Lock()
	cs := make([]*conn, 0, len(a.conns))
	for c := range a.conns {
		cs = append(cs, c)
	}
	a.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// Connections is the number of open connections.
func (a *Adapter) Connections() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.conns)
}

// Close ends scanning and connections.
func (a *Adapter) Close() error {
	a.Drop()
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	return nil
}

// Connect opens a GATT connection to the plug.
func (a *Adapter) Connect(ctx context.Context, addr ble.Addr) (ble.Conn, error) {
	a.mu.Lock()
	p := a.find(addr)
	switch {
	case a.closed:
		a.mu.Unlock()
		return nil, errors.New("ble emul: adapter closed")
	case p == nil || !p.connectable || p.silent:
		a.mu.Unlock()
		return nil, fmt.Errorf("ble emul: connect %s: no answer", addr)
	case a.refuse:
		a.mu.Unlock()
		return nil, fmt.Errorf("ble emul: connect %s: connection failed to be established", addr)
	}
	c := &conn{a: a, done: make(chan struct{}), subs: map[ble.UUID]func([]byte){}}
	a.conns[c] = true
	a.mu.Unlock()
	if err := ctx.Err(); err != nil {
		c.Close()
		return nil, err
	}
	go c.notifier()
	return c, nil
}
