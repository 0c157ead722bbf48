package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/workspace"
)

// exitMassRevocation is apply's exit status when the mass-revocation guard
// refuses the plan: nothing was changed.
const exitMassRevocation = 5

// allowMassRevocationFlag is apply's way past the guard.
func allowMassRevocationFlag() cli.Flag {
	return &cli.BoolFlag{Name: "allow-mass-revocation",
		Usage: "apply a plan the mass-revocation guard refuses (policy max_revocations, max_revocation_share)"}
}

// guardRefusal is apply's refusal of a plan by the mass-revocation guard.
// It travels through apply.Apply when the refused plan is one made again
// under the lock (Deps.Confirm), so that the exit status stays 5.
type guardRefusal struct{ msg string }

func (e *guardRefusal) Error() string { return e.msg }

// checkGuard applies the mass-revocation guard to p before apply touches
// anything: p's own verdict, and the verdict of the policy in ws's
// handoff.hcl now (a saved plan may have been made under looser limits);
// either one trips it. With -allow-mass-revocation a tripped guard is a
// warning on stderr. A plan without the guard's account (a plan file made
// by a handoff without the guard) that revokes anything is refused in the
// same way: its revocations were never counted.
//
// The flag is only ever apply's, given when the plan is applied, never a
// property of the plan: a saved plan travels (a CI artifact, a file handed
// to someone else), and the consent to a mass revocation must come from
// whoever applies it, when they do.
func (e *env) checkGuard(c *cli.Context, p *plan.Plan, ws *workspace.Workspace, saved bool) error {
	g := p.RevocationGuard
	var what string
	switch {
	case g == nil:
		if n := p.Summary().Revoke; n > 0 {
			what = fmt.Sprintf("the plan was made by a handoff without the mass-revocation guard and revokes %s: its revocations were never counted", plural(n, "handoff"))
		}
	default:
		now := *g
		now.Check(policy.RevocationLimits(ws.Repo.Config))
		switch {
		case now.Tripped:
			what = now.Sentence()
		case g.Tripped:
			what = g.Sentence() + " when the plan was made"
		}
	}
	if what == "" {
		return nil
	}
	if c.Bool("allow-mass-revocation") {
		fmt.Fprintf(e.stderr, "warning: handoff apply: %s; applying it, as -allow-mass-revocation asks.\n", what)
		return nil
	}
	again := "handoff apply " + plan.AllowMassRevocationFlag
	if saved {
		again += " " + c.Args().First()
	}
	return &guardRefusal{msg: fmt.Sprintf("handoff apply: refused by the mass-revocation guard: %s.\nNothing was changed. "+
		"If the specs are gone by mistake (specs/ lost, the wrong directory or branch), restore them and plan again; "+
		"if these revocations are intended, run '%s', or raise max_revocations or max_revocation_share in handoff.hcl through a reviewed change. "+
		"'handoff revoke SLUG' (the kill switch) is never held back.", what, again)}
}
