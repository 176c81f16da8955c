// Package netnstest runs a test in a network namespace of its own (Linux,
// root): the test binary re-executes itself with CLONE_NEWNET and brings
// the namespace's loopback up, so code that sends multicast on every
// interface (mDNS) reaches nothing outside the namespace.
//
// Only tests import it.
package netnstest

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Env is the variable naming the test the child process runs.
const Env = "GATEWAYD_NETNS_TEST"

// Run reports whether the caller is the child in the namespace (it then
// runs the test body). In the parent it runs the test in a new namespace,
// fails t unless the child passed, and returns false.
func Run(t *testing.T) bool {
	t.Helper()
	if os.Getenv(Env) == t.Name() {
		if err := LoopbackUp(); err != nil {
			t.Fatalf("netns loopback: %v", err)
		}
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), Env+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	t.Logf("namespace run:\n%s", out)
	if err != nil {
		t.Fatalf("test in a network namespace: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatal("the namespace run did not pass the test")
	}
	return false
}

// LoopbackUp sets lo up with the multicast flag (a new namespace's lo is
// down).
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_MULTICAST)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
