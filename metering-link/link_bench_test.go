package meteringlink_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/metering-link/dlt645"
	"github.com/gatewayd-project/gatewayd/metering-link/emul"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// BenchmarkLinkUtilisation measures DL/T 645 reads of one energy register
// (4 FE + 16-byte request, 20-byte reply) against the emulated meter over a
// real pty, whose line is simulated at the given rate with 11 bits per
// character and Td = 20 ms. utilisation = achieved transactions/s divided
// by the theoretical maximum 1 / ((request + reply) x 11 bits / baud + Td).
// Target: >= 0.9 at 9600 and 2400 baud.
func BenchmarkLinkUtilisation(b *testing.B) {
	for _, baud := range []int{9600, 2400} {
		b.Run(map[int]string{9600: "9600", 2400: "2400"}[baud], func(b *testing.B) {
			const td = 20 * time.Millisecond
			m, stop := startMeter(b, energy.SystemClock{}, emul.Config{Baud: baud, Td: td})
			defer stop()
			mode := serialport.Mode8E1(baud)
			port, err := serialport.Open(m.Config().Link, mode)
			if err != nil {
				b.Fatal(err)
			}
			defer port.Close()
			conn := serialport.NewConn(port)
			addr, _ := dlt645.ParseAddress(m.Config().Address)
			cl := dlt645.Client{Addr: addr, Mode: mode}
			ctx := context.Background()
			if _, err := cl.Read(ctx, conn, dlt645.DIForwardActive); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			t0 := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := cl.Read(ctx, conn, dlt645.DIForwardActive); err != nil {
					b.Fatal(err)
				}
			}
			el := time.Since(t0)
			theory := mode.TxTime(4+16+20) + td
			achieved := float64(b.N) / el.Seconds()
			b.ReportMetric(achieved, "tx/s")
			b.ReportMetric(1/theory.Seconds(), "max-tx/s")
			b.ReportMetric(achieved*theory.Seconds(), "utilisation")
		})
	}
}
