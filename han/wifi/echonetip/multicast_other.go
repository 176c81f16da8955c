//go:build !unix

package echonetip

import (
	"context"
	"errors"
	"net"
)

var errNoMulticast = errors.New("multicast needs a unix system")

func listenUnicast(ctx context.Context, addr string) (*net.UDPConn, error) {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp4", addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

func setMulticastOut(*net.UDPConn, *net.Interface) error { return errNoMulticast }

func listenGroup(context.Context, []*net.Interface) (*net.UDPConn, error) {
	return nil, errNoMulticast
}
