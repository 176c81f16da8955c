package storage

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// openKV opens a store on o, a fresh file when o.Path is empty.
func openKV(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "g.db")
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKVRoundTrip(t *testing.T) {
	s := openKV(t, Options{})
	if v, ok, err := s.Get("missing"); err != nil || ok || v != nil {
		t.Fatalf("missing: %q %v %v", v, ok, err)
	}
	for _, kv := range []struct{ k, v string }{
		{"web/session_key", "secret"}, {"a", "1"}, {"web/admin", "x"}, {"empty", ""}, {"a", "2"},
	} {
		if err := s.Put(kv.k, []byte(kv.v)); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, err := s.Get("a"); err != nil || !ok || string(v) != "2" {
		t.Fatalf("a: %q %v %v", v, ok, err)
	}
	if v, ok, err := s.Get("empty"); err != nil || !ok || len(v) != 0 {
		t.Fatalf("empty value: %q %v %v", v, ok, err)
	}
	if err := s.Put("nil", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get("nil"); !ok {
		t.Fatal("nil value not stored")
	}
	// The returned slice is a copy, valid after the transaction.
	v, _, _ := s.Get("web/session_key")
	s.Put("web/session_key", []byte("SECRET"))
	if string(v) != "secret" {
		t.Fatalf("aliased value %q", v)
	}

	keys, err := s.Keys("web/")
	if err != nil || !reflect.DeepEqual(keys, []string{"web/admin", "web/session_key"}) {
		t.Fatalf("keys web/: %q %v", keys, err)
	}
	keys, _ = s.Keys("")
	if !reflect.DeepEqual(keys, []string{"a", "empty", "nil", "web/admin", "web/session_key"}) {
		t.Fatalf("keys: %q", keys)
	}
	if keys, _ := s.Keys("zzz"); len(keys) != 0 {
		t.Fatalf("keys zzz: %q", keys)
	}

	if err := s.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("a"); err != nil {
		t.Fatalf("delete of a missing key: %v", err)
	}
	if _, ok, _ := s.Get("a"); ok {
		t.Fatal("a still there")
	}
}

func TestKVBounds(t *testing.T) {
	s := openKV(t, Options{})
	long := strings.Repeat("k", MaxKeyLen)
	if err := s.Put(long, []byte("v")); err != nil {
		t.Fatalf("key of %d bytes: %v", len(long), err)
	}
	for _, k := range []string{"", long + "k", "a\x00b"} {
		if err := s.Put(k, []byte("v")); !errors.Is(err, ErrKey) {
			t.Errorf("put %q: %v", k, err)
		}
		if _, _, err := s.Get(k); !errors.Is(err, ErrKey) {
			t.Errorf("get %q: %v", k, err)
		}
		if err := s.Delete(k); !errors.Is(err, ErrKey) {
			t.Errorf("delete %q: %v", k, err)
		}
	}
	if _, err := s.Keys(long + "k"); !errors.Is(err, ErrKey) {
		t.Errorf("keys with a long prefix: %v", err)
	}
	if err := s.Put("big", make([]byte, MaxValueLen)); err != nil {
		t.Fatalf("value at the limit: %v", err)
	}
	if err := s.Put("big", make([]byte, MaxValueLen+1)); err == nil || !strings.Contains(err.Error(), `storage: put "big"`) {
		t.Fatalf("value over the limit: %v", err)
	}
}

func TestKVDurable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(Options{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)
	if err := s.Put("secret/k", want); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openKV(t, Options{Path: p, ReadOnly: true})
	v, ok, err := s.Get("secret/k")
	if err != nil || !ok || !bytes.Equal(v, want) {
		t.Fatalf("after reopen: %v %v", ok, err)
	}
	if err := s.Put("x", nil); err == nil {
		t.Fatal("put on a read-only store succeeded")
	}
}
