package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatewayd-project/gatewayd/board"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/han/wisun"
)

// setupBoard builds the board I/O the config names. Without GPIO (no
// driver, pins not found) the features stay off, the daemon runs, and
// the info condition board_io_unavailable says why.
func (g *gateway) setupBoard(lookup board.Lookup) error {
	b := g.cfg.Board
	if len(b.Relays) == 0 && len(b.LEDs) == 0 && b.S0.Pin == "" {
		return nil
	}
	log := g.log.With("sub", "board")
	if lookup == nil {
		l, err := board.HostLookup()
		if err != nil {
			return g.boardOff(err)
		}
		lookup = l
	}
	var relays []board.Relay
	for _, r := range b.Relays {
		relays = append(relays, board.Relay{ID: energy.DeviceID(r.ID), Name: r.Name, Pin: r.Pin, ActiveLow: r.ActiveLow, RatedW: r.RatedW})
	}
	var (
		rs   *board.Relays
		leds *board.LEDs
		s0   *board.S0
		err  error
		errs []error
	)
	if len(relays) > 0 {
		if rs, err = board.NewRelays(lookup, g.reg, g.clock, relays); err != nil {
			errs = append(errs, err)
		}
	}
	if len(b.LEDs) > 0 {
		var ls []board.LED
		for _, l := range b.LEDs {
			ls = append(ls, board.LED{Role: board.Role(l.Role), Pin: l.Pin, ActiveLow: l.ActiveLow})
		}
		if leds, err = board.NewLEDs(lookup, g.clock, ls, g.ledState, 0); err != nil {
			errs = append(errs, err)
		}
	}
	if b.S0.Pin != "" {
		latest := g.bus.SubscribeLatest()
		meter := func() (energy.Decimal, bool) {
			r, ok := latest.Get("meter", energy.ImportEnergy)
			return r.Value, ok && r.Legal
		}
		s := b.S0
		if s0, err = board.NewS0(lookup, board.S0Options{Pin: s.Pin, ImpPerKWh: s.ImpPerKWh, ActiveHigh: s.ActiveHigh,
			Debounce: s.Debounce, Window: s.Window, TolerancePct: s.TolerancePct, Meter: meter,
			Clock: g.clock, Health: g.health, Publisher: g.bus, Log: log}); err != nil {
			errs = append(errs, err)
		}
	}
	if rs != nil {
		g.han = append(g.han, func(ctx context.Context) error { <-ctx.Done(); rs.Close(); return nil })
		log.Info("relays ready", "count", len(relays))
	}
	if leds != nil {
		g.han = append(g.han, leds.Run)
	}
	if s0 != nil {
		g.han = append(g.han, s0.Run)
		log.Info("S0 input counting", "pin", b.S0.Pin, "imp_per_kwh", b.S0.ImpPerKWh)
	}
	if len(errs) > 0 {
		return g.boardOff(errors.Join(errs...))
	}
	return nil
}

func (g *gateway) boardOff(err error) error {
	b := g.cfg.Board
	var want []string
	for _, r := range b.Relays {
		want = append(want, "relay "+r.ID+" on "+r.Pin)
	}
	for _, l := range b.LEDs {
		want = append(want, "LED "+l.Role+" on "+l.Pin)
	}
	if b.S0.Pin != "" {
		want = append(want, "S0 input on "+b.S0.Pin)
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	g.log.Warn("board I/O off: running without it", "configured", strings.Join(want, ", "), "err", msg)
	g.health.SetInfo(board.CondUnavailable, fmt.Sprintf("board I/O off (%s): %s", strings.Join(want, ", "), msg))
	return nil
}

// ledState is what the status LEDs show.
func (g *gateway) ledState() board.State {
	h := g.health
	st := board.State{
		board.RoleLink: g.link.MeterStatus().LinkUp,
		board.RoleHAN:  len(g.cfg.HAN.WiSUN.Port) > 0 || g.cfg.HAN.EchonetIP.Enabled,
	}
	if h.Active(condHANUnreachable) || h.Active(wisun.HealthNotJoined) {
		st[board.RoleHAN] = false
	}
	if g.drw != nil {
		ds := g.drw.svc.Status()
		st[board.RoleDR] = ds.Event != "" || len(ds.Shed) > 0 || ds.Level > 0
	}
	for _, c := range h.Conditions() {
		if !c.Info {
			st[board.RoleFault] = true
		}
	}
	return st
}
