package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/ble"
	"github.com/gatewayd-project/gatewayd/han/ble/hci"
	"github.com/gatewayd-project/gatewayd/web"
)

// condBLENoAdapter is raised while han.ble is on and no adapter opens.
const condBLENoAdapter = "ble_no_adapter"

// hanBLE runs han.ble: it opens the adapter (retrying with backoff: the
// daemon runs on without one, with health ble_no_adapter) and a hub over
// it. The API reaches the current hub through it.
type hanBLE struct {
	g   *gateway
	log *slog.Logger
	dir string
	// adapter is given (the demo's emulated one), else opened from config.
	adapter ble.Adapter
	// openAdapter opens the adapter of a session (h.open; tests replace it).
	openAdapter func() (ble.Adapter, error)

	mu  sync.Mutex
	hub *ble.Hub
}

func (g *gateway) setupBLE(gopts gatewayOptions) *hanBLE {
	if !g.cfg.HAN.BLE.Enabled {
		return nil
	}
	h := &hanBLE{g: g, log: g.log.With("sub", "ble"), dir: filepath.Join(g.cfg.StateDir, "ble"), adapter: gopts.bleAdapter}
	h.openAdapter = h.open
	g.addWrap(h.wrap)
	g.han = append(g.han, h.run)
	return h
}

func (h *hanBLE) current() *ble.Hub {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hub
}

func (h *hanBLE) wrap(id energy.DeviceID, q energy.Quantity) (energy.Decimal, bool) {
	if hub := h.current(); hub != nil {
		return hub.Wrap(id, q)
	}
	return energy.Decimal{}, false
}

func (h *hanBLE) open() (ble.Adapter, error) {
	if h.adapter != nil {
		return h.adapter, nil
	}
	c := h.g.cfg.HAN.BLE
	return hci.Open(c.HCI, c.Scan == "active")
}

// Retry pacing of han.ble: a missing or failing adapter is retried after
// bleRetryMin, doubling to bleRetryMax; a session that ran bleHealthy or
// longer starts the pacing afresh.
const (
	bleRetryMin = 5 * time.Second
	bleRetryMax = 5 * time.Minute
	bleHealthy  = time.Minute
)

func (h *hanBLE) run(ctx context.Context) error {
	backoff := bleRetryMin
	for ctx.Err() == nil {
		began := h.g.clock.Now()
		err := h.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if h.g.clock.Now().Sub(began) >= bleHealthy {
			backoff = bleRetryMin
		}
		if err == nil {
			err = errors.New("ble: adapter session ended")
		}
		// Whatever ended the session (no adapter, a scan that failed, the
		// adapter unplugged), BLE is down until the next one opens.
		h.g.health.Set(condBLENoAdapter, fmt.Sprintf("BLE adapter %s: %v (retry in %v)", h.g.cfg.HAN.BLE.HCI, err, backoff))
		h.log.Warn("ble: adapter session ended; retrying", "err", err, "in", backoff, "no_adapter", errors.Is(err, ble.ErrNoAdapter))
		if !energy.Sleep(ctx, h.g.clock, backoff) {
			return nil
		}
		backoff = min(2*backoff, bleRetryMax)
	}
	return nil
}

func (h *hanBLE) session(ctx context.Context) error {
	ad, err := h.openAdapter()
	if err != nil {
		return err
	}
	if h.adapter == nil {
		defer ad.Close()
	}
	h.g.health.Clear(condBLENoAdapter)
	hub, err := ble.New(ble.Options{Adapter: ad, Registry: h.g.reg, Publisher: h.g.bus, Dir: h.dir, Clock: h.g.clock,
		Log: h.log, Unreachable: h.g.unreachable})
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.hub = hub
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.hub = nil
		h.mu.Unlock()
		hub.Close()
	}()
	return hub.Run(ctx)
}

// bleWeb is the API's view of han.ble.
type bleWeb struct{ h *hanBLE }

func (b bleWeb) Seen() []web.BLESeen {
	hub := b.h.current()
	if hub == nil {
		return nil
	}
	var out []web.BLESeen
	for _, s := range hub.Seen() {
		out = append(out, web.BLESeen{MAC: string(s.Addr), Name: s.Name, RSSI: s.RSSI, LastSeen: s.LastSeen,
			Connectable: s.Connectable, Advertises: s.Advertises, Quantities: s.Quantities, Kind: s.Kind,
			Adopted: s.Adopted, Device: s.Device})
	}
	return out
}

func (b bleWeb) Adopt(mac, name, key string) (energy.DeviceID, error) {
	hub := b.h.current()
	if hub == nil {
		return "", web.ErrBLENoAdapter
	}
	addr, err := ble.ParseAddr(mac)
	if err != nil {
		return "", fmt.Errorf("%w: %v", web.ErrBLEInvalid, err)
	}
	var k []byte
	if key != "" {
		if k, err = ble.ParseKey(key); err != nil {
			return "", fmt.Errorf("%w: %v", web.ErrBLEKey, err)
		}
	}
	id, err := hub.Adopt(ble.Adoption{Addr: addr, Name: name, Key: k})
	return id, bleErr(err)
}

func (b bleWeb) Forget(id energy.DeviceID) error {
	hub := b.h.current()
	if hub == nil {
		return web.ErrBLENoAdapter
	}
	return bleErr(hub.Forget(id))
}

func bleErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ble.ErrNotSeen):
		return fmt.Errorf("%w: %v", web.ErrBLENotSeen, err)
	case errors.Is(err, ble.ErrNotAdopted):
		return fmt.Errorf("%w: %v", web.ErrBLENotAdopted, err)
	case errors.Is(err, ble.ErrAdopted):
		return fmt.Errorf("%w: %v", web.ErrBLEAdopted, err)
	case errors.Is(err, ble.ErrKeyRequired):
		return fmt.Errorf("%w: %v", web.ErrBLEKeyRequired, err)
	case errors.Is(err, ble.ErrBadKey):
		return fmt.Errorf("%w: %v", web.ErrBLEKey, err)
	case errors.Is(err, ble.ErrUnsupported), errors.Is(err, ble.ErrFull):
		return fmt.Errorf("%w: %v", web.ErrBLEInvalid, err)
	}
	return err
}
