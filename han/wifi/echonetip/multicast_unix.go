//go:build unix

package echonetip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenConfig sets, on Linux, IP_MULTICAST_ALL = 0 and, with reuse,
// SO_REUSEADDR: the unicast socket on port 3610 and the group socket
// share the port. An ephemeral port never gets SO_REUSEADDR: the kernel
// could then hand out a port another such socket already holds.
func listenConfig(reuse bool) net.ListenConfig {
	return net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return control(c, func(fd int) error {
			if reuse {
				if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
					return fmt.Errorf("SO_REUSEADDR: %w", err)
				}
			}
			return multicastAllOff(fd)
		})
	}}
}

func control(c syscall.RawConn, f func(fd int) error) error {
	var ferr error
	if err := c.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func listenUnicast(ctx context.Context, addr string) (*net.UDPConn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	lc := listenConfig(port != "0" && port != "")
	pc, err := lc.ListenPacket(ctx, "udp4", addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

// ipv4Of is ifi's first IPv4 address.
func ipv4Of(ifi *net.Interface) ([4]byte, error) {
	var a [4]byte
	addrs, err := ifi.Addrs()
	if err != nil {
		return a, fmt.Errorf("interface %s: %w", ifi.Name, err)
	}
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok {
			if v4 := n.IP.To4(); v4 != nil {
				copy(a[:], v4)
				return a, nil
			}
		}
	}
	return a, fmt.Errorf("interface %s has no IPv4 address", ifi.Name)
}

// setMulticastOut makes c send multicast through ifi (nil: the kernel's
// route) with loopback on, so that local listeners hear it too.
func setMulticastOut(c *net.UDPConn, ifi *net.Interface) error {
	var a [4]byte
	if ifi != nil {
		var err error
		if a, err = ipv4Of(ifi); err != nil {
			return err
		}
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	return control(rc, func(fd int) error {
		if ifi != nil {
			if err := unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, a); err != nil {
				return fmt.Errorf("IP_MULTICAST_IF %s: %w", ifi.Name, err)
			}
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 1); err != nil {
			return fmt.Errorf("IP_MULTICAST_LOOP: %w", err)
		}
		return nil
	})
}

// listenGroup binds a socket to 224.0.23.0:3610 and joins the group on
// each of ifis (none: the kernel's choice).
func listenGroup(ctx context.Context, ifis []*net.Interface) (*net.UDPConn, error) {
	lc := listenConfig(true)
	pc, err := lc.ListenPacket(ctx, "udp4", net.JoinHostPort(Group, "3610"))
	if err != nil {
		return nil, err
	}
	c := pc.(*net.UDPConn)
	var locals [][4]byte
	for _, ifi := range ifis {
		a, err := ipv4Of(ifi)
		if err != nil {
			c.Close()
			return nil, err
		}
		locals = append(locals, a)
	}
	if len(locals) == 0 {
		locals = [][4]byte{{}} // INADDR_ANY
	}
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	err = control(rc, func(fd int) error {
		var errs []error
		for _, a := range locals {
			mreq := &unix.IPMreq{Multiaddr: [4]byte{224, 0, 23, 0}, Interface: a}
			if err := unix.SetsockoptIPMreq(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != nil {
				errs = append(errs, fmt.Errorf("IP_ADD_MEMBERSHIP on %v: %w", net.IP(a[:]), err))
			}
		}
		return errors.Join(errs...)
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
