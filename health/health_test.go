package health

import (
	"testing"
	"time"
)

func TestRegistry(t *testing.T) {
	now := time.Unix(1000, 0)
	r := New(func() time.Time { return now })
	var events []string
	r.OnChange(func(code string, active bool) {
		if active {
			events = append(events, "+"+code)
		} else {
			events = append(events, "-"+code)
		}
	})
	r.Set("b", "one")
	now = now.Add(time.Minute)
	r.Set("b", "two") // update keeps Since, no new event
	r.Set("a", "x")
	r.Clear("b")
	r.Clear("b")
	cs := r.Conditions()
	if len(cs) != 1 || cs[0].Code != "a" || !r.Active("a") || r.Active("b") {
		t.Fatalf("%+v", cs)
	}
	r.Set("b", "three")
	cs = r.Conditions()
	if cs[1].Code != "b" || cs[1].Message != "three" || !cs[1].Since.Equal(now) {
		t.Fatalf("%+v", cs)
	}
	if got := len(events); got != 4 || events[0] != "+b" || events[2] != "-b" {
		t.Fatalf("events %v", events)
	}
}

func TestInfoCondition(t *testing.T) {
	r := New(time.Now)
	r.SetInfo("board_io_unavailable", "no GPIO")
	r.Set("meter_link_down", "no reply")
	got := map[string]bool{}
	for _, c := range r.Conditions() {
		got[c.Code] = c.Info
	}
	if !got["board_io_unavailable"] || got["meter_link_down"] || len(got) != 2 {
		t.Fatalf("conditions %v", got)
	}
	// Raising it again as a problem makes it one.
	r.Set("board_io_unavailable", "gpio broke")
	if c := r.Conditions()[0]; c.Code != "board_io_unavailable" || c.Info {
		t.Fatalf("%+v", c)
	}
}
