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

func main() {
	setMemoryLimit(os.Getenv)
	// SIGINT and SIGTERM cancel the command's context: `handoff dev` saves
	// its state and stops, an apply stops between steps.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv)
	code := runContext(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stopProfile()
	stop()
	os.Exit(code)
}
