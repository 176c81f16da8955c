// Package sdnotify is a small implementation of systemd's sd_notify
// protocol: datagrams of "KEY=value" lines to the unix socket named by
// $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace). It
// replaces libsystemd (no cgo) and coreos/go-systemd (one function).
//
// The environment is passed in (a getenv function), never read by the
// package itself. A nil *Notifier is valid and sends nothing: the daemon
// runs the same with and without systemd.
//
// Concurrency: a Notifier is safe for concurrent use.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The states gatewayd sends.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// MaxMessage bounds a datagram (systemd accepts a few KiB of STATUS=).
const MaxMessage = 4096

// Notifier sends to one notify socket.
type Notifier struct {
	addr *net.UnixAddr

	mu   sync.Mutex
	conn *net.UnixConn
}

// New returns a Notifier for $NOTIFY_SOCKET as getenv reports it, or nil
// (and no error) when it is unset: not started by systemd.
func New(getenv func(string) string) (*Notifier, error) {
	s := getenv("NOTIFY_SOCKET")
	if s == "" {
		return nil, nil
	}
	switch {
	case strings.HasPrefix(s, "@"):
		// Go names abstract sockets with a leading '@' too.
	case strings.HasPrefix(s, "/"):
	default:
		return nil, fmt.Errorf("sdnotify: NOTIFY_SOCKET %q is neither a path nor @abstract", s)
	}
	return &Notifier{addr: &net.UnixAddr{Name: s, Net: "unixgram"}}, nil
}

// Send sends one message (lines "KEY=value", joined with "\n").
func (n *Notifier) Send(state ...string) error {
	if n == nil {
		return nil
	}
	msg := strings.Join(state, "\n")
	if len(msg) > MaxMessage {
		return fmt.Errorf("sdnotify: message of %d bytes exceeds %d", len(msg), MaxMessage)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		c, err := net.DialUnix("unixgram", nil, n.addr)
		if err != nil {
			return fmt.Errorf("sdnotify: dial %s: %w", n.addr.Name, err)
		}
		n.conn = c
	}
	_ = n.conn.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := n.conn.Write([]byte(msg)); err != nil {
		// systemd may have been restarted (daemon-reexec): redial next time.
		n.conn.Close()
		n.conn = nil
		return fmt.Errorf("sdnotify: send to %s: %w", n.addr.Name, err)
	}
	return nil
}

// Status formats a STATUS= line: one line, bounded.
func Status(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	if len(s) > 1024 {
		s = s[:1021] + "..."
	}
	return "STATUS=" + s
}

// Keepalive sends WATCHDOG=1.
func (n *Notifier) Keepalive() error { return n.Send(Watchdog) }

// Close releases the socket.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return nil
	}
	err := n.conn.Close()
	n.conn = nil
	return err
}

// ErrWatchdogOtherPID: $WATCHDOG_PID names another process.
var ErrWatchdogOtherPID = errors.New("sdnotify: WATCHDOG_PID is another process")

// WatchdogInterval returns systemd's WatchdogSec for this process (pid)
// from $WATCHDOG_USEC and $WATCHDOG_PID, or 0 when the watchdog is off.
// Keep-alives go out every half of it (sd_watchdog_enabled(3)).
func WatchdogInterval(getenv func(string) string, pid int) (time.Duration, error) {
	us := getenv("WATCHDOG_USEC")
	if us == "" {
		return 0, nil
	}
	if p := getenv("WATCHDOG_PID"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, fmt.Errorf("sdnotify: WATCHDOG_PID %q: %w", p, err)
		}
		if n != pid {
			return 0, ErrWatchdogOtherPID
		}
	}
	v, err := strconv.ParseInt(us, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("sdnotify: WATCHDOG_USEC %q is not a positive number", us)
	}
	return time.Duration(v) * time.Microsecond, nil
}
