// Package ptylink gives the emulators (meter, Wi-SUN module) their end of
// a pseudo-terminal: the daemon opens the slave through a symlink, as it
// would a real serial adapter, and the emulator reads and writes the
// master.
package ptylink

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Open creates a pty in raw mode (nothing echoed or translated, also
// while the daemon has it closed) and points the symlink path at its
// slave, atomically. The master is non-blocking, so reads honour
// deadlines and Close; the caller keeps the slave open so the master does
// not see EIO while the daemon has the port closed.
func Open(path string) (master, slave *os.File, err error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("pty: open: %w", err)
	}
	// As opened by creack/pty the master is not pollable: re-wrap a
	// non-blocking duplicate.
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("pty: dup: %w", err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		s.Close()
		return nil, nil, fmt.Errorf("pty: nonblock: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	fail := func(err error) (*os.File, *os.File, error) {
		master.Close()
		s.Close()
		return nil, nil, err
	}
	if err := makeRaw(int(s.Fd())); err != nil {
		return fail(err)
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(s.Name(), tmp); err != nil {
		return fail(fmt.Errorf("pty: symlink: %w", err))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fail(fmt.Errorf("pty: symlink: %w", err))
	}
	return master, s, nil
}

func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("pty: tcgets: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("pty: tcsets: %w", err)
	}
	return nil
}
