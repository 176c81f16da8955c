// Package loopback answers the one question several rooms ask before
// allowing plain HTTP or a local control port: does this address stay on
// the machine?
package loopback

import "net"

// Host reports whether h (a host name or IP address, without port) is
// "localhost" or a loopback IP.
func Host(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// HostPort reports whether a host:port address binds loopback only.
func HostPort(s string) bool {
	h, _, err := net.SplitHostPort(s)
	return err == nil && Host(h)
}
