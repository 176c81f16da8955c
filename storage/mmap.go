package storage

import (
	"errors"
	"fmt"
	"os"
)

// maxDBSize is the largest database file this build maps. bbolt caps its
// memory map at 2 GB on 32-bit ARM (maxMapSize 0x7FFFFFFF) and grows the
// map by doubling up to 1 GB, then in 1 GB steps: a file past 1 GB needs
// a 2 GB map, which fails there. So a 32-bit gateway refuses files past
// 1 GB with a clear error (and a commit that would grow past it fails and
// raises storage_degraded) instead of bbolt's "mmap too large"; 64-bit
// builds are bounded only by the disk. Fifteen years of 1-minute history
// take tens of MB, so the limit is far away in practice.
const maxDBSize = int64(1<<30) << (16 * (^uint(0) >> 63))

// ErrTooLarge is returned by Open for a file beyond maxDBSize.
var ErrTooLarge = errors.New("storage: database too large for this 32-bit build's memory map (1 GB)")

func checkSize(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: stat %s: %w", path, err)
	}
	if st.Size() > maxDBSize {
		return fmt.Errorf("storage: open %s (%d bytes): %w", path, st.Size(), ErrTooLarge)
	}
	return nil
}
