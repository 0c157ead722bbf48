#!/usr/bin/env bash
# make bench: every benchmark of the project, with the figures of this
# machine written to docs/benchmarks.md.
#
#   1. go test -bench over every package (the Go benchmarks), output kept;
#   2. tools/benchrun: the built binary as child processes against fresh
#      dev servers, for N = 10, 100, 1000 handoffs at 0 and 20 ms per
#      request (create-apply, then the no-change plan), validate on 10,000
#      specs, OpenTofu's no-op plan when tofu is on PATH; it writes
#      docs/benchmarks.md with the output of step 1.
#
# Usage: scripts/bench.sh [BIN]   (default bin/handoff; make bench builds it)
# BENCHFLAGS adds go test flags to step 1 (e.g. BENCHFLAGS=-benchtime=3x).
# About 2 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
bin=${1:-bin/handoff}
if [ ! -x "$bin" ]; then
  echo "bench.sh: $bin is not built (run make build)" >&2
  exit 1
fi
# The load before we start: other work on the machine shows in the figures.
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || true)
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

echo "== go test -bench ./... ${BENCHFLAGS:-}"
# shellcheck disable=SC2086 # BENCHFLAGS is a list of flags
$GO test -run '^$' -bench . -benchmem -count 1 ${BENCHFLAGS:-} ./... | tee "$raw"

echo "== tools/benchrun -bin $bin"
$GO run ./tools/benchrun -bin "$bin" -gobench "$raw" -gobench-flags "${BENCHFLAGS:+ $BENCHFLAGS}" -load "$load" -out docs/benchmarks.md
echo "bench.sh: done in ${SECONDS}s"
