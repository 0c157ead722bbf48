//go:build unix

package vsim

import (
	"syscall"
	"time"
)

// CPUTime is the user and system CPU time this process has used so far
// (getrusage), which a synctest bubble does not fake.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// realNow is the wall clock, read with a system call: inside a synctest
// bubble time.Now is the bubble's.
func realNow() time.Time {
	var tv syscall.Timeval
	if err := syscall.Gettimeofday(&tv); err != nil {
		return time.Time{}
	}
	return time.Unix(0, tv.Nano())
}
