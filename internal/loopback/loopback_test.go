package loopback

import "testing"

func TestLoopback(t *testing.T) {
	for s, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"0.0.0.0": false, "": false, "192.168.1.2": false, "example.com": false, "::": false} {
		if Host(s) != want {
			t.Errorf("Host(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"127.0.0.1:80": true, "[::1]:0": true, "localhost:8080": true,
		":8080": false, "127.0.0.1": false, "10.0.0.1:80": false} {
		if HostPort(s) != want {
			t.Errorf("HostPort(%q) = %v", s, !want)
		}
	}
}
