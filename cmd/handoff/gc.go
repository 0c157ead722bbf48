package main

import "runtime/debug"

// memoryLimit is the collector's soft memory limit when GOMEMLIMIT is not
// set. The collector otherwise keeps the runtime's defaults (GOGC=100):
// measured on 2 cores (CPU time, user + system, and peak RSS; medians of
// 3, A/B in the same minute), the no-change plan of 1,000 handoffs takes
// about 0.95 s and 62 MiB so, against 1.3 s and 165 MiB with the
// collector off below a 160 MB limit (the setting before), and validate
// of 10,000 specs 3.0 s and 103 MiB against 2.8–3.9 s and 163 MiB: a heap
// left to grow is fresh memory at every allocation, and the page faults and
// cache misses cost more than the collections it spares. GOGC=75 is no
// faster; GOGC=150 or 200 is slower and larger.
//
// The limit keeps `validate` of any directory under 200 MB (issue 12):
// the bounds of package spec let the parsed specs hold up to
// spec.MaxParsedBytes (64 MiB), and with GOGC=100 alone the heap of the
// worst repositories (TestValidatePeakMemory) reached twice that, plus the
// binary: 202 MiB of peak RSS. Below the limit it changes nothing; near it
// the collector runs more often. The program's own pages (code, data, about
// 25 MB) are outside it.
const memoryLimit = 150 << 20

// setMemoryLimit sets memoryLimit unless the environment sets GOMEMLIMIT.
func setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
