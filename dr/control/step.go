package control

import (
	"slices"
	"time"
)

// Desired settings.
const (
	keep int8 = iota
	up        // on, uncapped
	down      // off, or capped at CurtailW
)

// Step runs one control period and returns the commands to send, in shed
// order. It reads no clock: in.Now is the time.
func (c *Controller) Step(in Inputs) []Decision {
	cfg := &c.cfg
	now := in.Now
	level := min(max(in.Signals.Level, 0), len(cfg.Levels)-1)
	pol := cfg.Levels[level]
	lim := c.limits(in.Signals, pol, level)
	imp := lim.importW
	margin := cfg.MarginW
	safety := cfg.SafetyMarginW
	if safety == 0 {
		safety = imp / 10
	}
	window := ResendPeriods * cfg.Period

	if in.SiteOK {
		c.breachSince = since(c.breachSince, imp > 0 && in.SiteW > imp, now)
		c.belowSince = since(c.belowSince, imp == 0 || in.SiteW < imp-cfg.HysteresisW, now)
		c.exportSince = since(c.exportSince, lim.exportW > 0 && -in.SiteW > lim.exportW, now)
	} else {
		// Restoring needs an unbroken run of fresh readings below the limit.
		c.belowSince = time.Time{}
	}

	c.views = c.views[:0]
	for _, l := range c.loads {
		if v, ok := c.view(l, &in, pol, now); ok {
			c.views = append(c.views, v)
		}
	}
	views := c.views
	// Shed order: deadline-forced, then boosted loads go last.
	slices.SortStableFunc(views, func(a, b view) int { return a.tier - b.tier })

	// Soaked loads go back to their plan once the site imports again.
	for i := range views {
		v := &views[i]
		l := v.l
		if l.soakSince.IsZero() {
			continue
		}
		if v.locked || (l.Class == ClassDeferrable && !v.hasJob) ||
			(in.SiteOK && in.SiteW > 0 && (!v.offAct || minOnOK(l, now))) {
			l.soakSince = time.Time{}
		}
	}

	// Level holds: create, relabel, lift for exempt, boosted or finished loads.
	for i := range views {
		v := &views[i]
		l := v.l
		if r := l.r; r != nil {
			switch {
			case v.exempt || v.locked || (l.Class == ClassDeferrable && !v.hasJob && !v.boosted):
				l.r = nil
				if v.exempt && l.Class != ClassDeferrable && !v.isUp() {
					l.startRestoring(now, "restore", "Restored: exempted by the household")
				}
			case !r.byLimit && v.boosted:
				l.r = nil // the start path below still checks the hard limit
			case !r.byLimit && v.levelWants && r.level != level:
				r.why, r.level, r.reason = levelWhy(level), level, c.levelText(v, level, in.Signals.Event)
			}
			continue
		}
		if v.levelWants && l.soakSince.IsZero() && (v.isUp() || v.base == up) &&
			(!v.offAct || !v.dev.State.On || minOnOK(l, now)) {
			l.r = &restriction{since: now, why: levelWhy(level), level: level, reason: c.levelText(v, level, in.Signals.Event)}
			l.restoring = false
		}
	}

	// Predicted import: the reading plus what is already on its way.
	pred := in.SiteW
	for i := range views {
		pred += views[i].pendingW(now, window)
	}

	// Export above its limit: soak the surplus with held loads, one a period.
	if in.SiteOK && lim.exportW > 0 && !c.exportSince.IsZero() && now.Sub(c.exportSince) >= cfg.ShedDelay {
		best := -1
		for i := range views {
			v := &views[i]
			add, ok := v.soakable(now)
			if !ok || pred+add > 0 || (imp > 0 && pred+add >= imp-margin) {
				continue
			}
			if best < 0 || soakBefore(v, &views[best]) {
				best = i
			}
		}
		if best >= 0 {
			v := &views[best]
			v.l.soakSince, v.l.r = now, nil
			v.final, v.finalWhy, v.finalTxt = up, "export_limit", lim.exportText(in.SiteW)
			pred += v.addW()
		}
	}

	// Plan holds and starts (deadline and boost first).
	for i := len(views) - 1; i >= 0; i-- {
		v := &views[i]
		l := v.l
		if v.locked || l.r != nil || !l.soakSince.IsZero() || v.final != keep {
			continue
		}
		switch v.base {
		case down:
			if v.isUp() && (!v.offAct || minOnOK(l, now)) {
				v.final, v.finalWhy = down, v.baseWhy
				pred -= max(0, v.dev.State.PowerW-v.targetW)
			}
		case up:
			if v.isUp() || l.pendingUp(now, window) || (v.offAct && !minOffOK(l, now)) {
				continue
			}
			add := v.addW()
			thr := imp
			if v.baseWhy == "plan_start" {
				thr -= margin
			}
			switch {
			case v.exempt || imp == 0 || (in.SiteOK && pred+add <= thr):
				v.final, v.finalWhy = up, v.baseWhy
				pred += add
			case in.SiteOK:
				l.r = &restriction{since: now, why: "import_limit", byLimit: true,
					reason: "Start held: it would exceed the " + lim.importText()}
			}
		}
	}

	// Shed: import above the limit (for ShedDelay).
	if in.SiteOK && imp > 0 && !c.breachSince.IsZero() && now.Sub(c.breachSince) >= cfg.ShedDelay {
		for pass := 0; pass < 2 && pred > imp-margin; pass++ {
			if pass == 1 && in.SiteW <= imp+safety {
				break // MinOn holds unless the fuse is at risk
			}
			for i := range views {
				v := &views[i]
				l := v.l
				if l.r != nil || v.locked || v.exempt || v.final == down || !v.isUp() {
					continue
				}
				drop := v.dev.State.PowerW - v.targetW
				if drop <= 0 || (pass == 0 && v.offAct && v.dev.State.On && !minOnOK(l, now)) {
					continue
				}
				l.r = &restriction{since: now, why: "import_limit", byLimit: true, reason: c.shedText(v, in.SiteW, lim)}
				l.soakSince, l.restoring = time.Time{}, false
				pred -= drop
				if pred <= imp-margin {
					break
				}
			}
		}
	}

	// Restore: one load a period, highest value first, after the restore
	// delay and its own random delay.
	belowOK := in.SiteOK && !c.belowSince.IsZero() && now.Sub(c.belowSince) >= cfg.RestoreDelay
	pick := -1
	for i := len(views) - 1; i >= 0; i-- {
		v := &views[i]
		l := v.l
		r := l.r
		if r == nil || (!r.byLimit && v.levelWants) {
			continue
		}
		if !belowOK {
			r.eligibleAt = time.Time{}
			continue
		}
		if v.levelWants { // never restore into a level that still holds it
			r.byLimit, r.why, r.level, r.reason = false, levelWhy(level), level, c.levelText(v, level, in.Signals.Event)
			continue
		}
		if l.Class == ClassDeferrable && v.base != up {
			l.r = nil // the plan holds it: nothing to restore
			continue
		}
		add := v.addW()
		if (imp > 0 && pred+add >= imp-margin) || (v.offAct && !minOffOK(l, now)) {
			// Not restorable now: its random delay starts afresh once it
			// is, so that loads released together (an event's end) do
			// not all come back in the first periods.
			r.eligibleAt = time.Time{}
			continue
		}
		if r.eligibleAt.IsZero() {
			r.eligibleAt = now
			if v.tier == 0 {
				r.eligibleAt = now.Add(c.restoreDelay())
			}
		}
		if pick >= 0 || now.Before(r.eligibleAt) {
			continue
		}
		pick = i
		pred += add
	}
	if pick >= 0 {
		v := &views[pick]
		v.l.r = nil
		v.final, v.finalWhy, v.finalTxt = up, "restore", lim.restoreText()
		if v.l.Class != ClassDeferrable {
			v.l.startRestoring(now, "restore", v.finalTxt)
		}
	}

	// Commands.
	var out []Decision
	for i := range views {
		v := &views[i]
		l := v.l
		var dir int8
		var why, txt string
		switch {
		case v.locked:
			continue
		case l.r != nil:
			dir, why, txt = down, l.r.why, l.r.reason
		case v.final != keep:
			dir, why, txt = v.final, v.finalWhy, v.finalTxt
		case !l.soakSince.IsZero():
			dir, why, txt = up, "export_limit", lim.exportText(in.SiteW)
		case l.restoring:
			dir, why, txt = up, l.restoreWhy, l.restoreText
		case v.base == up && l.pendingUp(now, window):
			dir, why = up, v.baseWhy
		default:
			continue
		}
		if txt == "" {
			txt = c.baseText(v, why)
		}
		if d, ok := c.emit(v, now, dir == up, why, txt); ok {
			out = append(out, d)
		}
	}

	c.mu.Lock()
	st := &c.status
	st.ImportLimitW, st.ExportLimitW, st.Level, st.Event = imp, lim.exportW, level, in.Signals.Event
	if in.SiteOK {
		st.Breach = imp > 0 && in.SiteW > imp
	}
	st.Shed = st.Shed[:0]
	for _, l := range c.loads {
		if l.r != nil {
			var w int64
			if l.Class == ClassCurtailable {
				w = l.CurtailW
			}
			st.Shed = append(st.Shed, Shed{Device: l.Device, Since: l.r.since, Why: l.r.why, LimitW: w})
		}
	}
	c.mu.Unlock()
	return out
}

// since tracks the start of a condition: zero while it is false.
func since(t time.Time, cond bool, now time.Time) time.Time {
	switch {
	case !cond:
		return time.Time{}
	case t.IsZero():
		return now
	}
	return t
}

func (c *Controller) restoreDelay() time.Duration {
	return time.Duration(c.rng.Int64N(int64(c.cfg.RestoreRandomMax) + 1))
}
