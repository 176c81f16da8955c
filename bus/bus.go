// Package bus carries readings from drivers to consumers, one way.
//
// Two kinds of subscription exist. A lossless subscription (storage) has a
// bounded queue; Publish blocks while it is full (backpressure: drivers slow
// down, nothing is dropped silently). A lossy subscription (UI, observers)
// only ever sees the latest value of each (device, quantity): a slow browser
// never slows the meter link.
//
// Concurrency: all methods are safe for concurrent use. Subscribe before
// the publishers start.
package bus

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/gatewayd-project/gatewayd/energy"
)

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("bus: closed")

// Bus fans readings out to subscribers.
type Bus struct {
	ctx context.Context

	mu       sync.RWMutex
	lossless []chan []energy.Reading
	lossy    []*Latest
	closed   bool
}

// New returns a bus whose blocking publishes give up when ctx is done.
func New(ctx context.Context) *Bus { return &Bus{ctx: ctx} }

var _ energy.Publisher = (*Bus)(nil)

// SubscribeLossless returns a channel of reading batches with room for size
// batches. The consumer must drain it; it is closed by Close.
func (b *Bus) SubscribeLossless(size int) <-chan []energy.Reading {
	ch := make(chan []energy.Reading, max(size, 1))
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lossless = append(b.lossless, ch)
	return ch
}

// SubscribeLatest returns a latest-value view fed by the bus.
func (b *Bus) SubscribeLatest() *Latest {
	l := &Latest{m: map[key]energy.Reading{}, notify: make(chan struct{}, 1)}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lossy = append(b.lossy, l)
	return l
}

// Publish delivers a copy of rs to every subscriber. It blocks while a
// lossless queue is full, until the bus context is done.
func (b *Bus) Publish(rs []energy.Reading) error {
	if len(rs) == 0 {
		return nil
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	for _, l := range b.lossy {
		l.put(rs)
	}
	for _, ch := range b.lossless {
		batch := append([]energy.Reading(nil), rs...)
		select {
		case ch <- batch:
		case <-b.ctx.Done():
			return b.ctx.Err()
		}
	}
	return nil
}

// Close closes the lossless channels; later publishes fail.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for _, ch := range b.lossless {
		close(ch)
	}
}

type key struct {
	d energy.DeviceID
	q energy.Quantity
}

// Latest keeps the newest reading of each (device, quantity).
type Latest struct {
	mu     sync.Mutex
	m      map[key]energy.Reading
	notify chan struct{}
}

func (l *Latest) put(rs []energy.Reading) {
	l.mu.Lock()
	for _, r := range rs {
		k := key{r.Device, r.Quantity}
		if old, ok := l.m[k]; ok && old.Measured.After(r.Measured) {
			continue // a backfilled old value does not replace a newer one
		}
		l.m[k] = r
	}
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// Get returns the latest reading of (d, q).
func (l *Latest) Get(d energy.DeviceID, q energy.Quantity) (energy.Reading, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[key{d, q}]
	return r, ok
}

// Device returns the latest reading of every quantity of d, sorted by
// quantity.
func (l *Latest) Device(d energy.DeviceID) []energy.Reading {
	l.mu.Lock()
	var out []energy.Reading
	for k, r := range l.m {
		if k.d == d {
			out = append(out, r)
		}
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b energy.Reading) int { return strings.Compare(string(a.Quantity), string(b.Quantity)) })
	return out
}

// Changed is signalled (coalesced) after new readings arrived.
func (l *Latest) Changed() <-chan struct{} { return l.notify }
