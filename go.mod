module github.com/gatewayd-project/gatewayd

go 1.26.8

require (
	github.com/creack/pty v1.1.24
	go.bug.st/serial v1.8.0
	golang.org/x/sys v0.49.0
	gopkg.in/yaml.v3 v3.0.1
)
