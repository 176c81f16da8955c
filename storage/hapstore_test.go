package storage

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/brutella/hap"
	"github.com/brutella/hap/accessory"
)

var _ hap.Store = (*HAPStore)(nil)

func TestHAPStoreRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(Options{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	h := s.HAPStore()
	if _, err := h.Get("keypair"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing key: %v, want fs.ErrNotExist like hap's fsStore", err)
	}
	for k, v := range map[string]string{"keypair": "kp", "a.pairing": "A", "b.pairing": "B", "uuid": "u"} {
		if err := h.Set(k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	// The namespace keeps hap's keys apart from ours.
	if err := s.Put("uuid", []byte("other")); err != nil {
		t.Fatal(err)
	}
	if v, err := h.Get("uuid"); err != nil || string(v) != "u" {
		t.Fatalf("uuid: %q %v", v, err)
	}
	if ks, err := h.KeysWithSuffix(".pairing"); err != nil || !reflect.DeepEqual(ks, []string{"a.pairing", "b.pairing"}) {
		t.Fatalf("pairings: %q %v", ks, err)
	}
	if err := h.Delete("a.pairing"); err != nil {
		t.Fatal(err)
	}
	if err := h.Delete("a.pairing"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if err := h.Set("", nil); !errors.Is(err, ErrKey) {
		t.Fatalf("empty key: %v", err)
	}
	s.Close()

	s = openKV(t, Options{Path: p})
	h = s.HAPStore()
	if ks, _ := h.KeysWithSuffix(".pairing"); !reflect.DeepEqual(ks, []string{"b.pairing"}) {
		t.Fatalf("pairings after reopen: %q", ks)
	}
	if v, err := h.Get("keypair"); err != nil || string(v) != "kp" {
		t.Fatalf("keypair after reopen: %q %v", v, err)
	}
	if ks, _ := h.KeysWithSuffix(""); !reflect.DeepEqual(ks, []string{"b.pairing", "keypair", "uuid"}) {
		t.Fatalf("all hap keys: %q", ks)
	}
}

// TestHAPServer drives hap's own code paths (migration, uuid, version,
// config hash, pairings) over the store, across a reopen.
func TestHAPServer(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(Options{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	bridge := func() *accessory.A {
		return accessory.NewBridge(accessory.Info{Name: "gatewayd", Manufacturer: "test"}).A
	}
	srv, err := hap.NewServer(s.HAPStore(), bridge())
	if err != nil {
		t.Fatal(err)
	}
	if srv.IsPaired() {
		t.Fatal("paired before any pairing")
	}
	uuid, err := s.HAPStore().Get("uuid")
	if err != nil || len(uuid) == 0 {
		t.Fatalf("hap did not store its uuid: %v", err)
	}
	// A pairing as hap's storer writes it: hex(name)+".pairing", JSON.
	pr := hap.Pairing{Name: "controller-1", PublicKey: make([]byte, 32), Permission: hap.PermissionAdmin}
	b, _ := json.Marshal(pr)
	if err := s.HAPStore().Set(hex.EncodeToString([]byte(pr.Name))+".pairing", b); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openKV(t, Options{Path: p})
	srv, err = hap.NewServer(s.HAPStore(), bridge())
	if err != nil {
		t.Fatal(err)
	}
	if !srv.IsPaired() {
		t.Fatal("pairing lost across reopen")
	}
	if again, _ := s.HAPStore().Get("uuid"); string(again) != string(uuid) {
		t.Fatalf("uuid changed across reopen: %q -> %q", uuid, again)
	}
}
