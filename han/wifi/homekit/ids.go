package homekit

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/brutella/hap"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Fixed accessory ids.
const (
	AIDBridge    = 1
	AIDGridEvent = 2
	AIDOptOut    = 3
	AIDMeter     = 4
	// FirstDeviceAID is the first aid given to a registry device.
	FirstDeviceAID = 100
	// MaxAccessories is HAP's limit of accessory objects behind a bridge
	// (R2: 150), the bridge included.
	MaxAccessories = 150
)

// aidMap is the persisted device -> aid mapping.
type aidMap struct {
	Next uint64                     `json:"next"`
	IDs  map[energy.DeviceID]uint64 `json:"ids"`
}

// loadAIDs reads the mapping; a missing key is an empty mapping.
func loadAIDs(st hap.Store) (aidMap, error) {
	m := aidMap{Next: FirstDeviceAID, IDs: map[energy.DeviceID]uint64{}}
	b, err := getOpt(st, keyAIDs)
	if err != nil || b == nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("homekit: accessory ids: %w", err)
	}
	if m.IDs == nil {
		m.IDs = map[energy.DeviceID]uint64{}
	}
	m.Next = max(m.Next, FirstDeviceAID)
	for _, a := range m.IDs {
		m.Next = max(m.Next, a+1)
	}
	return m, nil
}

// assignAIDs returns the aid of each device, giving new devices the next
// free aid and storing the mapping when it grew. Devices that left keep
// their aid in the mapping, so an aid is never reused for another device.
func assignAIDs(st hap.Store, ids []energy.DeviceID) (map[energy.DeviceID]uint64, error) {
	m, err := loadAIDs(st)
	if err != nil {
		return nil, err
	}
	grew := false
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for _, id := range sorted {
		if _, ok := m.IDs[id]; !ok {
			m.IDs[id] = m.Next
			m.Next++
			grew = true
		}
	}
	if grew {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("homekit: accessory ids: %w", err)
		}
		if err := st.Set(keyAIDs, b); err != nil {
			return nil, fmt.Errorf("homekit: store accessory ids: %w", err)
		}
	}
	out := make(map[energy.DeviceID]uint64, len(ids))
	for _, id := range ids {
		out[id] = m.IDs[id]
	}
	return out, nil
}
