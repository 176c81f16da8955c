package emul

import (
	"testing"
	"time"
)

// One Get E7 handled by the smart meter node, the clock a second later
// each time (so a step is integrated too).
func BenchmarkNodeHandleGet(b *testing.B) {
	h, clk := newHome(b, time.Date(2024, 5, 20, 18, 0, 0, 0, jst), Options{})
	n := h.Nodes()[0]
	req := hx(b, "10 81 00 01 05 FF 01 02 88 01 62 01 E7 00")
	b.ReportAllocs()
	for b.Loop() {
		clk.Advance(time.Second)
		if len(n.Handle(req)) != 1 {
			b.Fatal("no reply")
		}
	}
}
