package main

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The binary stays honest on the boards it ships to: no test code, no
// heavyweight packages pulled in by accident.
func TestDepsLinuxARM(t *testing.T) {
	for _, arch := range []string{"arm64", "arm"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", arch, err, out)
		}
		deps := strings.Fields(string(out))
		// The board I/O is in (periph's host drivers), or this test
		// checks a binary that is not the one we ship.
		for _, want := range []string{"github.com/gatewayd-project/gatewayd/board", "periph.io/x/host/v3", "github.com/gatewayd-project/gatewayd/internal/sdnotify"} {
			if !slices.Contains(deps, want) {
				t.Errorf("%s: gatewayd does not depend on %s", arch, want)
			}
		}
		for _, dep := range deps {
			switch {
			case dep == "testing", strings.HasPrefix(dep, "testing/"),
				strings.HasSuffix(dep, "/clocktest"),
				strings.Contains(dep, "github.com/stretchr/"),
				// Test-only packages of the standard library and of our
				// dependencies (periph's gpiotest and its fake clock).
				dep == "testing/iotest", dep == "testing/fstest",
				strings.HasSuffix(dep, "/gpiotest"), strings.HasSuffix(dep, "test") && strings.HasPrefix(dep, "periph.io/"),
				strings.Contains(dep, "github.com/jonboulle/clockwork"),
				dep == "net/http/httptest", dep == "text/template", dep == "reflect/internal/example1":
				t.Errorf("%s: gatewayd depends on %s", arch, dep)
			}
		}
		// net/http/pprof registers profiling handlers on
		// http.DefaultServeMux when imported. hap's router package
		// (go-chi/chi/middleware) imports it; nothing may serve
		// DefaultServeMux (every server of ours has its own handler), and
		// no other package may bring it in.
		cmd = exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, ".")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		if out, err = cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", arch, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) > 1 && slices.Contains(f[1:], "net/http/pprof") && f[0] != "github.com/go-chi/chi/middleware" {
				t.Errorf("%s: %s imports net/http/pprof", arch, f[0])
			}
		}
	}
}

// No server of the gateway serves http.DefaultServeMux (where imported
// packages such as net/http/pprof register handlers): every http.Server
// and Serve call in the source names its own handler.
func TestNoDefaultServeMux(t *testing.T) {
	out, err := exec.Command("git", "-C", "../..", "grep", "-nE", `DefaultServeMux|ListenAndServe\([^)]*, *nil\)|http\.Serve\([^,]*, *nil\)|Handler: *nil`, "--", "*.go", ":!*_test.go").CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		t.Fatalf("code that may serve http.DefaultServeMux:\n%s", out)
	case !errors.As(err, &ee) || ee.ExitCode() != 1: // 1: no match
		t.Fatalf("git grep: %v\n%s", err, out)
	}
}
