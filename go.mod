module github.com/gatewayd-project/gatewayd

go 1.26.8

require (
	github.com/brutella/dnssd v1.2.14
	github.com/brutella/hap v0.0.35
	github.com/creack/pty v1.1.24
	github.com/fxamacker/cbor/v2 v2.7.0
	github.com/go-ble/ble v0.0.0-20240122180141-8c5522f54333
	github.com/pion/dtls/v3 v3.0.7
	github.com/plgd-dev/go-coap/v3 v3.4.1
	github.com/tadglines/go-pkgs v0.0.0-20210623144937-b983b20f54f9
	go.bug.st/serial v1.8.0
	go.etcd.io/bbolt v1.5.0
	golang.org/x/crypto v0.58.0
	golang.org/x/sys v0.49.0
	gopkg.in/yaml.v3 v3.0.1
	periph.io/x/conn/v3 v3.7.2
	periph.io/x/host/v3 v3.8.5
)

require (
	github.com/dsnet/golib/memfile v1.0.0 // indirect
	github.com/go-chi/chi v1.5.4 // indirect
	github.com/jonboulle/clockwork v0.4.0 // indirect
	github.com/mattn/go-colorable v0.1.6 // indirect
	github.com/mattn/go-isatty v0.0.12 // indirect
	github.com/mgutz/ansi v0.0.0-20170206155736-9520e82c474b // indirect
	github.com/mgutz/logxi v0.0.0-20161027140823-aebf8a7d67ab // indirect
	github.com/miekg/dns v1.1.61 // indirect
	github.com/pion/logging v0.2.4 // indirect
	github.com/pion/transport/v3 v3.0.7 // indirect
	github.com/pkg/errors v0.8.1 // indirect
	github.com/vishvananda/netlink v1.2.1-beta.2 // indirect
	github.com/vishvananda/netns v0.0.0-20200728191858-db3c7e526aae // indirect
	github.com/x448/float16 v0.8.4 // indirect
	github.com/xiam/to v0.0.0-20200126224905-d60d31e03561 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/exp v0.0.0-20240904232852-e7e105dedf7e // indirect
	golang.org/x/mod v0.41.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/tools v0.51.0 // indirect
	gopkg.in/Regis24GmbH/go-diacritics.v2 v2.0.3 // indirect
)
