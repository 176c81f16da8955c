package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/internal/loopback"
	"github.com/gatewayd-project/gatewayd/metering-link/dlt645"
	"github.com/gatewayd-project/gatewayd/metering-link/emul"
)

func cmdEmulateMeter(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("emulate meter")
	var cfg emul.Config
	fs.StringVar(&cfg.Protocol, "protocol", "dlt645", "dlt645 or iec62056-21")
	fs.StringVar(&cfg.Link, "link", "", "symlink to point at the pty (required)")
	fs.StringVar(&cfg.Address, "address", "123456789012", "meter address (12 digits)")
	fs.IntVar(&cfg.Baud, "baud", 0, "line rate (default 2400 dlt645, 9600 max for iec62056-21)")
	fs.DurationVar(&cfg.Td, "td", 20*time.Millisecond, "response delay Td")
	fs.IntVar(&cfg.Model.Phases, "phases", 3, "1 or 3")
	fs.DurationVar(&cfg.Model.ClockOffset, "clock-offset", 0, "meter clock ahead of true time by")
	fs.DurationVar(&cfg.Model.History, "history", 24*time.Hour, "load-profile history present at start")
	fs.BoolVar(&cfg.Model.NoLoadProfile, "no-load-profile", false, "keep hourly freezes only")
	fs.Float64Var(&cfg.Faults.Drop, "drop", 0, "probability of dropping a reply")
	fs.Float64Var(&cfg.Faults.Garbage, "garbage", 0, "probability of garbage instead of a reply")
	fs.Float64Var(&cfg.Faults.BadChecksum, "bad-checksum", 0, "probability of a bad checksum")
	fs.Float64Var(&cfg.Faults.Late, "late", 0, "probability of a late reply")
	fs.DurationVar(&cfg.Faults.LateBy, "late-by", 800*time.Millisecond, "how late a late reply is")
	fs.BoolVar(&cfg.Faults.Silent, "silent", false, "answer nothing")
	disconnectEvery := fs.Duration("disconnect-every", 0, "unplug the line periodically")
	disconnectFor := fs.Duration("disconnect-for", 3*time.Second, "how long each unplug lasts")
	unsupported := fs.String("unsupported", "", "comma-separated DIs answered 'no requested data' (dlt645)")
	control := fs.String("control", "", "loopback address for the control API (e.g. 127.0.0.1:0)")
	seed := fs.Uint64("seed", 1, "noise and fault seed")
	level := fs.String("log-level", "info", "debug, info, warn, error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.Link == "" {
		return usageErr("emulate meter: --link is required")
	}
	for _, p := range []float64{cfg.Faults.Drop, cfg.Faults.Garbage, cfg.Faults.BadChecksum, cfg.Faults.Late} {
		if p < 0 || p > 1 {
			return usageErr("emulate meter: fault rates are probabilities in 0..1")
		}
	}
	if *unsupported != "" {
		for _, s := range strings.Split(*unsupported, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(s), 16, 32)
			if err != nil {
				return usageErr("emulate meter: --unsupported: %q is not a hex DI", s)
			}
			cfg.Unsupported = append(cfg.Unsupported, dlt645.DI(v))
		}
	}
	cfg.Seed = *seed
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageErr("emulate meter: --log-level: %v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	clock := energy.SystemClock{}
	m, err := emul.New(clock, cfg, log)
	if err != nil {
		return usageErr("emulate meter: %v", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *control != "" {
		if !loopback.HostPort(*control) {
			return usageErr("emulate meter: --control must be a loopback address")
		}
		ln, err := net.Listen("tcp", *control)
		if err != nil {
			return fmt.Errorf("control: %w", err)
		}
		srv := &http.Server{Handler: emul.ControlHandler(m, clock.Now), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(stdout, "control http://%s\n", ln.Addr())
	}
	if *disconnectEvery > 0 {
		go every(ctx, *disconnectEvery, func() { m.Disconnect(*disconnectFor) })
	}
	c := m.Config()
	fmt.Fprintf(stdout, "meter %s (%s, %d baud) on %s -> %s\n", c.Address, c.Protocol, c.Baud, c.Link, m.Line.TTY())
	log.Info("emulated meter running", "protocol", c.Protocol, "address", c.Address, "baud", c.Baud, "link", c.Link, "tty", m.Line.TTY())
	if err := m.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
