package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"
)

// Protocol names accepted in metering.protocol.
const (
	ProtocolDLT645   = "dlt645"
	ProtocolIEC62056 = "iec62056-21"
	// ProtocolRouteB reads a utility smart meter (ECHONET Lite 0x0288)
	// over Wi-SUN route B through the SKSTACK-IP module on metering.port.
	ProtocolRouteB = "echonet-routeb"
)

// Wi-SUN module dialects (han.wisun.dialect, metering.dialect).
const (
	DialectAuto   = "auto"
	DialectBP35A1 = "bp35a1"
	DialectBP35C0 = "bp35c0"
	DialectRL7023 = "rl7023"
)

// AddressAuto in metering.address makes the driver ask the meter for its
// address (DL/T 645 read-address broadcast, IEC 62056-21 "/?!").
const AddressAuto = "auto"

// MaxFileSize bounds what Load reads; a config file is a few hundred bytes.
const MaxFileSize = 1 << 20

// Config is the whole gatewayd configuration. Obtain it from [Default],
// [Parse] or [Load]; a Config from Parse or Load is validated.
type Config struct {
	HTTP     HTTP     `yaml:"http"`
	Metering Metering `yaml:"metering"`
	Log      Log      `yaml:"log"`
	Storage  Storage  `yaml:"storage"`
	DR       DR       `yaml:"dr"`
	HAN      HAN      `yaml:"han"`
	HomeKit  HomeKit  `yaml:"homekit"`
	Board    Board    `yaml:"board"`
	Watchdog Watchdog `yaml:"watchdog"`
	Update   Update   `yaml:"update"`
	// StateDir holds the database and secrets. Default /var/lib/gatewayd;
	// the CLI flag --state overrides it.
	StateDir string `yaml:"state_dir"`
}

// HTTP configures the API server.
type HTTP struct {
	// Listen is the host:port the API listens on. Default 127.0.0.1:8080.
	// An empty host means all interfaces; port 0 picks a free port.
	Listen string `yaml:"listen"`
	// TLS is "auto" (default: a self-signed certificate made on first
	// start in <state_dir>/tls), "off" (plain HTTP, loopback only) or a
	// mapping {cert: PATH, key: PATH} of PEM files.
	TLS TLS `yaml:"tls"`
}

// TLS modes.
const (
	TLSAuto  = "auto"
	TLSOff   = "off"
	TLSFiles = "files"
)

// TLS is http.tls: a mode word, or cert and key paths (Mode TLSFiles).
type TLS struct {
	Mode string `yaml:"-"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Metering configures the serial link to the legal metrology core.
type Metering struct {
	// Protocol is ProtocolDLT645 or ProtocolIEC62056. Default dlt645.
	Protocol string `yaml:"protocol"`
	// Port is the absolute path of the serial device. Default /dev/ttyS1.
	Port string `yaml:"port"`
	// Baud is the serial speed in bit/s; 0 (the default) means the protocol
	// default, see [Metering.EffectiveBaud]. For iec62056-21 it is the
	// highest speed negotiated after the 300 bit/s sign-on.
	Baud int `yaml:"baud"`
	// Address is AddressAuto or the meter's 12-digit address. Parse accepts
	// 1..12 decimal digits and left-pads them with zeros to 12, so "1"
	// becomes "000000000001". Default auto.
	Address string `yaml:"address"`
	// Interval is the instantaneous poll interval, 200ms..1h. Default 1s.
	Interval time.Duration `yaml:"interval"`
	// ResponseTimeout is the longest wait for the first byte of a reply,
	// 20ms..5s. Default 500ms.
	ResponseTimeout time.Duration `yaml:"response_timeout"`
	// ByteTimeout is the longest gap between bytes of a reply, 10ms..5s.
	// Default 500ms.
	ByteTimeout time.Duration `yaml:"byte_timeout"`
	// TimeSync enables the broadcast time sync: at most once a day, when
	// the meter clock is off by 2s..5min. Default true.
	TimeSync bool `yaml:"time_sync"`
	// Dialect is the Wi-SUN module's SKSTACK-IP dialect for
	// echonet-routeb: auto (detect), bp35a1, bp35c0 or rl7023. The route-B
	// ID and password are read from <state_dir>/routeb/id and
	// <state_dir>/routeb/password (never from this file, never logged).
	Dialect string `yaml:"dialect"`
}

// HAN configures the home-area networks: Wi-SUN and ECHONET Lite on IP.
type HAN struct {
	WiSUN     WiSUN     `yaml:"wisun"`
	EchonetIP EchonetIP `yaml:"echonet_ip"`
	BLE       BLE       `yaml:"ble"`
	CoAP      CoAP      `yaml:"coap"`
}

// BLE is han.ble: BLE meters, sensors and appliances through a Linux HCI
// adapter (go-ble takes it exclusively and needs CAP_NET_ADMIN). Devices
// are adopted by the household (API/UI), never automatically; the
// adopted list and BTHome keys live in <state_dir>/ble.
type BLE struct {
	Enabled bool `yaml:"enabled"`
	// HCI is the adapter, hci0..hci15. Default hci0.
	HCI string `yaml:"hci"`
	// Scan is passive (listen only; BTHome needs no more) or active
	// (scan requests: names from scan responses). Default passive.
	Scan string `yaml:"scan"`
}

// CoAP is han.coap: the CoAP appliance API (package han/wifi/coap).
type CoAP struct {
	// Enabled serves coaps (DTLS 1.2, per-appliance PSK). Default false:
	// a gateway without paired appliances exposes no UDP port.
	Enabled bool `yaml:"enabled"`
	// Listen is the coaps UDP address. Default :5684.
	Listen string `yaml:"listen"`
	// PlainListen is a plain (unencrypted) coap address for tools on the
	// gateway itself: loopback only (e.g. 127.0.0.1:5683); empty = none.
	PlainListen string `yaml:"plain_listen"`
}

// WiSUN is han.wisun: a SKSTACK-IP module reaching gas and water meters
// and appliances in the home's Wi-SUN HAN. An empty Port disables it.
type WiSUN struct {
	// Port is the module's serial device (absolute path), 115200 8N1.
	Port string `yaml:"port"`
	// Dialect is auto (detect), bp35a1, bp35c0 or rl7023. Default auto.
	Dialect string `yaml:"dialect"`
	// Role is han (the home's devices) or routeb (a utility smart meter
	// read as a derived source beside the legal link). Default han.
	Role string `yaml:"role"`
	// Channel (33-60) and PAN ID (1-0xFFFE) of a known network; both 0
	// = scan.
	Channel int `yaml:"channel"`
	PAN     int `yaml:"pan"`
}

// EchonetIP is han.echonet_ip: ECHONET Lite appliances on the LAN.
type EchonetIP struct {
	Enabled bool `yaml:"enabled"`
	// Listen is the UDP address (host:3610). Default :3610.
	Listen string `yaml:"listen"`
	// Interfaces to join the multicast group 224.0.23.0 on; empty = the
	// system's default multicast interface.
	Interfaces []string `yaml:"interfaces"`
	// Peers are host:port addresses asked by unicast too (appliances
	// that miss multicast, emulators).
	Peers []string `yaml:"peers"`
}

// HomeKit is homekit: the Apple Home bridge (HAP over IP, announced as
// _hap._tcp by mDNS on every multicast interface). Its setup code is made
// on first start and kept in the database; there is no default code.
type HomeKit struct {
	Enabled bool `yaml:"enabled"`
	// Name is the bridge's name in the Home app. Default "gatewayd".
	Name string `yaml:"name"`
	// Port is the HAP TCP port (0: a free one). Default 51826.
	Port int `yaml:"port"`
}

// Storage configures the history database.
type Storage struct {
	// Path of the bbolt file; empty (the default) means
	// <state_dir>/gatewayd.db.
	Path string `yaml:"path"`
	// CommitInterval is the longest time readings wait in memory before
	// a commit, 1s..1h. Default 60s: fewer commits spare the flash; a
	// crash loses at most this much of what the meter cannot give back.
	CommitInterval time.Duration `yaml:"commit_interval"`
	// Retention of each tier; 0 keeps forever.
	Retention Retention `yaml:"retention"`
}

// Retention of the history tiers. Durations accept d (days) and y (365
// days) besides Go's units.
type Retention struct {
	Raw     time.Duration `yaml:"raw"`     // default 7d
	Minute  time.Duration `yaml:"minute"`  // default 2y
	Quarter time.Duration `yaml:"quarter"` // default 15y
	Day     time.Duration `yaml:"day"`     // default 0: forever
}

// DBPath returns Path or its default in stateDir.
func (s Storage) DBPath(stateDir string) string {
	if s.Path != "" {
		return s.Path
	}
	return path.Join(stateDir, "gatewayd.db")
}

// Log configures the daemon's log output.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

// DR configures demand response: the site limits, the OpenADR 3 VTN the
// gateway polls, and the loads the controller may command.
type DR struct {
	// ContractImportW and ContractExportW are the site's limits in W from
	// the supply contract or the main fuse; 0 = none.
	ContractImportW int64 `yaml:"contract_import_w"`
	ContractExportW int64 `yaml:"contract_export_w"`
	// Period is the control period (1s to 1m). Default 2s.
	Period time.Duration `yaml:"period"`
	VTN    VTN           `yaml:"vtn"`
	// Loads override how the controller treats a device. Devices not
	// listed get the class their capabilities suggest (deferrable,
	// curtailable, else sheddable for switchable devices).
	Loads []DRLoad `yaml:"loads"`
}

// VTN is dr.vtn: the utility's OpenADR 3 server. An empty URL disables it.
type VTN struct {
	// URL is the VTN's base URL: https://, or http:// on a loopback host.
	URL string `yaml:"url"`
	// ClientID and ClientSecretFile are the OAuth2 client credentials;
	// both empty = a non-authenticating VTN. The file (absolute path)
	// holds the secret; it is never logged.
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// CAFile is a PEM bundle trusted for the VTN's certificate instead of
	// the system roots (absolute path; empty = system roots).
	CAFile string `yaml:"ca_file"`
	// VENName is this gateway's name at the VTN (targets, reports).
	VENName string `yaml:"ven_name"`
	// Poll is the polling interval (5s to 1h). Default 30s.
	Poll time.Duration `yaml:"poll"`
	// Version is 3.0.1, 3.1, or auto (ask the VTN). Default auto.
	Version string `yaml:"version"`
}

// Load classes of dr.loads.
const (
	ClassDeferrable  = "deferrable"
	ClassCurtailable = "curtailable"
	ClassSheddable   = "sheddable"
	ClassCritical    = "critical"
)

// DRLoad is one entry of dr.loads.
type DRLoad struct {
	// Device is the device id (see /api/v1/devices).
	Device string `yaml:"device"`
	// Class is deferrable, curtailable, sheddable or critical (never shed).
	Class string `yaml:"class"`
	// Priority orders shedding within a class: lower is shed first.
	Priority int `yaml:"priority"`
	// MinOn and MinOff protect the appliance from short cycling.
	MinOn  time.Duration `yaml:"min_on"`
	MinOff time.Duration `yaml:"min_off"`
	// CurtailW is the power a curtailable load is limited to (0 = off).
	CurtailW int64 `yaml:"curtail_w"`
}

// Default returns the configuration used for every key a file leaves out.
// It is the only place defaults are defined.
func Default() Config {
	return Config{
		HTTP: HTTP{Listen: "127.0.0.1:8080", TLS: TLS{Mode: TLSAuto}},
		Metering: Metering{
			Protocol:        ProtocolDLT645,
			Port:            "/dev/ttyS1",
			Baud:            0,
			Address:         AddressAuto,
			Interval:        time.Second,
			ResponseTimeout: 500 * time.Millisecond,
			ByteTimeout:     500 * time.Millisecond,
			TimeSync:        true,
			Dialect:         DialectAuto,
		},
		Log: Log{Level: "info", Format: "text"},
		Storage: Storage{
			CommitInterval: 60 * time.Second,
			Retention: Retention{
				Raw:     7 * 24 * time.Hour,
				Minute:  2 * 365 * 24 * time.Hour,
				Quarter: 15 * 365 * 24 * time.Hour,
			},
		},
		DR: DR{
			Period: 2 * time.Second,
			VTN:    VTN{Poll: 30 * time.Second, Version: "auto"},
			Loads:  []DRLoad{},
		},
		HAN: HAN{
			WiSUN:     WiSUN{Dialect: DialectAuto, Role: "han"},
			EchonetIP: EchonetIP{Listen: ":3610", Interfaces: []string{}, Peers: []string{}},
			BLE:       BLE{HCI: "hci0", Scan: "passive"},
			CoAP:      CoAP{Listen: ":5684"},
		},
		HomeKit:  HomeKit{Name: "gatewayd", Port: 51826},
		Board:    defaultBoard(),
		Watchdog: Watchdog{Interval: 10 * time.Second},
		Update:   Update{MarkGoodCommand: []string{}, MarkGoodAfter: 5 * time.Minute},
		StateDir: "/var/lib/gatewayd",
	}
}

// EffectiveBaud returns the serial speed to use: Baud if set, else the
// protocol default (2400 for dlt645, 9600 as the highest negotiated speed
// for iec62056-21). It returns 0 for an unknown protocol.
func (m Metering) EffectiveBaud() int {
	if m.Baud != 0 {
		return m.Baud
	}
	switch m.Protocol {
	case ProtocolDLT645:
		return 2400
	case ProtocolIEC62056:
		return 9600
	}
	return 0
}

// Load reads and parses the config file at path. Errors about the content
// are *Error values (possibly several, joined) naming path, line and key.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return Config{}, &Error{File: path, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize)}
	}
	return Parse(path, data)
}

// Parse decodes and validates data strictly; filename is used in errors
// only. Keys a document leaves out (or sets to null) keep their defaults; an
// empty document means all defaults.
func Parse(filename string, data []byte) (Config, error) {
	cfg := Default()
	d := &decoder{file: filename, lines: map[string]int{}}
	root, err := parseYAML(filename, data)
	if err != nil {
		return Config{}, err
	}
	if root != nil {
		d.decodeRoot(root, &cfg)
	}
	// Fields that failed to decode kept their defaults, so validating
	// anyway adds only genuine problems.
	d.errs = append(d.errs, validate(&cfg, filename, d.lines)...)
	if len(d.errs) > 0 {
		return Config{}, joinErrors(d.errs)
	}
	return cfg, nil
}

// Validate checks the values of c (e.g. after CLI overrides were applied).
// The returned *Error values carry the key but no file or line.
// Validate does not normalise metering.address; Parse does.
func (c Config) Validate() error {
	cp := c
	errs := validate(&cp, "", nil)
	if len(errs) == 0 {
		return nil
	}
	return joinErrors(errs)
}

func joinErrors(errs []*Error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	es := make([]error, len(errs))
	for i, e := range errs {
		es[i] = e
	}
	return errors.Join(es...)
}
