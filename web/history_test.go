package web

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/storage"
)

func historyServer(t *testing.T) (base, tok string, t0 time.Time) {
	t.Helper()
	t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0)
	s, err := storage.Open(storage.Options{Path: filepath.Join(t.TempDir(), "g.db"), Clock: clk, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i := 0; i < 7200; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		rs := []energy.Reading{{Device: "meter", Quantity: energy.Power, Value: energy.D(int64(1000+i%100), 0), Measured: at, Received: at, Legal: true}}
		if i%60 == 0 {
			rs = append(rs, energy.Reading{Device: "meter", Quantity: energy.ImportEnergy, Value: energy.D(int64(1_000_000+i), 0), Measured: at, Received: at, Legal: true, Minute: true})
		}
		s.Append(rs)
	}
	clk.Set(t0.Add(2*time.Hour + time.Minute))
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(storage.Event{Time: t0.Add(time.Minute), Kind: storage.EventLink, Subject: "meter_link_down", Details: map[string]string{"state": "raised"}}); err != nil {
		t.Fatal(err)
	}
	base, tok = testServer(t, Options{History: s, Now: clk.Now})
	return base, tok, t0
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

func TestSeriesConsumptionEventsExport(t *testing.T) {
	base, tok, t0 := historyServer(t)
	from, to := t0.Format(time.RFC3339), t0.Add(2*time.Hour).Format(time.RFC3339)

	// A known device with no data for a quantity: empty, not an error.
	if r := do(t, "GET", base+"/api/v1/series?"+q("device", "meter", "quantity", "voltage_l1", "from", from, "to", to), tok); r.code != 200 || !strings.Contains(r.body, `"points":[]`) || !strings.Contains(r.body, `"unit":"V"`) {
		t.Fatalf("series without data: %d %s", r.code, r.body)
	}
	if r := do(t, "GET", base+"/api/v1/consumption?"+q("device", "meter", "quantity", "energy_export", "from", from, "to", to), tok); r.code != 200 || !strings.Contains(r.body, `"intervals":[]`) {
		t.Fatalf("consumption without data: %d %s", r.code, r.body)
	}

	r := do(t, "GET", base+"/api/v1/series?"+q("device", "meter", "quantity", "power", "from", from, "to", to, "points", "120"), tok)
	if r.code != 200 {
		t.Fatalf("series: %d %s", r.code, r.body)
	}
	var sr struct {
		Tier   string `json:"tier"`
		Legal  bool   `json:"legal"`
		Points []struct {
			Min, Max, Mean float64
		} `json:"points"`
	}
	if err := json.Unmarshal([]byte(r.body), &sr); err != nil {
		t.Fatal(err)
	}
	// Minute rollups of 1 Hz values 1000 + i%100: peaks survive.
	if sr.Tier != "minute" || sr.Legal || len(sr.Points) != 120 || sr.Points[0].Max != 1059 || sr.Points[0].Min != 1000 || sr.Points[0].Mean != 1029.5 {
		t.Fatalf("series: tier %q legal %v %d points %+v", sr.Tier, sr.Legal, len(sr.Points), sr.Points[:1])
	}

	r = do(t, "GET", base+"/api/v1/consumption?"+q("device", "meter", "quantity", "energy_import", "from", from, "to", to, "step", "hour"), tok)
	var cr struct {
		Intervals []struct {
			Value     *float64 `json:"value"`
			Estimated bool     `json:"estimated"`
		} `json:"intervals"`
	}
	if r.code != 200 || json.Unmarshal([]byte(r.body), &cr) != nil || len(cr.Intervals) != 2 || cr.Intervals[0].Value == nil || *cr.Intervals[0].Value != 3600 {
		t.Fatalf("consumption: %d %s", r.code, r.body)
	}

	r = do(t, "GET", base+"/api/v1/events?"+q("from", from, "to", to, "kind", "link"), tok)
	if r.code != 200 || !strings.Contains(r.body, `"subject":"meter_link_down"`) {
		t.Fatalf("events: %d %s", r.code, r.body)
	}

	r = do(t, "GET", base+"/api/v1/export?"+q("format", "csv", "device", "meter", "quantity", "power", "from", from, "to", t0.Add(time.Minute).Format(time.RFC3339)), tok)
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || len(lines) != 61 || !strings.HasPrefix(lines[0], "time,device,quantity") {
		t.Fatalf("export: %d %q, %d lines", r.code, r.header.Get("Content-Type"), len(lines))
	}
	if do(t, "GET", base+"/api/v1/series?"+q("device", "meter", "quantity", "power"), "").code != 401 {
		t.Fatal("history without a token")
	}
}

// Bad query input gets 400 with a JSON error naming the parameter.
func TestHistoryBadInput(t *testing.T) {
	base, tok, t0 := historyServer(t)
	from, to := t0.Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339)
	for _, tc := range []struct{ path, param string }{
		{"/api/v1/series?" + q("device", "nope", "quantity", "power", "from", from, "to", to), "device"},
		{"/api/v1/series?" + q("quantity", "power"), "device"},
		{"/api/v1/series?" + q("device", "meter", "quantity", "power", "from", to, "to", from), "from"},
		{"/api/v1/series?" + q("device", "meter", "quantity", "power", "from", "yesterday"), "from"},
		{"/api/v1/series?" + q("device", "meter", "quantity", "power", "to", "2026-13-01T00:00:00Z"), "to"},
		{"/api/v1/series?" + q("device", "meter", "quantity", "power", "points", "0"), "points"},
		{"/api/v1/series?" + q("device", "meter", "quantity", "power", "points", "1000000"), "points"},
		{"/api/v1/consumption?" + q("device", "meter", "quantity", "energy_import", "step", "week"), "step"},
		{"/api/v1/consumption?" + q("device", "meter", "quantity", "power", "from", from, "to", to), "quantity"},
		{"/api/v1/events?" + q("limit", "-1"), "limit"},
		{"/api/v1/export?" + q("format", "xml"), "format"},
		{"/api/v1/export?" + q("tier", "hourly"), "tier"},
	} {
		r := do(t, "GET", base+tc.path, tok)
		var e struct{ Error, Code, Param string }
		if r.code != 400 || json.Unmarshal([]byte(r.body), &e) != nil || e.Param != tc.param || e.Code == "" || e.Error == "" {
			t.Errorf("%s: %d %s, want 400 naming %q", tc.path, r.code, r.body, tc.param)
		}
		// The same error in Chinese: another text, same code and param.
		zh := doLang(t, base+tc.path, tok, "zh-CN,zh;q=0.9,en;q=0.5")
		var ez struct{ Error, Code, Param string }
		if zh.code != 400 || json.Unmarshal([]byte(zh.body), &ez) != nil || ez.Code != e.Code || ez.Param != e.Param || ez.Error == e.Error {
			t.Errorf("%s in zh-CN: %d %s, want the localised twin of %s", tc.path, zh.code, zh.body, r.body)
		}
	}
}
