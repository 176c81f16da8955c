package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wantErr is one expected *Error; Msg is matched as a substring.
type wantErr struct {
	Line int
	Key  string
	Msg  string
}

// allErrors flattens an error returned by Parse into its *Error values.
func allErrors(t *testing.T, err error) []*Error {
	t.Helper()
	var out []*Error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, allErrors(t, e)...)
		}
		return out
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	return append(out, ce)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []wantErr
	}{
		{"unknown top-level key", "htp:\n  listen: x\n", []wantErr{{1, "htp", "unknown key"}}},
		{"unknown nested key", "metering:\n  protocol: dlt645\n  prot: x\n", []wantErr{{3, "metering.prot", "unknown key"}}},
		{"unknown key in log", "log:\n  level: info\n  colour: red\n", []wantErr{{3, "log.colour", "unknown key"}}},
		{"unknown key below a scalar field", "http:\n  listen:\n    host: x\n", []wantErr{{3, "http.listen", "must be a string, not a mapping"}}},
		{"integer wrong type", "metering:\n  protocol: dlt645\n  port: /dev/ttyS1\n  baud: fast\n", []wantErr{{4, "metering.baud", `"fast" is not an integer`}}},
		{"integer overflow", "metering:\n  baud: 99999999999999999999\n", []wantErr{{2, "metering.baud", "out of range"}}},
		{"float for integer", "metering:\n  baud: 2400.5\n", []wantErr{{2, "metering.baud", "not an integer"}}},
		{"bool wrong type", "metering:\n  time_sync: yes\n", []wantErr{{2, "metering.time_sync", `"yes" is not a boolean`}}},
		{"duration without unit", "metering:\n  interval: 5\n", []wantErr{{2, "metering.interval", `"5" is not a duration`}}},
		{"list for string", "log:\n  level: [info]\n", []wantErr{{2, "log.level", "must be a string, not a list"}}},
		{"scalar for section", "metering: dlt645\n", []wantErr{{1, "metering", `must be a mapping, not "dlt645"`}}},
		{"bad protocol", "metering:\n  port: /dev/ttyS1\n  protocol: x\n", []wantErr{{3, "metering.protocol", `must be dlt645, iec62056-21 or echonet-routeb, not "x"`}}},
		{"route B baud", "metering:\n  protocol: echonet-routeb\n  port: /dev/ttyUSB0\n  baud: 9600\n", []wantErr{{4, "metering.baud", "must be 0 or 115200"}}},
		{"wisun dialect", "han:\n  wisun:\n    port: /dev/ttyUSB0\n    dialect: bp35\n", []wantErr{{4, "han.wisun.dialect", `not "bp35"`}}},
		{"wisun role", "han:\n  wisun:\n    role: hub\n", []wantErr{{3, "han.wisun.role", "must be han or routeb"}}},
		{"wisun channel alone", "han:\n  wisun:\n    channel: 40\n", []wantErr{{3, "han.wisun.channel", "go together"}}},
		{"wisun channel range", "han:\n  wisun:\n    channel: 61\n    pan: 1\n", []wantErr{{3, "han.wisun.channel", "33 to 60"}}},
		{"wisun shares the route-B module", "metering:\n  protocol: echonet-routeb\n  port: /dev/ttyUSB0\nhan:\n  wisun:\n    port: /dev/ttyUSB0\n", []wantErr{{6, "han.wisun.port", "needs its own module"}}},
		{"echonet peer", "han:\n  echonet_ip:\n    peers: [nothost]\n", []wantErr{{3, "han.echonet_ip.peers[0]", "host:port"}}},
		{"bad baud", "metering:\n  baud: 1234\n", []wantErr{{2, "metering.baud", "not 1234"}}},
		{"relative port", "metering:\n  port: ttyS1\n", []wantErr{{2, "metering.port", "absolute"}}},
		{"empty port", "metering:\n  port: ''\n", []wantErr{{2, "metering.port", "serial device"}}},
		{"address letters", "metering:\n  address: 12ab\n", []wantErr{{2, "metering.address", `not "12ab"`}}},
		{"address too long", "metering:\n  address: 1234567890123\n", []wantErr{{2, "metering.address", "1 to 12"}}},
		{"interval too short", "metering:\n  interval: 100ms\n", []wantErr{{2, "metering.interval", "between 200ms and 1h0m0s"}}},
		{"response timeout too long", "metering:\n  response_timeout: 6s\n", []wantErr{{2, "metering.response_timeout", "between"}}},
		{"byte timeout too short", "metering:\n  byte_timeout: 1ms\n", []wantErr{{2, "metering.byte_timeout", "between"}}},
		{"listen without port", "http:\n  listen: localhost\n", []wantErr{{2, "http.listen", "host:port"}}},
		{"listen port range", "http:\n  listen: 127.0.0.1:70000\n", []wantErr{{2, "http.listen", "0 to 65535"}}},
		{"listen port name", "http:\n  listen: 127.0.0.1:http\n", []wantErr{{2, "http.listen", "0 to 65535"}}},
		{"bad level", "log:\n  level: verbose\n", []wantErr{{2, "log.level", "verbose"}}},
		{"bad format", "log:\n  format: xml\n", []wantErr{{2, "log.format", "xml"}}},
		{"relative state dir", "state_dir: state\n", []wantErr{{1, "state_dir", "absolute"}}},
		{"duplicate key", "metering:\n  baud: 2400\n  baud: 9600\n", []wantErr{{3, "metering.baud", "duplicate key (first set on line 2)"}}},
		{"duplicate section", "log:\n  level: info\nlog:\n  format: json\n", []wantErr{{3, "log", "duplicate key"}}},
		{"document is a scalar", "hello\n", []wantErr{{1, "", "must be a mapping"}}},
		{"document is a list", "- http\n- log\n", []wantErr{{1, "", "must be a mapping"}}},
		{"tab indentation", "http:\n\tlisten: 127.0.0.1:80\n", []wantErr{{2, "", "tabs are not allowed"}}},
		{"syntax error", "metering:\n  port: [/dev/ttyS1\n", []wantErr{{0, "", ""}}},
		{"two documents", "log:\n  level: info\n---\nlog:\n  level: debug\n", []wantErr{{3, "", "more than one YAML document"}}},
		{"alias", "log:\n  level: &l info\n  format: *l\n", []wantErr{{2, "log.level", "anchors"}, {3, "log.format", "anchors"}}},
		{"complex key", "? [a]\n: 1\n", []wantErr{{1, "", "keys must be plain names"}}},
		{"several problems", "metering:\n  baud: fast\n  prot: 1\n  protocol: x\nlog:\n  level: loud\n", []wantErr{
			{2, "metering.baud", "not an integer"},
			{3, "metering.prot", "unknown key"},
			{4, "metering.protocol", "must be dlt645"},
			{6, "log.level", "loud"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("gatewayd.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = nil error", tt.in)
			}
			got := allErrors(t, err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d: %v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.File != "gatewayd.yaml" {
					t.Errorf("error %d: File = %q", i, g.File)
				}
				if w.Line != 0 && g.Line != w.Line {
					t.Errorf("error %d: Line = %d, want %d (%v)", i, g.Line, w.Line, g)
				}
				if g.Key != w.Key {
					t.Errorf("error %d: Key = %q, want %q (%v)", i, g.Key, w.Key, g)
				}
				if !strings.Contains(g.Msg, w.Msg) {
					t.Errorf("error %d: Msg = %q, want it to contain %q", i, g.Msg, w.Msg)
				}
			}
		})
	}
}

func TestSyntaxErrorHasLine(t *testing.T) {
	_, err := Parse("gatewayd.yaml", []byte("log:\n  level: info\n  format: [text\n"))
	var ce *Error
	if !errors.As(err, &ce) || ce.Line == 0 {
		t.Fatalf("want an *Error with a line, got %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{"gatewayd.yaml", 4, "metering.baud", `"fast" is not an integer`}, `gatewayd.yaml:4: metering.baud: "fast" is not an integer`},
		{Error{"gatewayd.yaml", 7, "metering.prot", "unknown key"}, "gatewayd.yaml:7: metering.prot: unknown key"},
		{Error{"gatewayd.yaml", 0, "", "file too large"}, "gatewayd.yaml: file too large"},
		{Error{"", 0, "log.level", "bad"}, "log.level: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	_, err := Parse("gatewayd.yaml", []byte("metering:\n  protocol: dlt645\n  port: /dev/ttyS1\n  baud: fast\n"))
	if got, want := err.Error(), `gatewayd.yaml:4: metering.baud: "fast" is not an integer`; got != want {
		t.Errorf("Parse error = %q, want %q", got, want)
	}
}

func TestEmptyMeansDefaults(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "---\n", "~\n", "http:\nmetering:\nlog:\nstate_dir:\n"} {
		got, err := Parse("gatewayd.yaml", []byte(in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if !reflect.DeepEqual(got, Default()) {
			t.Errorf("Parse(%q) = %+v, want defaults", in, got)
		}
	}
}

func TestParseValues(t *testing.T) {
	in := `
http:
  listen: ":9090"
metering:
  protocol: iec62056-21
  port: /dev/ttyAMA0
  baud: 19200
  address: 000012345678
  interval: 2.5s
  response_timeout: 1s
  byte_timeout: 20ms
  time_sync: false
log:
  level: debug
  format: json
storage:
  path: /data/g.db
  commit_interval: 30s
  retention:
    raw: 3d
    minute: 1y
    quarter: 10y
    day: 0
dr:
  contract_import_w: 6000
  period: 3s
  vtn:
    url: https://vtn.example.com/openadr3
    client_id: gw-4711
    client_secret_file: /etc/gatewayd/vtn.secret
    ven_name: gw-4711
    poll: 1m
    version: "3.1"
  loads:
    - {device: sim-ev, class: curtailable, priority: 2, curtail_w: 1400, min_on: 5m}
state_dir: /tmp/gw
`
	got, err := Parse("gatewayd.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		HTTP: HTTP{Listen: ":9090", TLS: TLS{Mode: TLSAuto}},
		Metering: Metering{
			Protocol:        ProtocolIEC62056,
			Port:            "/dev/ttyAMA0",
			Baud:            19200,
			Address:         "000012345678",
			Interval:        2500 * time.Millisecond,
			ResponseTimeout: time.Second,
			ByteTimeout:     20 * time.Millisecond,
			TimeSync:        false,
			Dialect:         DialectAuto,
		},
		Log: Log{Level: "debug", Format: "json"},
		Storage: Storage{Path: "/data/g.db", CommitInterval: 30 * time.Second, Retention: Retention{
			Raw: 72 * time.Hour, Minute: 365 * 24 * time.Hour, Quarter: 3650 * 24 * time.Hour}},
		DR: DR{ContractImportW: 6000, Period: 3 * time.Second,
			VTN: VTN{URL: "https://vtn.example.com/openadr3", ClientID: "gw-4711", ClientSecretFile: "/etc/gatewayd/vtn.secret",
				VENName: "gw-4711", Poll: time.Minute, Version: "3.1"},
			Loads: []DRLoad{{Device: "sim-ev", Class: ClassCurtailable, Priority: 2, CurtailW: 1400, MinOn: 5 * time.Minute}}},
		HAN:      Default().HAN,
		HomeKit:  Default().HomeKit,
		Board:    Default().Board,
		Watchdog: Default().Watchdog,
		Update:   Default().Update,
		StateDir: "/tmp/gw",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestAddressPadding(t *testing.T) {
	for in, want := range map[string]string{
		"auto":           "auto",
		"1":              "000000000001",
		"12345678":       "000012345678",
		"'000000000001'": "000000000001",
		"999999999999":   "999999999999",
	} {
		c, err := Parse("gatewayd.yaml", []byte("metering:\n  address: "+in+"\n"))
		if err != nil {
			t.Fatalf("address %s: %v", in, err)
		}
		if c.Metering.Address != want {
			t.Errorf("address %s = %q, want %q", in, c.Metering.Address, want)
		}
	}
}

func TestEffectiveBaud(t *testing.T) {
	tests := []struct {
		m    Metering
		want int
	}{
		{Metering{Protocol: ProtocolDLT645}, 2400},
		{Metering{Protocol: ProtocolIEC62056}, 9600},
		{Metering{Protocol: ProtocolDLT645, Baud: 1200}, 1200},
		{Metering{Protocol: ProtocolIEC62056, Baud: 4800}, 4800},
		{Metering{Protocol: "x"}, 0},
	}
	for _, tt := range tests {
		if got := tt.m.EffectiveBaud(); got != tt.want {
			t.Errorf("%+v.EffectiveBaud() = %d, want %d", tt.m, got, tt.want)
		}
	}
}

func TestExampleIsDefault(t *testing.T) {
	got, err := Parse("example.yaml", []byte(Example()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("Example() parses to %+v, want Default() %+v", got, Default())
	}
	// Every field must appear in the example, so the docs stay complete.
	for _, key := range []string{"listen:", "protocol:", "port:", "baud:", "address:", "interval:",
		"response_timeout:", "byte_timeout:", "time_sync:", "level:", "format:", "state_dir:"} {
		if !strings.Contains(Example(), key) {
			t.Errorf("Example() lacks %s", key)
		}
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.Metering.Baud = 7
	err := c.Validate()
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "metering.baud" || ce.File != "" || ce.Line != 0 {
		t.Fatalf("Validate() = %v, want metering.baud error without file", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "gatewayd.yaml")
	if err := os.WriteFile(p, []byte("log:\n  level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil || c.Log.Level != "warn" {
		t.Fatalf("Load = %+v, %v", c.Log, err)
	}
	if err := os.WriteFile(p, []byte("log:\n  levle: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != p || ce.Line != 2 || ce.Key != "log.levle" {
		t.Fatalf("Load bad key = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load missing = %v, want ErrNotExist", err)
	}
	big := make([]byte, MaxFileSize+10)
	for i := range big {
		big[i] = '#'
	}
	if err := os.WriteFile(p, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "larger") {
		t.Fatalf("Load big = %v", err)
	}
}

// TestDecodeSlices covers the generic list and float decoding the current
// Config does not use yet.
func TestDecodeSlices(t *testing.T) {
	type item struct {
		Name  string  `yaml:"name"`
		Ratio float64 `yaml:"ratio"`
	}
	var v struct {
		Items []item `yaml:"items"`
		Ports []int  `yaml:"ports"`
	}
	d := &decoder{file: "f.yaml", lines: map[string]int{}}
	root, err := parseYAML("f.yaml", []byte("items:\n  - name: a\n    ratio: 0.5\n  - name: b\n    colour: x\nports: [1, two]\n"))
	if err != nil {
		t.Fatal(err)
	}
	d.decodeRoot(root, &v)
	if len(v.Items) != 2 || v.Items[0].Name != "a" || v.Items[0].Ratio != 0.5 || v.Items[1].Name != "b" {
		t.Errorf("items = %+v", v.Items)
	}
	want := []wantErr{{5, "items[1].colour", "unknown key"}, {6, "ports[1]", `"two" is not an integer`}}
	if len(d.errs) != len(want) {
		t.Fatalf("errs = %v", d.errs)
	}
	for i, w := range want {
		if e := d.errs[i]; e.Line != w.Line || e.Key != w.Key || !strings.Contains(e.Msg, w.Msg) {
			t.Errorf("err %d = %v, want %+v", i, e, w)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Example()))
	f.Add([]byte("metering:\n  baud: fast\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			for _, e := range allErrors(t, err) {
				if e.File != "fuzz.yaml" {
					t.Fatalf("error without file: %v", e)
				}
			}
			return
		}
		// Whatever parses must be valid.
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid config: %v", err)
		}
	})
}

func TestParseTLS(t *testing.T) {
	ok := map[string]TLS{
		"http: {tls: auto}":                                       {Mode: TLSAuto},
		"http: {listen: '127.0.0.1:80', tls: off}":                {Mode: TLSOff},
		"http: {listen: '[::1]:80', tls: off}":                    {Mode: TLSOff},
		"http: {tls: {cert: /etc/g/cert.pem, key: /etc/g/k.pem}}": {Mode: TLSFiles, Cert: "/etc/g/cert.pem", Key: "/etc/g/k.pem"},
	}
	for in, want := range ok {
		c, err := Parse("g.yaml", []byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if c.HTTP.TLS != want {
			t.Errorf("%s: tls = %+v, want %+v", in, c.HTTP.TLS, want)
		}
	}
	bad := map[string]string{
		"http: {listen: ':443', tls: off}":       "g.yaml:1: http.tls: off (plain HTTP) is allowed only",
		"http: {listen: '0.0.0.0:80', tls: off}": "allowed only when http.listen is a loopback",
		"http: {tls: maybe}":                     "http.tls: must be auto, off or a mapping",
		"http: {tls: {cert: cert.pem, key: /k}}": "http.tls.cert: must be the absolute path",
		"http: {tls: {cert: /c, keyfile: /k}}":   "http.tls.keyfile: unknown key",
	}
	for in, want := range bad {
		_, err := Parse("g.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}

func TestDRValidation(t *testing.T) {
	for _, c := range []struct{ in, key, msg string }{
		{"dr: {vtn: {url: 'http://vtn.example.com', ven_name: x}}", "dr.vtn.url", "loopback"},
		{"dr: {vtn: {url: 'ftp://x', ven_name: x}}", "dr.vtn.url", "https://"},
		{"dr: {vtn: {url: 'https://vtn.example.com'}}", "dr.vtn.ven_name", "must name"},
		{"dr: {vtn: {client_id: a}}", "dr.vtn.client_id", "go together"},
		{"dr: {vtn: {client_id: a, client_secret_file: rel/path}}", "dr.vtn.client_secret_file", "absolute"},
		{"dr: {vtn: {poll: 1s}}", "dr.vtn.poll", "between 5s and 1h"},
		{"dr: {vtn: {version: '2.0b'}}", "dr.vtn.version", "auto, 3.0.1 or 3.1"},
		{"dr: {period: 0s}", "dr.period", "between 1s and 1m"},
		{"dr: {contract_import_w: -1}", "dr.contract_import_w", "positive"},
		{"dr: {loads: [{device: a, class: fancy}]}", "dr.loads[0].class", "deferrable, curtailable"},
		{"dr: {loads: [{device: a, class: critical}, {device: a, class: critical}]}", "dr.loads[1].device", "twice"},
		{"dr: {loads: [{class: critical}]}", "dr.loads[0].device", "must name"},
		{"dr: {loads: [{device: a, class: sheddable, min_off: -1s}]}", "dr.loads[0].min_off", "between 0 and 24h"},
	} {
		_, err := Parse("g.yaml", []byte(c.in))
		var e *Error
		if !errors.As(err, &e) || e.Key != c.key || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s: got %v, want key %s with %q", c.in, err, c.key, c.msg)
		}
	}
	if _, err := Parse("g.yaml", []byte("dr: {vtn: {url: 'http://127.0.0.1:9000', ven_name: gw}}")); err != nil {
		t.Errorf("loopback http VTN refused: %v", err)
	}
}

func TestHomeKitConfig(t *testing.T) {
	c, err := Parse("x", []byte("homekit:\n  enabled: true\n  name: Home Hub\n  port: 0\n"))
	if err != nil || !c.HomeKit.Enabled || c.HomeKit.Name != "Home Hub" || c.HomeKit.Port != 0 {
		t.Fatalf("%+v %v", c.HomeKit, err)
	}
	for _, bad := range []string{"homekit:\n  port: 70000\n", "homekit:\n  name: a.b\n", "homekit:\n  name: \"\"\n", "homekit:\n  pin: 12345678\n"} {
		if _, err := Parse("x", []byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
