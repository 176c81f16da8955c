package bthome

import (
	"errors"
	"fmt"
	"sync"
)

// ErrReplay is returned for an encrypted packet whose counter is not above
// the last one accepted from the device.
var ErrReplay = errors.New("bthome: counter not above the last accepted (replay)")

// Decoder decodes a stream of packets from many devices: it drops repeats
// of a packet id and refuses encrypted packets whose counter does not grow.
type Decoder struct {
	// Key returns a device's key, nil for none. Nil Key: no keys.
	Key func(mac [6]byte) []byte

	mu    sync.Mutex
	last  map[[6]byte]byte   // last packet id
	ctr   map[[6]byte]uint32 // last accepted counter
	dirty bool
}

// NewDecoder returns a decoder that looks keys up with key (nil: none).
func NewDecoder(key func(mac [6]byte) []byte) *Decoder {
	return &Decoder{Key: key, last: map[[6]byte]byte{}, ctr: map[[6]byte]uint32{}}
}

// Decode decodes one packet from mac. dup is true (and the packet not
// otherwise used) when it repeats the device's last packet id: a device
// sends each packet several times to survive loss.
func (d *Decoder) Decode(data []byte, mac [6]byte) (p Packet, dup bool, err error) {
	var key []byte
	if len(data) > 0 && data[0]&FlagEncrypted != 0 && d.Key != nil {
		key = d.Key(mac)
	}
	p, err = Decode(data, mac, key)
	if err != nil {
		return p, false, err
	}
	if p.MAC != ([6]byte{}) {
		mac = p.MAC
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.Encrypted {
		if last, ok := d.ctr[mac]; ok && p.Counter <= last {
			if p.HasID && d.last[mac] == p.PacketID && p.Counter == last {
				return p, true, nil // the same packet again
			}
			return p, false, fmt.Errorf("%w: %d after %d", ErrReplay, p.Counter, last)
		}
		d.ctr[mac] = p.Counter
		d.dirty = true
	}
	if p.HasID {
		if last, ok := d.last[mac]; ok && last == p.PacketID && !p.Encrypted {
			return p, true, nil
		}
		d.last[mac] = p.PacketID
	}
	return p, false, nil
}

// Counters returns the last accepted counter of every device that sent
// encrypted packets, and whether any changed since the last call: the
// caller persists them so a replay is refused after a restart too.
func (d *Decoder) Counters() (map[[6]byte]uint32, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[[6]byte]uint32, len(d.ctr))
	for k, v := range d.ctr {
		out[k] = v
	}
	changed := d.dirty
	d.dirty = false
	return out, changed
}

// SetCounter restores a device's last accepted counter (from the state dir).
func (d *Decoder) SetCounter(mac [6]byte, c uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ctr[mac] = c
}

// Forget drops what the decoder knows of mac (an un-adopted device).
func (d *Decoder) Forget(mac [6]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.last, mac)
	delete(d.ctr, mac)
	d.dirty = true
}
