package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestSetMemoryLimit: the limit is set unless GOMEMLIMIT is.
func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	for _, tc := range []struct {
		env  map[string]string
		want int64
	}{
		{map[string]string{}, memoryLimit},
		{map[string]string{"GOGC": "200"}, memoryLimit},
		{map[string]string{"GOMEMLIMIT": "1GiB"}, math.MaxInt64},
	} {
		debug.SetMemoryLimit(math.MaxInt64)
		setMemoryLimit(func(k string) string { return tc.env[k] })
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("env %v: memory limit %d, want %d", tc.env, got, tc.want)
		}
	}
}
