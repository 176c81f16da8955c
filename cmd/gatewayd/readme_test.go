package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gatewayd-project/gatewayd/config"
)

// The README's config reference is the real default config.
func TestReadmeHasConfigExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), config.Example()) {
		t.Fatal("README.md does not contain config.Example() verbatim; regenerate its config reference")
	}
	for _, cmd := range []string{"make run", "make test", "gatewayd token create --state DIR --name NAME", "GET /api/v1/meter", "GET /api/v1/health"} {
		if !strings.Contains(string(b), cmd) {
			t.Errorf("README.md does not mention %q", cmd)
		}
	}
}
