package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/gatewayd-project/gatewayd/dr"
	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/han/wifi/homekit"
	"github.com/gatewayd-project/gatewayd/storage"
)

// homekitGrid is the DR engine as the HomeKit bridge sees it.
type homekitGrid struct{ svc *dr.Service }

func (g homekitGrid) ActiveEvent() (homekit.GridEvent, bool) {
	for _, e := range g.svc.Events() {
		if e.Status == openadr.StatusActive && e.Actionable {
			return homekit.GridEvent{ID: e.ID, OptedOut: e.OptedOut}, true
		}
	}
	return homekit.GridEvent{}, false
}

func (g homekitGrid) OptOut(ctx context.Context, id string) error {
	_, err := g.svc.OptOut(ctx, id, homekit.CommandReason)
	return err
}

// homekitStatus is GET /api/v1/homekit.
type homekitStatus struct {
	Enabled bool `json:"enabled"`
	homekit.Status
}

// setupHomeKit makes the setup code on first start (whether or not the
// bridge is enabled: `gatewayd homekit code` and the UI show it before
// the household turns HomeKit on) and builds the bridge when enabled.
func (g *gateway) setupHomeKit() (func() any, error) {
	st := g.store.HAPStore()
	pin, sid, err := homekit.SetupCode(st)
	if err != nil {
		return nil, err
	}
	uri, err := homekit.SetupURI(pin, sid)
	if err != nil {
		return nil, err
	}
	hc := g.cfg.HomeKit
	if !hc.Enabled {
		return func() any {
			return homekitStatus{Status: homekit.Status{Code: homekit.FormatPin(pin), SetupURI: uri, Name: hc.Name}}
		}, nil
	}
	o := homekit.Options{Store: st, Registry: g.reg, Watch: g.reg.Watch, Meter: g.link,
		Readings: g.bus.SubscribeLatest().Device, Name: hc.Name, Addr: net.JoinHostPort("", strconv.Itoa(hc.Port)),
		Firmware: version, Clock: g.clock, Log: g.log.With("sub", "homekit")}
	if g.drw != nil && g.drw.svc != nil {
		o.Grid = homekitGrid{g.drw.svc}
	}
	homekit.RouteLibraryLogs(o.Log)
	br, err := homekit.New(o)
	if err != nil {
		return nil, err
	}
	g.han = append(g.han, br.Run)
	return func() any { return homekitStatus{Enabled: true, Status: br.Status()} }, nil
}

// cmdHomeKitCode prints the setup code (making it on first use).
func cmdHomeKitCode(args []string, stdout io.Writer) error {
	_, db, err := stateAndDB("homekit code", args, nil)
	if err != nil {
		return err
	}
	s, err := storage.Open(storage.Options{Path: db})
	if err != nil {
		// A running gatewayd holds the file (the open times out after 1 s).
		return fmt.Errorf("homekit code: %w (while gatewayd runs, an admin sees the code in the web UI, section HomeKit)", err)
	}
	defer s.Close()
	pin, sid, err := homekit.SetupCode(s.HAPStore())
	if err != nil {
		return err
	}
	uri, err := homekit.SetupURI(pin, sid)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "code=%s\nsetup_uri=%s\n", homekit.FormatPin(pin), uri)
	return nil
}
