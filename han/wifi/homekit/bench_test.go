package homekit

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/gatewayd-project/gatewayd/energy"
)

// BenchmarkBridgeMemory builds the bridge (accessory tree and hap server)
// for N metered switchable devices and reports the heap it holds per
// accessory, and the time a rebuild takes.
func BenchmarkBridgeMemory(b *testing.B) {
	for _, n := range []int{10, 100, 140} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			var infos []energy.DeviceInfo
			for i := range n {
				infos = append(infos, energy.DeviceInfo{ID: energy.DeviceID(fmt.Sprintf("dev-%03d", i)), Name: fmt.Sprintf("Plug %d", i),
					Kind: "relay", Caps: energy.Capabilities{energy.CapSwitch, energy.CapMeter}})
			}
			reg, _ := home(infos...)
			br, err := New(Options{Store: newStore(), Registry: reg, Meter: fakeMeter{w: 1000, wh: 5000}})
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := br.build(); err != nil { // aids and hap keys stored
				b.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, kept, err := br.build()
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(kept)
			perAcc := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n+4)
			b.ResetTimer()
			for range b.N {
				if _, _, err := br.build(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(perAcc, "heapB/accessory")
		})
	}
}
