package ble

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/atomicfile"
)

// Adopted is one device the household adopted (adopted.json).
type Adopted struct {
	Addr    Addr      `json:"addr"`
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	Adopted time.Time `json:"adopted"`
}

// State-dir layout under Options.Dir.
const (
	adoptedFile  = "adopted.json"
	countersFile = "counters.json"
	keysDir      = "keys"
)

// maxStateFile bounds what is read back from the state dir.
const maxStateFile = 1 << 20

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, maxStateFile+1)
	n, err := f.Read(b)
	if err != nil && n == 0 {
		return nil, err
	}
	if n > maxStateFile {
		return nil, fmt.Errorf("%s: over %d bytes", path, maxStateFile)
	}
	return b[:n], nil
}

// LoadAdopted reads dir/adopted.json; a missing file is an empty list.
func LoadAdopted(dir string) ([]Adopted, error) {
	b, err := readSmall(filepath.Join(dir, adoptedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ble: adopted devices: %w", err)
	}
	var out []Adopted
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("ble: adopted devices %s: %w", filepath.Join(dir, adoptedFile), err)
	}
	for i, a := range out {
		if out[i].Addr, err = ParseAddr(string(a.Addr)); err != nil {
			return nil, fmt.Errorf("ble: adopted devices: %w", err)
		}
	}
	return out, nil
}

// SaveAdopted writes dir/adopted.json atomically.
func SaveAdopted(dir string, list []Adopted) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ble: state dir: %w", err)
	}
	if list == nil {
		list = []Adopted{}
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, adoptedFile), append(b, '\n'), 0o600)
}

func keyName(a Addr) string { return strings.ReplaceAll(string(a), ":", "") }

// KeyPath is where a device's BTHome key lives: dir/keys/AABBCCDDEEFF
// (32 hex digits, mode 0600).
func KeyPath(dir string, a Addr) string { return filepath.Join(dir, keysDir, keyName(a)) }

// ParseKey checks a 16-byte key in hex.
func ParseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != 16 {
		return nil, errors.New("ble: key must be 32 hex digits (16 bytes)")
	}
	return k, nil
}

// SaveKey writes a device's key atomically (0600).
func SaveKey(dir string, a Addr, key []byte) error {
	if err := os.MkdirAll(filepath.Join(dir, keysDir), 0o700); err != nil {
		return fmt.Errorf("ble: keys dir: %w", err)
	}
	return atomicfile.WriteFile(KeyPath(dir, a), []byte(hex.EncodeToString(key)+"\n"), 0o600)
}

// LoadKey reads a device's key; nil without error when it has none.
func LoadKey(dir string, a Addr) ([]byte, error) {
	b, err := readSmall(KeyPath(dir, a))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ble: key of %s: %w", a, err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("ble: key of %s in %s: %w", a, KeyPath(dir, a), err)
	}
	return k, nil
}

func loadCounters(dir string) (map[Addr]uint32, error) {
	b, err := readSmall(filepath.Join(dir, countersFile))
	if errors.Is(err, os.ErrNotExist) {
		return map[Addr]uint32{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ble: counters: %w", err)
	}
	out := map[Addr]uint32{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("ble: counters: %w", err)
	}
	return out, nil
}

func saveCounters(dir string, c map[Addr]uint32) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, countersFile), b, 0o600)
}
