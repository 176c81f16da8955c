package emul

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/metering-link/dlt645"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// Config of an emulated meter.
type Config struct {
	// Protocol is "dlt645" or "iec62056-21".
	Protocol string
	// Link is the symlink path pointed at the pty slave.
	Link string
	// Address is the meter's 12-digit address (default 123456789012).
	Address string
	// Baud is the line rate (default 2400 for dlt645; the maximum offered
	// after sign-on, default 9600, for iec62056-21).
	Baud int
	// Td is the response delay (default 20 ms).
	Td     time.Duration
	Model  ModelConfig
	Faults Faults
	// Unsupported DL/T 645 DIs are answered "no requested data".
	Unsupported []dlt645.DI
	Seed        uint64
}

// Meter is a running emulated metrology core.
type Meter struct {
	Model *Model
	Line  *Line
	cfg   Config
	log   *slog.Logger
	serve func(ctx context.Context) error

	mu        sync.Mutex
	reconnect *time.Timer
}

// New builds the model and the pty line; Run serves it.
func New(clk energy.Clock, cfg Config, log *slog.Logger) (*Meter, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Address == "" {
		cfg.Address = "123456789012"
	}
	if cfg.Td == 0 {
		cfg.Td = 20 * time.Millisecond
	}
	if cfg.Td < 0 || cfg.Td > 5*time.Second {
		return nil, fmt.Errorf("emul: response delay %v out of range", cfg.Td)
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	cfg.Model.Seed = cfg.Seed
	model := NewModel(clk, cfg.Model)
	m := &Meter{Model: model, cfg: cfg, log: log}
	switch cfg.Protocol {
	case "dlt645", "":
		cfg.Protocol = "dlt645"
		if cfg.Baud == 0 {
			cfg.Baud = 2400
		}
		addr, err := dlt645.ParseAddress(cfg.Address)
		if err != nil || !addr.Valid() {
			return nil, fmt.Errorf("emul: address %q: want 12 digits", cfg.Address)
		}
		line, err := NewLine(cfg.Link, serialport.Mode8E1(cfg.Baud), cfg.Td, cfg.Seed)
		if err != nil {
			return nil, err
		}
		m.Line = line
		unsup := map[dlt645.DI]bool{}
		for _, di := range cfg.Unsupported {
			unsup[di] = true
		}
		r := &DLT645Meter{Model: model, Line: line, Addr: addr, Unsupported: unsup, Log: log}
		m.serve = r.Serve
	case "iec62056-21":
		if cfg.Baud == 0 {
			cfg.Baud = 9600
		}
		line, err := NewLine(cfg.Link, serialport.Mode7E1(300), cfg.Td, cfg.Seed)
		if err != nil {
			return nil, err
		}
		m.Line = line
		r := &IECMeter{Model: model, Line: line, ID: cfg.Address, MaxBaud: cfg.Baud, Log: log}
		m.serve = r.Serve
	default:
		return nil, fmt.Errorf("emul: unknown protocol %q (want dlt645 or iec62056-21)", cfg.Protocol)
	}
	m.cfg = cfg
	m.Line.SetFaults(cfg.Faults)
	return m, nil
}

// Config returns the effective configuration.
func (m *Meter) Config() Config { return m.cfg }

// Run answers requests until ctx is done, then closes the line.
func (m *Meter) Run(ctx context.Context) error {
	defer m.Line.Close()
	defer func() {
		m.mu.Lock()
		if m.reconnect != nil {
			m.reconnect.Stop()
		}
		m.mu.Unlock()
	}()
	return m.serve(ctx)
}

// Disconnect unplugs the line for d (0: until Reconnect).
func (m *Meter) Disconnect(d time.Duration) {
	m.Line.Disconnect()
	m.log.Info("meter line unplugged", "for", d)
	if d <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reconnect != nil {
		m.reconnect.Stop()
	}
	m.reconnect = time.AfterFunc(d, func() {
		if err := m.Reconnect(); err != nil {
			m.log.Error("meter line reconnect failed", "err", err)
		}
	})
}

// Reconnect plugs a new pty in behind the link.
func (m *Meter) Reconnect() error {
	if err := m.Line.Reconnect(); err != nil {
		return err
	}
	m.log.Info("meter line plugged in", "tty", m.Line.TTY())
	return nil
}
