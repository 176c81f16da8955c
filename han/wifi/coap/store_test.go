package coap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStorePairListRevoke(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Pair("Dish Washer (kitchen)", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !ValidIdentity(a.Identity) || !strings.HasPrefix(a.Identity, "dish-washer-kitchen-") || len(a.PSK) != 32 {
		t.Fatalf("appliance %+v", a)
	}
	st, err := os.Stat(filepath.Join(dir, "coap", "appliances.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", st, err)
	}
	if !strings.HasPrefix(QR(a), "coaps-psk:"+a.Identity+"?psk=") {
		t.Fatal(QR(a))
	}
	// Concurrent pairings from two store handles (two processes) are all kept.
	s2, _ := OpenStore(dir)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := s
			if i%2 == 1 {
				h = s2
			}
			if _, err := h.Pair("EV", time.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s3, _ := OpenStore(dir)
	if n := len(s3.List()); n != 11 {
		t.Fatalf("%d appliances after concurrent pairing, want 11", n)
	}
	if err := s.Revoke(a.Identity); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(a.Identity); !errors.Is(err, ErrUnknownAppliance) {
		t.Fatalf("second revoke: %v", err)
	}
	removed, err := s3.Reload()
	if err != nil || len(removed) != 1 || removed[0] != a.Identity {
		t.Fatalf("reload: %v %v", removed, err)
	}
	if _, ok := s3.Lookup(a.Identity); ok {
		t.Fatal("revoked key still found")
	}
	if _, err := s.Pair("", time.Now()); err == nil {
		t.Fatal("empty name accepted")
	}
}
