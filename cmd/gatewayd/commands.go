package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/web"
)

const defaultConfigPath = "/etc/gatewayd/gatewayd.yaml"

func loadConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return cfg, &exitError{code: 2, err: err}
	}
	return cfg, nil
}

func cmdConfigCheck(args []string, stdout io.Writer) error {
	fs := newFlags("config check")
	path := fs.String("config", defaultConfigPath, "config file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := loadConfig(*path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", *path)
	return nil
}

func cmdTokenCreate(args []string, stdout io.Writer) error {
	fs := newFlags("token create")
	state := fs.String("state", "", "state directory")
	name := fs.String("name", "", "token name")
	scope := fs.String("scope", web.ScopeRead, "read or control")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *state == "" || *name == "" {
		return usageErr("token create: --state and --name are required")
	}
	tokens, err := web.OpenTokens(*state)
	if err != nil {
		return err
	}
	tok, err := tokens.Create(*name, *scope)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	fmt.Fprintf(stdout, "API token %q (scope %s) created; it is shown only once:\n%s\n", *name, *scope, tok)
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, started time.Time) error {
	fs := newFlags("run")
	path := fs.String("config", defaultConfigPath, "config file")
	state := fs.String("state", "", "state directory (overrides state_dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if *state != "" {
		abs, err := filepath.Abs(*state)
		if err != nil {
			return usageErr("run: --state: %v", err)
		}
		cfg.StateDir = abs
	}
	if err := cfg.Validate(); err != nil {
		return &exitError{code: 2, err: err}
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	g, err := newGateway(cfg, log, started, gatewayOptions{})
	if err != nil {
		return err
	}
	if err := g.noteConfig(*path); err != nil {
		log.Warn("config change not recorded", "err", err)
	}
	if err := g.Listen(); err != nil {
		return err
	}
	log.Info("gatewayd started", "version", version, "url", g.URL(), "meter_port", cfg.Metering.Port, "protocol", cfg.Metering.Protocol)
	if u := g.SetupURL(); u != "" {
		// No user yet: the household sets its own admin password through
		// this one-time link (there is no default password).
		log.Warn("no user yet: open the one-time setup link to choose the admin password", "url", u)
		fmt.Fprintf(stdout, "gatewayd: first start: open %s to choose the admin password (the link works once)\n", u)
	}
	err = g.Run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
