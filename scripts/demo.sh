#!/usr/bin/env bash
# make demo: the main job of handoff on the embedded local servers.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-bin/handoff}

stage() { printf '\n== %s\n' "$*"; }

stage "validate the example specs (parse, policy; touches nothing remote)"
"$BIN" validate .
echo "specs/: valid"
