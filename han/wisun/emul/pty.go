package emul

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gatewayd-project/gatewayd/internal/ptylink"
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
	m, sl, err := ptylink.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("emul: %w", err)
	}
	return &ptyPair{path: abs, master: m, slave: sl}, nil
}

func (p *ptyPair) close() error {
	p.master.Close()
	p.slave.Close()
	if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("emul: remove link: %w", err)
	}
	return nil
}
