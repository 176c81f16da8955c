package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/loopback"
)

// validBauds are the serial speeds both protocols allow.
func validBauds() []int { return []int{300, 600, 1200, 2400, 4800, 9600, 19200} }

// validate checks every value of c and normalises metering.address. lines
// maps dotted keys to the line of their value (nil from Validate).
func validate(c *Config, file string, lines map[string]int) []*Error {
	var errs []*Error
	fail := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: file, Line: lines[key], Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if err := checkListen(c.HTTP.Listen); err != "" {
		fail("http.listen", "%s", err)
	}
	switch t := c.HTTP.TLS; t.Mode {
	case TLSAuto:
	case TLSOff:
		if checkListen(c.HTTP.Listen) == "" && !loopback.HostPort(c.HTTP.Listen) {
			fail("http.tls", "off (plain HTTP) is allowed only when http.listen is a loopback address, not %q; use auto", c.HTTP.Listen)
		}
	case TLSFiles:
		for _, f := range []struct{ key, path string }{{"http.tls.cert", t.Cert}, {"http.tls.key", t.Key}} {
			if !path.IsAbs(f.path) {
				fail(f.key, "must be the absolute path of a PEM file, not %q", f.path)
			}
		}
	default:
		fail("http.tls", "must be auto, off or a mapping {cert: PATH, key: PATH}, not %q", t.Mode)
	}

	m := &c.Metering
	switch m.Protocol {
	case ProtocolDLT645, ProtocolIEC62056:
		if m.Baud != 0 && !slices.Contains(validBauds(), m.Baud) {
			fail("metering.baud", "must be 0 (protocol default) or one of %s, not %d", joinInts(validBauds()), m.Baud)
		}
	case ProtocolRouteB:
		if m.Baud != 0 && m.Baud != 115200 {
			fail("metering.baud", "must be 0 or 115200 for a Wi-SUN module, not %d", m.Baud)
		}
	default:
		fail("metering.protocol", "must be %s, %s or %s, not %q", ProtocolDLT645, ProtocolIEC62056, ProtocolRouteB, m.Protocol)
	}
	checkDialect("metering.dialect", m.Dialect, fail)
	switch {
	case m.Port == "":
		fail("metering.port", "must name the serial device, e.g. /dev/ttyS1")
	case !path.IsAbs(m.Port):
		fail("metering.port", "must be an absolute path, not %q", m.Port)
	}
	if addr, ok := normaliseAddress(m.Address); ok {
		m.Address = addr
	} else {
		fail("metering.address", "must be %q or 1 to 12 decimal digits, not %q", AddressAuto, m.Address)
	}
	checkRange := func(key string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			fail(key, "must be between %s and %s, not %s", lo, hi, d)
		}
	}
	checkRange("metering.interval", m.Interval, 200*time.Millisecond, time.Hour)
	checkRange("metering.response_timeout", m.ResponseTimeout, 20*time.Millisecond, 5*time.Second)
	checkRange("metering.byte_timeout", m.ByteTimeout, 10*time.Millisecond, 5*time.Second)

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		fail("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		fail("log.format", "must be text or json, not %q", c.Log.Format)
	}

	if c.Storage.Path != "" && !path.IsAbs(c.Storage.Path) {
		fail("storage.path", "must be an absolute path, not %q", c.Storage.Path)
	}
	checkRange("storage.commit_interval", c.Storage.CommitInterval, time.Second, time.Hour)
	r := c.Storage.Retention
	for _, x := range []struct {
		key string
		d   time.Duration
		min time.Duration
	}{{"storage.retention.raw", r.Raw, time.Hour}, {"storage.retention.minute", r.Minute, 24 * time.Hour}, {"storage.retention.quarter", r.Quarter, 7 * 24 * time.Hour}, {"storage.retention.day", r.Day, 30 * 24 * time.Hour}} {
		if x.d != 0 && x.d < x.min {
			fail(x.key, "must be 0 (keep forever) or at least %s, not %s", x.min, x.d)
		}
	}
	if r.Raw != 0 && r.Minute != 0 && r.Minute < r.Raw {
		fail("storage.retention.minute", "must not be shorter than storage.retention.raw")
	}

	validateDR(&c.DR, fail)
	validateHAN(c, fail)
	validateHomeKit(c.HomeKit, fail)
	validateBoard(c, fail)

	if !path.IsAbs(c.StateDir) {
		fail("state_dir", "must be an absolute path, not %q", c.StateDir)
	}
	return errs
}

// checkListen returns a message if s is not host:port with a numeric port.
func checkListen(s string) string {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("must be host:port, e.g. 127.0.0.1:8080, not %q", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Sprintf("port must be a number from 0 to 65535, not %q", port)
	}
	return ""
}

// normaliseAddress accepts "auto" or 1..12 digits and left-pads digits to
// the 12 a meter address has.
func normaliseAddress(s string) (string, bool) {
	if s == AddressAuto {
		return s, true
	}
	if len(s) < 1 || len(s) > 12 {
		return "", false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return strings.Repeat("0", 12-len(s)) + s, true
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func validateDR(dr *DR, fail func(key, format string, args ...any)) {
	if dr.ContractImportW < 0 {
		fail("dr.contract_import_w", "must be 0 (none) or a positive number of W, not %d", dr.ContractImportW)
	}
	if dr.ContractExportW < 0 {
		fail("dr.contract_export_w", "must be 0 (none) or a positive number of W, not %d", dr.ContractExportW)
	}
	if dr.Period < time.Second || dr.Period > time.Minute {
		fail("dr.period", "must be between 1s and 1m, not %s", dr.Period)
	}
	v := &dr.VTN
	if v.URL != "" {
		u, err := url.Parse(v.URL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			fail("dr.vtn.url", "must be an https:// URL, not %q", v.URL)
		case u.Scheme == "http" && !loopback.Host(u.Hostname()):
			fail("dr.vtn.url", "plain http:// is allowed only for a loopback host; use https:// (not %q)", v.URL)
		case u.User != nil:
			fail("dr.vtn.url", "must not carry credentials; use dr.vtn.client_id and client_secret_file")
		}
		if v.VENName == "" {
			fail("dr.vtn.ven_name", "must name this gateway at the VTN when dr.vtn.url is set")
		}
	}
	if (v.ClientID == "") != (v.ClientSecretFile == "") {
		fail("dr.vtn.client_id", "client_id and client_secret_file go together (both empty: a VTN without authentication)")
	}
	for _, f := range []struct{ key, p string }{{"dr.vtn.client_secret_file", v.ClientSecretFile}, {"dr.vtn.ca_file", v.CAFile}} {
		if f.p != "" && !path.IsAbs(f.p) {
			fail(f.key, "must be an absolute path, not %q", f.p)
		}
	}
	if len(v.VENName) > 128 {
		fail("dr.vtn.ven_name", "must be at most 128 characters")
	}
	if v.Poll < 5*time.Second || v.Poll > time.Hour {
		fail("dr.vtn.poll", "must be between 5s and 1h, not %s", v.Poll)
	}
	switch v.Version {
	case "auto", "3.0.1", "3.1":
	default:
		fail("dr.vtn.version", "must be auto, 3.0.1 or 3.1, not %q", v.Version)
	}
	seen := map[string]bool{}
	for i, l := range dr.Loads {
		key := fmt.Sprintf("dr.loads[%d]", i)
		switch {
		case l.Device == "":
			fail(key+".device", "must name a device id")
		case seen[l.Device]:
			fail(key+".device", "device %q is listed twice", l.Device)
		}
		seen[l.Device] = true
		switch l.Class {
		case ClassDeferrable, ClassCurtailable, ClassSheddable, ClassCritical:
		default:
			fail(key+".class", "must be deferrable, curtailable, sheddable or critical, not %q", l.Class)
		}
		if l.MinOn < 0 || l.MinOn > 24*time.Hour {
			fail(key+".min_on", "must be between 0 and 24h, not %s", l.MinOn)
		}
		if l.MinOff < 0 || l.MinOff > 24*time.Hour {
			fail(key+".min_off", "must be between 0 and 24h, not %s", l.MinOff)
		}
		if l.CurtailW < 0 {
			fail(key+".curtail_w", "must be 0 or more W, not %d", l.CurtailW)
		}
	}
	if len(dr.Loads) > 256 {
		fail("dr.loads", "at most 256 loads, not %d", len(dr.Loads))
	}
}

func checkDialect(key, d string, fail func(key, format string, args ...any)) {
	switch d {
	case DialectAuto, DialectBP35A1, DialectBP35C0, DialectRL7023:
	default:
		fail(key, "must be auto, bp35a1, bp35c0 or rl7023, not %q", d)
	}
}

func validateHAN(c *Config, fail func(key, format string, args ...any)) {
	w := c.HAN.WiSUN
	if w.Port != "" && !path.IsAbs(w.Port) {
		fail("han.wisun.port", "must be an absolute path, not %q", w.Port)
	}
	if w.Port != "" && c.Metering.Protocol == ProtocolRouteB && w.Port == c.Metering.Port {
		fail("han.wisun.port", "is metering.port already (the route-B module); a HAN needs its own module")
	}
	checkDialect("han.wisun.dialect", w.Dialect, fail)
	switch w.Role {
	case "han", "routeb":
	default:
		fail("han.wisun.role", "must be han or routeb, not %q", w.Role)
	}
	if (w.Channel == 0) != (w.PAN == 0) {
		fail("han.wisun.channel", "channel and pan go together (both 0: scan)")
	}
	if w.Channel != 0 && (w.Channel < 33 || w.Channel > 60) {
		fail("han.wisun.channel", "must be 0 (scan) or 33 to 60, not %d", w.Channel)
	}
	if w.PAN < 0 || w.PAN > 0xFFFE {
		fail("han.wisun.pan", "must be 0 (scan) or 1 to 65534, not %d", w.PAN)
	}
	e := c.HAN.EchonetIP
	if err := checkListen(e.Listen); err != "" {
		fail("han.echonet_ip.listen", "%s", err)
	}
	for i, p := range e.Peers {
		if err := checkListen(p); err != "" {
			fail(fmt.Sprintf("han.echonet_ip.peers[%d]", i), "%s", err)
		}
	}
	for i, name := range e.Interfaces {
		if name == "" || len(name) > 15 {
			fail(fmt.Sprintf("han.echonet_ip.interfaces[%d]", i), "must be an interface name, not %q", name)
		}
	}
	co := c.HAN.CoAP
	if err := checkListen(co.Listen); err != "" {
		fail("han.coap.listen", "%s", err)
	}
	if co.PlainListen != "" {
		if err := checkListen(co.PlainListen); err != "" {
			fail("han.coap.plain_listen", "%s", err)
		} else if !loopback.HostPort(co.PlainListen) {
			fail("han.coap.plain_listen", "plain coap is allowed on a loopback address only (127.0.0.1 or [::1]), not %q", co.PlainListen)
		}
	}
	b := c.HAN.BLE
	if n, err := strconv.Atoi(strings.TrimPrefix(b.HCI, "hci")); !strings.HasPrefix(b.HCI, "hci") || err != nil || n < 0 || n > 15 {
		fail("han.ble.hci", "must be hci0 to hci15, not %q", b.HCI)
	}
	if b.Scan != "passive" && b.Scan != "active" {
		fail("han.ble.scan", "must be passive or active, not %q", b.Scan)
	}
}

func validateHomeKit(h HomeKit, fail func(key, format string, args ...any)) {
	if h.Name == "" || len(h.Name) > 64 || strings.ContainsAny(h.Name, ".\x00") {
		fail("homekit.name", "must be 1 to 64 characters without dots, not %q", h.Name)
	}
	if h.Port < 0 || h.Port > 65535 {
		fail("homekit.port", "must be 0 (any free port) to 65535, not %d", h.Port)
	}
}
