package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/atomicfile"
)

// maxStateFile bounds what a reload of tokens.json or users.json reads.
const maxStateFile = 4 << 20

// stateFile is a small versioned JSON document in the state directory
// (tokens.json, users.json), shared by the daemon and the CLI: it is
// replaced atomically (0600) and reread when its stamp changes, so a
// change made by `gatewayd token create` or `user add` applies at once.
// A failed read is remembered and retried on every call: its store fails
// closed until the file is fixed.
type stateFile struct {
	path  string
	what  string // "tokens", "users": the prefix of errors
	stamp fileStamp
	err   error // the last reload failure
}

// fileStamp identifies a version of the file cheaply. info catches a
// replacement by rename within one mtime tick (a new inode).
type fileStamp struct {
	exists bool
	size   int64
	mtime  time.Time
	info   fs.FileInfo
}

func stampOf(st fs.FileInfo) fileStamp {
	return fileStamp{exists: true, size: st.Size(), mtime: st.ModTime(), info: st}
}

func (a fileStamp) same(b fileStamp) bool {
	if a.exists != b.exists {
		return false
	}
	if !a.exists {
		return true
	}
	return a.size == b.size && a.mtime.Equal(b.mtime) && os.SameFile(a.info, b.info)
}

// reload calls parse with the file's bytes if it changed since the last
// reload (always if force), with nil if the file does not exist. parse
// keeps what it read only when it returns nil.
func (f *stateFile) reload(force bool, parse func(data []byte) error) error {
	st, err := os.Stat(f.path)
	var stamp fileStamp
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		f.err = fmt.Errorf("web: %s: %w", f.what, err)
		return f.err
	default:
		stamp = stampOf(st)
	}
	// After a failure, retry on every call: the file may be fixed without
	// its stamp changing in a way we notice.
	if !force && f.err == nil && stamp.same(f.stamp) {
		return nil
	}
	f.stamp = stamp
	var data []byte
	if stamp.exists {
		if data, err = os.ReadFile(f.path); err != nil {
			f.err = fmt.Errorf("web: %s: %w", f.what, err)
			return f.err
		}
		if len(data) > maxStateFile {
			f.err = fmt.Errorf("web: %s: %s is larger than %d bytes", f.what, f.path, maxStateFile)
			return f.err
		}
	}
	f.err = parse(data)
	return f.err
}

// decode decodes data strictly into v, whose version must be 1.
func (f *stateFile) decode(data []byte, v any, version *int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("web: %s: %s is corrupt: %w", f.what, f.path, err)
	}
	if *version != 1 {
		return fmt.Errorf("web: %s: %s has unsupported version %d", f.what, f.path, *version)
	}
	return nil
}

// corrupt is the error for a malformed entry i.
func (f *stateFile) corrupt(i int) error {
	return fmt.Errorf("web: %s: %s is corrupt: entry %d is malformed", f.what, f.path, i)
}

// write replaces the file atomically (temp file in the same directory,
// fsync, rename, fsync of the directory) with v as indented JSON.
func (f *stateFile) write(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("web: %s: %w", f.what, err)
	}
	if err := atomicfile.WriteFile(f.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("web: %s: %w", f.what, err)
	}
	// Our own write must not look like a foreign change.
	if st, err := os.Stat(f.path); err == nil {
		f.stamp = stampOf(st)
	}
	f.err = nil
	return nil
}
