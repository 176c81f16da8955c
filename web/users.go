package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// UsersFile is the name of the user store inside the state directory.
const UsersFile = "users.json"

// Roles of users.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

// Password bounds, in characters.
const (
	MinPassword = 10
	MaxPassword = 256
)

// Errors of the user store, for errors.Is.
var (
	ErrUserName    = errors.New("bad user name")
	ErrPassword    = errors.New("bad password")
	ErrRole        = errors.New("bad role")
	ErrUserExists  = errors.New("user exists")
	ErrNoUser      = errors.New("no such user")
	ErrLastAdmin   = errors.New("the last admin cannot be removed or demoted")
	ErrBadPassword = errors.New("wrong password")
)

// KDF are the argon2id parameters for new password hashes. Stored hashes
// carry their own parameters, so these can grow without a migration.
type KDF struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultKDF costs 19 MiB and 2 passes (OWASP's argon2id minimum is 19 MiB
// with 2 passes). At most MaxHashing hashes run at once, so logins cannot
// exhaust the board's memory.
func DefaultKDF() KDF { return KDF{Time: 2, Memory: 19 * 1024, Threads: 1} }

// MaxHashing bounds concurrent password hashing.
const MaxHashing = 2

// UserInfo describes a user; the password hash never leaves the store.
type UserInfo struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Created   time.Time  `json:"created"`
	LastLogin *time.Time `json:"last_login"`
}

type userRecord struct {
	UserInfo
	Hash string `json:"argon2id"`
}

type usersFile struct {
	Version int          `json:"version"`
	Users   []userRecord `json:"users"`
}

// Users is the store of household users in <stateDir>/users.json (0600):
// name, role and an argon2id hash per user. Like Tokens it rereads the
// file when it changes, so `gatewayd user add` works while the daemon runs.
type Users struct {
	kdf KDF
	now func() time.Time
	sem chan struct{}

	mu    sync.Mutex
	file  stateFile
	users []userRecord
	dummy string // hash compared against for unknown users (equal timing)
}

// OpenUsers opens the user store in stateDir. kdf zero means DefaultKDF().
func OpenUsers(stateDir string, kdf KDF) (*Users, error) {
	if kdf == (KDF{}) {
		kdf = DefaultKDF()
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("web: users: %w", err)
	}
	u := &Users{file: stateFile{path: filepath.Join(stateDir, UsersFile), what: "users"}, kdf: kdf, now: time.Now, sem: make(chan struct{}, MaxHashing)}
	var err error
	if u.dummy, err = u.hash("not a password of anyone"); err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.reloadLocked(true); err != nil {
		return nil, err
	}
	return u, nil
}

// Count returns the number of users (0 before first-start setup).
func (u *Users) Count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	_ = u.reloadLocked(false)
	return len(u.users)
}

// List returns every user in creation order.
func (u *Users) List() ([]UserInfo, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.reloadLocked(false); err != nil {
		return nil, err
	}
	out := make([]UserInfo, len(u.users))
	for i, r := range u.users {
		out[i] = r.UserInfo
	}
	return out, nil
}

// Get returns the user called name.
func (u *Users) Get(name string) (UserInfo, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	_ = u.reloadLocked(false)
	if i := u.indexLocked(name); i >= 0 {
		return u.users[i].UserInfo, true
	}
	return UserInfo{}, false
}

// ValidUserName reports whether name is 1..32 letters, digits, '.', '_'
// or '-' (any script: households name themselves in their language).
func ValidUserName(name string) bool {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 32 || !utf8.ValidString(name) {
		return false
	}
	for _, c := range name {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// ValidPassword reports whether pw is acceptable for user name.
func ValidPassword(name, pw string) bool {
	n := utf8.RuneCountInString(pw)
	return n >= MinPassword && n <= MaxPassword && utf8.ValidString(pw) && !strings.EqualFold(pw, name)
}

// Add creates a user. If onlyFirst, it fails with ErrUserExists when any
// user exists (first-start setup races lose cleanly).
func (u *Users) Add(name, password, role string, onlyFirst bool) error {
	if !ValidUserName(name) {
		return fmt.Errorf("web: user %q: %w", name, ErrUserName)
	}
	if !ValidPassword(name, password) {
		return fmt.Errorf("web: user %q: %w", name, ErrPassword)
	}
	if role != RoleAdmin && role != RoleViewer {
		return fmt.Errorf("web: user %q: role %q: %w", name, role, ErrRole)
	}
	h, err := u.hash(password)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.reloadLocked(true); err != nil {
		return err
	}
	if onlyFirst && len(u.users) > 0 {
		return fmt.Errorf("web: setup: %w", ErrUserExists)
	}
	if u.indexLocked(name) >= 0 {
		return fmt.Errorf("web: user %q: %w", name, ErrUserExists)
	}
	rec := userRecord{UserInfo: UserInfo{Name: name, Role: role, Created: u.now().UTC().Truncate(time.Second)}, Hash: h}
	return u.writeLocked(append(append([]userRecord(nil), u.users...), rec))
}

// Authenticate checks name and password. Unknown users take as long as
// known ones. A success records the login time.
func (u *Users) Authenticate(name, password string) (UserInfo, bool) {
	h, ok := u.check(name, password)
	if !ok {
		return UserInfo{}, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.reloadLocked(true); err != nil {
		return UserInfo{}, false
	}
	i := u.indexLocked(name)
	if i < 0 || u.users[i].Hash != h { // deleted or changed meanwhile
		return UserInfo{}, false
	}
	users := append([]userRecord(nil), u.users...)
	now := u.now().UTC().Truncate(time.Second)
	users[i].LastLogin = &now
	// A failed write of the login time must not lock the household out.
	_ = u.writeLocked(users)
	return users[i].UserInfo, true
}

// check verifies name's password and returns the hash it matched.
// Unknown users cost a hash too, so timing does not tell who exists.
func (u *Users) check(name, password string) (hash string, ok bool) {
	u.mu.Lock()
	_ = u.reloadLocked(false)
	i := u.indexLocked(name)
	h := u.dummy
	if i >= 0 {
		h = u.users[i].Hash
	}
	u.mu.Unlock()
	return h, u.verify(h, password) && i >= 0
}

// SetPassword replaces name's password. If old is non-nil it must match
// the current password.
func (u *Users) SetPassword(name string, old *string, password string) error {
	if !ValidPassword(name, password) {
		return fmt.Errorf("web: user %q: %w", name, ErrPassword)
	}
	if old != nil {
		if _, ok := u.check(name, *old); !ok {
			return fmt.Errorf("web: user %q: %w", name, ErrBadPassword)
		}
	}
	h, err := u.hash(password)
	if err != nil {
		return err
	}
	return u.update(name, func(users []userRecord, i int) ([]userRecord, error) {
		users[i].Hash = h
		return users, nil
	})
}

// SetRole changes name's role; the last admin keeps hers.
func (u *Users) SetRole(name, role string) error {
	if role != RoleAdmin && role != RoleViewer {
		return fmt.Errorf("web: user %q: role %q: %w", name, role, ErrRole)
	}
	return u.update(name, func(users []userRecord, i int) ([]userRecord, error) {
		if users[i].Role == RoleAdmin && role != RoleAdmin && admins(users) == 1 {
			return nil, fmt.Errorf("web: user %q: %w", name, ErrLastAdmin)
		}
		users[i].Role = role
		return users, nil
	})
}

// Delete removes name; the last admin stays.
func (u *Users) Delete(name string) error {
	return u.update(name, func(users []userRecord, i int) ([]userRecord, error) {
		if users[i].Role == RoleAdmin && admins(users) == 1 {
			return nil, fmt.Errorf("web: user %q: %w", name, ErrLastAdmin)
		}
		return append(users[:i], users[i+1:]...), nil
	})
}

func admins(users []userRecord) int {
	n := 0
	for _, r := range users {
		if r.Role == RoleAdmin {
			n++
		}
	}
	return n
}

func (u *Users) update(name string, f func([]userRecord, int) ([]userRecord, error)) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.reloadLocked(true); err != nil {
		return err
	}
	i := u.indexLocked(name)
	if i < 0 {
		return fmt.Errorf("web: user %q: %w", name, ErrNoUser)
	}
	users, err := f(append([]userRecord(nil), u.users...), i)
	if err != nil {
		return err
	}
	return u.writeLocked(users)
}

func (u *Users) indexLocked(name string) int {
	for i, r := range u.users {
		if r.Name == name {
			return i
		}
	}
	return -1
}

// hash returns the PHC string of an argon2id hash of pw with a new salt.
func (u *Users) hash(pw string) (string, error) {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", fmt.Errorf("web: users: %w", err)
	}
	u.sem <- struct{}{}
	key := argon2.IDKey([]byte(pw), salt[:], u.kdf.Time, u.kdf.Memory, u.kdf.Threads, 32)
	<-u.sem
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, u.kdf.Memory, u.kdf.Time, u.kdf.Threads,
		b64.EncodeToString(salt[:]), b64.EncodeToString(key)), nil
}

// Bounds on stored parameters, so a tampered file cannot make a login
// allocate gigabytes.
const (
	maxKDFMemory = 256 * 1024
	maxKDFTime   = 16
)

// verify checks pw against a PHC argon2id string.
func (u *Users) verify(phc, pw string) bool {
	p, ok := parsePHC(phc)
	if !ok {
		return false
	}
	u.sem <- struct{}{}
	key := argon2.IDKey([]byte(pw), p.salt, p.t, p.m, p.p, uint32(len(p.key)))
	<-u.sem
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

type phc struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

func parsePHC(s string) (phc, bool) {
	var p phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, false
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, false
		}
		switch k {
		case "m":
			p.m = uint32(n)
		case "t":
			p.t = uint32(n)
		case "p":
			if n > 255 {
				return p, false
			}
			p.p = uint8(n)
		default:
			return p, false
		}
	}
	var err1, err2 error
	p.salt, err1 = base64.RawStdEncoding.DecodeString(parts[4])
	p.key, err2 = base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(p.salt) < 8 || len(p.key) < 16 || len(p.key) > 64 ||
		p.m < 8 || p.m > maxKDFMemory || p.t < 1 || p.t > maxKDFTime || p.p < 1 {
		return p, false
	}
	return p, true
}

func (u *Users) reloadLocked(force bool) error {
	err := u.file.reload(force, func(data []byte) error {
		if data == nil {
			u.users = nil
			return nil
		}
		var f usersFile
		if err := u.file.decode(data, &f, &f.Version); err != nil {
			return err
		}
		for i, r := range f.Users {
			if _, ok := parsePHC(r.Hash); !ok || !ValidUserName(r.Name) || (r.Role != RoleAdmin && r.Role != RoleViewer) {
				return u.file.corrupt(i)
			}
		}
		u.users = f.Users
		return nil
	})
	if err != nil {
		// Fail closed: nobody logs in with a corrupt store, and setup is
		// not offered either (Count would be 0): the error says why.
		u.users = nil
	}
	return err
}

// LoadError is the last failure to read the file, nil when it is fine.
func (u *Users) LoadError() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	_ = u.reloadLocked(false)
	return u.file.err
}

func (u *Users) writeLocked(users []userRecord) error {
	if err := u.file.write(usersFile{Version: 1, Users: users}); err != nil {
		return err
	}
	u.users = users
	return nil
}
