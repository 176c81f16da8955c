package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBoardParse(t *testing.T) {
	in := `
board:
  relays:
    - {id: boiler, name: Water heater, pin: GPIO17, rated_w: 2000}
    - {id: pump, pin: GPIO27, active_low: true}
  leds:
    - {role: fault, pin: GPIO5}
  s0: {pin: GPIO22, imp_per_kwh: 800, window: 5m}
watchdog: {device: /dev/watchdog0, interval: 5s}
update: {mark_good_command: [rauc, status, mark-good], mark_good_after: 2m}
`
	got, err := Parse("g.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Board{
		Relays: []BoardRelay{{ID: "boiler", Name: "Water heater", Pin: "GPIO17", RatedW: 2000}, {ID: "pump", Pin: "GPIO27", ActiveLow: true}},
		LEDs:   []BoardLED{{Role: "fault", Pin: "GPIO5"}},
		S0:     BoardS0{Pin: "GPIO22", ImpPerKWh: 800, Debounce: 20 * time.Millisecond, Window: 5 * time.Minute, TolerancePct: 5},
	}
	if !reflect.DeepEqual(got.Board, want) {
		t.Errorf("board = %+v\nwant    %+v", got.Board, want)
	}
	if got.Watchdog != (Watchdog{Device: "/dev/watchdog0", Interval: 5 * time.Second}) {
		t.Errorf("watchdog = %+v", got.Watchdog)
	}
	if !reflect.DeepEqual(got.Update.MarkGoodCommand, []string{"rauc", "status", "mark-good"}) || got.Update.MarkGoodAfter != 2*time.Minute {
		t.Errorf("update = %+v", got.Update)
	}
}

func TestBoardInvalid(t *testing.T) {
	for _, tt := range []struct{ in, key string }{
		{"board: {relays: [{id: a, pin: GPIO1}, {id: a, pin: GPIO2}]}", "board.relays[1].id"},
		{"board: {relays: [{id: a, pin: GPIO1}], leds: [{role: link, pin: GPIO1}]}", "board.leds[0].pin"},
		{"board: {leds: [{role: disco, pin: GPIO3}]}", "board.leds[0].role"},
		{"board: {relays: [{id: a}]}", "board.relays[0].pin"},
		{"board: {s0: {imp_per_kwh: 0}}", "board.s0.imp_per_kwh"},
		{"board: {s0: {debounce: 0s}}", "board.s0.debounce"},
		{"board: {s0: {tolerance_pct: 90}}", "board.s0.tolerance_pct"},
		{"board: {bogus: 1}", "board.bogus"},
		{"watchdog: {device: dev/watchdog}", "watchdog.device"},
		{"update: {mark_good_after: 1s}", "update.mark_good_after"},
	} {
		_, err := Parse("g.yaml", []byte(tt.in))
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: err %v, want one naming %s", tt.in, err, tt.key)
		}
	}
}
