package test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/devices/sim"
	"github.com/gatewayd-project/gatewayd/dr"
	"github.com/gatewayd-project/gatewayd/dr/control"
	"github.com/gatewayd-project/gatewayd/dr/openadr"
	vtnemul "github.com/gatewayd-project/gatewayd/dr/openadr/emul"
	"github.com/gatewayd-project/gatewayd/dr/tariff"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/metering-link/emul"
)

// The reference day's time-of-use tariff.
const scenarioTariff = `tariff:
  timezone: Europe/Berlin
  currency: EUR
  import:
    tou:
      default: 0.30
      zones:
        - {hours: "0-6,22-0", price: 0.20, band: night}
        - {hours: "17-21", price: 0.42, band: peak}
`

// modelSite reads the simulated meter's net power.
type modelSite struct{ m *emul.Model }

func (s modelSite) SitePower() (int64, time.Time, bool) {
	st := s.m.State()
	return st.PowerMW[0] / 1000, st.MeterTime, true
}

// modelReports answers the VEN's report questions from the meter model.
type modelReports struct {
	m   *emul.Model
	svc *dr.Service
}

func (r modelReports) Usage(from, to time.Time) (float64, bool) {
	h := r.m.History(from, to.Add(time.Minute))
	if len(h) < 2 {
		return 0, false
	}
	return float64(h[len(h)-1].ImportMWh-h[0].ImportMWh) / 1e6, true
}

func (r modelReports) Demand(from, to time.Time) (float64, bool) {
	kwh, ok := r.Usage(from, to)
	if !ok || !to.After(from) {
		return 0, false
	}
	return kwh / to.Sub(from).Hours(), true
}

func (r modelReports) OperatingState(id string, _ time.Time) string { return r.svc.OperatingState(id) }

type dayResult struct {
	costEUR     float64
	importKWh   float64
	peakW       int64 // highest import during the event
	violations  []string
	finished    map[energy.DeviceID]time.Time
	deadlines   map[energy.DeviceID]time.Time
	reports     []json.RawMessage
	periodsOver int
}

// runDay simulates the demo home from 00:00 local on day to 08:00 the next
// morning in control periods of 2 s: with control (the real VEN polling the
// emulated VTN over loopback HTTPS, the engine, controller and planner over
// the device registry) or without (dumb appliances, the no-control
// baseline).
func runDay(t *testing.T, controlled bool) dayResult {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tf, err := tariff.Parse([]byte(scenarioTariff))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 8, 11, 0, 0, 0, 0, loc)
	end := start.Add(32 * time.Hour)
	evStart, evEnd := start.Add(17*time.Hour), start.Add(19*time.Hour)
	const limitW, period = 3000, 2 * time.Second

	clk := clocktest.New(start)
	reg := devices.New()
	home, err := sim.New(clk, sim.Config{Location: loc, Dumb: !controlled}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	model := emul.NewModel(clk, emul.ModelConfig{Location: loc, Extra: home.PowerW, History: time.Hour, Retain: 48 * time.Hour})
	site := modelSite{model}

	var svc *dr.Service
	var ven *openadr.VEN
	var vtn *vtnemul.VTN
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if controlled {
		vtn = vtnemul.New(vtnemul.Config{Version: openadr.V301, ClientID: "gw", ClientSecret: "s3cret-for-the-scenario",
			VENName: "gw-4711", Clock: clk, Location: loc}, nil)
		vtn.Scenario(start)
		srv := httptest.NewUnstartedServer(vtn.Handler())
		dir := t.TempDir()
		certFile, keyFile, err := vtnemul.SelfSigned(dir)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener = ln
		srv.StartTLS()
		defer srv.Close()
		pool, err := vtnemul.CertPool(certFile)
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		rs := &modelReports{m: model}
		ven, err = openadr.New(openadr.Config{URL: "https://" + ln.Addr().String(), ClientID: "gw", ClientSecret: "s3cret-for-the-scenario",
			VENName: "gw-4711", HTTP: hc, Clock: clk, Seed: 7, Reports: rs}, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc, err = dr.New(dr.Options{Clock: clk, Registry: reg, Site: site, VEN: ven,
			Control: control.Config{ContractImportW: 11000, Period: period, Seed: 7},
			Tariff:  func() *tariff.Tariff { return tf }, Seed: 7,
			Record: func(kind, subject string, d map[string]string) {},
		})
		if err != nil {
			t.Fatal(err)
		}
		rs.svc = svc
	}

	slots, err := tf.Slots(start, end, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := dayResult{finished: map[energy.DeviceID]time.Time{}, deadlines: map[energy.DeviceID]time.Time{}}
	lastImp := model.State().ImportMWh[0]
	slot := 0
	var prevBase int64
	lastStep := time.Time{}
	nextPoll := start
	for now := start; now.Before(end); {
		if controlled && !now.Before(nextPoll) {
			// The VEN polls every 5 minutes (the daemon: dr.vtn.poll);
			// the new day's prices come a day ahead.
			if now.Equal(start.Add(12 * time.Hour)) {
				vtn.Scenario(start.AddDate(0, 0, 1))
			}
			if err := ven.Poll(ctx); err != nil {
				t.Fatalf("poll at %s: %v", now.Format("15:04"), err)
			}
			nextPoll = now.Add(5 * time.Minute)
		}
		if controlled {
			svc.Step(ctx)
		}
		now = now.Add(period)
		clk.Set(now)
		home.Step()
		st := model.State()
		p := st.PowerMW[0] / 1000
		var managed int64
		for _, d := range reg.Devices() {
			managed += d.State.PowerW
			if d.State.Job != nil {
				res.deadlines[d.ID] = d.State.Job.Deadline
			} else if _, ok := res.deadlines[d.ID]; ok && res.finished[d.ID].IsZero() {
				res.finished[d.ID] = now
			}
		}
		base := p - managed
		// A step: the event starts, or the household's own load jumps.
		if now.Equal(evStart.Add(period)) || base-prevBase > 100 {
			lastStep = now
		}
		prevBase = base
		if !now.Before(evStart) && now.Before(evEnd) {
			res.peakW = max(res.peakW, p)
			if p > limitW {
				res.periodsOver++
				if now.Sub(lastStep) > 2*period {
					res.violations = append(res.violations, fmt.Sprintf("%s: %d W", now.In(loc).Format("15:04:05"), p))
				}
			}
		}
		// Cost per tariff slot from the register.
		for slot < len(slots) && !now.Before(slots[slot].End) {
			imp := st.ImportMWh[0]
			kwh := float64(imp-lastImp) / 1e6
			res.importKWh += kwh
			res.costEUR += kwh * slots[slot].Import
			lastImp = imp
			slot++
		}
	}
	if controlled {
		// Reports for the event's intervals go out on the next polls.
		if err := ven.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		res.reports = vtn.Reports()
	}
	return res
}

// TestDRReferenceDay is the scenario: TOU prices, a 17:00-19:00
// peak event (SIMPLE 2, 3 kW import cap), the demo home's appliances.
func TestDRReferenceDay(t *testing.T) {
	if testing.Short() {
		t.Skip("scenario: 32 simulated hours")
	}
	ctl := runDay(t, true)
	base := runDay(t, false)

	if len(ctl.violations) > 0 {
		t.Errorf("import above the 3 kW cap more than 2 control periods after a step (%d periods):\n%s",
			len(ctl.violations), strings.Join(ctl.violations[:min(10, len(ctl.violations))], "\n"))
	}
	if base.peakW <= 3000 {
		t.Errorf("baseline never exceeds the cap (peak %d W): the scenario tests nothing", base.peakW)
	}
	for id, dl := range ctl.deadlines {
		fin := ctl.finished[id]
		if fin.IsZero() || fin.After(dl) {
			t.Errorf("%s: finished %v, deadline %v", id, fin, dl)
		}
	}
	if len(ctl.deadlines) < 2 {
		t.Errorf("deferrable jobs seen: %v", ctl.deadlines)
	}
	if math.IsNaN(ctl.costEUR) || math.IsNaN(base.costEUR) {
		t.Fatalf("cost is NaN: %v %v", ctl.costEUR, base.costEUR)
	}
	if ctl.costEUR >= base.costEUR {
		t.Errorf("controlled cost %.2f EUR not below the baseline %.2f EUR", ctl.costEUR, base.costEUR)
	}
	kinds := map[string]bool{}
	for _, r := range ctl.reports {
		var rep struct {
			EventID   string `json:"eventID"`
			Resources []struct {
				Intervals []struct {
					Payloads []struct {
						Type string `json:"type"`
					} `json:"payloads"`
				} `json:"intervals"`
			} `json:"resources"`
		}
		if err := json.Unmarshal(r, &rep); err != nil {
			t.Fatal(err)
		}
		for _, res := range rep.Resources {
			for _, iv := range res.Intervals {
				for _, p := range iv.Payloads {
					kinds[p.Type] = true
				}
			}
		}
	}
	for _, k := range []string{"USAGE", "DEMAND", "OPERATING_STATE"} {
		if !kinds[k] {
			t.Errorf("no %s report posted to the VTN (got %v)", k, kinds)
		}
	}
	report := fmt.Sprintf("reference day (32 h from 00:00, Europe/Berlin, TOU 0.20/0.30/0.42 EUR/kWh, peak event 17-19 SIMPLE 2 + 3 kW cap)\n"+
		"  controlled: %.2f EUR, %.1f kWh, event peak %d W, periods over the cap %d (all within 2 periods of a step)\n"+
		"  baseline:   %.2f EUR, %.1f kWh, event peak %d W, periods over the cap %d\n"+
		"  saving:     %.2f EUR (%.0f %%)\n",
		ctl.costEUR, ctl.importKWh, ctl.peakW, ctl.periodsOver,
		base.costEUR, base.importKWh, base.peakW, base.periodsOver,
		base.costEUR-ctl.costEUR, 100*(base.costEUR-ctl.costEUR)/base.costEUR)
	t.Log("\n" + report)
	if dir := os.Getenv("GATEWAYD_ARTIFACTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "dr-reference-day.txt"), []byte(report), 0o644)
	}
}
