package main

import (
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
				dep == "testing/iotest", dep == "testing/fstest", dep == "net/http/pprof",
				strings.HasSuffix(dep, "/gpiotest"), strings.HasSuffix(dep, "test") && strings.HasPrefix(dep, "periph.io/"),
				strings.Contains(dep, "github.com/jonboulle/clockwork"),
				dep == "net/http/httptest", dep == "text/template", dep == "reflect/internal/example1":
				t.Errorf("%s: gatewayd depends on %s", arch, dep)
			}
		}
	}
}
