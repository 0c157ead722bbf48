package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestTuneGC: with no GOGC or GOMEMLIMIT the collector starts off below
// the limit and hands over to the proportional target once the live heap
// is big; the environment's own settings are left alone.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))

	debug.SetGCPercent(100)
	tuneGC(func(k string) string { return map[string]string{"GOGC": "150"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: the collector target became %d", got)
	}

	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("collector target %d, want off below the limit", got)
	}
	if got := debug.SetMemoryLimit(-1); got != gcLimit {
		t.Fatalf("memory limit %d, want %d", got, gcLimit)
	}
	live := make([][]byte, 0, 100)
	for range 100 {
		live = append(live, make([]byte, 1<<20)) // 100 MB live, above gcLiveCeiling
	}
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetGCPercent(-1) == -1 {
		if time.Now().After(deadline) {
			t.Fatal("the collector never handed over to the proportional target")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // finalizers run on their own goroutine
	}
	debug.SetGCPercent(gcPercent)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit %d after the hand-over, want none", got)
	}
	runtime.KeepAlive(live)
}
