# podbox — build, test, demo and benchmark. `make help` lists the targets.

GO        ?= go
PREFIX    ?= /usr/local
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BUILDTAGS ?= seccomp containers_image_openpgp exclude_graphdriver_btrfs urfave_cli_no_docs
GOFLAGS_B := -trimpath -tags "$(BUILDTAGS)"
LDFLAGS   := -X github.com/podbox/podbox/sandbox.Version=$(VERSION)
BIN       := bin
# Debian packages the build and the tests need (see README).
DEB_PKGS  := busybox-static libseccomp-dev gcc pkg-config docker-registry containernetworking-plugins iptables iproute2
TESTFLAGS ?= -count=1 -timeout 20m

# The peers `make bench` measures podbox beside (Debian packages).
BENCH_PKGS := podman runc crun catatonit conmon docker-registry
BENCH_N   ?= 10
# The packages whose hot paths have Go benchmarks (allocations reported).
BENCH_GO_PKGS := ./internal/runtime ./internal/shim ./internal/printers ./internal/podstate ./internal/crilog ./image

.PHONY: all podbox shim pause install deps test unit lint fmt vet bench bench-deps bench-go demo clean clean-test help

all: podbox shim pause ## build bin/podbox, bin/podbox-shim and bin/podbox-pause

podbox: ## build the CLI (cgo, seccomp)
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_B) -ldflags '$(LDFLAGS)' -o $(BIN)/podbox ./cmd/podbox

shim: ## build the pod shim (cgo, seccomp, without containers/image: it starts every container)
	CGO_ENABLED=1 $(GO) build -trimpath -tags "$(BUILDTAGS) podbox_shim" -o $(BIN)/podbox-shim ./cmd/podbox-shim

pause: ## build the static pause binary (no cgo, stdlib + x/sys only)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' -o $(BIN)/podbox-pause ./pause

install: all ## install podbox and its pause binary under $(PREFIX)
	install -D -m 0755 $(BIN)/podbox $(DESTDIR)$(PREFIX)/bin/podbox
	install -D -m 0755 $(BIN)/podbox-shim $(DESTDIR)$(PREFIX)/libexec/podbox/shim
	install -D -m 0755 $(BIN)/podbox-pause $(DESTDIR)$(PREFIX)/libexec/podbox/pause

deps: ## install the Debian packages the build and tests need, if any is missing (needs root)
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 $$missing; \
	fi

test: deps ## unit tests and privileged integration tests that run real pods (as root)
	CGO_ENABLED=1 $(GO) test $(GOFLAGS_B) $(TESTFLAGS) ./...

unit: ## only the tests that need neither root nor packages
	CGO_ENABLED=1 $(GO) test $(GOFLAGS_B) -short -run '^(Test|Fuzz)' $(TESTFLAGS) ./...

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet with the build tags (and the shim's)
	CGO_ENABLED=1 $(GO) vet -tags "$(BUILDTAGS)" ./...
	CGO_ENABLED=1 $(GO) vet -tags "$(BUILDTAGS) podbox_shim" ./cmd/podbox-shim ./internal/...

lint: vet ## gofmt check, go vet and golangci-lint (installed into bin/ if missing)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	@test -x $(BIN)/golangci-lint || GOBIN=$(CURDIR)/$(BIN) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
	$(BIN)/golangci-lint run --build-tags "$(BUILDTAGS)" ./...

bench: deps all ## podbox beside podman, alternating (BENCH_N rounds): results in bench/results and README
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_B) -o $(BIN)/bench ./bench
	$(BIN)/bench -podbox $(BIN)/podbox -n $(BENCH_N) -out bench/results -readme README.md
	$(MAKE) --no-print-directory bench-go

bench-deps: ## install the peers the bench measures (podman, runc, crun, catatonit, conmon, docker-registry), if missing
	@missing=""; for p in $(BENCH_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 $$missing; \
	fi

bench-go: ## go test -bench of the hot paths (config conversion, status, state write, log lines), allocations reported
	CGO_ENABLED=1 $(GO) test $(GOFLAGS_B) -count=1 -run '^$$' -bench . -benchmem $(BENCH_GO_PKGS)


demo: deps all ## import busybox, run a two-container pod, show it, clean up
	./hack/demo.sh $(BIN)

clean: ## remove build output
	rm -rf $(BIN)

clean-test: ## remove what an interrupted test run may have left on this host
	./hack/clean-test.sh

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
