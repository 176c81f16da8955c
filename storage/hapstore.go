package storage

import (
	"fmt"
	"io/fs"
	"strings"
)

// hapPrefix namespaces HomeKit keys inside the key/value store.
const hapPrefix = "hap/"

// HAPStore adapts the key/value store to brutella/hap's Store interface
// (Set, Get, Delete, KeysWithSuffix) under the key namespace "hap/".
//
// Why we hand hap this store instead of its own file store: hap's fsStore
// writes each key with os.WriteFile (truncate, then write, no fsync), so a
// power cut during pairing can leave a torn keypair or pairing file, and
// hap panics on some store errors. Here every Set is one bbolt
// transaction, durable when it returns: a pairing is either fully written
// or not at all.
//
// Semantics follow hap's fsStore where hap relies on them: Get of a
// missing key returns an error (wrapping [fs.ErrNotExist], as
// os.ReadFile does); hap treats that error as "not stored yet". Delete of
// a missing key returns nil (like hap's memStore; hap only deletes keys it
// has just read). Keys are kept verbatim (fsStore drops ':'), at most
// MaxKeyLen-4 bytes.
//
// This file must not import github.com/brutella/hap, so that HomeKit
// enters the binary only with the HomeKit bridge; the interface is
// asserted in the tests.
type HAPStore struct {
	s *Store
}

// HAPStore returns the hap.Store adapter backed by s.
func (s *Store) HAPStore() *HAPStore { return &HAPStore{s: s} }

func hapKey(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("%w: empty", ErrKey)
	}
	return hapPrefix + key, nil
}

// Set stores value under key atomically and durably.
func (h *HAPStore) Set(key string, value []byte) error {
	k, err := hapKey(key)
	if err != nil {
		return fmt.Errorf("storage: hap set %q: %w", key, err)
	}
	return h.s.Put(k, value)
}

// Get returns the value under key, or an error wrapping fs.ErrNotExist
// if there is none.
func (h *HAPStore) Get(key string) ([]byte, error) {
	k, err := hapKey(key)
	if err != nil {
		return nil, fmt.Errorf("storage: hap get %q: %w", key, err)
	}
	v, ok, err := h.s.Get(k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("storage: hap get %q: %w", key, fs.ErrNotExist)
	}
	return v, nil
}

// Delete removes key; a missing key is not an error.
func (h *HAPStore) Delete(key string) error {
	k, err := hapKey(key)
	if err != nil {
		return fmt.Errorf("storage: hap delete %q: %w", key, err)
	}
	return h.s.Delete(k)
}

// KeysWithSuffix returns the hap keys (without the namespace) ending in
// suffix, sorted.
func (h *HAPStore) KeysWithSuffix(suffix string) ([]string, error) {
	all, err := h.s.Keys(hapPrefix)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, k := range all {
		k = strings.TrimPrefix(k, hapPrefix)
		if strings.HasSuffix(k, suffix) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}
