package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/workspace"
)

// exitNothingFound is revoke's exit status when nothing at all existed for
// the slug (the runbook's "nothing to revoke").
const exitNothingFound = 8

func init() { register(revokeCommand, untombstoneCommand) }

func revokeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "revoke a handoff's credentials now, out of band, and leave a tombstone",
		ArgsUsage: "SLUG",
		Description: "The kill switch. It takes no lock: it never waits for an apply, running or crashed. It writes\n" +
			"the tombstone first (the gate closes at once, and a running apply stops before its next mint and\n" +
			"revokes what it minted), then revokes the GitHub token, the client secret and the handoff's\n" +
			"identity, and deletes the folder's secrets; the manifest stays as the record, status revoked.\n" +
			"With -surface, only those surfaces are killed and the rest of the handoff lives on. A spec with\n" +
			"errors elsewhere does not stop it (it is left out, with a warning). apply never mints a\n" +
			"tombstoned slug or a killed surface again until 'handoff untombstone SLUG' (or a new slug).\n" +
			"Who and why are recorded in the manifest.\n" +
			"Exit status: 0 revoked, 1 error, 8 nothing found for SLUG.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "reason", Usage: "`REASON` the handoff is revoked for, recorded in the manifest (default: \"emergency revocation\")"},
			&cli.StringSliceFlag{Name: "surface", Usage: "revoke only the surface `NAME` (repeatable; default: every surface)"},
			&cli.StringFlag{Name: "by", Usage: "`NAME` of who revokes, recorded in the manifest (default: GITHUB_ACTOR, else USER)"},
			// Kept so that scripts that pass it still run: the kill switch
			// takes no lock.
			&cli.DurationFlag{Name: "lock-timeout", Hidden: true, Usage: "ignored: revoke never waits for a lock"},
			chdirFlag(),
		},
		Action: func(c *cli.Context) error {
			slug, err := slugArg(c)
			if err != nil {
				return err
			}
			reason := strings.TrimSpace(c.String("reason"))
			if reason == "" {
				reason = "emergency revocation"
			}
			ws, err := e.loadWorkspaceWith(c, "revoke", c.String("chdir"),
				func(ctx context.Context, dir string, getenv func(string) string) (*workspace.Workspace, hcl.Diagnostics) {
					return workspace.LoadForRevoke(ctx, dir, getenv, slug)
				})
			if err != nil {
				return err
			}
			deps, err := e.applyDeps(ws)
			if err != nil {
				return exitf(exitError, "handoff revoke: %v", err)
			}
			deps.Lock.Owner = e.lockOwner(c)
			surfaces := c.StringSlice("surface")
			for _, s := range surfaces {
				if _, ok := deps.Registry.Get(s); !ok {
					return exitf(exitError, "handoff revoke: -surface %s: no such surface in this build (known: %s)", s, strings.Join(deps.Registry.Names(), ", "))
				}
			}
			rep, err := apply.Revoke(c.Context, slug, apply.RevokeOptions{Reason: reason, By: e.operator(c), Surfaces: surfaces}, deps)
			for _, f := range rep.Flags {
				fmt.Fprintf(e.stderr, "warning: %s\n", f)
			}
			switch {
			case errors.Is(err, apply.ErrNothingFound):
				return exitf(exitNothingFound, "handoff revoke %s: %s", slug, bare(err, "apply: ", "revoke "+slug+": ", "handoff "+slug+": "))
			case err != nil:
				return exitf(exitError, "handoff revoke %s: %s\nRun it again: revocation is idempotent.", slug, bare(err, "apply: ", "revoke "+slug+": ", "handoff "+slug+": "))
			}
			what := "every surface"
			if len(surfaces) > 0 {
				what = "surface " + strings.Join(surfaces, ", ")
			}
			fmt.Fprintf(e.stdout, "Revoked %s of %s (%s). Tombstone written: apply will not mint it again until 'handoff untombstone %s'.\n",
				what, slug, plural(rep.Writes, "remote write"), slug)
			return nil
		},
	}
}

func untombstoneCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "untombstone",
		Usage:     "lift a manual revocation so that apply may mint the handoff again",
		ArgsUsage: "SLUG",
		Description: "After 'handoff revoke', apply leaves the slug (or the killed surfaces) alone. untombstone lifts\n" +
			"that: the next apply mints again what the spec asks for. The revocation stays in the manifest's\n" +
			"history. Refused while a revocation is unfinished (run apply first).\n" +
			"Exit status: 0, 1 error, 8 no manifest for SLUG.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "by", Usage: "`NAME` of who lifts the tombstone, recorded in the manifest's history (default: GITHUB_ACTOR, else USER)"},
			chdirFlag(),
		},
		Action: func(c *cli.Context) error {
			slug, err := slugArg(c)
			if err != nil {
				return err
			}
			ws, err := e.loadWorkspace(c, "untombstone", c.String("chdir"))
			if err != nil {
				return err
			}
			deps, err := e.applyDeps(ws)
			if err != nil {
				return exitf(exitError, "handoff untombstone: %v", err)
			}
			deps.Lock.Owner = e.lockOwner(c)
			m, err := apply.Untombstone(c.Context, slug, deps)
			switch {
			case errors.Is(err, apply.ErrNothingFound):
				return exitf(exitNothingFound, "handoff untombstone %s: %s", slug, bare(err, "apply: ", "untombstone "+slug+": "))
			case err != nil:
				return exitf(exitError, "handoff untombstone %s: %s", slug, bare(err, "apply: ", "untombstone "+slug+": "))
			}
			by := "an operator"
			if m != nil && m.Revocation != nil && m.Revocation.By != "" {
				by = m.Revocation.By
			}
			if m != nil && m.Untombstoned() {
				// Lifted by an earlier untombstone: nothing was written.
				fmt.Fprintf(e.stdout, "Tombstone of %s was lifted already, at %s (revoked by %s); nothing written. The next 'handoff apply' mints what its spec asks for.\n",
					slug, m.Revocation.UntombstonedAt.UTC().Format(time.RFC3339), by)
				return nil
			}
			fmt.Fprintf(e.stdout, "Tombstone of %s lifted (revoked by %s); the next 'handoff apply' mints what its spec asks for.\n", slug, by)
			return nil
		},
	}
}
