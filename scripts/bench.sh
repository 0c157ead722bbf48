#!/usr/bin/env bash
# make bench: every benchmark of the project, with the figures of this
# machine written to docs/benchmarks.md.
#
#   1. go test -bench over every package (the Go benchmarks), output kept;
#   2. the simulation's test binary (go test -c ./tools/benchrun/vsim):
#      figures 1, 2 and 4 of issue 13 in virtual time, at the vendors'
#      default limits;
#   3. tools/benchrun: runs the simulation, then the built binary as child
#      processes against fresh dev servers in real time (N = 10, 100, 1000
#      handoffs at 0 and 20 ms per request, limits off and labelled so;
#      N = 10 at the vendors' default limits too), the no-change plan
#      against terraform's (or OpenTofu's) plan of as many terraform_data
#      resources, and validate on 10,000 specs; it writes
#      docs/benchmarks.md with the output of step 1.
#
# Usage: scripts/bench.sh [BIN]   (default bin/handoff; make bench builds it)
# BENCHFLAGS adds go test flags to step 1 (e.g. BENCHFLAGS=-benchtime=3x);
# BENCHRUNFLAGS adds tools/benchrun flags to step 3 (e.g.
# BENCHRUNFLAGS='-vsim-daymax 50 -n 10' for a quick check).
# About 10 to 15 minutes on 2 quiet cores; the report says how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
bin=${1:-bin/handoff}
vsim=bin/vsim.test
if [ ! -x "$bin" ]; then
  echo "bench.sh: $bin is not built (run make build)" >&2
  exit 1
fi
started=$(date +%s)
# The load before we start: other work on the machine shows in the figures.
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || true)
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

echo "== go test -bench ./... ${BENCHFLAGS:-}"
# A failing benchmark does not stop the other figures: the report shows its
# FAIL lines and go test's exit status.
set +e
# shellcheck disable=SC2086 # BENCHFLAGS is a list of flags
$GO test -run '^$' -bench . -benchmem -count 1 ${BENCHFLAGS:-} ./... | tee "$raw"
gostatus=${PIPESTATUS[0]}
set -e

echo "== go test -c -o $vsim ./tools/benchrun/vsim"
$GO test -c -o "$vsim" ./tools/benchrun/vsim

echo "== tools/benchrun -bin $bin -vsim $vsim ${BENCHRUNFLAGS:-}"
# shellcheck disable=SC2086 # BENCHRUNFLAGS is a list of flags
$GO run ./tools/benchrun -bin "$bin" -vsim "$vsim" -gobench "$raw" -gobench-flags "${BENCHFLAGS:+ $BENCHFLAGS}" -gobench-status "$gostatus" \
  -load "$load" -started "$started" ${BENCHRUNFLAGS:-} -out docs/benchmarks.md
echo "bench.sh: done in ${SECONDS}s"
if [ "$gostatus" != 0 ]; then
  echo "bench.sh: go test -bench exited with status $gostatus (see docs/benchmarks.md)" >&2
  exit "$gostatus"
fi
