package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestMmapLimit32 runs natively and under qemu-arm (make cross): a 32-bit
// build must not ask bbolt for a map past its 2 GB cap.
func TestMmapLimit32(t *testing.T) {
	want := int64(1) << 46
	if strconv.IntSize == 32 {
		want = 1 << 30
	}
	if maxDBSize != want {
		t.Fatalf("maxDBSize = %d on %d-bit, want %d", maxDBSize, strconv.IntSize, want)
	}
	// bbolt's map for a file of maxDBSize is at most 2 GB - 1 on 32-bit.
	if strconv.IntSize == 32 && 2*maxDBSize-1 > 0x7FFFFFFF {
		t.Fatal("limit leaves no room for bbolt's next map step")
	}
	p := filepath.Join(t.TempDir(), "big.db")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file just past 1 GB: no disk used.
	if err := f.Truncate(1<<30 + 4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(Options{Path: p})
	if strconv.IntSize == 32 {
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("32-bit open of a 1 GB+ file: %v, want ErrTooLarge", err)
		}
	} else if err == nil || errors.Is(err, ErrTooLarge) {
		// 64-bit: the size is fine; bbolt rejects the zero-filled file.
		t.Fatalf("64-bit open: %v, want bbolt's invalid-file error", err)
	}
	s, err := Open(Options{Path: filepath.Join(t.TempDir(), "new.db")})
	if err != nil {
		t.Fatalf("new database: %v", err)
	}
	s.Close()
}
