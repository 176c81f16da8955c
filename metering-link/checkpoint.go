package meteringlink

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/gatewayd-project/gatewayd/internal/atomicfile"
)

// FileCheckpoint keeps the CheckpointState in a small JSON file, written
// atomically. It is the fallback until storage keeps it.
type FileCheckpoint struct{ Path string }

var _ Checkpoint = FileCheckpoint{}

// Load reads the file; a missing file is the zero state.
func (f FileCheckpoint) Load() (CheckpointState, error) {
	var st CheckpointState
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("meteringlink: checkpoint: %w", err)
	}
	if len(b) > 4096 {
		return st, fmt.Errorf("meteringlink: checkpoint %s: too large", f.Path)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return CheckpointState{}, fmt.Errorf("meteringlink: checkpoint %s: %w", f.Path, err)
	}
	return st, nil
}

// Save writes the state atomically.
func (f FileCheckpoint) Save(st CheckpointState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(f.Path, b, 0o600)
}
