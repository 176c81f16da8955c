package main

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/ble"
	bleemul "github.com/gatewayd-project/gatewayd/han/ble/emul"
)

// startBLEDemo makes the demo's emulated BLE adapter: a BTHome water
// meter, gas meter and thermo-hygrometer, an encrypted BTHome power meter
// (its key generated once into <state>/ble/keys) and a smart plug. On the
// first start it pre-adopts all but the thermo-hygrometer, which stays a
// candidate so the household can try adoption; later starts keep what
// the household changed.
func startBLEDemo(stateDir string, clock energy.Clock) (*bleemul.Adapter, error) {
	dir := filepath.Join(stateDir, "ble")
	key, err := ble.LoadKey(dir, bleemul.PowerMeter)
	if err != nil {
		return nil, fmt.Errorf("demo: ble: %w", err)
	}
	if key == nil {
		key = make([]byte, 16)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := ble.SaveKey(dir, bleemul.PowerMeter, key); err != nil {
			return nil, fmt.Errorf("demo: ble: %w", err)
		}
	}
	list, err := ble.LoadAdopted(dir)
	if err != nil {
		return nil, fmt.Errorf("demo: ble: %w", err)
	}
	if list == nil {
		now := clock.Now().UTC()
		list = []ble.Adopted{
			{Addr: bleemul.WaterMeter, Name: "Water meter (BLE)", Kind: ble.KindWaterMeter, Adopted: now},
			{Addr: bleemul.GasMeter, Name: "Gas meter (BLE)", Kind: ble.KindGasMeter, Adopted: now},
			{Addr: bleemul.PowerMeter, Name: "Heat pump meter (BLE)", Kind: ble.KindPowerMeter, Adopted: now},
			{Addr: bleemul.Plug, Name: "Heater plug (BLE)", Kind: ble.KindPlug, Adopted: now},
		}
		if err := ble.SaveAdopted(dir, list); err != nil {
			return nil, fmt.Errorf("demo: ble: %w", err)
		}
	}
	return bleemul.New(bleemul.Config{Clock: clock, Interval: 2 * time.Second, Notify: 2 * time.Second, PowerKey: key, Seed: 3})
}
