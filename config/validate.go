package config

import (
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
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
		if checkListen(c.HTTP.Listen) == "" && !loopbackListen(c.HTTP.Listen) {
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
	default:
		fail("metering.protocol", "must be %s or %s, not %q", ProtocolDLT645, ProtocolIEC62056, m.Protocol)
	}
	switch {
	case m.Port == "":
		fail("metering.port", "must name the serial device, e.g. /dev/ttyS1")
	case !path.IsAbs(m.Port):
		fail("metering.port", "must be an absolute path, not %q", m.Port)
	}
	if m.Baud != 0 && !slices.Contains(validBauds(), m.Baud) {
		fail("metering.baud", "must be 0 (protocol default) or one of %s, not %d", joinInts(validBauds()), m.Baud)
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

	if !path.IsAbs(c.StateDir) {
		fail("state_dir", "must be an absolute path, not %q", c.StateDir)
	}
	return errs
}

// loopbackListen reports whether host:port binds loopback only.
func loopbackListen(s string) bool {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
