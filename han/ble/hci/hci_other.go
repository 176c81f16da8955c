//go:build !linux

package hci

import (
	"fmt"

	"github.com/gatewayd-project/gatewayd/han/ble"
)

// Open fails: go-ble's HCI transport is Linux only.
func Open(name string, active bool) (ble.Adapter, error) {
	return nil, fmt.Errorf("%w: %s: HCI is only available on Linux", ble.ErrNoAdapter, name)
}
