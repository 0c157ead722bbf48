package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/workspace"
)

// exitScopeViolation is verify's exit status when a credential can do more
// than its spec allows.
const exitScopeViolation = 4

func init() { register(verifyCommand) }

func verifyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check manifest vs policy vs live metadata; never prints a token",
		ArgsUsage: "[SLUG...]",
		Description: "For each handoff (every handoff folder when no SLUG is given), compares its manifest with its\n" +
			"spec and with the live metadata of each surface: token expiry and grant, identity, membership\n" +
			"and privileges no wider than the spec, no identity named for it that the manifest does not\n" +
			"record, GitHub tokens a crashed apply may have left that nobody can revoke, and, when handoff.hcl\n" +
			"enrolls credentials, the rotation document's entries against the manifests. Writes nothing.\n" +
			"With SLUGs, only handoff.hcl and their own specs must be valid (another spec's errors are a warning).\n" +
			"-alert keeps one GitHub issue (label handoff-alert) open per handoff with a scope violation and per\n" +
			"vendor that has answered 5xx for longer than -vendor-failure-after, updates it while the problem\n" +
			"lasts and closes it when a run finds it gone (repository from -repo or GITHUB_REPOSITORY, token\n" +
			"from GITHUB_TOKEN, which needs issues: write).\n" +
			"Exit status: 0 all verified, 1 error or drift (apply repairs it), 4 scope violation.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the findings as JSON on stdout"},
			chdirFlag(),
		}, alertFlags()...),
		Action: func(c *cli.Context) error {
			if err := misplacedFlag(c.Args().Slice()); err != nil {
				return usageError(c, err, true)
			}
			// Every handoff depends on every spec; given handoffs only on
			// their own.
			load := e.loadWorkspace
			if slugs := c.Args().Slice(); len(slugs) > 0 {
				load = func(c *cli.Context, cmd, _ string) (*workspace.Workspace, error) {
					return e.loadForSlugs(c, cmd, slugs)
				}
			}
			ws, err := load(c, "verify", c.String("chdir"))
			if err != nil {
				return err
			}
			deps, err := e.applyDeps(ws)
			if err != nil {
				return exitf(exitError, "handoff verify: %v", err)
			}
			out := e.verifyAndAlert(c, ws, deps, c.Args().Slice())
			vs := out.vs
			if out.alertErr != nil {
				// Said whatever else happens: an alert nobody sees must not
				// pass silently.
				fmt.Fprintf(e.stderr, "handoff verify: -alert: %v\n", out.alertErr)
			}
			if err := out.err; err != nil {
				var ee *exitErr
				if errors.As(err, &ee) {
					return err
				}
				return exitf(exitError, "handoff verify: %s", bare(err, "apply: ", "verify: "))
			}
			scope, drift := 0, 0
			for _, v := range vs {
				if v.Scope() {
					scope++
				} else if len(v.Violations) > 0 {
					drift++
				}
			}
			if c.Bool("json") {
				if err := writeVerifyJSON(e, vs); err != nil {
					return exitf(exitError, "handoff verify: %v", err)
				}
			} else {
				writeVerifyText(e, vs)
			}
			switch {
			case scope > 0:
				return exitf(exitScopeViolation, "handoff verify: %s with a scope violation: revoke it (handoff revoke SLUG) and find out how it was widened", plural(scope, "handoff"))
			case out.alertErr != nil:
				return exitf(exitError, "handoff verify: the alert issues could not be written (above)")
			case drift > 0:
				return exitf(exitError, "handoff verify: %s drifted from the manifest: run handoff apply", plural(drift, "handoff"))
			}
			return nil
		},
	}
}

func writeVerifyText(e *env, vs []apply.Verification) {
	if len(vs) == 0 {
		fmt.Fprintln(e.stdout, "No handoffs to verify.")
	}
	for _, v := range vs {
		status := string(v.Status)
		if status == "" {
			status = "no manifest"
		}
		if len(v.Violations) == 0 {
			fmt.Fprintf(e.stdout, "%s: verified (%s)\n", v.Slug, status)
		} else {
			fmt.Fprintf(e.stdout, "%s: %s (%s)\n", v.Slug, plural(len(v.Violations), "finding"), status)
		}
		for _, x := range v.Violations {
			fmt.Fprintf(e.stdout, "  %s\n", x)
		}
		for _, f := range v.Flags {
			fmt.Fprintf(e.stdout, "  warning: %s\n", f.Message)
		}
	}
}

// verifyJSON is `handoff verify -json`'s output.
type verifyJSON struct {
	FormatVersion int                 `json:"format_version"`
	Handoffs      []verifyHandoffJSON `json:"handoffs"`
}

type verifyHandoffJSON struct {
	Slug       string          `json:"slug"`
	Status     string          `json:"status"`
	Verified   bool            `json:"verified"`
	Violations []violationJSON `json:"violations"`
	Warnings   []string        `json:"warnings"`
}

type violationJSON struct {
	Surface string `json:"surface"`
	Scope   bool   `json:"scope"`
	Message string `json:"message"`
}

func writeVerifyJSON(e *env, vs []apply.Verification) error {
	out := verifyJSON{FormatVersion: 1, Handoffs: []verifyHandoffJSON{}}
	for _, v := range vs {
		h := verifyHandoffJSON{Slug: v.Slug, Status: string(v.Status), Verified: len(v.Violations) == 0,
			Violations: []violationJSON{}, Warnings: []string{}}
		for _, x := range v.Violations {
			h.Violations = append(h.Violations, violationJSON{Surface: x.Surface, Scope: x.Scope, Message: x.Message})
		}
		for _, f := range v.Flags {
			h.Warnings = append(h.Warnings, f.Message)
		}
		out.Handoffs = append(out.Handoffs, h)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
