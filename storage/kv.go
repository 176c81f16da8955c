package storage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Bounds of the key/value store. Settings and secrets are small; a value
// near the limit is a bug in the caller, not data to keep.
const (
	MaxKeyLen   = 256     // bytes
	MaxValueLen = 1 << 20 // bytes
)

// ErrKey is returned (wrapped) for an empty, oversized or NUL-bearing key.
var ErrKey = errors.New("invalid key")

func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrKey, len(key), MaxKeyLen)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("%w: contains NUL", ErrKey)
	}
	return nil
}

// Get returns a copy of the value stored under key; ok is false when the
// key is absent.
func (s *Store) Get(key string) (v []byte, ok bool, err error) {
	if err := checkKey(key); err != nil {
		return nil, false, fmt.Errorf("storage: get %q: %w", key, err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktKV)
		if b == nil {
			return nil // read-only open of a database never initialised
		}
		// A cursor rather than b.Get: an empty value must read as present.
		k, val := b.Cursor().Seek([]byte(key))
		if k == nil || !bytes.Equal(k, []byte(key)) {
			return nil
		}
		v, ok = append([]byte{}, val...), true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("storage: get %q: %w", key, err)
	}
	return v, ok, nil
}

// Put stores v under key in its own transaction, durable when Put returns:
// settings and secrets never wait for the series group commit. A nil v is
// stored as an empty value.
func (s *Store) Put(key string, v []byte) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("storage: put %q: %w", key, err)
	}
	if len(v) > MaxValueLen {
		return fmt.Errorf("storage: put %q: value of %d bytes, limit %d", key, len(v), MaxValueLen)
	}
	if v == nil {
		v = []byte{}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktKV).Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("storage: put %q: %w", key, err)
	}
	return nil
}

// Delete removes key in its own durable transaction. A missing key is not
// an error.
func (s *Store) Delete(key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("storage: delete %q: %w", key, err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bktKV).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("storage: delete %q: %w", key, err)
	}
	return nil
}

// Keys returns the keys starting with prefix ("" = all), in byte order.
// Keys under "hap/" belong to [HAPStore].
func (s *Store) Keys(prefix string) ([]string, error) {
	if len(prefix) > MaxKeyLen {
		return nil, fmt.Errorf("storage: keys %q: %w: prefix longer than %d bytes", prefix, ErrKey, MaxKeyLen)
	}
	var keys []string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktKV)
		if b == nil {
			return nil
		}
		p := []byte(prefix)
		c := b.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			keys = append(keys, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: keys %q: %w", prefix, err)
	}
	return keys, nil
}
