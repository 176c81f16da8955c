package coap

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	udpclient "github.com/plgd-dev/go-coap/v3/udp/client"

	"github.com/gatewayd-project/gatewayd/energy"
)

const benchAppliances = 100

// fleet is n appliances with DTLS sessions, registered, each observing
// its /ctl; ctl[i] receives the commands appliance i is notified of.
type fleet struct {
	apps []Appliance
	ccs  []*udpclient.Conn
	ctl  []chan Ctl
}

func newFleet(b *testing.B, r *rig, n int) *fleet {
	b.Helper()
	f := &fleet{}
	for i := range n {
		a := r.pair(b, fmt.Sprintf("appliance %d", i))
		cc := dial(b, r.addr, a)
		if c, body := post(b, cc, "/rd", message.AppLinkFormat, nil, "ep="+a.Identity, "et=heatpump"); c != codes.Created {
			b.Fatalf("register: %v %s", c, body)
		}
		ch := make(chan Ctl, 16)
		_, err := cc.Observe(rctx(b), "/dev/"+a.Identity+"/ctl", func(n *pool.Message) {
			body, err := n.ReadBody()
			if err != nil {
				return
			}
			var c Ctl
			if jsonUnmarshal(body, &c) == nil && c.CmdID != "" {
				select {
				case ch <- c:
				default:
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		f.apps, f.ccs, f.ctl = append(f.apps, a), append(f.ccs, cc), append(f.ctl, ch)
	}
	return f
}

// Telemetry: 100 appliances over DTLS post SenML CBOR concurrently (one
// outstanding request each, as a CoAP client with NSTART 1).
func BenchmarkTelemetryDTLS100(b *testing.B) {
	r := newRig(b, nil)
	f := newFleet(b, r, benchAppliances)
	v, s := 1840.5, 5.2e7
	body, _ := EncodeSenMLCBOR([]Record{{BaseName: "urn:dev:ep:x:", Name: "power", Unit: "W", Value: &v, Sum: &s}})
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := (b.N + benchAppliances - 1) / benchAppliances
	for i := range benchAppliances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/dev/" + f.apps[i].Identity + "/meas"
			for range per {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				resp, err := f.ccs[i].Post(ctx, path, message.AppSenmlCbor, bytes.NewReader(body))
				cancel()
				if err != nil || resp.Code() != codes.Changed {
					b.Errorf("post: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.ReportMetric(float64(per*benchAppliances)/el.Seconds(), "posts/s")
}

// /ctl latency: from the controller's decision (Registry.Command) to the
// appliance's receipt of the notification, over DTLS with 100 observing
// appliances; p50 and p99 in ms (target p99 <= 50 ms).
func BenchmarkCtlLatencyDTLS100(b *testing.B) {
	r := newRig(b, nil)
	f := newFleet(b, r, benchAppliances)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		k := i % benchAppliances
		kind := energy.CmdOff
		if i%2 == 1 {
			kind = energy.CmdOn
		}
		t0 := time.Now()
		if err := r.reg.Command(context.Background(), energy.Command{Device: deviceID(f.apps[k].Identity), Kind: kind}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-f.ctl[k]:
			lat = append(lat, time.Since(t0))
		case <-time.After(5 * time.Second):
			b.Fatal("no notification")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// Memory: the heap held by 100 registered, observing DTLS appliances,
// server and client sides together (both live in this process), in KiB.
func BenchmarkMemoryPer100Appliances(b *testing.B) {
	for range b.N {
		b.StopTimer()
		r := newRig(b, nil)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		f := newFleet(b, r, benchAppliances)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/1024, "KiB/100-appliances")
		b.ReportMetric(float64(r.srv.obs.count()), "observers")
		for _, cc := range f.ccs {
			cc.Close()
		}
		r.stop()
	}
}
