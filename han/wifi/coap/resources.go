package coap

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Ctl is the DR command document of /dev/{ep}/ctl (JSON, content format
// 50), in the OpenADR-derived shape of the design notes: mode NORMAL,
// CURTAIL, SHIFT or LIMIT; start and a duration ("PT0S": until the next
// command); randomizeStart is the spread the appliance adds itself
// ("PT0S" for commands from the gateway's controller, which randomises
// already); notAfter is the SHIFT deadline (latest completion).
type Ctl struct {
	CmdID          string     `json:"cmdId"`
	Mode           string     `json:"mode"`
	LimitW         int64      `json:"limitW,omitempty"`
	Start          time.Time  `json:"start,omitzero"`
	Duration       string     `json:"duration"`
	RandomizeStart string     `json:"randomizeStart"`
	NotAfter       *time.Time `json:"notAfter,omitempty"`
	Reason         string     `json:"reason,omitempty"`
}

// The /ctl modes.
const (
	ModeNormal  = "NORMAL"
	ModeCurtail = "CURTAIL"
	ModeShift   = "SHIFT"
	ModeLimit   = "LIMIT"
)

// Status is what an appliance posts to /dev/{ep}/status: the command it
// acknowledges and its OPERATING_STATE, and for a deferrable appliance
// the work left.
type Status struct {
	CmdID       string     `json:"cmdId"`
	State       string     `json:"state"`
	RemainingWh *int64     `json:"remainingWh,omitempty"`
	Deadline    *time.Time `json:"deadline,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// operatingStates are OpenADR 3's OPERATING_STATE values.
var operatingStates = []string{"NORMAL", "ERROR", "IDLE_NORMAL", "RUNNING_NORMAL", "RUNNING_CURTAILED",
	"RUNNING_HEIGHTENED", "IDLE_CURTAILED", "SGD_ERROR_CONDITION", "IDLE_HEIGHTENED", "IDLE_OPTED_OUT",
	"RUNNING_OPTED_OUT"}

func (s Status) check() error {
	if !slices.Contains(operatingStates, s.State) {
		return fmt.Errorf("status: unknown state %q", s.State)
	}
	if len(s.CmdID) > 128 || len(s.Reason) > 256 {
		return errors.New("status: field too long")
	}
	if s.RemainingWh != nil && (*s.RemainingWh < 0 || *s.RemainingWh > 1e9) {
		return errors.New("status: remainingWh out of range")
	}
	return nil
}

// running reports whether an OPERATING_STATE means the appliance draws
// power (or may).
func running(state string) bool { return !strings.HasPrefix(state, "IDLE") && state != "ERROR" }

// Info is the static descriptor an appliance PUTs to /dev/{ep}/info.
type Info struct {
	Class     string   `json:"class,omitempty"` // sheddable|modulatable|deferrable|critical
	PNomW     int64    `json:"pNomW,omitempty"`
	PMinW     int64    `json:"pMinW,omitempty"`
	PMaxW     int64    `json:"pMaxW,omitempty"`
	MinOnS    int64    `json:"minOnS,omitempty"`
	MinOffS   int64    `json:"minOffS,omitempty"`
	MaxDeferS int64    `json:"maxDeferS,omitempty"`
	Supports  []string `json:"supports,omitempty"`
}

func (i Info) check() error {
	switch i.Class {
	case "", "sheddable", "modulatable", "deferrable", "critical":
	default:
		return fmt.Errorf("info: unknown class %q", i.Class)
	}
	for _, v := range []int64{i.PNomW, i.PMinW, i.PMaxW, i.MinOnS, i.MinOffS, i.MaxDeferS} {
		if v < 0 || v > 1e7 {
			return errors.New("info: value out of range")
		}
	}
	if len(i.Supports) > 8 {
		return errors.New("info: too many supports")
	}
	return nil
}

// GridLimit is the /grid/limit document: the site's import limit now (0:
// none) and the OpenADR SIMPLE level.
type GridLimit struct {
	Simple       int    `json:"simple"`
	ImportLimitW int64  `json:"importLimitW"`
	ExportLimitW int64  `json:"exportLimitW"`
	Event        string `json:"event,omitempty"`
}

// Price is the /price document: prices per interval in the OpenADR shape
// (import and export per kWh, intervals of IntervalS from Start).
type Price struct {
	Currency  string    `json:"currency"`
	Units     string    `json:"units"`
	Start     time.Time `json:"start"`
	IntervalS int64     `json:"intervalS"`
	Import    []float64 `json:"import"`
	Export    []float64 `json:"export"`
}

// Kinds: what an appliance kind is able to do for the registry.
func capsOf(kind string) (energy.Capabilities, int64) {
	switch kind {
	case "evcharger":
		return energy.Capabilities{energy.CapEV, energy.CapCurtail, energy.CapSwitch, energy.CapMeter}, 11000
	case "dishwasher", "washer", "dryer":
		return energy.Capabilities{energy.CapDeferrable, energy.CapMeter}, 2000
	case "heatpump":
		return energy.Capabilities{energy.CapCurtail, energy.CapSwitch, energy.CapMeter}, 3000
	case "waterheater":
		return energy.Capabilities{energy.CapSwitch, energy.CapMeter}, 2000
	}
	return energy.Capabilities{energy.CapSwitch, energy.CapMeter}, 1000
}

// ctlFor turns a registry command into the /ctl document.
func ctlFor(c energy.Command, caps energy.Capabilities, job *energy.Job, now time.Time, seq uint64) Ctl {
	ctl := Ctl{CmdID: fmt.Sprintf("gw-%d", seq), Start: now.UTC(), Duration: "PT0S", RandomizeStart: "PT0S", Reason: c.Reason}
	switch c.Kind {
	case energy.CmdOn, energy.CmdNormal:
		ctl.Mode = ModeNormal
	case energy.CmdLimit:
		ctl.Mode, ctl.LimitW = ModeLimit, c.LimitW
	case energy.CmdOff:
		ctl.Mode = ModeCurtail
		if caps.Has(energy.CapDeferrable) {
			ctl.Mode = ModeShift
			if job != nil && !job.Deadline.IsZero() {
				d := job.Deadline.UTC()
				ctl.NotAfter = &d
			}
		}
	}
	return ctl
}

// ISODuration formats d as an ISO 8601 duration in seconds ("PT90S").
func ISODuration(d time.Duration) string {
	return "PT" + strconv.FormatInt(int64(d/time.Second), 10) + "S"
}

// link is one entry of /.well-known/core.
type link struct {
	path, rt, ct string
	obs          bool
}

func (l link) String() string {
	s := "<" + l.path + ">;rt=\"" + l.rt + "\""
	if l.ct != "" {
		if strings.Contains(l.ct, " ") {
			s += ";ct=\"" + l.ct + "\""
		} else {
			s += ";ct=" + l.ct
		}
	}
	if l.obs {
		s += ";obs"
	}
	return s
}

func links(ep string) []link {
	out := []link{
		{path: "/rd", rt: "core.rd", ct: "40"},
		{path: "/price", rt: "energy.price", ct: "50", obs: true},
		{path: "/grid/limit", rt: "energy.gridlimit", ct: "50", obs: true},
	}
	if ep != "" {
		d := "/dev/" + ep
		out = append(out,
			link{path: d + "/info", rt: "energy.info", ct: "50"},
			link{path: d + "/meas", rt: "oic.r.energy.consumption", ct: "110 112"},
			link{path: d + "/ctl", rt: "oic.r.energy.drlc", ct: "50", obs: true},
			link{path: d + "/status", rt: "energy.status", ct: "50"})
	}
	return out
}

// wellKnown renders the link-format answer, filtered by the query rt
// (exact, or a prefix with a trailing '*', RFC 6690 §4.1).
func wellKnown(ep string, queries []string) string {
	var rt string
	for _, q := range queries {
		if v, ok := strings.CutPrefix(q, "rt="); ok {
			rt = v
		}
	}
	var parts []string
	for _, l := range links(ep) {
		if rt != "" {
			if p, ok := strings.CutSuffix(rt, "*"); ok {
				if !strings.HasPrefix(l.rt, p) {
					continue
				}
			} else if l.rt != rt {
				continue
			}
		}
		parts = append(parts, l.String())
	}
	return strings.Join(parts, ",")
}

// parseQuery reads the /rd parameters ep, lt, et (RFC 9176 §5.3).
func parseRDQuery(queries []string) (ep string, lt int64, et string, err error) {
	for _, q := range queries {
		k, v, _ := strings.Cut(q, "=")
		switch k {
		case "ep":
			ep = v
		case "lt":
			lt, err = strconv.ParseInt(v, 10, 64)
			if err != nil || lt < 1 {
				return "", 0, "", fmt.Errorf("rd: bad lifetime %q", v)
			}
		case "et":
			et = v
		}
	}
	if ep == "" {
		return "", 0, "", errors.New("rd: missing ep")
	}
	if len(et) > 32 {
		return "", 0, "", errors.New("rd: et too long")
	}
	return ep, lt, et, nil
}

// checkLinkFormat bounds and sanity-checks a registration body: a
// comma-separated list of <uri>;attrs (RFC 6690). Empty is allowed.
func checkLinkFormat(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	for i, l := range strings.Split(s, ",") {
		if i >= 64 {
			return errors.New("rd: more than 64 links")
		}
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "<") || !strings.Contains(l, ">") {
			return fmt.Errorf("rd: link %d: not <uri>;attrs", i)
		}
	}
	return nil
}
