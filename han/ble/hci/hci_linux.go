//go:build linux

package hci

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	goble "github.com/go-ble/ble"
	"github.com/go-ble/ble/linux"
	"github.com/go-ble/ble/linux/hci/cmd"

	"github.com/gatewayd-project/gatewayd/han/ble"
)

// Adapter is a go-ble device on one HCI adapter.
type Adapter struct {
	dev *linux.Device
}

var _ ble.Adapter = (*Adapter)(nil)

// Open takes the adapter name ("hci0") exclusively; active selects active
// scanning (scan requests: names from scan responses) over passive.
func Open(name string, active bool) (ble.Adapter, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(name, "hci"))
	if err != nil || id < 0 || id > 15 {
		return nil, fmt.Errorf("ble: adapter %q: want hci0..hci15", name)
	}
	if err := present(sysBluetooth, name); err != nil {
		return nil, err
	}
	typ := uint8(0)
	if active {
		typ = 1
	}
	dev, err := linux.NewDevice(goble.OptDeviceID(id), goble.OptCentralRole(),
		goble.OptScanParams(cmd.LESetScanParameters{LEScanType: typ, LEScanInterval: 0x0060, LEScanWindow: 0x0030}))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ble.ErrNoAdapter, name, err)
	}
	return &Adapter{dev: dev}, nil
}

// sysBluetooth lists the kernel's Bluetooth adapters.
const sysBluetooth = "/sys/class/bluetooth"

// present checks that the kernel has adapter name before go-ble is asked
// for it: go-ble's socket.open leaks its HCI socket on every failed
// ioctl, and the daemon retries a missing adapter for as long as it runs.
// A system without sysfs (root absent) is left to go-ble.
func present(root, name string) error {
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat("/sys/class"); err == nil {
			// sysfs is there but no Bluetooth class: no driver, no adapter.
			return fmt.Errorf("%w: %s: no Bluetooth support in the kernel (%s missing)", ble.ErrNoAdapter, name, root)
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(root, name)); err != nil {
		return fmt.Errorf("%w: %s: not present (%s)", ble.ErrNoAdapter, name, root)
	}
	return nil
}

// rawAdv is what go-ble's Linux advertisement exposes beyond the interface.
type rawAdv interface {
	Data() []byte
	ScanResponse() []byte
}

// Scan reports every advertisement (duplicates included: BTHome counts on
// repeats) until ctx is done.
func (a *Adapter) Scan(ctx context.Context, fn func(ble.Advertisement)) error {
	err := a.dev.Scan(ctx, true, func(adv goble.Advertisement) {
		r, ok := adv.(rawAdv)
		if !ok {
			return
		}
		data := append(append([]byte(nil), r.Data()...), r.ScanResponse()...)
		if len(data) > ble.MaxADLen {
			data = data[:ble.MaxADLen]
		}
		addr, err := ble.ParseAddr(adv.Addr().String())
		if err != nil {
			return
		}
		fn(ble.Advertisement{Addr: addr, RSSI: adv.RSSI(), Connectable: adv.Connectable(), Data: data})
	})
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil
	}
	return err
}

// Connect dials addr and returns the connection.
func (a *Adapter) Connect(ctx context.Context, addr ble.Addr) (ble.Conn, error) {
	cl, err := a.dev.Dial(ctx, goble.NewAddr(strings.ToLower(string(addr))))
	if err != nil {
		return nil, fmt.Errorf("ble: dial %s: %w", addr, err)
	}
	return &conn{cl: cl}, nil
}

// Close stops the device (the adapter is released).
func (a *Adapter) Close() error { return a.dev.Stop() }

type conn struct {
	cl goble.Client

	mu   sync.Mutex
	prof *goble.Profile
}

// do runs f (a blocking go-ble call) and stops waiting when ctx ends.
func do[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := f()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (c *conn) Done() <-chan struct{} { return c.cl.Disconnected() }

func (c *conn) Close() error { return c.cl.CancelConnection() }

func (c *conn) Discover(ctx context.Context) ([]ble.Service, error) {
	p, err := do(ctx, func() (*goble.Profile, error) { return c.cl.DiscoverProfile(true) })
	if err != nil {
		return nil, fmt.Errorf("ble: discover: %w", err)
	}
	c.mu.Lock()
	c.prof = p
	c.mu.Unlock()
	var out []ble.Service
	for _, s := range p.Services {
		svc := ble.Service{UUID: uuidOf(s.UUID)}
		for _, ch := range s.Characteristics {
			svc.Chars = append(svc.Chars, ble.Characteristic{UUID: uuidOf(ch.UUID), Props: byte(ch.Property)})
		}
		out = append(out, svc)
	}
	return out, nil
}

// uuidOf formats a go-ble UUID (little-endian bytes) as ours.
func uuidOf(u goble.UUID) ble.UUID {
	if len(u) == 2 {
		return ble.UUID(fmt.Sprintf("%02x%02x", u[1], u[0]))
	}
	s := u.String() // most significant first, no dashes
	if len(s) == 32 {
		return ble.UUID(s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32])
	}
	return ble.UUID(s)
}

func (c *conn) char(u ble.UUID) (*goble.Characteristic, error) {
	gu, err := goble.Parse(string(u))
	if err != nil {
		return nil, fmt.Errorf("ble: uuid %s: %w", u, err)
	}
	c.mu.Lock()
	p := c.prof
	c.mu.Unlock()
	if p == nil {
		return nil, errors.New("ble: not discovered")
	}
	ch := p.FindCharacteristic(goble.NewCharacteristic(gu))
	if ch == nil {
		return nil, fmt.Errorf("ble: no characteristic %s", u)
	}
	return ch, nil
}

func (c *conn) Read(ctx context.Context, u ble.UUID) ([]byte, error) {
	ch, err := c.char(u)
	if err != nil {
		return nil, err
	}
	return do(ctx, func() ([]byte, error) { return c.cl.ReadCharacteristic(ch) })
}

func (c *conn) Write(ctx context.Context, u ble.UUID, v []byte) error {
	ch, err := c.char(u)
	if err != nil {
		return err
	}
	_, err = do(ctx, func() (struct{}, error) { return struct{}{}, c.cl.WriteCharacteristic(ch, v, false) })
	return err
}

func (c *conn) Subscribe(ctx context.Context, u ble.UUID, fn func([]byte)) error {
	ch, err := c.char(u)
	if err != nil {
		return err
	}
	_, err = do(ctx, func() (struct{}, error) {
		return struct{}{}, c.cl.Subscribe(ch, false, func(b []byte) {
			if len(b) <= ble.MaxValueLen {
				fn(append([]byte(nil), b...))
			}
		})
	})
	return err
}
