package main

import (
	"os"
	"os/exec"
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
		for _, dep := range strings.Fields(string(out)) {
			switch {
			case dep == "testing", strings.HasPrefix(dep, "testing/"),
				strings.HasSuffix(dep, "/clocktest"),
				strings.Contains(dep, "github.com/stretchr/"),
				dep == "net/http/httptest", dep == "text/template", dep == "reflect/internal/example1":
				t.Errorf("%s: gatewayd depends on %s", arch, dep)
			}
		}
	}
}
