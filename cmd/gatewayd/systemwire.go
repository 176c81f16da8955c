package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/health"
	"github.com/gatewayd-project/gatewayd/internal/sdnotify"
	"github.com/gatewayd-project/gatewayd/internal/watchdog"
	meteringlink "github.com/gatewayd-project/gatewayd/metering-link"
	"github.com/gatewayd-project/gatewayd/storage"
)

// systemWire is the daemon's contract with its supervisor: systemd's
// sd_notify (READY=1, STATUS= with the health summary, WATCHDOG=1 only
// while the main loops make progress, STOPPING=1), /dev/watchdog when
// systemd does not supervise, and the A/B boot-success mark.
type systemWire struct {
	g      *gateway
	getenv func(string) string
	live   *watchdog.Liveness
}

func newSystemWire(g *gateway, getenv func(string) string) *systemWire {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &systemWire{g: g, getenv: getenv, live: watchdog.NewLiveness(g.clock)}
}

// beat registers a main loop that must report within maxSilence.
func (s *systemWire) beat(name string, maxSilence time.Duration) func() {
	return s.live.Register(name, maxSilence)
}

// summary is the one-line health status for STATUS=.
func summary(h *health.Registry) string {
	var faults, infos []string
	for _, c := range h.Conditions() {
		if c.Info {
			infos = append(infos, c.Code)
		} else {
			faults = append(faults, c.Code)
		}
	}
	out := "healthy"
	if len(faults) > 0 {
		out = "degraded: " + strings.Join(faults, ", ")
	}
	if len(infos) > 0 {
		out += " (info: " + strings.Join(infos, ", ") + ")"
	}
	return out
}

// healthy is the bar for the boot-success mark: the legal meter link is
// up, storage commits, and every main loop makes progress.
func (s *systemWire) healthy() bool {
	h := s.g.health
	return !h.Active(meteringlink.CondLinkDown) && !h.Active(storage.CondDegraded) &&
		len(s.live.Stale()) == 0 && s.g.link.MeterStatus().LinkUp
}

func (s *systemWire) run(ctx context.Context) error {
	log := s.g.log.With("sub", "system")
	n, err := sdnotify.New(s.getenv)
	if err != nil {
		log.Warn("systemd notify socket unusable", "err", err)
	}
	defer n.Close()
	var targets []watchdog.Target
	interval := s.g.cfg.Watchdog.Interval
	wd, err := sdnotify.WatchdogInterval(s.getenv, os.Getpid())
	switch {
	case err != nil:
		log.Warn("systemd watchdog settings unusable", "err", err)
	case wd > 0 && n != nil:
		targets, interval = append(targets, n), wd/2
		log.Info("systemd watchdog: keep-alives while the main loops make progress", "every", interval)
	}
	if dev := s.g.cfg.Watchdog.Device; dev != "" {
		if n != nil && wd > 0 {
			log.Info("watchdog.device ignored: systemd supervises this process", "device", dev)
		} else {
			d, err := watchdog.OpenDevice(dev)
			if err != nil {
				return err
			}
			defer func() {
				if err := d.Close(); err != nil {
					log.Warn("watchdog device not disarmed", "err", err)
				}
			}()
			targets = append(targets, d)
			log.Info("hardware watchdog armed", "device", dev, "every", interval)
		}
	}
	if err := n.Send(sdnotify.Ready, sdnotify.Status(summary(s.g.health))); err != nil {
		log.Warn("READY not sent", "err", err)
	}
	defer func() {
		if err := n.Send(sdnotify.Stopping, sdnotify.Status("stopping")); err != nil {
			log.Warn("STOPPING not sent", "err", err)
		}
	}()
	k, err := watchdog.NewKeeper(watchdog.KeeperOptions{Liveness: s.live, Interval: interval, Targets: targets,
		Status: func() string { return summary(s.g.health) },
		OnStatus: func(st string) {
			if err := n.Send(sdnotify.Status(st)); err != nil {
				log.Debug("STATUS not sent", "err", err)
			}
		},
		Clock: s.g.clock, Log: log})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { defer close(done); s.markGood(ctx) }()
	defer func() { <-done }()
	return k.Run(ctx)
}

// markGood runs update.mark_good_command once after the gateway has been
// healthy without a break for update.mark_good_after: RAUC then keeps
// the slot just booted; a start that never gets healthy is rolled back
// by the bootloader's attempt counter.
func (s *systemWire) markGood(ctx context.Context) {
	u := s.g.cfg.Update
	if len(u.MarkGoodCommand) == 0 {
		return
	}
	var since time.Time
	for {
		now := s.g.clock.Now()
		if !s.healthy() {
			since = time.Time{}
		} else if since.IsZero() {
			since = now
		} else if now.Sub(since) >= u.MarkGoodAfter {
			break
		}
		t := s.g.clock.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, u.MarkGoodCommand[0], u.MarkGoodCommand[1:]...).CombinedOutput()
	details := map[string]string{"command": strings.Join(u.MarkGoodCommand, " "), "healthy_for": u.MarkGoodAfter.String()}
	if len(out) > 512 {
		out = out[:512]
	}
	if err != nil {
		details["error"] = fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(out)))
		s.g.log.Error("boot-success mark failed", "command", details["command"], "err", err, "output", string(out))
	} else {
		s.g.log.Info("boot-success mark set: this slot is kept", "command", details["command"])
	}
	s.g.record(eventSystem, "boot marked good", details)
}

// eventSystem is the events-log kind of the appliance's own life: the
// boot-success mark.
const eventSystem = "system"
