//go:build !unix

package vsim

import "time"

// CPUTime is not measured on this platform.
func CPUTime() time.Duration { return 0 }

// realNow is not measured apart from the bubble's clock on this platform.
func realNow() time.Time { return time.Time{} }
