package storage

import (
	"github.com/gatewayd-project/gatewayd/internal/atomicfile"

	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole database to w while the
// store keeps running: one read transaction (a snapshot; writers are not
// blocked) streamed with bolt.Tx.WriteTo. It returns the bytes written.
// The copy is a complete database file that Open accepts.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("storage: backup: %w", err)
	}
	return n, nil
}

// BackupFile writes a backup to path atomically: a temp file in the same
// directory is streamed, fsynced and renamed over path (mode 0600), and the
// directory is fsynced, so path holds either the previous backup or the
// complete new one. It refuses to write over the live database.
func (s *Store) BackupFile(path string) error {
	if same, err := samePath(path, s.o.Path); err != nil {
		return fmt.Errorf("storage: backup to %s: %w", path, err)
	} else if same {
		return fmt.Errorf("storage: backup to %s: that is the live database", path)
	}
	err := atomicfile.WriteFrom(path, 0o600, func(w io.Writer) error {
		_, err := s.Backup(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: backup to %s: %w", path, err)
	}
	return nil
}

// samePath reports whether a and b name the same file: equal cleaned
// absolute paths, or, when both exist, the same inode (links).
func samePath(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	ab, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	if aa == ab {
		return true, nil
	}
	sa, err := os.Stat(aa)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	sb, err := os.Stat(ab)
	if err != nil {
		return false, nil
	}
	return os.SameFile(sa, sb), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// compactTxSize bounds the dirty data Compact holds before an
// intermediate commit, keeping its memory small on the device.
const compactTxSize = 8 << 20

// Compact copies the database at src into a new file dst, which must not
// exist, leaving out free pages; it reports both file sizes. It is
// offline: src is opened read-only and a running gatewayd holding it makes
// Compact fail after 1 s. dst is created 0600 and synced before Compact
// returns; on error it is removed.
func Compact(src, dst string) (before, after int64, err error) {
	fail := func(err error) (int64, int64, error) {
		return 0, 0, fmt.Errorf("storage: compact %s to %s: %w", src, dst, err)
	}
	st, err := os.Stat(src)
	if err != nil {
		return fail(err)
	}
	before = st.Size()
	sdb, err := bolt.Open(src, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return fail(err)
	}
	defer sdb.Close()
	// O_EXCL: never replace an existing file, not even in a race.
	f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fail(err)
	}
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(dst)
		}
	}()
	// NoSync while copying, one Sync at the end: the file is not in use
	// until Compact returns, so intermediate commits need not be durable.
	ddb, err := bolt.Open(dst, 0o600, &bolt.Options{
		Timeout:        time.Second,
		NoSync:         true,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return fail(err)
	}
	if err := bolt.Compact(ddb, sdb, compactTxSize); err != nil {
		ddb.Close()
		return fail(err)
	}
	if err := ddb.Sync(); err != nil {
		ddb.Close()
		return fail(err)
	}
	if err := ddb.Close(); err != nil {
		return fail(err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fail(err)
	}
	st, err = os.Stat(dst)
	if err != nil {
		return fail(err)
	}
	ok = true
	return before, st.Size(), nil
}
