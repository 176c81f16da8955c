package config

// Example returns a complete, commented config file whose values are the
// defaults: Parse("x", []byte(Example())) equals Default().
func Example() string {
	return `# gatewayd configuration (/etc/gatewayd/gatewayd.yaml).
# Every key is optional; a key left out (or left empty) keeps the default
# shown here. Unknown keys and bad values are errors that name the file,
# line and key. Check a file with: gatewayd config check --config FILE

http:
  # host:port of the HTTP API. Plain HTTP belongs on loopback only.
  # An empty host (":8080") listens on all interfaces.
  listen: 127.0.0.1:8080
  # HTTPS: auto = a self-signed certificate made on first start in
  # <state_dir>/tls (its SHA-256 fingerprint is logged: compare it with
  # what the browser shows); off = plain HTTP, allowed only on loopback;
  # or your own PEM files:  tls: {cert: /etc/gatewayd/cert.pem, key: /etc/gatewayd/key.pem}
  tls: auto

metering:
  # Protocol of the legal metrology core: dlt645, iec62056-21 or
  # echonet-routeb.
  protocol: dlt645
  # Serial device (absolute path).
  port: /dev/ttyS1
  # Serial speed in bit/s: 300, 600, 1200, 2400, 4800, 9600 or 19200.
  # 0 = protocol default: 2400 for dlt645; for iec62056-21 the highest
  # speed negotiated after the 300 bit/s sign-on, 9600.
  baud: 0
  # Meter address: auto (ask the meter) or 1 to 12 digits; shorter digit
  # strings are left-padded with zeros to 12 (1 = 000000000001).
  address: auto
  # Poll interval of instantaneous values (power, voltage, current),
  # 200ms to 1h. Go duration syntax: 500ms, 1s, 5m.
  interval: 1s
  # Longest wait for the first byte of a reply, 20ms to 5s.
  response_timeout: 500ms
  # Longest gap between two bytes of a reply, 10ms to 5s.
  byte_timeout: 500ms
  # Set the meter clock by broadcast, at most once a day, when it is off
  # by 2s to 5min (larger offsets are reported, not corrected).
  time_sync: true
  # With protocol echonet-routeb (a utility smart meter over Wi-SUN
  # route B; port = the module, 115200 bit/s): the module's SKSTACK-IP
  # dialect, auto, bp35a1, bp35c0 or rl7023. The route-B ID and password
  # are read from <state_dir>/routeb/id and <state_dir>/routeb/password.
  dialect: auto

log:
  # debug, info, warn or error.
  level: info
  # text or json.
  format: text

storage:
  # History database file; empty = <state_dir>/gatewayd.db.
  path:
  # Longest time readings wait in memory before a commit (1s to 1h).
  # Commits also happen when the queue is half full and at shutdown.
  commit_interval: 60s
  # How long each tier is kept; 0 = forever. d = days, y = 365 days.
  retention:
    raw: 7d        # every reading as received
    minute: 2y     # 1-minute rollups and legal minute freezes
    quarter: 15y   # 15-minute
    day: 0         # daily, forever

dr:
  # Site limits in W from the supply contract or main fuse; 0 = none.
  contract_import_w: 0
  contract_export_w: 0
  # Control period of the import-limit controller (1s to 1m).
  period: 2s
  vtn:
    # The utility's OpenADR 3 server (https://; http:// only on loopback).
    # Empty = no demand-response events; the tariff and limits still apply.
    url:
    # OAuth2 client credentials; the secret is read from a file (0600).
    # Both empty = a VTN without authentication (e.g. public prices).
    client_id:
    client_secret_file:
    # PEM bundle to trust for the VTN instead of the system roots.
    ca_file:
    # This gateway's name at the VTN (targets and reports).
    ven_name:
    # Polling interval (5s to 1h); events keep executing while the VTN
    # is unreachable.
    poll: 30s
    # OpenADR version: auto, 3.0.1 or 3.1.
    version: auto
  # How the controller treats devices; unlisted devices get the class
  # their capabilities suggest. class: deferrable (shifted first),
  # curtailable (limited to curtail_w), sheddable (switched off),
  # critical (never touched). Lower priority is shed first.
  loads: []
  #  - {device: sim-ev, class: curtailable, priority: 1, curtail_w: 1400}
  #  - {device: fridge-plug, class: critical}

han:
  wisun:
    # Serial device of a Wi-SUN module (SKSTACK-IP) for the home's gas and
    # water meters and appliances; empty = no Wi-SUN HAN.
    port:
    # auto (detect), bp35a1, bp35c0 or rl7023.
    dialect: auto
    # han: the home's devices; routeb: a utility smart meter as a derived
    # source (use metering.protocol echonet-routeb to read it as legal).
    role: han
    # Channel (33-60) and PAN ID of a known network; both 0 = scan.
    channel: 0
    pan: 0
  echonet_ip:
    # ECHONET Lite appliances on the LAN (UDP 3610, multicast 224.0.23.0).
    enabled: false
    listen: ":3610"
    # Interfaces to join the multicast group on; [] = the default one.
    interfaces: []
    # host:port peers; when set, discovery asks them by unicast instead
    # of multicasting.
    peers: []
  ble:
    # BLE meters, sensors and appliances through a Linux HCI adapter
    # (taken exclusively; needs CAP_NET_ADMIN). Nearby devices are
    # candidates; the household adopts them in the UI.
    enabled: false
    hci: hci0
    # passive (listen) or active (scan requests, names).
    scan: passive
  coap:
    # The CoAP appliance API: coaps (DTLS 1.2) with one PSK per appliance
    # (gatewayd appliance pair, or Settings in the web UI).
    enabled: false
    listen: ":5684"
    # Plain coap for tools on the gateway itself: loopback only
    # (e.g. 127.0.0.1:5683); empty = none.
    plain_listen: ""

homekit:
  # Apple Home bridge; announces _hap._tcp by mDNS on the LAN. The setup
  # code is made on first start: gatewayd homekit code --state DIR shows it.
  enabled: false
  # The bridge's name in the Home app.
  name: gatewayd
  # HAP TCP port (0 = any free port).
  port: 51826

board:
  # The appliance's own I/O by GPIO name (periph.io names, e.g. GPIO17).
  # Without GPIO hardware these features are off and health says so.
  # Relays: load-control contacts, switchable devices relay:<id>.
  relays: []
  #  - {id: boiler, name: Water heater, pin: GPIO17, active_low: false, rated_w: 2000}
  # Status LEDs: link (meter link up), han (HAN devices answer),
  # dr (an event or limit is active), fault (a health problem).
  leds: []
  #  - {role: fault, pin: GPIO5}
  s0:
    # Pulse input from the meter's S0 test output; empty = none. Its count
    # is a derived series (device s0) checked against the meter register.
    pin:
    imp_per_kwh: 1000
    # A pulse pulls the pin low (false) or drives it high (true).
    active_high: false
    # Edges closer than this to the last pulse are contact bounce.
    debounce: 20ms
    # Compare with the meter's import register every window; raise
    # s0_mismatch beyond tolerance_pct (1 to 50) percent.
    window: 15m
    tolerance_pct: 5

watchdog:
  # Hardware watchdog device (e.g. /dev/watchdog) fed while the main loops
  # make progress, for boards without systemd; empty = none. Under
  # systemd the unit's WatchdogSec is used instead.
  device:
  interval: 10s

update:
  # A/B updates: the command run once after the gateway has been healthy
  # for mark_good_after (argv, no shell), e.g. [rauc, status, mark-good].
  # [] = none.
  mark_good_command: []
  mark_good_after: 5m

# Database and secrets (absolute path). The --state flag overrides it.
state_dir: /var/lib/gatewayd
`
}
