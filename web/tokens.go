package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// TokenPrefix starts every API token, so leaked tokens are easy to grep for.
const TokenPrefix = "gwd_"

// TokensFile is the name of the token store inside the state directory.
const TokensFile = "tokens.json"

// TokenInfo describes a stored token. The token itself is never stored.
type TokenInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Scope is ScopeRead or ScopeControl. Tokens stored before scopes
	// existed have none and are read-only.
	Scope   string    `json:"scope,omitempty"`
	Created time.Time `json:"created"`
}

// Token scopes. A token never manages users or tokens: that takes an
// admin's login.
const (
	ScopeRead    = "read"
	ScopeControl = "control"
)

// EffectiveScope is the scope in force: ScopeRead when none is stored.
func (i TokenInfo) EffectiveScope() string {
	if i.Scope == ScopeControl {
		return ScopeControl
	}
	return ScopeRead
}

type tokenRecord struct {
	TokenInfo
	Hash string `json:"sha256"` // hex SHA-256 of the token string
}

type tokenFile struct {
	Version int           `json:"version"`
	Tokens  []tokenRecord `json:"tokens"`
}

type tokenEntry struct {
	info TokenInfo
	hash [sha256.Size]byte
}

// Tokens is the store of API bearer tokens in <stateDir>/tokens.json. It
// keeps only SHA-256 hashes and reloads the file when its size or mtime
// changes, so a token created by `gatewayd token create` while the daemon
// runs is accepted at once.
type Tokens struct {
	now func() time.Time

	mu      sync.Mutex
	file    stateFile // while its err is set, Verify rejects all
	entries []tokenEntry
}

// OpenTokens opens the token store in stateDir, creating the directory
// (0700) if it is missing. A missing tokens.json is an empty store; it is
// created (0600) by the first Create. A corrupt file is an error.
func OpenTokens(stateDir string) (*Tokens, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("web: tokens: %w", err)
	}
	t := &Tokens{file: stateFile{path: filepath.Join(stateDir, TokensFile), what: "tokens"}, now: time.Now}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.reloadLocked(true); err != nil {
		return nil, err
	}
	return t, nil
}

// ErrTokenName and ErrTokenScope classify Create's input errors.
var (
	ErrTokenName  = errors.New("token name must be 1 to 64 characters of A-Z a-z 0-9 . _ - and unused")
	ErrTokenScope = errors.New("token scope must be read or control")
)

// Create makes a new token called name with scope (ScopeRead or
// ScopeControl) and returns it; this is the only time the token is
// visible. name must be 1..64 characters of [A-Za-z0-9._-] and not already
// used.
func (t *Tokens) Create(name, scope string) (string, error) {
	tok, _, err := t.CreateInfo(name, scope)
	return tok, err
}

// CreateInfo is Create that also returns the stored description.
func (t *Tokens) CreateInfo(name, scope string) (string, TokenInfo, error) {
	if !validTokenName(name) {
		return "", TokenInfo{}, fmt.Errorf("web: token name %q: %w", name, ErrTokenName)
	}
	if scope != ScopeRead && scope != ScopeControl {
		return "", TokenInfo{}, fmt.Errorf("web: token scope %q: %w", scope, ErrTokenScope)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// Another process may have written the file since we last looked.
	if err := t.reloadLocked(true); err != nil {
		return "", TokenInfo{}, err
	}
	for _, e := range t.entries {
		if e.info.Name == name {
			return "", TokenInfo{}, fmt.Errorf("web: token name %q is already used: %w", name, ErrTokenName)
		}
	}
	var secret [32]byte
	var id [4]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", TokenInfo{}, fmt.Errorf("web: token: %w", err)
	}
	if _, err := rand.Read(id[:]); err != nil {
		return "", TokenInfo{}, fmt.Errorf("web: token: %w", err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
	e := tokenEntry{
		info: TokenInfo{ID: hex.EncodeToString(id[:]), Name: name, Scope: scope, Created: t.now().UTC().Truncate(time.Second)},
		hash: sha256.Sum256([]byte(token)),
	}
	entries := append(append([]tokenEntry(nil), t.entries...), e)
	if err := t.writeLocked(entries); err != nil {
		return "", TokenInfo{}, err
	}
	t.entries = entries
	return token, e.info, nil
}

// Revoke deletes the token whose name or id is nameOrID. It reports
// whether one was deleted.
func (t *Tokens) Revoke(nameOrID string) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.reloadLocked(true); err != nil {
		return false, err
	}
	var kept []tokenEntry
	for _, e := range t.entries {
		if e.info.Name != nameOrID && e.info.ID != nameOrID {
			kept = append(kept, e)
		}
	}
	if len(kept) == len(t.entries) {
		return false, nil
	}
	if err := t.writeLocked(kept); err != nil {
		return false, err
	}
	t.entries = kept
	return true, nil
}

// Verify reports whether token is a stored token and returns its
// description. The comparison takes the same time whichever token matches.
func (t *Tokens) Verify(token string) (info TokenInfo, ok bool) {
	if t == nil || token == "" {
		return TokenInfo{}, false
	}
	h := sha256.Sum256([]byte(token))
	t.mu.Lock()
	defer t.mu.Unlock()
	// A failed reload keeps the store empty: fail closed.
	_ = t.reloadLocked(false)
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			info, ok = e.info, true
		}
	}
	return info, ok
}

// List returns the stored tokens (without hashes) in creation order.
func (t *Tokens) List() ([]TokenInfo, error) {
	if t == nil {
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.reloadLocked(false); err != nil {
		return nil, err
	}
	out := make([]TokenInfo, len(t.entries))
	for i, e := range t.entries {
		out[i] = e.info
	}
	return out, nil
}

// reloadLocked rereads the file if it changed (or always if force).
func (t *Tokens) reloadLocked(force bool) error {
	err := t.file.reload(force, func(data []byte) error {
		if data == nil {
			t.entries = nil
			return nil
		}
		var f tokenFile
		if err := t.file.decode(data, &f, &f.Version); err != nil {
			return err
		}
		entries := make([]tokenEntry, 0, len(f.Tokens))
		for i, r := range f.Tokens {
			h, err := hex.DecodeString(r.Hash)
			if err != nil || len(h) != sha256.Size || !validTokenName(r.Name) {
				return t.file.corrupt(i)
			}
			e := tokenEntry{info: r.TokenInfo}
			copy(e.hash[:], h)
			entries = append(entries, e)
		}
		t.entries = entries
		return nil
	})
	if err != nil {
		t.entries = nil
	}
	return err
}

// writeLocked replaces the file with entries.
func (t *Tokens) writeLocked(entries []tokenEntry) error {
	f := tokenFile{Version: 1, Tokens: make([]tokenRecord, len(entries))}
	for i, e := range entries {
		f.Tokens[i] = tokenRecord{TokenInfo: e.info, Hash: hex.EncodeToString(e.hash[:])}
	}
	return t.file.write(f)
}

func validTokenName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
