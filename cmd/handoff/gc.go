package main

import (
	"math"
	"runtime"
	"runtime/debug"
)

// The collector's settings when neither GOGC nor GOMEMLIMIT is set.
//
// A run of handoff is short and allocates mostly short-lived garbage (parsing
// a spec makes about 80 KB of it) while what it keeps is small: the specs,
// the live state, the plan. So it starts with the collector off below a
// memory limit, collecting only when the heap reaches gcLimit; that spares
// the many early cycles of a small heap (validating 10,000 specs on 2
// cores: about 0.9 s instead of 1.0 s, peak RSS about 170 MB). Once a
// collection finds more than gcLiveCeiling still live, the repository is
// big enough that collecting at the limit would run the collector over and
// over: it switches to an ordinary proportional target (gcPercent) with no
// limit.
const (
	gcLimit       = 160 << 20
	gcLiveCeiling = 64 << 20
	gcPercent     = 200
)

// tuneGC applies the settings above unless the environment sets its own.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(gcLimit)
	watchLiveHeap()
}

// watchLiveHeap runs after each collection (a finalizer re-armed every
// cycle) and hands over to the proportional target once the live heap
// passes gcLiveCeiling.
func watchLiveHeap() {
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapAlloc > gcLiveCeiling {
			debug.SetGCPercent(gcPercent)
			debug.SetMemoryLimit(math.MaxInt64)
			return
		}
		watchLiveHeap()
	})
}
