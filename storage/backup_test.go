package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// backupValue is the value the writer stores under key i: long enough to
// span pages, so a torn copy would show.
func backupValue(i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%08d|", i)), 1000)
}

func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	s := openKV(t, Options{Path: filepath.Join(dir, "g.db")})
	var (
		written atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		werr    error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.Put(fmt.Sprintf("k/%06d", i), backupValue(i)); err != nil {
				werr = err
				return
			}
			written.Add(1)
		}
	}()
	for written.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("backup: %d bytes of %d, %v", n, buf.Len(), err)
	}
	bf := filepath.Join(dir, "backup.db")
	if err := s.BackupFile(bf); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}

	streamed := filepath.Join(dir, "stream.db")
	if err := os.WriteFile(streamed, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{streamed, bf} {
		b := openKV(t, Options{Path: p, ReadOnly: true})
		keys, err := b.Keys("k/")
		if err != nil || len(keys) < 50 {
			t.Fatalf("%s: %d keys, %v", p, len(keys), err)
		}
		// A consistent snapshot holds a prefix of the writes, each whole.
		for i, k := range keys {
			if k != fmt.Sprintf("k/%06d", i) {
				t.Fatalf("%s: key %d is %q: not a prefix of the writes", p, i, k)
			}
			v, ok, err := b.Get(k)
			if err != nil || !ok || !bytes.Equal(v, backupValue(i)) {
				t.Fatalf("%s: %s torn (%d bytes, %v)", p, k, len(v), err)
			}
		}
	}
	st, err := os.Stat(bf)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode: %v %v", st.Mode(), err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name()[0] == '.' {
			t.Fatalf("temp file left: %s", e.Name())
		}
	}
}

func TestBackupFileRefusesLiveDB(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "g.db")
	s := openKV(t, Options{Path: p})
	s.Put("a", []byte("1"))
	link := filepath.Join(dir, "link.db")
	if err := os.Link(p, link); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{p, filepath.Join(dir, ".", "g.db"), link} {
		if err := s.BackupFile(target); err == nil {
			t.Errorf("backup over the live database via %s succeeded", target)
		}
	}
	if v, ok, _ := s.Get("a"); !ok || string(v) != "1" {
		t.Fatal("live database damaged")
	}
	if err := s.BackupFile(filepath.Join(dir, "missing", "b.db")); err == nil {
		t.Fatal("backup into a missing directory succeeded")
	}
	// Overwriting an older backup is fine.
	b := filepath.Join(dir, "b.db")
	for range 2 {
		if err := s.BackupFile(b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "g.db")
	clk := clocktest.New(t0)
	s, err := Open(Options{Path: src, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := s.Put(fmt.Sprintf("k/%04d", i), backupValue(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Free most of it so compaction has something to reclaim.
	for i := range 280 {
		if err := s.Delete(fmt.Sprintf("k/%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s.HAPStore().Set("keypair", []byte("kp"))
	for i := range 5 {
		s.AddEvent(Event{Kind: EventConfig, Subject: fmt.Sprint(i)})
	}
	wantKeys, _ := s.Keys("")
	wantEvents, _ := s.Events(time.Time{}, time.Time{}, "", 0)
	s.Close()

	dst := filepath.Join(dir, "c.db")
	before, after, err := Compact(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if before <= 0 || after <= 0 || after >= before {
		t.Fatalf("sizes %d -> %d", before, after)
	}
	if st, _ := os.Stat(dst); st.Mode().Perm() != 0o600 || st.Size() != after {
		t.Fatalf("dst mode %v size %d", st.Mode(), st.Size())
	}
	c := openKV(t, Options{Path: dst, Clock: clk})
	keys, _ := c.Keys("")
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Fatalf("keys %q, want %q", keys, wantKeys)
	}
	for _, k := range keys {
		v, _, _ := c.Get(k)
		var i int
		if _, err := fmt.Sscanf(k, "k/%d", &i); err == nil && !bytes.Equal(v, backupValue(i)) {
			t.Fatalf("%s differs", k)
		}
	}
	evs, _ := c.Events(time.Time{}, time.Time{}, "", 0)
	if !reflect.DeepEqual(evs, wantEvents) {
		t.Fatalf("events %v, want %v", evs, wantEvents)
	}
	// The event counter (bucket sequence) came along: retention still works.
	if err := c.addEvent(Event{Kind: EventConfig, Subject: "new"}, 3); err != nil {
		t.Fatal(err)
	}
	if evs, _ := c.Events(time.Time{}, time.Time{}, "", 0); len(evs) != 3 {
		t.Fatalf("%d events after pruning on the compacted file", len(evs))
	}

	// dst must not exist; src must exist.
	if _, _, err := Compact(src, dst); err == nil {
		t.Fatal("compact over an existing file succeeded")
	}
	if _, _, err := Compact(filepath.Join(dir, "none.db"), filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("compact of a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); !os.IsNotExist(err) {
		t.Fatal("failed compact left its output")
	}
}

func TestCompactLockedSource(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "g.db")
	openKV(t, Options{Path: src}) // held open: the flock is taken
	dst := filepath.Join(dir, "c.db")
	start := time.Now()
	if _, _, err := Compact(src, dst); err == nil {
		t.Fatal("compact of a database in use succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("compact waited %v", d)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("failed compact left its output")
	}
}
