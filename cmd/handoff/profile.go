package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// EnvCPUProfile names a file to write a CPU profile of the command to, for
// `go tool pprof` (make bench's profiles, a user's slow run). Unset: none.
const EnvCPUProfile = "HANDOFF_CPUPROFILE"

// startProfile starts the CPU profile EnvCPUProfile asks for and returns
// what stops it; a profile that cannot start is said on stderr and the
// command runs without it.
func startProfile(getenv func(string) string) (stop func()) {
	path := getenv(EnvCPUProfile)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "handoff: %s: %v; running without a profile\n", EnvCPUProfile, err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
