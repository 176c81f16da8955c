package openadr

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Version is an OpenADR 3 wire version. 3.0.1 and 3.1 are not wire
// compatible; each has its own adapter over the one internal model.
type Version string

// The supported versions.
const (
	V301 Version = "3.0.1"
	V31  Version = "3.1"
)

// ParseVersion accepts "3.0.1" (also "3.0", "3.0.0") and "3.1" (also
// "3.1.0", "3.1.1"). "" and "auto" return "" (detect).
func ParseVersion(s string) (Version, error) {
	switch s {
	case "", "auto":
		return "", nil
	case "3.0", "3.0.0", "3.0.1":
		return V301, nil
	case "3.1", "3.1.0", "3.1.1":
		return V31, nil
	}
	return "", fmt.Errorf("openadr: unknown version %q (want 3.0.1 or 3.1)", s)
}

// LowPriority is the priority of an event that has none on the wire: below
// every explicit priority (0 is the highest).
const LowPriority = math.MaxInt32

// Event is one OpenADR event in the internal, version-free model: what the
// VEN executes and the UI shows. Times are UTC.
type Event struct {
	ID          string `json:"id"`
	ProgramID   string `json:"program_id"`
	ProgramName string `json:"program_name"`
	Name        string `json:"name"`
	// Priority: 0 is the highest; LowPriority when absent on the wire.
	Priority int `json:"priority"`
	// Targets: 3.0.1 valuesMaps normalised to "TYPE:value" (one entry per
	// value); 3.1 plain strings.
	Targets []string `json:"targets,omitempty"`
	// Intervals are expanded (absolute, randomizeStart applied,
	// compact multi-value payloads split, 3.1 loops unrolled) and sorted
	// by Start. Sub-intervals of a split keep the wire interval's ID.
	Intervals []Interval `json:"intervals"`
	// Reports are the reportDescriptors, defaults applied.
	Reports []ReportDescriptor `json:"reports,omitempty"`
	// Currency is the ISO 4217 code of PRICE and EXPORT_PRICE values
	// (from the event's payloadDescriptors, else the program's); "" if
	// the VTN names none.
	Currency string `json:"currency,omitempty"`
	// Start is the first interval's start; End the event's end, zero when
	// open-ended (P9999Y, or a 3.1 loop forever). Both zero without
	// intervals.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Cancelled: the VTN cancelled the event (start 0001-01-01 with
	// duration PT0S, or it disappeared from the VTN before its end).
	Cancelled bool `json:"cancelled"`
	// Modified is the VTN's modificationDateTime (zero if absent).
	Modified time.Time `json:"modified"`
}

// Interval is one expanded event interval.
type Interval struct {
	// ID is the wire interval id (reports reuse it).
	ID int `json:"id"`
	// Start and End bound the interval, [Start, End). End.IsZero() means
	// open-ended (P9999Y).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Simple is the SIMPLE level 0..3 (0 normal, 3 emergency), nil if
	// absent.
	Simple *int `json:"simple,omitempty"`
	// Price and ExportPrice are per kWh in the event's Currency.
	Price       *float64 `json:"price,omitempty"`
	ExportPrice *float64 `json:"export_price,omitempty"`
	// ImportLimitKW and ExportLimitKW are IMPORT_CAPACITY_LIMIT and
	// EXPORT_CAPACITY_LIMIT in kW (≥ 0).
	ImportLimitKW *float64 `json:"import_limit_kw,omitempty"`
	ExportLimitKW *float64 `json:"export_limit_kw,omitempty"`
	// Other holds every other payload type by name; values are float64,
	// string, bool or Point. Ignorable.
	Other map[string][]any `json:"other,omitempty"`
}

// Point is a point{x,y} payload value (CURVE).
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Contains reports whether t is in [Start, End). A zero-length interval
// contains nothing.
func (iv Interval) Contains(t time.Time) bool {
	if t.Before(iv.Start) {
		return false
	}
	return iv.End.IsZero() || t.Before(iv.End)
}

// ReportDescriptor is a report the VTN asks for, with the 3.0.1 defaults
// applied (startInterval -1, numIntervals -1, historical true, frequency
// -1, repeat 1).
type ReportDescriptor struct {
	PayloadType   string `json:"payload_type"`
	ReadingType   string `json:"reading_type,omitempty"`
	Units         string `json:"units,omitempty"`
	Aggregate     bool   `json:"aggregate"`
	StartInterval int    `json:"start_interval"`
	NumIntervals  int    `json:"num_intervals"`
	Historical    bool   `json:"historical"`
	Frequency     int    `json:"frequency"`
	Repeat        int    `json:"repeat"`
}

// PayloadDescriptor is an eventPayloadDescriptor.
type PayloadDescriptor struct {
	PayloadType string `json:"payload_type"`
	Units       string `json:"units,omitempty"`
	Currency    string `json:"currency,omitempty"`
}

// Program is what the VEN keeps of a VTN program.
type Program struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Descriptors are the program's payloadDescriptors: the fallback for
	// an event's units and currency.
	Descriptors []PayloadDescriptor `json:"descriptors,omitempty"`
}

// Status is where an event stands at a given time.
type Status string

// The statuses.
const (
	StatusPending   Status = "pending"
	StatusActive    Status = "active"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
)

// StatusAt returns the event's status at now: cancelled; pending before
// Start; completed from End (and always for an event without intervals,
// e.g. a 3.1 report-only event); else active, also in a gap between
// intervals.
func (e Event) StatusAt(now time.Time) Status {
	switch {
	case e.Cancelled:
		return StatusCancelled
	case len(e.Intervals) == 0:
		return StatusCompleted
	case now.Before(e.Start):
		return StatusPending
	case !e.End.IsZero() && !now.Before(e.End):
		return StatusCompleted
	}
	return StatusActive
}

// IntervalAt returns the interval in force at now. Where intervals
// overlap (absolute starts on the wire), the one that started last wins.
// A cancelled event has none.
func (e Event) IntervalAt(now time.Time) (Interval, bool) {
	if e.Cancelled {
		return Interval{}, false
	}
	// Intervals are sorted by Start: find the last one starting at or
	// before now, then walk back (an earlier, longer one may overlap).
	i := sort.Search(len(e.Intervals), func(i int) bool { return e.Intervals[i].Start.After(now) })
	for j := i - 1; j >= 0; j-- {
		if e.Intervals[j].Contains(now) {
			return e.Intervals[j], true
		}
	}
	return Interval{}, false
}
