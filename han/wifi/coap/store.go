package coap

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/atomicfile"
)

// Appliance is one paired appliance: its DTLS PSK identity, which is also
// its endpoint name (ep) in /rd and /dev/{ep}/..., and its key.
type Appliance struct {
	// Identity is the PSK identity and the endpoint name.
	Identity string `json:"identity"`
	// Name is the household's name for it ("Dishwasher").
	Name string `json:"name"`
	// PSK is the pre-shared key: 32 lowercase hex characters (128 random
	// bits), and the key bytes are that text itself, so tools that take
	// the key as text (libcoap's coap-client -k) work as they are. It is
	// never logged and never listed: only Pair returns it, once.
	PSK     []byte    `json:"psk"`
	Created time.Time `json:"created"`
}

// Public is an appliance without its key, for lists and logs.
type Public struct {
	Identity string    `json:"identity"`
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
}

// MaxAppliances bounds the pairing file.
const MaxAppliances = 256

// ErrUnknownAppliance is returned for an identity that is not paired.
var ErrUnknownAppliance = errors.New("coap: unknown appliance")

var identityRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,47}$`)

// Store is the pairing file <state>/coap/appliances.json (mode 0600,
// written atomically). Writers from several processes (the daemon's web
// API, `gatewayd appliance pair|revoke`) serialise on an flock of
// <state>/coap/appliances.lock and re-read the file under it, so a CLI
// pairing while the daemon runs is never lost; the daemon notices changes
// made by other processes through Reload (it polls the file's mtime).
type Store struct {
	dir string

	mu      sync.Mutex
	apps    map[string]Appliance
	modTime time.Time
	size    int64
}

// OpenStore opens (creating the directory) the pairing store under stateDir.
func OpenStore(stateDir string) (*Store, error) {
	dir := filepath.Join(stateDir, "coap")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("coap: pairing store: %w", err)
	}
	s := &Store{dir: dir, apps: map[string]Appliance{}}
	if _, err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) path() string { return filepath.Join(s.dir, "appliances.json") }

// Reload re-reads the file if it changed since the last read and returns
// the identities that disappeared (revoked by another process).
func (s *Store) Reload() (removed []string, err error) {
	st, err := os.Stat(s.path())
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(err, os.ErrNotExist) {
		for id := range s.apps {
			removed = append(removed, id)
		}
		s.apps, s.modTime, s.size = map[string]Appliance{}, time.Time{}, 0
		return removed, nil
	}
	if err != nil {
		return nil, fmt.Errorf("coap: pairing store: %w", err)
	}
	if st.ModTime().Equal(s.modTime) && st.Size() == s.size {
		return nil, nil
	}
	apps, err := s.readLocked()
	if err != nil {
		return nil, err
	}
	for id := range s.apps {
		if _, ok := apps[id]; !ok {
			removed = append(removed, id)
		}
	}
	s.apps, s.modTime, s.size = apps, st.ModTime(), st.Size()
	slices.Sort(removed)
	return removed, nil
}

func (s *Store) readLocked() (map[string]Appliance, error) {
	b, err := os.ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Appliance{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("coap: pairing store: %w", err)
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("coap: pairing store %s: too large", s.path())
	}
	var list []Appliance
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("coap: pairing store %s: %w", s.path(), err)
	}
	apps := make(map[string]Appliance, len(list))
	for _, a := range list {
		apps[a.Identity] = a
	}
	return apps, nil
}

// update runs f on the current file content under the cross-process lock
// and writes the result atomically.
func (s *Store) update(f func(map[string]Appliance) error) error {
	lf, err := os.OpenFile(filepath.Join(s.dir, "appliances.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("coap: pairing lock: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("coap: pairing lock: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file unlocks too
	s.mu.Lock()
	defer s.mu.Unlock()
	apps, err := s.readLocked()
	if err != nil {
		return err
	}
	if err := f(apps); err != nil {
		return err
	}
	list := make([]Appliance, 0, len(apps))
	for _, a := range apps {
		list = append(list, a)
	}
	slices.SortFunc(list, func(a, b Appliance) int { return strings.Compare(a.Identity, b.Identity) })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(s.path(), b, 0o600); err != nil {
		return fmt.Errorf("coap: pairing store: %w", err)
	}
	s.apps = apps
	if st, err := os.Stat(s.path()); err == nil {
		s.modTime, s.size = st.ModTime(), st.Size()
	}
	return nil
}

// Pair creates an appliance with a fresh identity (derived from name plus
// a random suffix) and a random 128-bit PSK.
func (s *Store) Pair(name string, now time.Time) (Appliance, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 {
		return Appliance{}, errors.New("coap: pair: name must be 1-64 characters")
	}
	var rnd [18]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return Appliance{}, fmt.Errorf("coap: pair: %w", err)
	}
	a := Appliance{Identity: slug(name) + "-" + hex.EncodeToString(rnd[:2]), Name: name,
		PSK: []byte(hex.EncodeToString(rnd[2:])), Created: now.UTC()}
	err := s.update(func(apps map[string]Appliance) error {
		if len(apps) >= MaxAppliances {
			return fmt.Errorf("coap: pair %q: %d appliances already paired", name, MaxAppliances)
		}
		if _, dup := apps[a.Identity]; dup {
			return fmt.Errorf("coap: pair %q: identity clash, try again", name)
		}
		apps[a.Identity] = a
		return nil
	})
	if err != nil {
		return Appliance{}, err
	}
	return a, nil
}

// Revoke removes an appliance. The caller closes its sessions.
func (s *Store) Revoke(identity string) error {
	return s.update(func(apps map[string]Appliance) error {
		if _, ok := apps[identity]; !ok {
			return fmt.Errorf("%w: %s", ErrUnknownAppliance, identity)
		}
		delete(apps, identity)
		return nil
	})
}

// Lookup returns the appliance with that identity.
func (s *Store) Lookup(identity string) (Appliance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[identity]
	return a, ok
}

// List returns every appliance without keys, sorted by identity.
func (s *Store) List() []Public {
	s.mu.Lock()
	out := make([]Public, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, Public{Identity: a.Identity, Name: a.Name, Created: a.Created})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Public) int { return strings.Compare(a.Identity, b.Identity) })
	return out
}

// ValidIdentity reports whether s has the shape of an identity.
func ValidIdentity(s string) bool { return identityRE.MatchString(s) }

func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 24 {
			break
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		out = "appliance"
	}
	return out
}

// QR is the text of the pairing QR code: the gateway's coaps address
// hint, identity and key (hex), in a URI an installer app can read.
func QR(a Appliance) string {
	return "coaps-psk:" + a.Identity + "?psk=" + string(a.PSK)
}
