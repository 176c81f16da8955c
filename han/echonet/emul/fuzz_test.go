package emul

import (
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/han/echonet"
)

// Random bytes into Handle never panic, and whatever comes back decodes.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		"10 81 00 01 05 FF 01 02 88 01 62 01 E7 00",
		"10 81 00 06 05 FF 01 0E F0 01 63 01 D5 00",
		"10 81 00 04 05 FF 01 02 88 01 61 01 E5 01 01",
		"10 81 00 08 05 FF 01 01 30 00 6E 01 B3 01 1A 02 B3 00 84 00",
	} {
		f.Add(hx(f, s))
	}
	all := Options{Nodes: [][]echonet.Class{{echonet.ClassSmartMeter, echonet.ClassGasMeter,
		echonet.ClassWaterFlowMeter, echonet.ClassAirConditioner, echonet.ClassElectricWaterHtr,
		echonet.ClassStorageBattery}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		// A fresh Home per input keeps the target deterministic, which
		// the minimizer needs.
		h, clk := newHome(t, time.Date(2024, 5, 20, 23, 50, 0, 0, jst), all)
		clk.Advance(15 * time.Minute) // across midnight
		for _, r := range h.Nodes()[0].Handle(b) {
			if _, err := echonet.Decode(r); err != nil {
				t.Fatalf("reply %X to %X: %v", r, b, err)
			}
		}
	})
}
