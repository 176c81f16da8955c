package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	echoemul "github.com/gatewayd-project/gatewayd/han/echonet/emul"
	"github.com/gatewayd-project/gatewayd/han/wifi/echonetip"
	wisunemul "github.com/gatewayd-project/gatewayd/han/wisun/emul"
	"github.com/gatewayd-project/gatewayd/internal/loopback"
)

// wisunHomeNodes is the Wi-SUN PAN of the demo and `emulate wisun`: the
// route-B smart meter (coordinator), a gas meter and a water meter.
// Appliances (air conditioner, water heater, battery) are on IP.
func wisunHomeNodes(all bool) [][]echonet.Class {
	if all {
		return echoemul.DefaultNodes()
	}
	return [][]echonet.Class{{echonet.ClassSmartMeter}, {echonet.ClassGasMeter}, {echonet.ClassWaterFlowMeter}}
}

// ensureWisunCredentials returns the credentials in dir (id and password
// files), making random ones (0600) if there are none: a 32-character ID
// and a 12-character password, the shape utilities hand out.
func ensureWisunCredentials(dir string) (id, pw string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	idPath, pwPath := filepath.Join(dir, "id"), filepath.Join(dir, "password")
	if _, err := os.Stat(idPath); errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 22)
		if _, err := rand.Read(b); err != nil {
			return "", "", err
		}
		h := strings.ToUpper(hex.EncodeToString(b))
		if _, err := writeSecret(dir, "id", h[:32]); err != nil {
			return "", "", err
		}
		if _, err := writeSecret(dir, "password", h[32:44]); err != nil {
			return "", "", err
		}
	}
	if id, err = readSecretAs("id", idPath); err != nil {
		return "", "", err
	}
	if pw, err = readSecretAs("password", pwPath); err != nil {
		return "", "", err
	}
	return id, pw, nil
}

// startWisunEmulator starts an emulated module with home behind it.
func startWisunEmulator(cfg wisunemul.Config, home *echoemul.Home) (*wisunemul.Module, error) {
	cfg.Network = wisunemul.EchonetHome(home)
	return wisunemul.New(cfg)
}

// cmdEmulateWisun runs an emulated Wi-SUN module (SKSTACK-IP) on a
// pseudo-terminal with virtual ECHONET Lite devices behind it.
func cmdEmulateWisun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("emulate wisun")
	link := fs.String("link", "", "symlink to point at the pty (required)")
	dialect := fs.String("dialect", "bp35a1", "bp35a1, bp35c0 or rl7023")
	creds := fs.String("credentials", "tmp/wisun", "directory with the id and password files the PAN accepts (made if missing)")
	all := fs.Bool("appliances", false, "host the air conditioner, water heater and battery too (default: meter, gas, water)")
	scale := fs.Float64("time-scale", 0.05, "multiplies the module's realistic scan/join/reply delays")
	seed := fs.Uint64("seed", 1, "device behaviour seed")
	level := fs.String("log-level", "info", "debug, info, warn, error")
	garbage := fs.Bool("garbage", false, "fault: junk lines between replies")
	slow := fs.Duration("slow", 0, "fault: delay every reply by this much")
	drop := fs.Bool("drop-replies", false, "fault: the devices' replies (ERXUDP) never arrive")
	getSNA := fs.String("get-sna", "", "fault: comma-separated node indexes that answer every Get with Get_SNA")
	resetEvery := fs.Duration("reset-every", 0, "fault: the module resets (forgets its session) periodically")
	ev24Every := fs.Duration("event24-every", 0, "fault: PANA fails (EVENT 24) periodically")
	ev28Every := fs.Duration("event28-every", 0, "fault: the session times out (EVENT 28) periodically")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *link == "" {
		return usageErr("emulate wisun: --link is required")
	}
	for _, d := range []time.Duration{*slow, *resetEvery, *ev24Every, *ev28Every} {
		if d < 0 {
			return usageErr("emulate wisun: fault durations must not be negative")
		}
	}
	switch *dialect {
	case "bp35a1", "bp35c0", "rl7023":
	default:
		return usageErr("emulate wisun: --dialect must be bp35a1, bp35c0 or rl7023, not %q", *dialect)
	}
	if *scale <= 0 || *scale > 10 {
		return usageErr("emulate wisun: --time-scale must be in (0, 10]")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageErr("emulate wisun: --log-level: %v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	id, pw, err := ensureWisunCredentials(*creds)
	if err != nil {
		return fmt.Errorf("emulate wisun: credentials: %w", err)
	}
	clock := energy.SystemClock{}
	faults := map[int]echoemul.Faults{}
	if *getSNA != "" {
		for _, f := range strings.Split(*getSNA, ",") {
			i, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || i < 0 || i >= len(wisunHomeNodes(*all)) {
				return usageErr("emulate wisun: --get-sna: %q is not a node index", f)
			}
			faults[i] = echoemul.Faults{GetSNA: true}
		}
	}
	home, err := echoemul.NewHome(clock, echoemul.Options{Nodes: wisunHomeNodes(*all), Seed: *seed, Faults: faults})
	if err != nil {
		return err
	}
	m, err := startWisunEmulator(wisunemul.Config{Link: *link, Dialect: wisunemul.Dialect(*dialect), ID: id, Password: pw,
		Clock: clock, Log: log, TimeScale: *scale, Seed: *seed}, home)
	if err != nil {
		return usageErr("emulate wisun: %v", err)
	}
	f := m.Faults()
	f.SetGarbageLines(*garbage)
	f.SetSlowReplies(*slow)
	f.SetDropReplies(*drop)
	for _, p := range []struct {
		every time.Duration
		fire  func()
	}{{*resetEvery, f.ResetModule}, {*ev24Every, f.Event24}, {*ev28Every, f.Event28}} {
		if p.every > 0 {
			go every(ctx, p.every, p.fire)
		}
	}
	abs, _ := filepath.Abs(*creds)
	fmt.Fprintf(stdout, "wisun %s on %s credentials=%s nodes=%d\n", *dialect, *link, abs, len(home.Nodes()))
	if err := m.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// echonetHomeNodes are the appliances served on IP by the demo and
// `emulate echonet`: an air conditioner, a water heater and a battery.
func echonetHomeNodes(all bool) [][]echonet.Class {
	if all {
		return echoemul.DefaultNodes()
	}
	return [][]echonet.Class{{echonet.ClassAirConditioner}, {echonet.ClassElectricWaterHtr}, {echonet.ClassStorageBattery}}
}

// cmdEmulateEchonet serves virtual ECHONET Lite appliances on UDP, one
// socket per node, on a loopback host.
func cmdEmulateEchonet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("emulate echonet")
	listen := fs.String("listen", "127.0.0.1", "loopback host the nodes listen on")
	base := fs.Int("base-port", 0, "node i listens on base-port+i (0: any free port)")
	all := fs.Bool("all", false, "serve every device class (meters too), not only the appliances")
	seed := fs.Uint64("seed", 1, "device behaviour seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !loopback.Host(*listen) {
		return usageErr("emulate echonet: --listen must be a loopback host, not %q", *listen)
	}
	if *base < 0 || *base > 65000 {
		return usageErr("emulate echonet: --base-port must be 0 to 65000")
	}
	home, err := echoemul.NewHome(energy.SystemClock{}, echoemul.Options{Nodes: echonetHomeNodes(*all), Seed: *seed})
	if err != nil {
		return err
	}
	srv, err := echonetip.ServeHome(ctx, home, echonetip.ServeOptions{Host: *listen, BasePort: *base,
		Log: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return fmt.Errorf("emulate echonet: %w", err)
	}
	for i, a := range srv.Addrs() {
		fmt.Fprintf(stdout, "echonet node %d %s %v\n", i, a, home.Nodes()[i].Objects())
	}
	<-ctx.Done()
	srv.Wait()
	return nil
}

// every calls f every d until ctx ends.
func every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
