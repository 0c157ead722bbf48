package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
)

func init() { register(validateCommand) }

func validateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "parse specs and handoff.hcl and check the policy; touches nothing remote",
		ArgsUsage: "[DIR]",
		Description: "DIR (default \".\") is the repository root, holding handoff.hcl and specs/, or its specs/ directory.\n" +
			"Diagnostics go to stderr as file:line:col; with -json the JSON document goes to stdout instead.\n" +
			"When GITHUB_ACTIONS=true, GitHub annotations are also written to stderr.\n" +
			"At most 10 problems of a file and 100 in all are shown; the others are counted.\n" +
			"Exit status: 0 valid (warnings allowed), 1 invalid.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the diagnostics as a JSON document on stdout"},
		},
		Action: func(c *cli.Context) error {
			if err := misplacedFlag(c.Args().Slice()); err != nil {
				return usageError(c, err, true)
			}
			if c.NArg() > 1 {
				return usageError(c, fmt.Errorf("at most one DIR, got %d arguments", c.NArg()), true)
			}
			dir := "."
			if c.NArg() == 1 {
				dir = c.Args().First()
			}
			repo, diags := validate(dir)
			shown := diag.Limit(diags, diag.MaxPerFile, diag.MaxTotal)
			repo.FillSources(shown)
			return e.report(c, "validate", shown, repo.Sources, plural(len(repo.Handoffs), "handoff")+" valid")
		},
	}
}

// validate loads the repository at dir and checks it. The policy
// diagnostics are limited as they come (see policy.CheckBounded); the
// caller limits the whole list before showing it.
func validate(dir string) (*spec.Repo, hcl.Diagnostics) {
	repo, diags := spec.LoadDir(dir)
	return repo, append(diags, policy.CheckBounded(repo)...)
}

// report prints diags the way every command does — text on stderr, or the
// JSON document on stdout with -json, plus GitHub annotations when running
// in GitHub Actions — and returns exit code 1 when there is an error. ok is
// the one-line summary printed to stderr in text mode when there is none.
func (e *env) report(c *cli.Context, cmd string, diags hcl.Diagnostics, sources map[string][]byte, ok string) error {
	errs, warns := diag.Counts(diags)
	if c.Bool("json") {
		if err := diag.WriteJSON(e.stdout, diags); err != nil {
			return exitf(exitError, "handoff %s: %v", cmd, err)
		}
	} else {
		if err := diag.WriteText(e.stderr, diags, sources, e.colorFor(c, e.stderr)); err != nil {
			return exitf(exitError, "handoff %s: %v", cmd, err)
		}
	}
	if e.getenv("GITHUB_ACTIONS") == "true" {
		if err := diag.WriteGitHubActions(e.stderr, diags, e.getenv("GITHUB_WORKSPACE")); err != nil {
			return exitf(exitError, "handoff %s: %v", cmd, err)
		}
	}
	if errs > 0 {
		if c.Bool("json") {
			return exitCode(exitError)
		}
		return exitf(exitError, "handoff %s: %s, %s", cmd, plural(errs, "error"), plural(warns, "warning"))
	}
	if !c.Bool("json") {
		msg := "handoff " + cmd + ": " + ok
		if warns > 0 {
			msg += ", " + plural(warns, "warning")
		}
		fmt.Fprintln(e.stderr, msg)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
