package control

import (
	"fmt"
	"strconv"
)

// limits are the effective limits of one Step and where the import limit
// comes from, for the reasons the household reads.
type limits struct {
	importW, exportW int64
	impSrc           string // "contract", "event" or "level"
	level            int
	event            string
}

func (c *Controller) limits(s Signals, pol LevelPolicy, level int) limits {
	lim := limits{level: level, event: s.Event}
	for _, cand := range []struct {
		w   int64
		src string
	}{{c.cfg.ContractImportW, "contract"}, {s.ImportLimitW, "event"}, {pol.ImportLimitW, "level"}} {
		if cand.w > 0 && (lim.importW == 0 || cand.w < lim.importW) {
			lim.importW, lim.impSrc = cand.w, cand.src
		}
	}
	for _, w := range []int64{c.cfg.ContractExportW, s.ExportLimitW} {
		if w > 0 && (lim.exportW == 0 || w < lim.exportW) {
			lim.exportW = w
		}
	}
	return lim
}

func kw(w int64) string { return strconv.FormatFloat(float64(w)/1000, 'f', 1, 64) + " kW" }

func (lim limits) eventName() string {
	if lim.event == "" {
		return "the DR event"
	}
	return "event " + lim.event
}

// importText names the import limit: "import limit 3.0 kW of event peak-17".
func (lim limits) importText() string {
	switch lim.impSrc {
	case "event":
		return "import limit " + kw(lim.importW) + " of " + lim.eventName()
	case "level":
		return "import limit " + kw(lim.importW) + " of DR level " + strconv.Itoa(lim.level) + " (" + lim.eventName() + ")"
	}
	return "contract import limit " + kw(lim.importW)
}

func (lim limits) restoreText() string {
	if lim.importW == 0 {
		return "Restored: the DR event no longer asks to hold it"
	}
	return "Restored: import has stayed below the " + lim.importText()
}

func (lim limits) exportText(siteW int64) string {
	return fmt.Sprintf("Started to use surplus: export %s above the export limit %s", kw(-siteW), kw(lim.exportW))
}

func levelWhy(level int) string { return "level_" + strconv.Itoa(level) }

func (c *Controller) levelText(v *view, level int, event string) string {
	lim := limits{level: level, event: event}
	what := "Held"
	switch {
	case !v.offAct:
		what = "Curtailed to " + kw(v.targetW)
	case v.l.Class != ClassDeferrable:
		what = "Switched off"
	}
	return what + " for DR level " + strconv.Itoa(level) + " (" + lim.eventName() + ")"
}

func (c *Controller) shedText(v *view, siteW int64, lim limits) string {
	what := "Switched off"
	if !v.offAct {
		what = "Curtailed to " + kw(v.targetW)
	}
	return what + ": site import " + kw(siteW) + " above the " + lim.importText()
}

func (c *Controller) baseText(v *view, why string) string {
	switch why {
	case "plan_start":
		return "Started: the planned time has come"
	case "plan_hold":
		return "Held until its planned, cheaper time"
	case "deadline":
		if j := v.dev.State.Job; j != nil {
			return "Started now to finish by " + j.Deadline.Format("15:04")
		}
		return "Started now to finish by its deadline"
	case "boost":
		return "Boosted by the household"
	}
	return why
}
