#!/usr/bin/env bash
# make bench: every benchmark of the project, with the figures written to
# docs/benchmarks.md (from this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
go test -run '^$' -bench . -benchmem -count 1 ./... | tee "$out"
mkdir -p docs
{
  echo "# Benchmarks"
  echo
  echo "Measured by \`make bench\` on $(uname -m), $(nproc) cores, $(go version | awk '{print $3}'), $(date -u +%Y-%m-%d)."
  echo
  echo '```'
  grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$out"
  echo '```'
} > docs/benchmarks.md
echo "wrote docs/benchmarks.md"
