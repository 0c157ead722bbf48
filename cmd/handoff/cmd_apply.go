package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/planfile"
	"github.com/raxx-app/handoff/internal/state"
)

func init() { register(applyCommand) }

func applyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "converge: mint, refresh and revoke credentials; with FILE apply exactly that plan",
		ArgsUsage: "[DIR | FILE]",
		Description: "Without FILE, plans against the live state, prints the plan and asks for 'yes' on a terminal\n" +
			"(-auto-approve in CI; with no terminal and no flag it refuses). When another apply ran while\n" +
			"it waited for the lock, it plans again under the lock, prints the new plan and asks again.\n" +
			"With a plan FILE written by plan -out, applies exactly that plan, and refuses it when the\n" +
			"specs or the live state changed since (the workspace is the current directory, or the global\n" +
			"-chdir=DIR). Steps are numbered on stderr; no secret is ever printed.\n" +
			"A run that fails part-way leaves a journal from which the next apply converges.\n" +
			"A plan that revokes more live handoffs, their specs gone, than the policy's max_revocations or\n" +
			"max_revocation_share (a lost specs/ reads like every spec deleted) is refused unless\n" +
			"-allow-mass-revocation is given; revocations at the end of a TTL never count.\n" +
			"With -deadline, no handoff is started after it, and a wait for a vendor's rate limit that would\n" +
			"end well past it fails at once; the handoffs not started are named and the next apply does them.\n" +
			"Exit status: 0 applied (or nothing to do), 1 error, 5 refused by the mass-revocation guard.",
		Flags: []cli.Flag{
			autoApproveFlag("apply"),
			&cli.DurationFlag{Name: "lock-timeout", Usage: "how long to wait for another apply's lock, a `DURATION` (0 fails at once)"},
			&cli.IntFlag{Name: "parallelism", Value: apply.DefaultParallelism, Usage: "`N` handoffs applied at once (each runs its steps in order)"},
			&cli.DurationFlag{Name: "deadline", Usage: "start no handoff after `DURATION` (0: none); the next apply does the rest"},
			allowMassRevocationFlag(),
			chdirFlag(),
		},
		Action: func(c *cli.Context) error {
			started := time.Now()
			dir, file, err := applyArgs(c)
			if err != nil {
				return err
			}
			deadline := c.Duration("deadline")
			if deadline < 0 {
				return usageError(c, fmt.Errorf("-deadline %s: want a positive duration, or 0 for none", deadline), true)
			}
			ws, err := e.loadWorkspace(c, "apply", dir)
			if err != nil {
				return err
			}
			if deadline > 0 {
				ws.SetWaitDeadline(started.Add(deadline + deadlineGrace(deadline)))
			}
			var p *plan.Plan
			if file != "" {
				if p, err = planfile.ReadFile(file); err != nil {
					return exitf(exitError, "handoff apply: %v", err)
				}
				if err := e.checkGuard(c, p, ws, true); err != nil {
					return exitf(exitMassRevocation, "%v", err)
				}
			} else {
				if p, err = e.planWorkspace(c, "apply", ws); err != nil {
					return err
				}
				color := e.colorFor(c, e.stdout)
				if err := plan.RenderText(e.stdout, p, plan.TextOptions{Color: color}); err != nil {
					return exitf(exitError, "handoff apply: %v", err)
				}
				if !p.HasChanges() {
					return nil
				}
				if err := e.checkGuard(c, p, ws, false); err != nil {
					return exitf(exitMassRevocation, "%v", err)
				}
				if err := e.confirm(c); err != nil {
					return err
				}
			}
			deps, err := e.applyDeps(ws)
			if err != nil {
				return exitf(exitError, "handoff apply: %v", err)
			}
			if deadline > 0 {
				// On the workspace's clock (the dev clock under handoff dev).
				deps.Deadline = ws.Now().Add(deadline - time.Since(started))
			}
			deps.Lock.Wait = c.Duration("lock-timeout")
			deps.Lock.Owner = e.lockOwner(c)
			if deps.Parallelism = c.Int("parallelism"); deps.Parallelism < 1 || deps.Parallelism > 64 {
				return usageError(c, fmt.Errorf("-parallelism %d: want 1 to 64 (GitHub allows 100 concurrent requests)", deps.Parallelism), true)
			}
			run := apply.Apply
			if file != "" {
				run = apply.ApplySaved
			} else {
				// Another apply may run while this one waits for the lock
				// (two merges in a row): plan again under the lock, show
				// the new plan and, on a terminal, ask again. Only a saved
				// plan is applied exactly or refused.
				deps.Replan = func(ctx context.Context, live *state.Live) (*plan.Plan, error) {
					np, diags, err := ws.PlanFrom(ctx, live)
					if err != nil {
						return nil, err
					}
					if len(diags) > 0 {
						if err := e.printDiags(c, diags, ws.Repo.Sources); err != nil {
							return nil, err
						}
					}
					if diags.HasErrors() {
						errs, _ := diag.Counts(diags)
						return nil, fmt.Errorf("%s; the new plan cannot be applied", plural(errs, "error"))
					}
					return np, nil
				}
				deps.Confirm = func(np *plan.Plan) error {
					fmt.Fprintln(e.stdout, "\nThe plan went stale while this apply waited for the lock (another apply ran, or the live state changed): planned again. The new plan:")
					color := e.colorFor(c, e.stdout)
					if err := plan.RenderText(e.stdout, np, plan.TextOptions{Color: color}); err != nil {
						return err
					}
					if !np.HasChanges() {
						return nil
					}
					if err := e.checkGuard(c, np, ws, false); err != nil {
						return err
					}
					return e.confirm(c)
				}
			}
			prog := e.startProgress(&deps, p, ws.Pacer(), &ws.OnWait)
			rep, err := run(c.Context, p, deps)
			prog.stop()
			if rep.Replanned != nil {
				p = rep.Replanned
			}
			return e.reportApply(p, rep, err)
		},
	}
}

// applyArgs tells the optional argument apart: a directory is the
// workspace, a file a saved plan (the workspace is then -chdir).
func applyArgs(c *cli.Context) (dir, file string, err error) {
	if err := misplacedFlag(c.Args().Slice()); err != nil {
		return "", "", usageError(c, err, true)
	}
	dir = c.String("chdir")
	switch c.NArg() {
	case 0:
		return dir, "", nil
	case 1:
	default:
		return "", "", usageError(c, fmt.Errorf("at most one DIR or FILE, got %d arguments", c.NArg()), true)
	}
	arg := c.Args().First()
	st, err := os.Stat(arg)
	if err != nil {
		return "", "", exitf(exitError, "handoff apply: %s: %v", arg, pathError(err))
	}
	if st.IsDir() {
		return arg, "", nil
	}
	return dir, arg, nil
}

// confirm asks for "yes" on a terminal; without one it refuses unless
// -auto-approve was given (env.approve).
func (e *env) confirm(c *cli.Context) error {
	return e.approve(c, "apply", "apply", "Do you want to apply this plan?",
		" (CI, after the plan was reviewed on the pull request), or save a plan with\n"+
			"'handoff plan -out FILE', review it, and run 'handoff apply FILE'")
}

// readLine reads one line of stdin, or returns when ctx ends (a blocked
// read cannot be interrupted; its goroutine is left to the process's exit).
func (e *env) readLine(ctx context.Context) (string, error) {
	if e.in == nil {
		e.in = bufio.NewReader(e.stdin)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	type line struct {
		s   string
		err error
	}
	got := make(chan line, 1)
	in := e.in
	go func() {
		s, err := in.ReadString('\n')
		got <- line{s, err}
	}()
	select {
	case l := <-got:
		return l.s, l.err
	case <-ctx.Done():
		e.in = nil // the blocked read owns the old reader
		return "", ctx.Err()
	}
}

// reportApply prints what the run did on stdout, findings and failures on
// stderr, and returns the exit status.
func (e *env) reportApply(p *plan.Plan, rep apply.Report, err error) error {
	var locked *apply.LockedError
	var refused *guardRefusal
	switch {
	case errors.As(err, &refused):
		return exitf(exitMassRevocation, "%v", refused)
	case errors.As(err, &locked), errors.Is(err, apply.ErrStalePlan):
		return exitf(exitError, "handoff apply: %s\nNothing was changed.", bare(err, "apply: "))
	case err != nil && len(rep.Handoffs) == 0:
		return exitf(exitError, "handoff apply: %s", bare(err, "apply: "))
	}
	for _, f := range rep.Flags {
		fmt.Fprintf(e.stderr, "warning: %s\n", f)
	}
	done := map[string]int{}
	for _, h := range rep.Handoffs {
		if h.Err == nil && h.Op != "" {
			done[h.Op]++
		}
	}
	var parts []string
	for _, op := range []string{"create", "refresh", "update", "replace", "revoke", "recover"} {
		if n := done[op]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, pastTense(op)))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing changed")
	}
	failed := rep.Failed()
	verdict := "Apply complete"
	if len(failed) > 0 {
		verdict = "Apply incomplete"
	}
	fmt.Fprintf(e.stdout, "\n%s: %s; %s.\n", verdict, strings.Join(parts, ", "), plural(rep.Writes, "remote write"))
	if len(failed) == 0 && err == nil {
		return nil
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].Slug < failed[j].Slug })
	for _, h := range failed {
		fmt.Fprintf(e.stderr, "error: handoff %s: %v\n", h.Slug, h.Err)
	}
	return exitf(exitError, "handoff apply: %d of %d handoffs failed; what they minted was revoked or is journaled in their folder, and the next 'handoff apply' converges.",
		len(failed), changedHandoffs(p))
}

func pastTense(op string) string {
	switch op {
	case "create":
		return "created"
	case "refresh":
		return "refreshed"
	case "update":
		return "updated"
	case "replace":
		return "replaced"
	case "revoke":
		return "revoked"
	case "recover":
		return "recovered"
	}
	return op
}

func changedHandoffs(p *plan.Plan) int {
	n := 0
	for _, h := range p.Handoffs {
		if h.Action.IsChange() {
			n++
		}
	}
	return n
}

// deadlineGrace is how far past -deadline a wait for a vendor's limit may
// still end: the handoffs under way at the deadline finish their steps
// rather than stop half-way (the next apply would converge either way, at
// the cost of a repair).
func deadlineGrace(d time.Duration) time.Duration {
	return min(max(d/4, 30*time.Second), 5*time.Minute)
}
