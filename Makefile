# handoff: build, test, demo and benchmarks. Every target works on a fresh
# machine with Go; modules come from the module proxy.

GO      ?= go
BIN     := bin/handoff
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOFILES  = $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*')

# staticcheck runs from the module proxy at a pinned version; it is not a
# dependency of the module.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all deps build test vet lint fmt fmt-check demo bench clean

all: build

# The modules, from the module proxy, said as they come: on a fresh machine
# the first download takes minutes, which go build would spend in silence.
# Nothing is printed when they are cached.
deps:
	@GO=$(GO) ./scripts/mod-download.sh

build: deps
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/handoff

# The test command of the README and of CI.
# The exhaustive matrices of internal/apply (a crash, a failure and each
# fault at every step and request) skip themselves under -race and run here
# without it: they are sequential, and the race detector made them minutes.
MATRIX_TESTS = TestCrashAtEveryStep|TestFailureAtEveryStepCompensates|TestInjectedFaultsAtEachRequest

# GORACE=atexit_sleep_ms=0: a race-built program sleeps 1 s as it exits by
# default; every test binary, and every program the tests build and run,
# would spend it.
test: fmt-check vet lint
	GORACE=atexit_sleep_ms=0 $(GO) test -race -count=1 -timeout 15m ./...
	$(GO) test -count=1 -timeout 10m -run '^($(MATRIX_TESTS))$$' ./internal/apply

vet:
	$(GO) vet ./...

lint:
	$(STATICCHECK) ./...

fmt:
	gofmt -w $(GOFILES)

fmt-check:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The main job on the embedded local servers.
demo: build
	@echo "demo: the GitOps story with $(BIN) on local API servers (the first run compiles the demo too)"
	$(GO) run ./tools/demo -bin $(BIN)

# Every benchmark of the project; figures land in docs/benchmarks.md
# (scripts/bench.sh says what runs; 10 to 15 minutes on 2 quiet cores).
bench: build
	GO=$(GO) ./scripts/bench.sh $(BIN)

clean:
	rm -rf bin
