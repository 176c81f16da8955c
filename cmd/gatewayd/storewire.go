package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatewayd-project/gatewayd/energy"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/storage"
)

// kvCheckpoint keeps the metering link's checkpoint in the store's
// key/value bucket (a durable transaction every 15 minutes).
type kvCheckpoint struct{ s *storage.Store }

const checkpointKey = "meter/checkpoint"

// Load takes the last legal time from the history itself (the newest
// committed minute freeze), so a crash between checkpoints loses nothing:
// the gap is backfilled from exactly where the committed data ends.
func (c kvCheckpoint) Load() (meteringlink.CheckpointState, error) {
	var st meteringlink.CheckpointState
	b, ok, err := c.s.Get(checkpointKey)
	if err != nil {
		return st, err
	}
	if ok {
		if err := json.Unmarshal(b, &st); err != nil {
			return meteringlink.CheckpointState{}, fmt.Errorf("checkpoint: %w", err)
		}
	}
	if t, ok, err := c.s.LastLegalMinute("meter", energy.ImportEnergy); err != nil {
		return st, err
	} else if ok {
		st.LastLegal = t
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
