// Command gatewayd is the smart-meter gateway daemon: the upgradable
// management core beside a household's legal metrology core.
//
//	gatewayd [run] --config FILE [--state DIR]   the daemon (default)
//	gatewayd demo [--listen ADDR] [--state DIR]   the gateway on a simulated home
//	gatewayd config check --config FILE           validate a config file
//	gatewayd config example                       print a commented config
//	gatewayd token create --state DIR --name NAME print a new API token
//	gatewayd user add|passwd --state DIR --name N a user (password on stdin)
//	gatewayd emulate meter --link PATH ...        a virtual meter on a pty
//	gatewayd version
//
// Exit codes: 0 success (also after SIGINT/SIGTERM), 1 runtime failure,
// 2 bad usage or bad configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries an exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

const usage = `usage:
  gatewayd [run] [--config FILE] [--state DIR]
  gatewayd demo [--listen ADDR] [--state DIR] [--protocol dlt645|iec62056-21] [--baud N]
  gatewayd config check [--config FILE]
  gatewayd config example
  gatewayd token create --state DIR --name NAME [--scope read|control]
  gatewayd user add --state DIR --name NAME [--role admin|viewer]   (password on stdin)
  gatewayd user passwd --state DIR --name NAME                      (password on stdin)
  gatewayd emulate meter --link PATH [--protocol P] [--address A] [--baud B] [flags]
  gatewayd emulate vtn [--listen 127.0.0.1:PORT] [--version 3.0.1|3.1] [--dir DIR] [flags]
  gatewayd emulate wisun --link PATH [--dialect bp35a1|bp35c0|rl7023] [--credentials DIR] [flags]
  gatewayd emulate echonet [--listen 127.0.0.1] [--base-port N] [--all]
  gatewayd emulate appliance --kind evcharger|dishwasher|heatpump --gateway ADDR --identity ID --psk-file F [--plain] [--cbor]
  gatewayd appliance pair --state DIR --name NAME    (prints identity= and psk= lines)
  gatewayd appliance list --state DIR
  gatewayd appliance revoke --state DIR --id ID
  gatewayd export --state DIR [--format csv|json] [--device D] [--quantity Q] [--tier T] [--from T] [--to T]
  gatewayd db check --state DIR
  gatewayd db compact --state DIR            (offline)
  gatewayd db backup FILE --state DIR        (online through the running daemon, else direct)
  gatewayd homekit code --state DIR          (the HomeKit setup code and QR payload; offline)
  gatewayd version
`

func main() {
	started := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, started)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatewayd:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, started time.Time) error {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return cmdRun(ctx, args, stdout, stderr, started)
	case "demo":
		return cmdDemo(ctx, args, stdout, stderr, started)
	case "config":
		switch {
		case len(args) > 0 && args[0] == "check":
			return cmdConfigCheck(args[1:], stdout)
		case len(args) > 0 && args[0] == "example":
			fmt.Fprint(stdout, config.Example())
			return nil
		}
		return usageErr("config: want 'config check' or 'config example'\n%s", usage)
	case "token":
		if len(args) == 0 || args[0] != "create" {
			return usageErr("token: want 'token create'\n%s", usage)
		}
		return cmdTokenCreate(args[1:], stdout)
	case "user":
		if len(args) == 0 || (args[0] != "add" && args[0] != "passwd") {
			return usageErr("user: want 'user add' or 'user passwd'\n%s", usage)
		}
		return cmdUser(args[0], args[1:], os.Stdin, stdout)
	case "emulate":
		switch {
		case len(args) > 0 && args[0] == "meter":
			return cmdEmulateMeter(ctx, args[1:], stdout, stderr)
		case len(args) > 0 && args[0] == "vtn":
			return cmdEmulateVTN(ctx, args[1:], stdout, stderr)
		case len(args) > 0 && args[0] == "wisun":
			return cmdEmulateWisun(ctx, args[1:], stdout, stderr)
		case len(args) > 0 && args[0] == "echonet":
			return cmdEmulateEchonet(ctx, args[1:], stdout, stderr)
		case len(args) > 0 && args[0] == "appliance":
			return cmdEmulateAppliance(ctx, args[1:], stdout, stderr)
		}
		return usageErr("emulate: want 'emulate meter', 'emulate vtn', 'emulate wisun', 'emulate echonet' or 'emulate appliance'\n%s", usage)
	case "homekit":
		if len(args) == 0 || args[0] != "code" {
			return usageErr("homekit: want 'homekit code'\n%s", usage)
		}
		return cmdHomeKitCode(args[1:], stdout)
	case "appliance":
		return cmdAppliance(args, stdout)
	case "db":
		return cmdDB(args, stdout)
	case "export":
		return cmdExport(args, stdout)
	case "version":
		fmt.Fprintln(stdout, "gatewayd", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageErr("unknown command %q\n%s", cmd, usage)
}
