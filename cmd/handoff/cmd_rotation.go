package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/state"
)

// exitRotationDrift is `handoff rotation -check`'s exit status when the
// live document differs from what the manifests say.
const exitRotationDrift = 2

func init() { register(rotationCommand) }

func rotationCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "rotation",
		Usage: "print the rotation service's subscription document: where each credential lives, never a value",
		Description: "Reads the subscription document that handoff.hcl's rotation block locates, as handoff apply\n" +
			"keeps it (one entry per long-lived credential of every active handoff), and prints it on stdout\n" +
			"as JSON, in the form the rotation service reads. Entries name vault paths, never a value; a secret\n" +
			"at that location that is not a rotation document is never printed. On stderr, whether it says what\n" +
			"the manifests say. Only handoff.hcl must be valid (a spec's errors are a warning); writes nothing.\n" +
			"Exit status: 0, 1 error (enrollment off, no document yet, or not this repository's document),\n" +
			"2 with -check when the document differs from what the manifests say (handoff apply repairs it).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "exit 2 when the document differs from what the manifests say"},
			chdirFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError(c, fmt.Errorf("unexpected argument %q: the command takes none", c.Args().First()), true)
			}
			ws, err := e.loadForSlugs(c, "rotation", nil)
			if err != nil {
				return err
			}
			loc := reconcile.RotationLocation(ws.Repo.Config)
			if loc == nil {
				return exitf(exitError, "handoff rotation: enrollment is off: handoff.hcl has no rotation block (see docs/spec-reference.md)")
			}
			v, err := ws.Vault()
			if err != nil {
				return exitf(exitError, "handoff rotation: %v", err)
			}
			// The manifests and the document in one read, without the
			// surfaces' live state: the document is a function of the
			// manifests alone.
			live, err := state.Read(c.Context, state.Sources{Vault: v}, state.Options{
				Environment: ws.Settings.Environment, Root: ws.Settings.HandoffRoot, Now: ws.Now, Rotation: loc})
			if err != nil {
				return exitf(exitError, "handoff rotation: %s", bare(err, "state: "))
			}
			lr := live.Rotation
			switch lr.State {
			case rotation.StateValid:
			case rotation.StateMissing:
				return exitf(exitError, "handoff rotation: the rotation document %s does not exist yet: handoff apply writes it", loc)
			default:
				return exitf(exitError, "handoff rotation: the rotation document %s is %s (%s); it is not printed", loc, lr.State, lr.Problem)
			}
			// The document as parsed and encoded again: fields handoff
			// does not know are not printed (the next apply drops them).
			if _, err := e.stdout.Write(lr.Doc.Marshal()); err != nil {
				return exitf(exitError, "handoff rotation: %v", err)
			}
			want := reconcile.LiveDocument(ws.Registry(), live)
			add, remove := rotation.Diff(lr.Entries(), want.Subscriptions)
			summary := fmt.Sprintf("rotation document %s, version %d: %s of %s", loc, lr.Version,
				entries(len(lr.Doc.Subscriptions)), plural(len(lr.Doc.Consumers()), "handoff"))
			if lr.Matches(want.Marshal()) {
				fmt.Fprintf(e.stderr, "%s; it says what the manifests say.\n", summary)
				return nil
			}
			var diff []string
			if len(remove) > 0 {
				diff = append(diff, "holds "+entries(len(remove))+" no manifest says")
			}
			if len(add) > 0 {
				diff = append(diff, "lacks "+entries(len(add))+" the manifests say")
			}
			if len(diff) == 0 {
				diff = append(diff, "its form or fields differ from what handoff writes")
			}
			fmt.Fprintf(e.stderr, "%s; it differs from what the manifests say: it %s. handoff apply rewrites it.\n",
				summary, strings.Join(diff, " and "))
			if c.Bool("check") {
				return exitCode(exitRotationDrift)
			}
			return nil
		},
	}
}

// entries is "1 entry", "2 entries".
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}
