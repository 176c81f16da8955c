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
# interop test); qemu-user for the ARM test runs, systemd-analyze and
# shellcheck for the Buildroot tree's checks; headless Chromium for the
# browser tests.
APT_PACKAGES ?= libcoap3-bin qemu-user-static systemd shellcheck
BROWSER_APT_PACKAGES := chromium fonts-noto-cjk

.PHONY: all build ui ui-check run test test-deps lint unit browser bench fuzz soak clean dist cross

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

# The race detector slows the 1-year soak ~10x: it runs without it. The
# HomeKit pairing test runs without it too: the detector flags races
# inside brutella/hap and dnssd (see the test), not in our code.
unit:
	$(GO) test -race -count=1 -timeout 15m -skip '^TestSoak$$' ./...
	$(GO) test -count=1 -timeout 5m -run '^TestHAPPairedSession$$' ./han/wifi/homekit/
	$(GO) test -count=1 -timeout 15m -run '^TestSoak$$' ./storage/

# The web UI in real headless Chromium against the real binary running
# `gatewayd demo` (screenshots in web/ui/test-artifacts/).
browser: ui-check build
	$(MAKE) --no-print-directory test-deps APT_PACKAGES="$(BROWSER_APT_PACKAGES)"
	cd $(UI) && GATEWAYD_BIN=$(CURDIR)/$(BIN) npm run --silent test:e2e

# Every test of the project: lint, unit and integration (test/ builds the
# binary and runs it against the emulators over real ptys and sockets),
# and the browser tests.
test: lint unit cross browser

# The core packages' unit tests as linux/arm64 and linux/arm (GOARM=7)
# binaries under qemu-user: 64-bit atomics alignment, bbolt's 2 GB map on
# 32-bit and byte order in the codecs. No -race (not on arm under qemu),
# no soak.
CROSS_PKGS := ./energy/... ./metering-link/... ./storage/... ./dr/... ./han/echonet/... ./han/wisun/... \
	./han/ble/... ./han/wifi/coap/ ./board/... ./bus/ ./health/ ./devices/... ./internal/sdnotify/ ./internal/watchdog/
cross: test-deps
	GOARCH=arm64 $(GO) test -exec qemu-aarch64-static -count=1 -timeout 15m -skip '^TestSoak$$' $(CROSS_PKGS)
	GOARCH=arm GOARM=7 $(GO) test -exec qemu-arm-static -count=1 -timeout 15m -skip '^TestSoak$$' $(CROSS_PKGS)

# Release artifacts in dist/: static, stripped linux/arm64 and linux/arm
# (GOARM=7) binaries with the web UI embedded, their sizes, and the
# offline source tarball for Buildroot (vendor/ and the built UI inside;
# see buildroot/README.md). The size budget is checked by
# buildroot/dist_test.go (DIST=1).
DIST_NAME := gatewayd-$(VERSION)
dist: ui
	@mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/gatewayd-linux-arm64 ./cmd/gatewayd
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/gatewayd-linux-armv7 ./cmd/gatewayd
	@ls -l dist/gatewayd-linux-arm64 dist/gatewayd-linux-armv7 | awk '{printf "%-28s %6.2f MB\n", $$9, $$5/1048576}'
	@rm -rf tmp/dist && mkdir -p tmp/dist/$(DIST_NAME)
	git ls-files -z | xargs -0 cp --parents -t tmp/dist/$(DIST_NAME)
	@if [ -f $(UI)/dist/app/index.html ]; then cp -r --parents $(UI)/dist/app tmp/dist/$(DIST_NAME); fi
	cd tmp/dist/$(DIST_NAME) && $(GO) mod vendor
	tar -C tmp/dist --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01' -czf dist/$(DIST_NAME)-vendored.tar.gz $(DIST_NAME)
	@ls -l dist/$(DIST_NAME)-vendored.tar.gz | awk '{printf "%-28s %6.2f MB\n", $$9, $$5/1048576}'
	sha256sum dist/$(DIST_NAME)-vendored.tar.gz > dist/$(DIST_NAME)-vendored.tar.gz.sha256
	DIST=$(CURDIR)/dist $(GO) test -count=1 -run '^TestDist' ./buildroot/

bench: test-deps build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...
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
	rm -rf bin tmp dist $(UI)/dist/app $(UI)/node_modules $(UI)/test-artifacts
