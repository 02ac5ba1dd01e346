# acmedns: `make run` starts CoreDNS with acmedns on loopback, `make test` runs every test.
GO       ?= go
FUZZTIME ?= 10s
export CGO_ENABLED ?= 0

PEBBLE_VERSION ?= v2.10.1

.PHONY: all build run test deps e2e-deps vet rules unit cli fuzz e2e image image-test bench clean

all: build

## build: compile CoreDNS with acmedns into ./coredns, and the acmedns CLI into ./acmedns
build:
	$(GO) build -trimpath -ldflags '-s -w' -o coredns ./cmd/coredns
	cd cmd/acmedns && $(GO) build -trimpath -ldflags '-s -w' -o ../../acmedns .

## run: build, then serve auth.example.org on 127.0.0.1:1053 with the API on 127.0.0.1:8053
run: build
	@mkdir -p .run
	@echo
	@echo "acmedns: DNS on 127.0.0.1:1053 (UDP and TCP), API on http://127.0.0.1:8053, data in .run/acmedns.db"
	@echo "Try it from another terminal:"
	@echo "  curl -s -X POST http://127.0.0.1:8053/register"
	@echo "  curl -s -X POST http://127.0.0.1:8053/update -H 'X-Api-User: <username>' -H 'X-Api-Key: <password>' \\"
	@echo "       -d '{\"subdomain\": \"<subdomain>\", \"txt\": \"___validation_token_received_from_the_ca___\"}'"
	@echo "  dig @127.0.0.1 -p 1053 <subdomain>.auth.example.org TXT"
	@echo "Stop with Ctrl-C."
	@echo
	cd .run && exec ../coredns -conf ../Corefile.example

## deps: install what the tests need (redis-server, postgresql, promtool, and gcc for the race detector) when it is missing
deps:
	@command -v gcc >/dev/null 2>&1 && test -e /usr/include/stdlib.h || { \
		echo "installing gcc and libc6-dev (the race detector needs cgo) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null; }
	@command -v gcc >/dev/null 2>&1 || { echo "gcc is still missing" >&2; exit 1; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing postgresql with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "postgresql (initdb) is still missing" >&2; exit 1; }
	@command -v redis-server >/dev/null 2>&1 && command -v redis-sentinel >/dev/null 2>&1 || { \
		echo "installing redis-server and redis-sentinel with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-sentinel redis-tools >/dev/null; }
	@command -v redis-server >/dev/null 2>&1 && command -v redis-sentinel >/dev/null 2>&1 || { echo "redis-server or redis-sentinel is still missing" >&2; exit 1; }
	@command -v promtool >/dev/null 2>&1 || { \
		echo "installing prometheus (for promtool) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	@command -v promtool >/dev/null 2>&1 || { echo "promtool is still missing" >&2; exit 1; }
	$(GO) mod download
	cd cmd/acmedns && $(GO) mod download

## e2e-deps: Pebble (from the Go module proxy), Debian's certbot, nsd, knot and unbound for the end-to-end tests
e2e-deps: deps
	@command -v certbot >/dev/null 2>&1 && python3 -c 'import requests' 2>/dev/null || { \
		echo "installing certbot and python3-requests with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq certbot python3-requests >/dev/null; }
	@command -v nsd >/dev/null 2>&1 && command -v knotd >/dev/null 2>&1 && command -v keymgr >/dev/null 2>&1 && command -v unbound >/dev/null 2>&1 || { \
		echo "installing nsd, knot and unbound (the secondaries and the validator) with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nsd knot unbound >/dev/null; }
	@command -v nsd >/dev/null 2>&1 && command -v knotd >/dev/null 2>&1 && command -v unbound >/dev/null 2>&1 || { echo "nsd, knotd or unbound is still missing" >&2; exit 1; }
	@test -x test/bin/pebble || GOBIN=$(CURDIR)/test/bin $(GO) install github.com/letsencrypt/pebble/v2/cmd/pebble@$(PEBBLE_VERSION)
	cd test && $(GO) mod download

## e2e: real certificates from Pebble through acmedns, and every client library
e2e: e2e-deps build
	cd test && $(GO) vet ./... && $(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v '/test/image$$')

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change: $$out" >&2; exit 1; fi
	$(GO) vet ./...

## rules: check the Prometheus alerting rules in contrib/prometheus and run their unit tests
rules:
	promtool check rules contrib/prometheus/acmedns.rules.yml
	cd contrib/prometheus && promtool test rules acmedns.rules.test.yml

## unit: the plugin module's tests (plugin, HTTP side, stores), under the race detector; then the
## stalled-transfer test, which the race detector cannot run (see transfer_stall_test.go), without it
unit:
	CGO_ENABLED=1 $(GO) test -race -p 1 -count=1 -timeout 20m ./...
	$(GO) test -count=1 -run '^TestTransferBounds$$/^stalled$$' .

## cli: vet and test the acmedns CLI (its own module; the tests start ./coredns, Redis and PostgreSQL)
cli: build
	cd cmd/acmedns && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...

## fuzz: a short run of each fuzz target
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRegister$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeUpdate$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzServeDNS$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzAdminCreate$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzParseIssueValue$$' -fuzztime $(FUZZTIME) ./internal/httpapi

## bench: the benchmark suite (not part of test): dnsperf against the file plugin, a bare
## responder and acmedns on each store, 1k and 1M accounts; writes docs/benchmarks.md; then the
## propagation delay between two CoreDNS replicas over 1,000 updates, the delay from an update to an
## NSD and a Knot secondary over 1,000 updates, AXFR/IXFR sizes at 1k and 1M accounts, and what
## misbehaving transfer clients cost (concurrent, hung up, stalled) with 20k accounts
bench: build
	bash test/bench/run.sh
	bash test/bench/attack.sh
	cd test && ACMEDNS_PROPAGATION_UPDATES=1000 $(GO) test -count=1 -v -run '^TestPropagationDelay$$' ./replicas | grep -E 'propagation|^(ok|FAIL)'
	cd test && ACMEDNS_SECONDARY_UPDATES=1000 $(GO) test -count=1 -v -timeout 30m -run '^TestSecondaryPropagation$$' ./hidden | grep -E 'update to|^(ok|FAIL)'
	cd test && ACMEDNS_SECONDARY_UPDATES=500 ACMEDNS_SECONDARY_GAP=300ms $(GO) test -count=1 -v -timeout 30m -run '^TestSecondaryPropagation$$' ./hidden | grep -E 'update to|^(ok|FAIL)'
	cd test && ACMEDNS_TRANSFER_ACCOUNTS="1000 1000000" $(GO) test -count=1 -v -timeout 30m -run '^TestTransferSize$$' ./hidden | grep -E 'accounts:|^(ok|FAIL)'
	cd test && ACMEDNS_XFR_ACCOUNTS=20000 ACMEDNS_XFR_CHANGES=9999 $(GO) test -count=1 -v -timeout 30m -run '^TestTransferLoad$$' ./hidden | grep -E 'scenario|^(ok|FAIL)'


## image: the container image $(IMAGE) from the binaries of make build, offline, with buildah,
## podman or docker (whichever works; buildah is installed with apt-get when none does)
IMAGE ?= acmedns:latest
image: build
	@rm -rf .run/image && mkdir -p .run/image/data
	cp coredns acmedns Containerfile contrib/container/Corefile contrib/container/passwd contrib/container/group .run/image/
	cp /etc/ssl/certs/ca-certificates.crt .run/image/ 2>/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null && \
		cp /etc/ssl/certs/ca-certificates.crt .run/image/; }
	@builder=$$(bash contrib/container/builder.sh) && echo "building $(IMAGE) with $$builder" && \
		cd .run/image && $$builder build -q -f Containerfile -t $(IMAGE) . && \
		$$builder images | grep -F "$$(echo '$(IMAGE)' | cut -d: -f1)" | head -3

## image-test: start the image and use it (register, update, TXT over DNS)
image-test: image
	cd test && IMAGE=$(IMAGE) $(GO) test -count=1 -timeout 5m ./image/

## test: everything, as CI runs it
test: deps vet rules unit cli fuzz e2e image-test

clean:
	rm -rf coredns acmedns .run test/bin
