//go:build linux

package hci

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gatewayd-project/gatewayd/han/ble"
)

func TestPresent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "bluetooth")
	if err := os.MkdirAll(filepath.Join(root, "hci0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := present(root, "hci0"); err != nil {
		t.Errorf("hci0 listed: %v", err)
	}
	if err := present(root, "hci15"); !errors.Is(err, ble.ErrNoAdapter) {
		t.Errorf("hci15 not listed: %v, want ErrNoAdapter", err)
	}
}

// An adapter the kernel does not have is ErrNoAdapter, before go-ble opens
// any socket (the highest index this machine lacks).
func TestOpenMissingAdapter(t *testing.T) {
	missing := ""
	for i := 15; i >= 0 && missing == ""; i-- {
		name := "hci" + strconv.Itoa(i)
		if _, err := os.Stat(filepath.Join(sysBluetooth, name)); err != nil {
			missing = name
		}
	}
	if missing == "" {
		t.Fatal("this machine has all of hci0..hci15")
	}
	if _, err := Open(missing, false); !errors.Is(err, ble.ErrNoAdapter) {
		t.Fatalf("Open(%s): %v, want ErrNoAdapter", missing, err)
	}
	if _, err := Open("hci99", false); err == nil || errors.Is(err, ble.ErrNoAdapter) {
		t.Fatalf("Open(hci99): %v, want a name error", err)
	}
}
