package openadr_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/dr/openadr/emul"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// BenchmarkDecodeEvent decodes the scenario's 96-interval day-ahead price
// event as served by the emulated VTN.
func BenchmarkDecodeEvent(b *testing.B) {
	vtn := emul.New(emul.Config{Clock: clocktest.New(t0)}, nil)
	vtn.Scenario(t0)
	pricesID, _ := emul.ScenarioEventIDs(t0, nil)
	rec := httptest.NewRecorder()
	vtn.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/events/"+pricesID, nil))
	doc := rec.Body.Bytes()
	opt := openadr.DecodeOptions{Now: t0, Seed: 1}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := openadr.DecodeEvent(openadr.V301, doc, opt)
		if err != nil || len(ev.Intervals) != 96 {
			b.Fatal(err)
		}
	}
}

// BenchmarkPollToChanged: the VTN has a new version of an event; time
// from starting a poll (token cached, loopback HTTPS, the scenario's two
// events plus the changed one) until Changed fires.
func BenchmarkPollToChanged(b *testing.B) {
	e := newEnv(b, envOpt{})
	e.vtn.Scenario(t0)
	e.poll(b)
	changed(e.ven)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		if _, err := e.vtn.PutEvent(event(openadr.V301, "bench", t0, time.Hour, 1, i%4, float64(i), "")); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		go func() {
			if err := e.ven.Poll(ctx); err != nil {
				panic(fmt.Sprint("Poll: ", err))
			}
		}()
		<-e.ven.Changed()
	}
	b.StopTimer()
	e.ven.Poll(ctx) // wait for the last poll to finish (polls are serialised)
}
