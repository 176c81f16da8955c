package echonetip

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// multicastAllOff stops a wildcard-bound socket from receiving every
// group another socket of the host joined (Linux's default).
func multicastAllOff(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0); err != nil {
		return fmt.Errorf("IP_MULTICAST_ALL: %w", err)
	}
	return nil
}
