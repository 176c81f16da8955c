package echonetip

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/han/echonet/emul"
)

// netnsEnv marks the re-executed test binary running in its own network
// namespace.
const netnsEnv = "ECHONETIP_TEST_NETNS"

// TestMulticastLoopback discovers an emulated Home by multicast on "lo".
// It re-executes itself in a new network namespace (so the host's
// loopback is never touched) and turns MULTICAST on for lo there.
func TestMulticastLoopback(t *testing.T) {
	if os.Getenv(netnsEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMulticastLoopback$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), netnsEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err != nil && !errors.As(err, &ee):
			t.Skipf("multicast on loopback needs a private network namespace (root, CLONE_NEWNET): %v", err)
		case err != nil:
			t.Fatalf("in a network namespace: %v\n%s", err, out)
		}
		t.Logf("in a network namespace:\n%s", out)
		return
	}
	if err := loopbackMulticast(); err != nil {
		t.Fatalf("lo up with MULTICAST: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	home, err := emul.NewHome(clocktest.New(time.Date(2024, 7, 20, 13, 0, 0, 0, jst)), emul.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The gateway listens first, so it hears the nodes' announcements.
	tr, err := Listen(ctx, Options{Listen: "127.0.0.1:0", Multicast: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ServeHome(ctx, home, ServeOptions{Host: "127.0.0.1", Multicast: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	announced := map[string]bool{}
	deadline := time.After(2 * time.Second)
	for len(announced) < len(srv.Addrs()) {
		select {
		case p := <-tr.Packets():
			if f, err := echonet.Decode(p.Data); err == nil && f.ESV == echonet.INF && f.Props[0].EPC == 0xD5 {
				announced[string(p.Src)] = true
			}
		case <-deadline:
			t.Fatalf("announcements from %v only", announced)
		}
	}

	req := echonet.Frame{TID: 0x3610, SEOJ: echonet.Controller, DEOJ: echonet.NodeProfile, ESV: echonet.Get,
		Props: []echonet.Property{{EPC: 0xD6}}}
	b, _ := req.Encode()
	if err := tr.Multicast(ctx, b); err != nil {
		t.Fatal(err)
	}
	replied := map[string]bool{}
	for len(replied) < len(srv.Addrs()) {
		p, f, ok := next(t, tr, req, 2*time.Second)
		if !ok {
			t.Fatalf("replies from %v only", replied)
		}
		if f.ESV != echonet.GetRes || !announced[string(p.Src)] {
			t.Fatalf("%+v from %s", f, p.Src)
		}
		replied[string(p.Src)] = true
	}
	cancel()
	srv.Wait()
}

// loopbackMulticast sets lo UP and MULTICAST (in the test's namespace).
func loopbackMulticast() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
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
