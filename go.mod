module github.com/gatewayd-project/gatewayd

go 1.26.8

require (
	github.com/creack/pty v1.1.24 // indirect
	go.bug.st/serial v1.8.0 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
