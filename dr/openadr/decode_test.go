package openadr

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var now0 = time.Date(2026, 8, 11, 12, 0, 0, 0, time.UTC)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecode(t *testing.T, v Version, doc string, opt DecodeOptions) Event {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = now0
	}
	e, err := DecodeEvent(v, []byte(doc), opt)
	if err != nil {
		t.Fatalf("DecodeEvent: %v", err)
	}
	return e
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDecodeDigestDayAhead(t *testing.T) {
	e := mustDecode(t, V301, string(readFile(t, "event30_dayahead.json")), DecodeOptions{Program: &Program{ID: "prg-res-dynamic", Name: "dynamic"}})
	if e.ID != "evt-20260811-dayahead" || e.ProgramID != "prg-res-dynamic" || e.ProgramName != "dynamic" || e.Priority != 10 || e.Currency != "EUR" {
		t.Fatalf("header: %+v", e)
	}
	if len(e.Targets) != 1 || e.Targets[0] != "GROUP:feeder-17" {
		t.Errorf("targets %v", e.Targets)
	}
	if !e.Modified.Equal(ts("2026-08-10T12:05:11Z")) {
		t.Errorf("modified %v", e.Modified)
	}
	want := []struct {
		start       string
		price, expo float64
	}{{"2026-08-10T22:00:00Z", 0.231, 0.072}, {"2026-08-10T23:00:00Z", 0.214, 0.068}, {"2026-08-11T00:00:00Z", 0.198, 0.061}}
	if len(e.Intervals) != 3 {
		t.Fatalf("%d intervals", len(e.Intervals))
	}
	for i, w := range want {
		iv := e.Intervals[i]
		if iv.ID != i || !iv.Start.Equal(ts(w.start)) || !iv.End.Equal(ts(w.start).Add(time.Hour)) ||
			*iv.Price != w.price || *iv.ExportPrice != w.expo || iv.Simple != nil {
			t.Errorf("interval %d: %+v", i, iv)
		}
	}
	if !e.Start.Equal(ts("2026-08-10T22:00:00Z")) || !e.End.Equal(ts("2026-08-11T01:00:00Z")) {
		t.Errorf("span %v-%v", e.Start, e.End)
	}
	rd := ReportDescriptor{PayloadType: "USAGE", ReadingType: "DIRECT_READ", Units: "KWH", Aggregate: true, StartInterval: -1, NumIntervals: -1, Historical: true, Frequency: -1, Repeat: 1}
	if len(e.Reports) != 1 || e.Reports[0] != rd {
		t.Errorf("reports %+v", e.Reports)
	}
	if s := e.StatusAt(ts("2026-08-10T21:59:59Z")); s != StatusPending {
		t.Errorf("status before: %s", s)
	}
	if s := e.StatusAt(ts("2026-08-11T00:30:00Z")); s != StatusActive {
		t.Errorf("status during: %s", s)
	}
	if s := e.StatusAt(ts("2026-08-11T01:00:00Z")); s != StatusCompleted {
		t.Errorf("status at end: %s", s)
	}
}

func TestDecodeDigestPeakNeedsID(t *testing.T) {
	// The digest's peak event is a BL document: the VTN adds the id.
	_, err := DecodeEvent(V301, readFile(t, "event30_peak_bl.json"), DecodeOptions{Now: now0})
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "id" || !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeDigestPeakBothVersions(t *testing.T) {
	for _, c := range []struct {
		v      Version
		file   string
		target string
	}{{V301, "event30_peak.json", "VEN_NAME:gw-4711"}, {V31, "event31_peak.json", "gw-4711"}} {
		t.Run(string(c.v), func(t *testing.T) {
			e := mustDecode(t, c.v, string(readFile(t, c.file)), DecodeOptions{Seed: 1})
			if len(e.Targets) != 1 || e.Targets[0] != c.target || e.Priority != 0 {
				t.Fatalf("targets %v priority %d", e.Targets, e.Priority)
			}
			off := e.Intervals[0].Start.Sub(ts("2026-08-11T15:00:00Z"))
			if off < -5*time.Minute || off > 5*time.Minute || off%time.Second != 0 {
				t.Fatalf("offset %v", off)
			}
			// The following interval moves with the first.
			if !e.Intervals[1].Start.Equal(e.Intervals[0].End) || e.Intervals[1].End.Sub(e.Intervals[1].Start) != time.Hour {
				t.Fatalf("second interval %+v", e.Intervals[1])
			}
			if *e.Intervals[0].Simple != 1 || *e.Intervals[1].Simple != 2 || *e.Intervals[1].ImportLimitKW != 3.0 {
				t.Fatalf("payloads %+v", e.Intervals)
			}
			if len(e.Reports) != 2 || e.Reports[0].PayloadType != "DEMAND" || e.Reports[1].Repeat != 1 {
				t.Fatalf("reports %+v", e.Reports)
			}
			// Stable across re-polls; different per VEN seed.
			again := mustDecode(t, c.v, string(readFile(t, c.file)), DecodeOptions{Seed: 1, Now: now0.Add(time.Hour)})
			if !again.Intervals[0].Start.Equal(e.Intervals[0].Start) {
				t.Fatal("offset changed on re-poll")
			}
			offs := map[time.Duration]bool{}
			for seed := uint64(0); seed < 20; seed++ {
				o := mustDecode(t, c.v, string(readFile(t, c.file)), DecodeOptions{Seed: seed})
				offs[o.Intervals[0].Start.Sub(ts("2026-08-11T15:00:00Z"))] = true
			}
			if len(offs) < 10 {
				t.Fatalf("offsets hardly vary: %v", offs)
			}
			// A modification re-randomises.
			mod := strings.Replace(string(readFile(t, c.file)), `"modificationDateTime": "2026-08-10T12:05:11Z"`, `"modificationDateTime": "2026-08-10T13:00:00Z"`, 1)
			diff := 0
			for seed := uint64(0); seed < 10; seed++ {
				a := mustDecode(t, c.v, string(readFile(t, c.file)), DecodeOptions{Seed: seed})
				b := mustDecode(t, c.v, mod, DecodeOptions{Seed: seed})
				if !a.Intervals[0].Start.Equal(b.Intervals[0].Start) {
					diff++
				}
			}
			if diff < 5 {
				t.Fatalf("modification changed the offset for only %d of 10 seeds", diff)
			}
		})
	}
}

func TestDecodeVersionMismatch(t *testing.T) {
	_, err := DecodeEvent(V301, readFile(t, "event31_peak.json"), DecodeOptions{Now: now0})
	if err == nil || !strings.Contains(err.Error(), "targets[0]") || !strings.Contains(err.Error(), "evt-20260811-peak") {
		t.Fatalf("3.1 targets as 3.0.1: %v", err)
	}
	_, err = DecodeEvent(V31, readFile(t, "event30_peak.json"), DecodeOptions{Now: now0})
	if err == nil || !strings.Contains(err.Error(), "targets[0]") {
		t.Fatalf("3.0.1 targets as 3.1: %v", err)
	}
}

// ev builds a 3.0.1 event around the given fields.
func ev(fields string) string {
	return `{"id":"e1","programID":"p1","modificationDateTime":"2026-08-11T00:00:00Z",` + fields + `}`
}

func TestDecodeTiming(t *testing.T) {
	seen := now0.Add(-10 * time.Minute)
	cases := []struct {
		name    string
		v       Version
		doc     string
		opt     DecodeOptions
		want    [][2]string // start, end ("" = open)
		ids     []int
		cancel  bool
		evStart string
		evEnd   string
	}{
		{
			name: "override and follow",
			doc: ev(`"intervalPeriod":{"start":"2026-08-11T10:00:00Z","duration":"PT1H"},"intervals":[
				{"id":0,"payloads":[]},
				{"id":1,"intervalPeriod":{"start":"2026-08-11T14:00:00Z","duration":"PT30M"},"payloads":[]},
				{"id":2,"payloads":[]},
				{"id":3,"intervalPeriod":{"start":"0001-01-01","duration":"PT2H"}}]`),
			want: [][2]string{{"2026-08-11T10:00:00Z", "2026-08-11T11:00:00Z"}, {"2026-08-11T14:00:00Z", "2026-08-11T14:30:00Z"},
				{"2026-08-11T14:30:00Z", "2026-08-11T15:30:00Z"}, {"2026-08-11T15:30:00Z", "2026-08-11T17:30:00Z"}},
			ids: []int{0, 1, 2, 3},
		},
		{
			name: "interval period without duration inherits",
			doc:  ev(`"intervalPeriod":{"start":"2026-08-11T10:00:00Z","duration":"PT15M"},"intervals":[{"id":7,"intervalPeriod":{"start":"2026-08-11T11:00:00Z"}}]`),
			want: [][2]string{{"2026-08-11T11:00:00Z", "2026-08-11T11:15:00Z"}},
			ids:  []int{7},
		},
		{
			name: "no event period, every interval has one",
			doc:  ev(`"intervals":[{"id":1,"intervalPeriod":{"start":"2026-08-11T12:00:00+02:00","duration":"PT1H"}},{"id":0,"intervalPeriod":{"start":"2026-08-11T08:00:00Z","duration":"PT1H"}}]`),
			want: [][2]string{{"2026-08-11T08:00:00Z", "2026-08-11T09:00:00Z"}, {"2026-08-11T10:00:00Z", "2026-08-11T11:00:00Z"}},
			ids:  []int{0, 1},
		},
		{
			name: "sentinel start is when first seen",
			doc:  ev(`"intervalPeriod":{"start":"0001-01-01","duration":"PT1H"},"intervals":[{"id":0},{"id":1}]`),
			opt:  DecodeOptions{Seen: seen},
			want: [][2]string{{seen.Format(time.RFC3339), seen.Add(time.Hour).Format(time.RFC3339)}, {seen.Add(time.Hour).Format(time.RFC3339), seen.Add(2 * time.Hour).Format(time.RFC3339)}},
			ids:  []int{0, 1},
		},
		{
			name: "sentinel with time, no Seen: now",
			doc:  ev(`"intervalPeriod":{"start":"0001-01-01T00:00:00Z","duration":"PT5M"},"intervals":[{"id":0}]`),
			want: [][2]string{{now0.Format(time.RFC3339), now0.Add(5 * time.Minute).Format(time.RFC3339)}},
			ids:  []int{0},
		},
		{
			name:  "do it now, forever",
			doc:   ev(`"intervalPeriod":{"start":"0001-01-01","duration":"P9999Y"},"intervals":[{"id":0,"payloads":[{"type":"ALERT_GRID_EMERGENCY","values":["call"]}]}]`),
			want:  [][2]string{{now0.Format(time.RFC3339), ""}},
			ids:   []int{0},
			evEnd: "",
		},
		{
			name:   "cancelled",
			doc:    ev(`"intervalPeriod":{"start":"0001-01-01","duration":"PT0S"},"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[2]}]}]`),
			cancel: true,
		},
		{
			name:   "cancelled, default duration",
			doc:    ev(`"intervalPeriod":{"start":"0001-01-01"},"intervals":[{"id":0},{"id":1}]`),
			cancel: true,
		},
		{
			name:   "cancelled 3.1 without intervals",
			v:      V31,
			doc:    `{"id":"e1","intervalPeriod":{"start":"0001-01-01","duration":"PT0S"}}`,
			cancel: true,
		},
		{
			name: "compact multi-value splits",
			v:    V31,
			doc: `{"id":"e1","programID":"p","intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT3H"},
				"intervals":[{"id":4,"payloads":[{"type":"PRICE","values":[0.17,0.03,0.11]},{"type":"SIMPLE","values":[1]}]}]}`,
			want: [][2]string{{"2026-08-11T00:00:00Z", "2026-08-11T01:00:00Z"}, {"2026-08-11T01:00:00Z", "2026-08-11T02:00:00Z"}, {"2026-08-11T02:00:00Z", "2026-08-11T03:00:00Z"}},
			ids:  []int{4, 4, 4},
		},
		{
			name: "3.1 loop, finite",
			v:    V31,
			doc: `{"id":"e1","duration":"PT12H","intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT2H"},
				"intervals":[{"id":0},{"id":1}]}`,
			want: [][2]string{
				{"2026-08-11T00:00:00Z", "2026-08-11T02:00:00Z"}, {"2026-08-11T02:00:00Z", "2026-08-11T04:00:00Z"},
				{"2026-08-11T04:00:00Z", "2026-08-11T06:00:00Z"}, {"2026-08-11T06:00:00Z", "2026-08-11T08:00:00Z"},
				{"2026-08-11T08:00:00Z", "2026-08-11T10:00:00Z"}, {"2026-08-11T10:00:00Z", "2026-08-11T12:00:00Z"}},
			ids:     []int{0, 1, 0, 1, 0, 1},
			evStart: "2026-08-11T00:00:00Z",
			evEnd:   "2026-08-11T12:00:00Z",
		},
		{
			name: "3.1 loop truncated mid-interval",
			v:    V31,
			doc: `{"id":"e1","duration":"PT5H","intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT2H"},
				"intervals":[{"id":0},{"id":1}]}`,
			want:  [][2]string{{"2026-08-11T00:00:00Z", "2026-08-11T02:00:00Z"}, {"2026-08-11T02:00:00Z", "2026-08-11T04:00:00Z"}, {"2026-08-11T04:00:00Z", "2026-08-11T05:00:00Z"}},
			ids:   []int{0, 1, 0},
			evEnd: "2026-08-11T05:00:00Z",
		},
		{
			name:  "3.1 duration shorter: truncation",
			v:     V31,
			doc:   `{"id":"e1","duration":"PT3H","intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT2H"},"intervals":[{"id":0},{"id":1},{"id":2}]}`,
			want:  [][2]string{{"2026-08-11T00:00:00Z", "2026-08-11T02:00:00Z"}, {"2026-08-11T02:00:00Z", "2026-08-11T03:00:00Z"}},
			ids:   []int{0, 1},
			evEnd: "2026-08-11T03:00:00Z",
		},
		{
			name: "3.0.1 ignores event duration",
			doc:  ev(`"duration":"PT1H","intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT2H"},"intervals":[{"id":0},{"id":1}]`),
			want: [][2]string{{"2026-08-11T00:00:00Z", "2026-08-11T02:00:00Z"}, {"2026-08-11T02:00:00Z", "2026-08-11T04:00:00Z"}},
			ids:  []int{0, 1},
		},
		{
			name: "week and days",
			doc:  ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"P1W"},"intervals":[{"id":0},{"id":1,"intervalPeriod":{"start":"0001-01-01","duration":"P1DT0.5S"}}]`),
			want: [][2]string{{"2026-08-11T00:00:00Z", "2026-08-18T00:00:00Z"}, {"2026-08-18T00:00:00Z", "2026-08-19T00:00:00.5Z"}},
			ids:  []int{0, 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.v
			if v == "" {
				v = V301
			}
			e := mustDecode(t, v, c.doc, c.opt)
			if e.Cancelled != c.cancel {
				t.Fatalf("cancelled = %v", e.Cancelled)
			}
			if c.cancel {
				if e.StatusAt(now0) != StatusCancelled {
					t.Fatalf("status %s", e.StatusAt(now0))
				}
				if _, ok := e.IntervalAt(now0); ok {
					t.Fatal("cancelled event has an interval in force")
				}
				return
			}
			if len(e.Intervals) != len(c.want) {
				t.Fatalf("%d intervals, want %d: %+v", len(e.Intervals), len(c.want), e.Intervals)
			}
			for i, w := range c.want {
				iv := e.Intervals[i]
				end := ""
				if !iv.End.IsZero() {
					end = iv.End.Format(time.RFC3339Nano)
				}
				wantEnd := w[1]
				if wantEnd != "" {
					wantEnd = ts(wantEnd).UTC().Format(time.RFC3339Nano)
				}
				if !iv.Start.Equal(ts(w[0])) || end != wantEnd || iv.ID != c.ids[i] {
					t.Errorf("interval %d = [%v, %q) id %d; want [%s, %s) id %d", i, iv.Start, end, iv.ID, w[0], w[1], c.ids[i])
				}
			}
			if c.evStart != "" && !e.Start.Equal(ts(c.evStart)) {
				t.Errorf("event start %v", e.Start)
			}
			if c.evEnd != "" && !e.End.Equal(ts(c.evEnd)) {
				t.Errorf("event end %v", e.End)
			}
		})
	}
}

func TestDecodeCompactValues(t *testing.T) {
	e := mustDecode(t, V31, `{"id":"e1","intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT3H"},
		"payloadDescriptors":[{"payloadType":"PRICE","units":"MWH","currency":"EUR"}],
		"intervals":[{"id":4,"payloads":[{"type":"PRICE","values":[170,30,110]},{"type":"GHG","values":[300,200,100]},{"type":"CURVE","values":[{"x":1,"y":2},{"x":3,"y":4}]}]}]}`, DecodeOptions{})
	for i, want := range []float64{0.17, 0.03, 0.11} {
		iv := e.Intervals[i]
		if *iv.Price != want || iv.Other["GHG"][0] != []float64{300, 200, 100}[i] || len(iv.Other["CURVE"]) != 2 || iv.Other["CURVE"][1] != (Point{3, 4}) {
			t.Errorf("sub-interval %d: price %v other %v", i, *iv.Price, iv.Other)
		}
	}
	if e.Currency != "EUR" {
		t.Errorf("currency %q", e.Currency)
	}
	ps := Prices([]Event{e})
	if len(ps) != 3 || ps[2].Value != 0.11 || !ps[2].Start.Equal(ts("2026-08-11T02:00:00Z")) || ps[2].Currency != "EUR" {
		t.Errorf("prices %+v", ps)
	}
}

func TestDecodeUnits(t *testing.T) {
	e := mustDecode(t, V301, ev(`"payloadDescriptors":[{"payloadType":"IMPORT_CAPACITY_LIMIT","units":"W"}],
		"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT1H"},"intervals":[{"id":0,"payloads":[{"type":"IMPORT_CAPACITY_LIMIT","values":[3500]}]}]`), DecodeOptions{})
	if *e.Intervals[0].ImportLimitKW != 3.5 {
		t.Fatalf("limit %v", *e.Intervals[0].ImportLimitKW)
	}
	// The program's descriptor is the fallback.
	e = mustDecode(t, V301, ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT1H"},"intervals":[{"id":0,"payloads":[{"type":"PRICE","values":[250]}]}]`),
		DecodeOptions{Program: &Program{ID: "p1", Name: "x", Descriptors: []PayloadDescriptor{{PayloadType: "PRICE", Units: "MWH", Currency: "CHF"}}}})
	if *e.Intervals[0].Price != 0.25 || e.Currency != "CHF" {
		t.Fatalf("price %v %q", *e.Intervals[0].Price, e.Currency)
	}
}

func TestDecodeLoopForever(t *testing.T) {
	doc := string(readFile(t, "event31_dayahead_loop.json"))
	now := ts("2026-08-20T12:30:00Z")
	e := mustDecode(t, V31, doc, DecodeOptions{Now: now})
	if !e.End.IsZero() || e.StatusAt(now.AddDate(5, 0, 0)) != StatusActive {
		t.Fatalf("endless loop: end %v", e.End)
	}
	iv, ok := e.IntervalAt(now)
	// The cycle is 3 h from 22:00: 12:30 is 14.5 h in, cycle 4, offset 2.5 h → interval 2.
	if !ok || iv.ID != 2 || *iv.Price != 0.198 || !iv.Start.Equal(ts("2026-08-20T12:00:00Z")) {
		t.Fatalf("interval at now: %+v %v", iv, ok)
	}
	last := e.Intervals[len(e.Intervals)-1]
	if last.End.Before(now.Add(LoopHorizon)) || e.Intervals[0].Start.After(now.Add(-3*time.Hour)) {
		t.Fatalf("window %v..%v", e.Intervals[0].Start, last.End)
	}
	if len(e.Intervals) > MaxExpanded {
		t.Fatal("window too large")
	}
}

func TestDecodeMalformed(t *testing.T) {
	period := `"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT1H"}`
	many := func(n int, item string) string {
		s := make([]string, n)
		for i := range s {
			s[i] = strings.ReplaceAll(item, "N", fmt.Sprint(i))
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		name, v, doc, field string
	}{
		{"bad json", "", `{"id":"e1",`, "(document)"},
		{"not an object", "", `[1,2]`, "(document)"},
		{"no id", "", `{"programID":"p","intervals":[]}`, "id"},
		{"id not string", "", `{"id":5,"programID":"p","intervals":[]}`, "id"},
		{"no programID", "", `{"id":"e1",` + period + `,"intervals":[]}`, "programID"},
		{"no intervals", "", ev(period), "intervals"},
		{"intervals not array", "", ev(period + `,"intervals":{}`), "intervals"},
		{"priority negative", "", ev(`"priority":-1,` + period + `,"intervals":[]`), "priority"},
		{"priority text", "", ev(`"priority":"high",` + period + `,"intervals":[]`), "priority"},
		{"priority fraction", "", ev(`"priority":1.5,` + period + `,"intervals":[]`), "priority"},
		{"simple 4", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[4]}]}]`), "intervals[0].payloads[0].values[0]"},
		{"simple -1", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[-1]}]}]`), "intervals[0].payloads[0].values[0]"},
		{"simple fraction", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[1.5]}]}]`), "intervals[0].payloads[0].values[0]"},
		{"simple text", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":["2"]}]}]`), "intervals[0].payloads[0].values[0]"},
		{"simple empty", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"SIMPLE","values":[]}]}]`), "intervals[0].payloads[0].values"},
		{"negative limit", "", ev(period + `,"intervals":[{"id":0},{"id":1,"payloads":[{"type":"IMPORT_CAPACITY_LIMIT","values":[-3]}]}]`), "intervals[1].payloads[0].values[0]"},
		{"price text", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"PRICE","values":["NaN"]}]}]`), "intervals[0].payloads[0].values[0]"},
		{"price null", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"PRICE","values":[null]}]}]`), "intervals[0].payloads[0].values[0]"},
		{"number overflow", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"PRICE","values":[1e400]}]}]`), "intervals[0].payloads[0].values[0]"},
		{"bad duration", "", ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT1X"},"intervals":[]`), "intervalPeriod.duration"},
		{"negative duration", "", ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"-PT1H"},"intervals":[]`), "intervalPeriod.duration"},
		{"bad interval duration", "", ev(period + `,"intervals":[{"id":0,"intervalPeriod":{"start":"0001-01-01","duration":"1H"}}]`), "intervals[0].intervalPeriod.duration"},
		{"bad randomize", "", ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT1H","randomizeStart":"P9999Y"},"intervals":[]`), "intervalPeriod.randomizeStart"},
		{"huge randomize", "", ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"PT1H","randomizeStart":"P2Y"},"intervals":[{"id":0}]`), "intervalPeriod.randomizeStart"},
		{"start without offset", "", ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00","duration":"PT1H"},"intervals":[]`), "intervalPeriod.start"},
		{"start garbage", "", ev(`"intervalPeriod":{"start":"tomorrow","duration":"PT1H"},"intervals":[]`), "intervalPeriod.start"},
		{"missing period", "", ev(`"intervals":[{"id":0}]`), "intervals[0].intervalPeriod"},
		{"missing start", "", ev(`"intervalPeriod":{"duration":"PT1H"},"intervals":[{"id":0}]`), "intervalPeriod.start"},
		{"no interval id", "", ev(period + `,"intervals":[{"payloads":[]}]`), "intervals[0].id"},
		{"follows open-ended", "", ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"P9999Y"},"intervals":[{"id":0},{"id":1}]`), "intervals[1]"},
		{"duplicate type", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"PRICE","values":[1]},{"type":"PRICE","values":[2]}]}]`), "intervals[0].payloads[1].type"},
		{"empty type", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"","values":[1]}]}]`), "intervals[0].payloads[0].type"},
		{"mismatched counts", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"PRICE","values":[1,2]},{"type":"EXPORT_PRICE","values":[1,2,3]}]}]`), "intervals[0].payloads[1].values"},
		{"split open-ended", "", ev(`"intervalPeriod":{"start":"2026-08-11T00:00:00Z","duration":"P9999Y"},"intervals":[{"id":0,"payloads":[{"type":"PRICE","values":[1,2]}]}]`), "intervals[0].payloads"},
		{"unsupported units", "", ev(`"payloadDescriptors":[{"payloadType":"PRICE","units":"THERMS"}],` + period + `,"intervals":[]`), "payloadDescriptors[0].units"},
		{"too many intervals", "", ev(period + `,"intervals":[` + many(MaxIntervals+1, `{"id":N}`) + `]`), "intervals"},
		{"too many values", "", ev(period + `,"intervals":[{"id":0,"payloads":[{"type":"X","values":[` + many(MaxValues+1, `N`) + `]}]}]`), "intervals[0].payloads[0].values"},
		{"too many sub-intervals", "", ev(period + `,"intervals":[` + many(11, `{"id":N,"payloads":[{"type":"PRICE","values":[`+many(1000, "1")+`]}]}`) + `]`), "intervals"},
		{"3.1 string targets on 3.0.1", "", ev(`"targets":["x"],` + period + `,"intervals":[]`), "targets[0]"},
		{"3.1 valuesMap targets", "3.1", `{"id":"e1","targets":[{"type":"GROUP","values":["x"]}]}`, "targets[0]"},
		{"3.1 negative event duration", "3.1", `{"id":"e1","duration":"-P1D"}`, "duration"},
		{"report descriptor type", "", ev(`"reportDescriptors":[{"payloadType":5}],` + period + `,"intervals":[]`), "reportDescriptors[0].payloadType"},
		{"report frequency", "", ev(`"reportDescriptors":[{"payloadType":"USAGE","frequency":"often"}],` + period + `,"intervals":[]`), "reportDescriptors[0].frequency"},
		{"year out of range", "", ev(`"intervalPeriod":{"start":"9999-12-31T00:00:00Z","duration":"P2D"},"intervals":[{"id":0}]`), "intervals[0].intervalPeriod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Version(c.v)
			if v == "" {
				v = V301
			}
			_, err := DecodeEvent(v, []byte(c.doc), DecodeOptions{Now: now0})
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if de.Field != c.field && !(c.field == "(document)" && de.Field == "") {
				t.Fatalf("field %q, want %q (%v)", de.Field, c.field, err)
			}
			if c.name != "bad json" && strings.Contains(c.doc, `"id":"e1"`) && (de.ID != "e1" || !strings.Contains(err.Error(), `"e1"`)) {
				t.Fatalf("error does not name the event: %v", err)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	// Unknown fields, unknown payload types, null optional fields, private
	// types, 3.1 event without intervals, frequency as a duration.
	e := mustDecode(t, V31, `{"id":"e1","programID":null,"eventName":null,"priority":null,"somethingNew":{"a":[1]},
		"reportDescriptors":[{"payloadType":"USAGE","frequency":"PT15M","futureField":1}]}`, DecodeOptions{})
	if e.Priority != LowPriority || len(e.Intervals) != 0 || e.StatusAt(now0) != StatusCompleted || e.Reports[0].Frequency != -1 {
		t.Fatalf("%+v", e)
	}
	e = mustDecode(t, V301, ev(`"intervalPeriod":{"start":"2026-08-11T11:00:00Z","duration":"PT2H"},"intervals":[{"id":0,"payloads":[
		{"type":"x-acme-mode","values":["eco",true,{"x":1,"y":2}]},{"type":"ALERT_FIRE","values":["evacuate"]}],"unknown":1}]`), DecodeOptions{})
	iv, ok := e.IntervalAt(now0)
	if !ok || iv.Other["x-acme-mode"][1] != true || iv.Other["ALERT_FIRE"][0] != "evacuate" {
		t.Fatalf("other payloads: %+v", iv)
	}
}

func TestDecodeProgram(t *testing.T) {
	p, err := DecodeProgram(V301, []byte(`{"id":"p1","programName":"dyn","payloadDescriptors":[{"payloadType":"PRICE","units":"KWH","currency":"EUR"}],"extra":true}`))
	if err != nil || p.Name != "dyn" || p.Descriptors[0].Currency != "EUR" {
		t.Fatalf("%+v %v", p, err)
	}
	for _, doc := range []string{`{"programName":"x"}`, `{"id":"p1"}`, `[]`, `{"id":"p1","programName":"x","payloadDescriptors":[{}]}`} {
		if _, err := DecodeProgram(V301, []byte(doc)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

func TestEventJSON(t *testing.T) {
	// The model marshals (the UI and API use it).
	e := mustDecode(t, V301, string(readFile(t, "event30_dayahead.json")), DecodeOptions{})
	b, err := json.Marshal(e)
	if err != nil || !strings.Contains(string(b), `"price":0.231`) {
		t.Fatalf("%s %v", b, err)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{"": "", "auto": "", "3.0.1": V301, "3.0": V301, "3.1": V31, "3.1.0": V31} {
		if v, err := ParseVersion(in); err != nil || v != want {
			t.Errorf("%q: %q %v", in, v, err)
		}
	}
	if _, err := ParseVersion("2.0b"); err == nil {
		t.Error("2.0b accepted")
	}
}
