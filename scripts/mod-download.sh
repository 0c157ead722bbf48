#!/usr/bin/env bash
# make deps: the modules go.sum lists, from the module proxy into the module
# cache, said as they come. On a fresh machine this is most of the first
# `make build` or `make demo` (minutes, and nothing else is printed while it
# runs); with the modules cached it takes a second and prints nothing.
#
# Usage: scripts/mod-download.sh   (GO chooses the go command)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

# Everything cached already: not a word.
if GOPROXY=off "$GO" mod download >/dev/null 2>&1; then
  exit 0
fi

total=$(awk '$2 !~ /\/go\.mod$/ { n++ } END { print n + 0 }' go.sum)
echo "go mod download: fetching the modules of go.sum that the module cache lacks (of $total in all)"
echo "  from $("$GO" env GOPROXY); on a fresh machine this takes a few minutes, once."
# -x prints every request; keep one line per module archive received, and
# anything that is not a request (errors).
"$GO" mod download -x 2>&1 | awk '
  function unescape(s,   out, i, c) {
    out = ""
    for (i = 1; i <= length(s); i++) {
      c = substr(s, i, 1)
      if (c == "%" && substr(s, i, 3) == "%21") { out = out toupper(substr(s, i + 3, 1)); i += 3; continue }
      if (c == "!") { out = out toupper(substr(s, i + 1, 1)); i++; continue }
      out = out c
    }
    return out
  }
  /^# get .*\.zip: [0-9]+ / {
    url = $3; sub(/:$/, "", url)
    sub(/^[a-z]+:\/\/[^\/]+\//, "", url)
    n = split(url, part, "/@v/")
    if (n == 2) { v = part[2]; sub(/\.zip$/, "", v); got++; printf "  %3d  %s %s\n", got, unescape(part[1]), v; fflush() }
    next
  }
  /^# / { next }
  { print; fflush() }
  END { if (got > 0) printf "go mod download: %d module%s fetched\n", got, (got == 1 ? "" : "s") }
'
