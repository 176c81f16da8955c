package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// cmdUser adds a user or sets a password; the password is the first line
// of stdin, so it never shows in the process list or shell history.
// The running daemon picks the change up at once (it rereads users.json).
func cmdUser(sub string, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("user " + sub)
	state := fs.String("state", "", "state directory")
	name := fs.String("name", "", "user name")
	role := fs.String("role", web.RoleAdmin, "admin or viewer (user add)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *state == "" || *name == "" {
		return usageErr("user %s: --state and --name are required", sub)
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("user %s: read password: %w", sub, err)
	}
	pw := strings.TrimRight(line, "\r\n")
	users, err := web.OpenUsers(*state, web.KDF{})
	if err != nil {
		return err
	}
	if sub == "add" {
		err = users.Add(*name, pw, *role, false)
	} else {
		err = users.SetPassword(*name, nil, pw)
	}
	switch {
	case errors.Is(err, web.ErrPassword):
		return &exitError{code: 2, err: fmt.Errorf("user %s: the password (first line of stdin) must be %d to %d characters and differ from the name", sub, web.MinPassword, web.MaxPassword)}
	case errors.Is(err, web.ErrUserName), errors.Is(err, web.ErrRole), errors.Is(err, web.ErrUserExists), errors.Is(err, web.ErrNoUser):
		return &exitError{code: 2, err: err}
	case err != nil:
		return err
	}
	if sub == "add" {
		fmt.Fprintf(stdout, "user %q (%s) added\n", *name, *role)
	} else {
		fmt.Fprintf(stdout, "password of %q changed\n", *name)
	}
	return nil
}
