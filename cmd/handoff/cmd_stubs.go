package main

import "github.com/urfave/cli/v2"

// The commands below are in the contract but not in this build yet. Each
// parses its flags and exits 1 saying so; it prints no fake output. Whoever
// implements one deletes its entry here and adds its own cmd_<name>.go.
func init() {
	register(
		stub("apply", "converge: mint, refresh and revoke credentials; with FILE apply exactly that plan", "[FILE]",
			"A stale plan FILE is refused. Exit status: 0, 1 error.",
			&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
		),
		stub("verify", "check manifest vs policy vs live metadata; never prints a token", "[SLUG...]",
			"Exit status: 0, 1 error, 4 scope violation.",
		),
		stub("revoke", "revoke a handoff's credentials now, out of band, and leave a tombstone", "SLUG",
			"Exit status: 0, 8 nothing found.",
			&cli.StringFlag{Name: "reason", Usage: "why the handoff is revoked (recorded in the audit log)"},
		),
		stub("gate", "dispatch gate: succeed only if a valid, unexpired manifest exists for SLUG", "SLUG",
			"Exit status: 0 dispatch allowed, 1 refused.",
		),
		stub("env", "print the session context for the orchestrator: env names, vault references, MCP lists", "SLUG",
			"Secret values only with -reveal. Exit status: 0, 1.",
			&cli.StringFlag{Name: "format", Value: "json", Usage: "output format: json or dotenv"},
			&cli.BoolFlag{Name: "reveal", Usage: "include secret values"},
		),
		stub("audit", "print the audit records of handoffs (who, what, when; never a secret)", "[SLUG...]",
			"Exit status: 0, 1.",
			&cli.BoolFlag{Name: "json", Usage: "print the records as JSON on stdout"},
		),
	)
}

// stub returns the constructor of a command that is not available yet.
func stub(name, usage, argsUsage, description string, flags ...cli.Flag) func(*env) *cli.Command {
	return func(*env) *cli.Command {
		return &cli.Command{
			Name:        name,
			Usage:       usage,
			ArgsUsage:   argsUsage,
			Description: description,
			Flags:       flags,
			Action: func(*cli.Context) error {
				return exitf(exitError, "handoff %s: not yet available in this build", name)
			},
		}
	}
}
