package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/energy"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/storage"
)

// kvCheckpoint keeps the metering link's checkpoint in the store's
// key/value bucket (a durable transaction every 15 minutes).
type kvCheckpoint struct{ s *storage.Store }

const checkpointKey = "meter/checkpoint"

// Load returns the link's own completeness watermark: every legal minute
// before LastLegal is stored (saved every 15 minutes, so after a crash the
// backfill re-reads at most 15 minutes it already has; legal values keep
// their first committed copy).
func (c kvCheckpoint) Load() (meteringlink.CheckpointState, error) {
	var st meteringlink.CheckpointState
	b, ok, err := c.s.Get(checkpointKey)
	if err != nil || !ok {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return meteringlink.CheckpointState{}, fmt.Errorf("checkpoint: %w", err)
	}
	return st, nil
}

func (c kvCheckpoint) Save(st meteringlink.CheckpointState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return c.s.Put(checkpointKey, b)
}

// meterWrap is where the metrology core's energy registers roll over:
// DL/T 645 XXXXXX.XX kWh wraps at 1,000,000 kWh = 1e9 Wh; IEC 62056-21
// registers usually show 6 integer digits of kWh too.
func meterWrap(d energy.DeviceID, q energy.Quantity) (energy.Decimal, bool) {
	if d == "meter" && strings.HasPrefix(string(q), "energy_") {
		return energy.D(1, 9), true
	}
	return energy.Decimal{}, false
}

// noteConfig records a config change in the events log: the file's
// SHA-256 is compared with the one seen at the previous start.
func (g *gateway) noteConfig(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	now := hex.EncodeToString(sum[:])
	prev, ok, err := g.store.Get("config/sha256")
	if err != nil || (ok && string(prev) == now) {
		return err
	}
	details := map[string]string{"path": path, "sha256": now}
	if ok {
		details["previous"] = string(prev)
	}
	if err := g.store.AddEvent(storage.Event{Kind: storage.EventConfig, Subject: filepath.Base(path), Details: details}); err != nil {
		return err
	}
	return g.store.Put("config/sha256", []byte(now))
}

// storeOptions are the store's options from the config: the file,
// commit interval, retention and the meter's register wrap.
func storeOptions(cfg config.Config, log *slog.Logger) storage.Options {
	r := cfg.Storage.Retention
	return storage.Options{
		Path: cfg.Storage.DBPath(cfg.StateDir), CommitInterval: cfg.Storage.CommitInterval,
		Retention: storage.Retention{Raw: r.Raw, Minute: r.Minute, Quarter: r.Quarter, Day: r.Day},
		Log:       log, Wrap: meterWrap,
	}
}
