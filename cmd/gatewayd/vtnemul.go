package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/openadr"
	vtnemul "github.com/gatewayd-project/gatewayd/dr/openadr/emul"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/internal/atomicfile"
	"github.com/gatewayd-project/gatewayd/internal/loopback"
)

// runningVTN is an emulated VTN serving HTTPS on loopback.
type runningVTN struct {
	VTN    *vtnemul.VTN
	URL    string
	CAFile string
	srv    *http.Server
	ln     net.Listener
	loc    *time.Location
	clk    energy.Clock
}

// startVTN serves an emulated VTN on listen (a loopback address) over
// HTTPS with a certificate kept in certDir, loaded with today's demo
// scenario.
func startVTN(cfg vtnemul.Config, listen, certDir string, log *slog.Logger) (*runningVTN, error) {
	if !loopback.HostPort(listen) {
		return nil, fmt.Errorf("vtn: --listen must be a loopback host:port, not %q", listen)
	}
	certFile, keyFile, err := vtnemul.SelfSigned(certDir)
	if err != nil {
		return nil, fmt.Errorf("vtn: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = energy.SystemClock{}
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	v := vtnemul.New(cfg, log)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("vtn: %w", err)
	}
	r := &runningVTN{VTN: v, URL: "https://" + ln.Addr().String(), CAFile: certFile, ln: ln, loc: cfg.Location, clk: cfg.Clock,
		srv: &http.Server{Handler: v.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}}
	now := cfg.Clock.Now()
	v.Scenario(now)
	v.Scenario(now.AddDate(0, 0, 1))
	go func() {
		if err := r.srv.ServeTLS(ln, certFile, keyFile); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("vtn: serve", "err", err)
		}
	}()
	return r, nil
}

// run keeps the scenario going: each local day gets its events a day
// ahead, like a day-ahead market (loaded once per day: re-putting them
// would change their modification time and make every VEN re-read them).
// It closes the server when ctx ends.
func (r *runningVTN) run(ctx context.Context) error {
	defer r.srv.Close()
	loaded := r.clk.Now().AddDate(0, 0, 1).In(r.loc).Format(time.DateOnly)
	for {
		t := r.clk.NewTimer(time.Hour)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
			next := r.clk.Now().AddDate(0, 0, 1)
			if day := next.In(r.loc).Format(time.DateOnly); day != loaded {
				r.VTN.Scenario(next)
				loaded = day
			}
		}
	}
}

// newSecret returns 32 random bytes in hex.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeSecret writes a secret file (0600) and returns its path.
func writeSecret(dir, name, secret string) (string, error) {
	p := filepath.Join(dir, name)
	return p, atomicfile.WriteFile(p, []byte(secret+"\n"), 0o600)
}

// cmdEmulateVTN runs an emulated OpenADR 3 VTN with the demo scenario.
func cmdEmulateVTN(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("emulate vtn")
	listen := fs.String("listen", "127.0.0.1:0", "loopback host:port to serve HTTPS on")
	version := fs.String("version", "3.0.1", "OpenADR version: 3.0.1 or 3.1")
	dir := fs.String("dir", "tmp/vtn", "directory for the certificate (vtn-cert.pem) and generated secrets")
	clientID := fs.String("client-id", "gatewayd", "VEN client id")
	secretFile := fs.String("client-secret-file", "", "file with the VEN client secret (default: generate one into --dir)")
	blID := fs.String("bl-client-id", "bl", "business-logic client id (may create and delete events over HTTP)")
	blSecretFile := fs.String("bl-client-secret-file", "", "file with the BL secret (default: generate one into --dir)")
	venName := fs.String("ven-name", "gatewayd", "VEN the peak event is targeted at")
	level := fs.String("log-level", "info", "debug, info, warn, error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v := openadr.Version(*version)
	if v != openadr.V301 && v != openadr.V31 {
		return usageErr("emulate vtn: --version must be 3.0.1 or 3.1, not %q", *version)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageErr("emulate vtn: --log-level: %v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("emulate vtn: %w", err)
	}
	secret := func(file, name string) (string, string, error) {
		if file != "" {
			s, err := readSecret(file)
			return s, file, err
		}
		s, err := newSecret()
		if err != nil {
			return "", "", err
		}
		p, err := writeSecret(*dir, name, s)
		return s, p, err
	}
	venSecret, venPath, err := secret(*secretFile, "ven.secret")
	if err != nil {
		return fmt.Errorf("emulate vtn: %w", err)
	}
	blSecret, blPath, err := secret(*blSecretFile, "bl.secret")
	if err != nil {
		return fmt.Errorf("emulate vtn: %w", err)
	}
	r, err := startVTN(vtnemul.Config{Version: v, ClientID: *clientID, ClientSecret: venSecret,
		BLClientID: *blID, BLClientSecret: blSecret, VENName: *venName}, *listen, *dir, log)
	if err != nil {
		return usageErr("emulate %v", err)
	}
	fmt.Fprintf(stdout, "vtn %s version=%s ca=%s client_id=%s client_secret_file=%s bl_client_id=%s bl_client_secret_file=%s\n",
		r.URL, v, r.CAFile, *clientID, venPath, *blID, blPath)
	log.Info("emulated VTN running", "url", r.URL, "version", v)
	if err := r.run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
