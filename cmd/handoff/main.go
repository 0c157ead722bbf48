// Command handoff reconciles least-privilege, time-bound credentials for
// unattended agents ("handoffs") from specs kept in a GitOps repository.
// See the product contract for the commands and their exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=…";
// when empty, the module build information is used instead.
var (
	version string
	commit  string
)

// The collector keeps the runtime's defaults (GOGC=100, no memory limit);
// GOGC and GOMEMLIMIT still change them. Measured on 2 cores (CPU time,
// user + system, and peak RSS; medians of 3, A/B in the same minute): the
// no-change plan of 1,000 handoffs takes about 0.95 s and 62 MiB so, against
// 1.3 s and 165 MiB with the collector off below a 160 MB limit (the
// setting before), and validate of 10,000 specs 3.0 s and 103 MiB against
// 2.8–3.9 s and 163 MiB. A heap left to grow is fresh memory at every
// allocation: page faults and cache misses cost more than the collections
// it spares. GOGC=75 is no faster and GOGC=150 or 200 slower and larger.
func main() {
	// SIGINT and SIGTERM cancel the command's context: `handoff dev` saves
	// its state and stops, an apply stops between steps.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv)
	code := runContext(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stopProfile()
	stop()
	os.Exit(code)
}
