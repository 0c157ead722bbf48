// Command handoff reconciles least-privilege, time-bound credentials for
// unattended agents ("handoffs") from specs kept in a GitOps repository.
// See the product contract for the commands and their exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=…";
// when empty, the module build information is used instead.
var (
	version string
	commit  string
)

// gcPercent is the collector's target when GOGC is not set. Parsing a spec
// allocates about 80 KB of short-lived garbage while the parsed specs stay
// live, so the collector's work grows with the repository; at 200% instead
// of 100%, validating 10,000 specs on 2 cores takes about 0.9 s instead of
// 1.05 s, with a peak RSS of about 140 MB instead of 95 MB.
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	// SIGINT and SIGTERM cancel the command's context: `handoff dev` saves
	// its state and stops, an apply stops between steps.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
