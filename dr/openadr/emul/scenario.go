package emul

import (
	"fmt"
	"math"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/openadr"
)

// Scenario ids: stable so that a demo can refer to them.
const (
	ProgramPrices = "prg-dynamic-prices"
	ProgramPeak   = "prg-peak-relief"
)

// ScenarioEventIDs returns the ids of the events Scenario(day) creates:
// the day-ahead price event and the peak-relief event.
func ScenarioEventIDs(day time.Time, loc *time.Location) (prices, peak string) {
	if loc == nil {
		loc = time.UTC
	}
	d := day.In(loc).Format("2006-01-02")
	return "evt-prices-" + d, "evt-peak-" + d
}

// Scenario loads the demo's programs and the events of the local day
// that contains day (in Config.Location):
//
//   - program "dynamic-prices" (PRICING_TARIFF, EUR per KWH) with a
//     day-ahead event, priority 10: one PT15M interval per quarter hour
//     of the local day (96; 92 or 100 on DST days), each with a PRICE and
//     an EXPORT_PRICE following a time-of-use-like shape (cheap night,
//     morning shoulder, midday solar dip, evening peak);
//   - program "peak-relief" with an event from 17:00 to 19:00 local,
//     priority 0, targeted at Config.VENName: two PT1H intervals with
//     SIMPLE 2 and IMPORT_CAPACITY_LIMIT 3.0 KW, randomizeStart PT0S
//     (so the scenario is deterministic), asking for USAGE, DEMAND and
//     OPERATING_STATE reports.
//
// Calling it again for the same day replaces those events; other days'
// events stay.
func (s *VTN) Scenario(day time.Time) {
	loc := s.cfg.Location
	v31 := s.cfg.Version == openadr.V31
	local := day.In(loc)
	d0 := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	d1 := d0.AddDate(0, 0, 1)
	pricesID, peakID := ScenarioEventIDs(day, loc)

	must := func(_ string, err error) {
		if err != nil {
			panic(err) // the documents below are always objects
		}
	}
	must(s.PutProgram(map[string]any{
		"id": ProgramPrices, "programName": "dynamic-prices", "programLongName": "Dynamic day-ahead prices",
		"programType": "PRICING_TARIFF", "retailerName": "gatewayd demo utility", "country": "DE",
		"payloadDescriptors": []any{
			map[string]any{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "units": "KWH", "currency": "EUR"},
			map[string]any{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "EXPORT_PRICE", "units": "KWH", "currency": "EUR"},
		},
	}))
	must(s.PutProgram(map[string]any{
		"id": ProgramPeak, "programName": "peak-relief", "programLongName": "Evening peak relief",
		"programType": "DEMAND_RESPONSE", "retailerName": "gatewayd demo utility", "country": "DE",
		"payloadDescriptors": []any{
			map[string]any{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "SIMPLE"},
			map[string]any{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"},
		},
	}))

	var intervals []any
	for i, t := 0, d0; t.Before(d1); i, t = i+1, t.Add(15*time.Minute) {
		imp, exp := DemoPrice(t.In(loc))
		intervals = append(intervals, map[string]any{"id": i, "payloads": []any{
			map[string]any{"type": "PRICE", "values": []any{imp}},
			map[string]any{"type": "EXPORT_PRICE", "values": []any{exp}},
		}})
	}
	must(s.PutEvent(map[string]any{
		"id": pricesID, "programID": ProgramPrices, "eventName": "day-ahead prices " + d0.Format("2006-01-02"),
		"priority": 10,
		"payloadDescriptors": []any{
			map[string]any{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "units": "KWH", "currency": "EUR"},
			map[string]any{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "EXPORT_PRICE", "units": "KWH", "currency": "EUR"},
		},
		"intervalPeriod": map[string]any{"start": d0.UTC().Format(time.RFC3339), "duration": "PT15M"},
		"intervals":      intervals,
	}))

	peak := map[string]any{
		"id": peakID, "programID": ProgramPeak, "eventName": fmt.Sprintf("peak relief %s 17:00 local", d0.Format("2006-01-02")),
		"priority": 0,
		"payloadDescriptors": []any{
			map[string]any{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "SIMPLE"},
			map[string]any{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"},
		},
		"intervalPeriod": map[string]any{
			"start":    time.Date(d0.Year(), d0.Month(), d0.Day(), 17, 0, 0, 0, loc).UTC().Format(time.RFC3339),
			"duration": "PT1H", "randomizeStart": "PT0S",
		},
		"intervals": []any{
			map[string]any{"id": 0, "payloads": []any{
				map[string]any{"type": "SIMPLE", "values": []any{2}},
				map[string]any{"type": "IMPORT_CAPACITY_LIMIT", "values": []any{3.0}},
			}},
			map[string]any{"id": 1, "payloads": []any{
				map[string]any{"type": "SIMPLE", "values": []any{2}},
				map[string]any{"type": "IMPORT_CAPACITY_LIMIT", "values": []any{3.0}},
			}},
		},
		"reportDescriptors": []any{
			map[string]any{"payloadType": "USAGE", "readingType": "DIRECT_READ", "units": "KWH", "aggregate": true,
				"startInterval": -1, "numIntervals": -1, "historical": true, "frequency": -1, "repeat": 1},
			map[string]any{"payloadType": "DEMAND", "readingType": "MEAN", "units": "KW"},
			map[string]any{"payloadType": "OPERATING_STATE"},
		},
	}
	if s.cfg.VENName != "" {
		if v31 {
			peak["targets"] = []any{s.cfg.VENName}
		} else {
			peak["targets"] = []any{map[string]any{"type": "VEN_NAME", "values": []any{s.cfg.VENName}}}
		}
	}
	must(s.PutEvent(peak))
}

// DemoPrice is the scenario's import and export price (EUR per kWh) for
// a quarter hour starting at local time t: a smooth time-of-use-like
// day shape, rounded to 0.1 cent.
func DemoPrice(t time.Time) (imp, exp float64) {
	h := float64(t.Hour()) + float64(t.Minute())/60
	bump := func(c, w float64) float64 {
		// circular distance, so that the night wraps around midnight
		d := math.Abs(h - c)
		d = math.Min(d, 24-d)
		return math.Exp(-(d / w) * (d / w))
	}
	imp = 0.24 - 0.06*bump(3, 2.5) + 0.07*bump(8, 1.3) - 0.11*bump(13, 2.2) + 0.16*bump(18.5, 1.5)
	exp = 0.075 + 0.03*bump(18.5, 2) - 0.05*bump(13, 2.5)
	return math.Round(imp*1000) / 1000, math.Round(exp*1000) / 1000
}
