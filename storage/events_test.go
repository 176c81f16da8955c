package storage

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func eventSubjects(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Subject)
	}
	return out
}

func TestEventsOrderAndFilter(t *testing.T) {
	clk := clocktest.New(t0)
	s := openKV(t, Options{Clock: clk})
	add := func(e Event) {
		t.Helper()
		if err := s.AddEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	// Equal times keep insertion order.
	add(Event{Kind: EventLink, Subject: "e1", Details: map[string]string{"state": "down"}})
	add(Event{Kind: EventLogin, Subject: "e2"})
	add(Event{Kind: EventLink, Subject: "e3", Details: map[string]string{"state": "up"}})
	clk.Advance(time.Minute)
	add(Event{Kind: EventDR, Subject: "e5"})
	// An explicit earlier time sorts before later events.
	add(Event{Time: t0.Add(30 * time.Second), Kind: EventConfig, Subject: "e4"})
	// A details key named "kind" must not fool the kind filter.
	add(Event{Kind: EventStorage, Subject: "e6", Details: map[string]string{"kind": "link"}})

	all, err := s.Events(time.Time{}, time.Time{}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := eventSubjects(all); !reflect.DeepEqual(got, []string{"e1", "e2", "e3", "e4", "e5", "e6"}) {
		t.Fatalf("order: %q", got)
	}
	if !all[0].Time.Equal(t0) || all[0].Details["state"] != "down" || all[4].Kind != EventDR {
		t.Fatalf("round trip: %+v %+v", all[0], all[4])
	}
	links, _ := s.Events(time.Time{}, time.Time{}, EventLink, 0)
	if got := eventSubjects(links); !reflect.DeepEqual(got, []string{"e1", "e3"}) {
		t.Fatalf("kind link: %q", got)
	}
	// from <= Time < to.
	win, _ := s.Events(t0, t0.Add(time.Minute), "", 0)
	if got := eventSubjects(win); !reflect.DeepEqual(got, []string{"e1", "e2", "e3", "e4"}) {
		t.Fatalf("window: %q", got)
	}
	win, _ = s.Events(t0.Add(time.Nanosecond), t0.Add(time.Minute+time.Nanosecond), "", 0)
	if got := eventSubjects(win); !reflect.DeepEqual(got, []string{"e4", "e5", "e6"}) {
		t.Fatalf("window 2: %q", got)
	}
	if evs, err := s.Events(t0, t0, "", 0); err != nil || len(evs) != 0 {
		t.Fatalf("empty window: %v %v", evs, err)
	}
	two, _ := s.Events(time.Time{}, time.Time{}, "", 2)
	if got := eventSubjects(two); !reflect.DeepEqual(got, []string{"e1", "e2"}) {
		t.Fatalf("limit 2: %q", got)
	}
	for _, l := range []int{-1, MaxEventsLimit + 1} {
		if _, err := s.Events(time.Time{}, time.Time{}, "", l); !errors.Is(err, ErrEvent) {
			t.Errorf("limit %d: %v", l, err)
		}
	}
	if _, err := s.Events(time.Time{}, time.Time{}, "", MaxEventsLimit); err != nil {
		t.Errorf("limit %d: %v", MaxEventsLimit, err)
	}
}

func TestEventsDefaultLimit(t *testing.T) {
	s := openKV(t, Options{Clock: clocktest.New(t0)})
	for i := range DefaultEventsLimit + 5 {
		if err := s.AddEvent(Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: EventLink, Subject: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(time.Time{}, time.Time{}, "", 0)
	if err != nil || len(evs) != DefaultEventsLimit || !evs[0].Time.Equal(t0) {
		t.Fatalf("default limit: %d %v", len(evs), err)
	}
}

func TestEventBounds(t *testing.T) {
	s := openKV(t, Options{Clock: clocktest.New(t0)})
	long := strings.Repeat("x", MaxEventField+1)
	many := map[string]string{}
	for i := range MaxEventDetails + 1 {
		many[fmt.Sprint(i)] = "v"
	}
	for _, e := range []Event{
		{Subject: "s"},
		{Kind: "k"},
		{Kind: long, Subject: "s"},
		{Kind: "k", Subject: long},
		{Kind: "k\xff", Subject: "s"},
		{Kind: "k", Subject: "s", Details: many},
		{Kind: "k", Subject: "s", Details: map[string]string{"": "v"}},
		{Kind: "k", Subject: "s", Details: map[string]string{long: "v"}},
		{Kind: "k", Subject: "s", Details: map[string]string{"d": strings.Repeat("v", MaxEventDetailVal+1)}},
		{Time: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), Kind: "k", Subject: "s"},
		{Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), Kind: "k", Subject: "s"},
	} {
		if err := s.AddEvent(e); !errors.Is(err, ErrEvent) {
			t.Errorf("%.80q: %v", fmt.Sprint(e), err)
		}
	}
	delete(many, "0")
	max := strings.Repeat("x", MaxEventField)
	many["1"] = strings.Repeat("v", MaxEventDetailVal)
	ok := Event{Kind: max, Subject: max, Details: many}
	if err := s.AddEvent(ok); err != nil {
		t.Fatalf("event at the limits: %v", err)
	}
	if evs, _ := s.Events(time.Time{}, time.Time{}, "", 0); len(evs) != 1 || len(evs[0].Details) != MaxEventDetails {
		t.Fatalf("stored %d events", len(evs))
	}
}

func eventCount(t *testing.T, s *Store) int {
	t.Helper()
	evs, err := s.Events(time.Time{}, time.Time{}, "", MaxEventsLimit)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func TestEventRetentionAge(t *testing.T) {
	clk := clocktest.New(t0)
	s := openKV(t, Options{Clock: clk})
	// 800 events a day apart: more than two years.
	for range 800 {
		if err := s.AddEvent(Event{Kind: EventLink, Subject: "l"}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(24 * time.Hour)
	}
	// Nothing older than two years before the newest event.
	evs, _ := s.Events(time.Time{}, time.Time{}, "", MaxEventsLimit)
	newest := evs[len(evs)-1].Time
	if !evs[0].Time.Equal(newest.Add(-maxEventAge)) || len(evs) != 731 {
		t.Fatalf("oldest %v newest %v, %d events", evs[0].Time, newest, len(evs))
	}

	// A jump of years leaves a backlog; it is removed 256 per call.
	clk.Advance(5 * 365 * 24 * time.Hour)
	for _, want := range []int{731 + 1 - 256, 731 + 2 - 512, 3} {
		if err := s.AddEvent(Event{Kind: EventLink, Subject: "l"}); err != nil {
			t.Fatal(err)
		}
		if n := eventCount(t, s); n != want {
			t.Fatalf("%d events, want %d", n, want)
		}
	}
}

func TestEventRetentionCount(t *testing.T) {
	clk := clocktest.New(t0)
	s := openKV(t, Options{Clock: clk})
	const keep = 50
	for i := range 120 {
		clk.Advance(time.Second)
		if err := s.addEvent(Event{Kind: EventLink, Subject: fmt.Sprint(i)}, keep); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := s.Events(time.Time{}, time.Time{}, "", 0)
	if len(evs) != keep || evs[0].Subject != "70" || evs[keep-1].Subject != "119" {
		t.Fatalf("%d events, %q..", len(evs), eventSubjects(evs)[:3])
	}
	// Lowering the bound converges incrementally: at most 256 per call.
	for range 300 {
		clk.Advance(time.Second)
		if err := s.addEvent(Event{Kind: EventLink, Subject: "x"}, 1000); err != nil {
			t.Fatal(err)
		}
	}
	if n := eventCount(t, s); n != 350 {
		t.Fatalf("%d events", n)
	}
	if err := s.addEvent(Event{Kind: EventLink, Subject: "y"}, 10); err != nil {
		t.Fatal(err)
	}
	if n := eventCount(t, s); n != 351-256 {
		t.Fatalf("%d events after one pruning call", n)
	}
	if err := s.addEvent(Event{Kind: EventLink, Subject: "z"}, 10); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Events(time.Time{}, time.Time{}, "", 0); len(evs) != 10 || evs[9].Subject != "z" {
		t.Fatalf("%d events, last %+v", len(evs), evs[len(evs)-1])
	}
	// The counter survives a reopen (it lives in the bucket).
	p := s.Path()
	s.Close()
	s = openKV(t, Options{Path: p, Clock: clk})
	clk.Advance(time.Second)
	if err := s.addEvent(Event{Kind: EventLink, Subject: "w"}, 10); err != nil {
		t.Fatal(err)
	}
	if n := eventCount(t, s); n != 10 {
		t.Fatalf("%d events after reopen", n)
	}
}
