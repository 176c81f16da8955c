package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/han/wifi/homekit"
)

func TestHomeKitCodeCommand(t *testing.T) {
	dir := t.TempDir()
	var out1, out2 bytes.Buffer
	if err := run(context.Background(), []string{"homekit", "code", "--state", dir}, &out1, &out1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"homekit", "code", "--state", dir}, &out2, &out2, time.Now()); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^code=(\d{3})-(\d{2})-(\d{3})\nsetup_uri=(X-HM://[0-9A-Z]{13})\n$`).FindStringSubmatch(out1.String())
	if m == nil {
		t.Fatalf("output %q", out1.String())
	}
	if out1.String() != out2.String() {
		t.Fatalf("the code changed between runs: %q then %q", out1.String(), out2.String())
	}
	s, err := homekit.ParseSetupURI(m[4])
	if err != nil || s.Pin != m[1]+m[2]+m[3] {
		t.Fatalf("setup uri %s does not carry the code: %+v %v", m[4], s, err)
	}
	if m[1]+m[2]+m[3] == "00102003" {
		t.Fatal("hap's default code")
	}
	if err := run(context.Background(), []string{"homekit"}, &out1, &out1, time.Now()); err == nil {
		t.Fatal("homekit without code accepted")
	}
}
