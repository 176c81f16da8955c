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

UI        := web/ui
UI_SRC    := $(shell find $(UI)/src $(UI)/index.html $(UI)/vite.config.ts $(UI)/tsconfig.json $(UI)/scripts $(UI)/public -type f 2>/dev/null)
# Debian packages the tests need: libcoap3-bin (coap-client, the CoAP
# interop test); headless Chromium for the browser tests.
APT_PACKAGES ?= libcoap3-bin
BROWSER_APT_PACKAGES := chromium fonts-noto-cjk

.PHONY: all build ui ui-check run test test-deps lint unit browser bench fuzz soak clean

all: build

# The binary embeds the built UI (web/ui/dist/app) when Node is there;
# without Node it builds anyway and serves a page that says how to build
# the UI.
build: ui
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gatewayd

ui:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(UI)/dist/app/index.html || \
		echo "make: the web UI did not build (see above): building gatewayd without it"; \
	else echo "make: npm not found: building gatewayd without the web UI"; fi

$(UI)/node_modules/.installed: $(UI)/package-lock.json $(UI)/package.json
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(UI)/dist/app/index.html: $(UI)/node_modules/.installed $(UI_SRC)
	cd $(UI) && npm run --silent build

# The simulated home: gateway + emulated meter on a pty, API on localhost.
run: build
	./$(BIN) demo

# Everything the tests need. Root installs system packages (none needed yet
# beyond Go; browser tests add chromium here); tools go into bin/tools.
test-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else echo "make: please install: $$missing"; exit 1; fi; fi
	@test -x $(TOOLS)/staticcheck || GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: test-deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...

# Type-check the UI source.
ui-check: $(UI)/node_modules/.installed
	cd $(UI) && npm run --silent check

# The race detector slows the 1-year soak ~10x: it runs without it.
unit:
	$(GO) test -race -count=1 -timeout 15m -skip '^TestSoak$$' ./...
	$(GO) test -count=1 -timeout 15m -run '^TestSoak$$' ./storage/

# The web UI in real headless Chromium against the real binary running
# `gatewayd demo` (screenshots in web/ui/test-artifacts/).
browser: ui-check build
	$(MAKE) --no-print-directory test-deps APT_PACKAGES="$(BROWSER_APT_PACKAGES)"
	cd $(UI) && GATEWAYD_BIN=$(CURDIR)/$(BIN) npm run --silent test:e2e

# Every test of the project: lint, unit and integration (test/ builds the
# binary and runs it against the emulators over real ptys and sockets),
# and the browser tests.
test: lint unit browser

bench: test-deps build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./metering-link/... ./storage/... ./dr/... ./han/wifi/coap/... ./test/...
	cd $(UI) && GATEWAYD_BIN=$(CURDIR)/$(BIN) npm run --silent bench

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
	rm -rf bin tmp $(UI)/dist/app $(UI)/node_modules $(UI)/test-artifacts
