package control

import (
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// view is one managed, online load as this Step sees it.
type view struct {
	l   *load
	dev *energy.Device

	offAct  bool  // shed by CmdOff (else CmdLimit to CurtailW)
	targetW int64 // power when shed
	ratedW  int64

	exempt, boosted, locked, hasJob bool
	tier                            int // shed last: 0 normal, 1 deadline-forced, 2 boosted
	base                            int8
	baseWhy                         string
	levelWants                      bool

	final    int8
	finalWhy string
	finalTxt string
}

// view builds the Step's view of l; false for a load that is absent,
// offline or cannot be shed the way its class asks.
func (c *Controller) view(l *load, in *Inputs, pol LevelPolicy, now time.Time) (view, bool) {
	d := findDevice(in.Devices, l.Device)
	if d == nil || !d.State.Online {
		return view{}, false
	}
	v := view{l: l, dev: d, offAct: true, ratedW: d.RatedW}
	if v.ratedW <= 0 {
		v.ratedW = max(d.State.PowerW, 0)
	}
	if l.Class == ClassCurtailable && l.CurtailW > 0 && d.Caps.Has(energy.CapCurtail) {
		v.offAct, v.targetW = false, l.CurtailW
	} else if !energy.Supports(d.Caps, energy.CmdOff) {
		return view{}, false
	}

	on := d.State.On
	switch {
	case !l.seen:
		l.seen, l.wasOn = true, on // switched before we knew it: MinOn/MinOff count as met
	case on != l.wasOn:
		l.wasOn = on
		if on {
			l.onSince = now
		} else {
			l.offSince = now
		}
	}
	if l.hasSent && v.satisfied(l.sent) {
		l.streak = false
	}
	if l.restoring && (v.isUp() || now.Sub(l.restoringAt) >= 3*ResendPeriods*c.cfg.Period) {
		l.restoring = false
	}

	v.exempt = in.Overrides.Exempt[l.Device]
	until, ok := in.Overrides.Boost[l.Device]
	v.boosted = ok && now.Before(until)
	if v.boosted {
		v.base, v.baseWhy, v.tier = up, "boost", 2
	}
	switch l.Class {
	case ClassDeferrable:
		job := d.State.Job
		v.hasJob = job != nil && job.RemainingWh > 0
		switch {
		case l.Continuous && v.hasJob && on:
			v.locked, v.base, v.tier = true, keep, 0
		case v.boosted, !v.hasJob:
		case c.deadlineForced(job, v.ratedW, now):
			v.base, v.baseWhy, v.tier = up, "deadline", 1
		case in.Plan[l.Device]:
			v.base, v.baseWhy = up, "plan_start"
			v.levelWants = pol.HoldDeferrable && !v.exempt
		default:
			v.base, v.baseWhy = down, "plan_hold"
		}
	case ClassCurtailable:
		v.levelWants = !v.boosted && pol.CurtailAll && !v.exempt
	case ClassSheddable:
		v.levelWants = !v.boosted && pol.ShedSheddable && !v.exempt &&
			(pol.ShedPriorityBelow == 0 || l.Priority < pol.ShedPriorityBelow)
	}
	return v, true
}

func findDevice(ds []energy.Device, id energy.DeviceID) *energy.Device {
	for i := range ds {
		if ds[i].ID == id {
			return &ds[i]
		}
	}
	return nil
}

// DeadlineSlack is the slack a deadline start keeps on top of one control
// period: commands, the device's confirmation and rounding of its
// remaining energy take a few periods.
const DeadlineSlack = time.Minute

// deadlineForced: the job must start now to finish by its deadline (with
// one period plus DeadlineSlack to spare).
func (c *Controller) deadlineForced(job *energy.Job, ratedW int64, now time.Time) bool {
	if job.Deadline.IsZero() {
		return false
	}
	var need time.Duration
	if ratedW > 0 {
		need = time.Duration(job.RemainingWh * int64(time.Hour) / ratedW)
	}
	return !now.Before(job.Deadline.Add(-need - c.cfg.Period - DeadlineSlack))
}

// isUp: the load is at its unrestricted setting (on, or capped above
// CurtailW).
func (v *view) isUp() bool {
	st := &v.dev.State
	if v.offAct {
		return st.On
	}
	return st.LimitW == 0 || st.LimitW > v.l.CurtailW
}

// addW is what restoring or starting the load is expected to add.
func (v *view) addW() int64 {
	return max(0, v.ratedW-max(v.dev.State.PowerW, v.targetW))
}

// pendingW is the change a recent command has not yet brought to the
// device's power: counted for ResendPeriods after the first send, so a
// shed device whose PowerW has not dropped is not shed twice, while one
// that ignores commands is eventually not trusted.
func (v *view) pendingW(now time.Time, window time.Duration) int64 {
	l := v.l
	if !l.hasDirAt || now.Sub(l.dirAt) >= window {
		return 0
	}
	p := v.dev.State.PowerW
	if l.dirUp {
		return max(0, l.dirW-p)
	}
	return -max(0, p-l.dirW)
}

func (l *load) pendingUp(now time.Time, window time.Duration) bool {
	return l.hasDirAt && l.dirUp && l.streak && now.Sub(l.dirAt) < window
}

// soakable: the load is held (by plan or level) and could take surplus.
func (v *view) soakable(now time.Time) (int64, bool) {
	l := v.l
	if v.locked || !l.soakSince.IsZero() || v.isUp() || (l.r != nil && l.r.byLimit) ||
		(v.offAct && !minOffOK(l, now)) {
		return 0, false
	}
	switch {
	case l.Class == ClassDeferrable:
		if !v.hasJob || (l.r == nil && v.base != down) {
			return 0, false
		}
	case l.r == nil:
		return 0, false
	}
	return v.addW(), true
}

// soakBefore orders soak candidates: deferrable, curtailable, sheddable;
// the most valuable first within a class.
func soakBefore(a, b *view) bool {
	if ca, cb := classRank(a.l.Class), classRank(b.l.Class); ca != cb {
		return ca < cb
	}
	return a.l.rank > b.l.rank
}

func (v *view) satisfied(cmd energy.Command) bool {
	st := &v.dev.State
	switch cmd.Kind {
	case energy.CmdOn:
		return st.On
	case energy.CmdOff:
		return !st.On
	case energy.CmdLimit:
		return st.LimitW == cmd.LimitW
	case energy.CmdNormal:
		return st.LimitW == 0
	}
	return true
}

func minOnOK(l *load, now time.Time) bool {
	return l.onSince.IsZero() || now.Sub(l.onSince) >= l.MinOn
}

func minOffOK(l *load, now time.Time) bool {
	return l.offSince.IsZero() || now.Sub(l.offSince) >= l.MinOff
}

func (l *load) startRestoring(now time.Time, why, txt string) {
	l.restoring, l.restoringAt, l.restoreWhy, l.restoreText = true, now, why, txt
}

// emit returns the command that moves v up or down, unless the device
// already reports that state or the same command went out less than
// ResendPeriods ago.
func (c *Controller) emit(v *view, now time.Time, toUp bool, why, txt string) (Decision, bool) {
	l := v.l
	cmd := energy.Command{Device: l.Device, Reason: txt}
	var expW int64
	switch {
	case toUp && v.offAct:
		cmd.Kind, expW = energy.CmdOn, v.ratedW
	case toUp:
		cmd.Kind, expW = energy.CmdNormal, v.ratedW
	case v.offAct:
		cmd.Kind = energy.CmdOff
	default:
		cmd.Kind, cmd.LimitW, expW = energy.CmdLimit, l.CurtailW, l.CurtailW
	}
	if v.satisfied(cmd) || !energy.Supports(v.dev.Caps, cmd.Kind) {
		return Decision{}, false
	}
	same := l.hasSent && l.sent.Kind == cmd.Kind && l.sent.LimitW == cmd.LimitW
	if same && l.streak && now.Sub(l.sentAt) < ResendPeriods*c.cfg.Period {
		return Decision{}, false
	}
	if !same || !l.streak {
		l.dirUp, l.dirAt, l.dirW, l.hasDirAt = toUp, now, expW, true
	}
	l.sent, l.sentAt, l.hasSent, l.streak = cmd, now, true, true
	return Decision{Command: cmd, Why: why}, true
}
