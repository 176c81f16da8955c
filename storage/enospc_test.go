package storage

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/health"
)

// A real full disk: the database lives on a 3 MiB tmpfs (needs root to
// mount; TestDiskFaultsKeepDataAndRecover covers the same logic with
// injected errors everywhere else). Commits fail with ENOSPC, the store
// degrades without crashing and keeps the rows; after the filesystem grows
// everything is written and the database checks clean.
func TestRealENOSPC(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; injected faults are tested in TestDiskFaultsKeepDataAndRecover")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	h := health.New(clk.Now)
	s, err := Open(Options{Path: filepath.Join(dir, "g.db"), Clock: clk, Location: time.UTC, Health: h})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Noisy values compress badly: fill the disk quickly.
	sent := 0
	var commitErr error
	for i := 0; i < 2000 && commitErr == nil; i++ {
		var rs []energy.Reading
		for j := 0; j < 3600; j++ {
			at := t0.Add(time.Duration(sent) * time.Second)
			v := int64(sent*7919%100003) * 1000003
			rs = append(rs, reading(energy.Power, energy.D(v, 0), at, true, false))
			sent++
		}
		s.Append(rs)
		clk.Set(t0.Add(time.Duration(sent) * time.Second))
		commitErr = s.Commit()
	}
	if !errors.Is(commitErr, syscall.ENOSPC) {
		t.Fatalf("disk never filled up: %v", commitErr)
	}
	if !h.Active(CondDegraded) || s.Queued() == 0 {
		t.Fatalf("degraded=%v queued=%d", h.Active(CondDegraded), s.Queued())
	}
	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("grow tmpfs: %v %s", err, out)
	}
	if err := s.Commit(); err != nil {
		t.Fatalf("commit after space returned: %v", err)
	}
	if h.Active(CondDegraded) || s.Queued() != 0 {
		t.Fatalf("not recovered: degraded=%v queued=%d", h.Active(CondDegraded), s.Queued())
	}
	var n int64
	err = s.Export("meter", energy.Power, "raw", t0, t0.Add(time.Duration(sent)*time.Second), func(r ExportRow) error {
		if r.Legal {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(sent) {
		t.Fatalf("%d of %d readings stored after recovery", n, sent)
	}
	if p, err := s.Check(); err != nil || len(p) > 0 {
		t.Fatalf("check: %v %v", p, err)
	}
}
