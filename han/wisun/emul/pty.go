package emul

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyPair is the module's end of a pseudo-terminal: the driver opens the
// slave (through a symlink at path), the emulator reads and writes the
// master. The emulator keeps its own slave descriptor open so that the
// master does not see EIO while the driver has the port closed.
type ptyPair struct {
	path   string
	master *os.File
	slave  *os.File
}

func openPTY(path string) (*ptyPair, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("emul: link path: %w", err)
	}
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("emul: open pty: %w", err)
	}
	// Re-wrap a non-blocking duplicate of the master so reads honour
	// deadlines (as opened by creack/pty it is not pollable).
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("emul: dup pty: %w", err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		s.Close()
		return nil, fmt.Errorf("emul: pty nonblock: %w", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	fail := func(err error) (*ptyPair, error) {
		master.Close()
		s.Close()
		return nil, err
	}
	if err := makeRaw(int(s.Fd())); err != nil {
		return fail(err)
	}
	tmp := abs + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(s.Name(), tmp); err != nil {
		return fail(fmt.Errorf("emul: symlink: %w", err))
	}
	if err := os.Rename(tmp, abs); err != nil {
		os.Remove(tmp)
		return fail(fmt.Errorf("emul: symlink: %w", err))
	}
	return &ptyPair{path: abs, master: master, slave: s}, nil
}

func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("emul: tcgets: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("emul: tcsets: %w", err)
	}
	return nil
}

func (p *ptyPair) close() error {
	p.master.Close()
	p.slave.Close()
	if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("emul: remove link: %w", err)
	}
	return nil
}
