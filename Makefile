# gatewayd — see README.md. Every target works on a fresh Debian machine
# with Go; `make test` installs what the tests need.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin/gatewayd
TOOLS     := $(CURDIR)/bin/tools
STATICCHECK_VERSION := v0.7.0
FUZZTIME  ?= 30s
BENCHTIME ?= 2s

.PHONY: all build run test test-deps lint unit bench fuzz soak clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gatewayd

# The simulated home: gateway + emulated meter on a pty, API on localhost.
run: build
	./$(BIN) demo

# Everything the tests need. Root installs system packages (none needed yet
# beyond Go; browser tests add chromium here); tools go into bin/tools.
test-deps:
	@if [ "$$(id -u)" = 0 ] && [ -n "$(APT_PACKAGES)" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); fi
	@test -x $(TOOLS)/staticcheck || GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: test-deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...

# The race detector slows the 1-year soak ~10x: it runs without it.
unit:
	$(GO) test -race -count=1 -timeout 15m -skip '^TestSoak$$' ./...
	$(GO) test -count=1 -timeout 15m -run '^TestSoak$$' ./storage/

# Every test of the project: lint, unit and integration (test/ builds the
# binary and runs it against the emulators over real ptys and sockets).
test: lint unit

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./metering-link/... ./storage/... ./test/...

# The long reliability runs: 200 power-cut rounds, 15 simulated years.
soak:
	SOAK_YEARS=15 $(GO) test -count=1 -timeout 60m -run '^TestSoak$$' -v ./storage/
	POWERCUT_ROUNDS=200 $(GO) test -count=1 -timeout 60m -run '^TestPowerCut$$' -v ./test/

# Each fuzz target for FUZZTIME.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; done

clean:
	rm -rf bin tmp
