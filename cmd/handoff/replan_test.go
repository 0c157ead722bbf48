package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTwoAppliesInARowBothSucceed (issue 12, item 12): two merges in a row
// start two applies that plan against the same state; the second waits for
// the first's lock, plans again under it, shows the new plan (no change)
// and exits 0 instead of failing CI with "stale plan".
func TestTwoAppliesInARowBothSucceed(t *testing.T) {
	c := newGitOps(t)
	// A third party holds the lock, so that both applies plan before
	// either takes it.
	release := c.holdLock()
	ctx := context.Background()
	runs := []*asyncRun{
		c.runAsync(ctx, false, nil, "apply", "-auto-approve", "-lock-timeout", "1m", c.dir),
		c.runAsync(ctx, false, nil, "apply", "-auto-approve", "-lock-timeout", "1m", c.dir),
	}
	for _, r := range runs {
		waitFor(t, r, r.stderr, "lock: waiting for the apply of ci-runner-7")
		if !strings.Contains(r.stdout.String(), "Plan: 2 to create") {
			t.Fatalf("each apply planned before waiting:\n%s", r.stdout.String())
		}
	}
	release()
	var created, replanned int
	for i, r := range runs {
		if code := r.wait(c); code != 0 {
			t.Errorf("apply %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, code, r.stdout.String(), r.stderr.String())
		}
		out := r.stdout.String()
		if strings.Contains(out, "Apply complete: 2 created") {
			created++
		}
		if strings.Contains(out, "The plan went stale while this apply waited for the lock") {
			replanned++
			if !strings.Contains(out, "No changes.") || !strings.Contains(r.stderr.String(), "planning again") {
				t.Errorf("the second apply's new plan:\n%s\n%s", out, r.stderr.String())
			}
		}
	}
	if created != 1 || replanned != 1 {
		t.Errorf("%d applies created, %d planned again; want 1 and 1", created, replanned)
	}
	if n := c.liveIdentities(); n != 2 {
		t.Errorf("%d identities, want 2", n)
	}
	if n := len(c.s.GitHub.Tokens()); n != 1 {
		t.Errorf("%d GitHub tokens minted, want 1", n)
	}
	// A saved plan is still applied exactly, or refused.
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	c.must(0, "plan", "-out", planFile)
	c.s.Kit.Clock.Advance(55 * time.Minute)
	c.must(0, "apply", "-auto-approve")
	if _, stderr := c.must(1, "apply", planFile); !strings.Contains(stderr, "stale plan") {
		t.Errorf("a stale saved plan: %s", stderr)
	}
}

// TestReplannedApplyAsksAgainOnATerminal: on a terminal without
// -auto-approve, the plan made again under the lock is shown and must be
// approved again; "no" stops it before any write.
func TestReplannedApplyAsksAgainOnATerminal(t *testing.T) {
	for _, answer := range []string{"yes", "no"} {
		t.Run(answer, func(t *testing.T) {
			c := newGitOps(t)
			stripeSpec := filepath.Join(c.dir, "specs", stripeSlug+".hcl")
			spec, err := os.ReadFile(stripeSpec)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(stripeSpec); err != nil {
				t.Fatal(err)
			}
			c.must(0, "apply", "-auto-approve")
			// The next merge adds the second handoff.
			if err := os.WriteFile(stripeSpec, spec, 0o644); err != nil {
				t.Fatal(err)
			}
			release := c.holdLock()
			in, answers := io.Pipe()
			defer answers.Close()
			r := c.runAsync(context.Background(), true, in, "apply", "-lock-timeout", "1m", c.dir)
			waitFor(t, r, r.stderr, "Only 'yes' will be accepted")
			if _, err := io.WriteString(answers, "yes\n"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, r, r.stderr, "lock: waiting for the apply of ci-runner-7")
			// Meanwhile someone deletes the first handoff's token by hand.
			prov, err := c.provisioner()
			if err != nil {
				t.Fatal(err)
			}
			if err := prov.DeleteSecret(context.Background(), "staging", "/MooseQuest/handoffs/"+iapSlug, "GH_HANDOFF_TOKEN"); err != nil {
				t.Fatal(err)
			}
			if err := prov.Logout(context.Background()); err != nil {
				t.Fatal(err)
			}
			release()
			waitFor(t, r, r.stdout, "The new plan:")
			waitForN(t, r, r.stderr, "Only 'yes' will be accepted", 2)
			before := c.liveIdentities()
			if _, err := io.WriteString(answers, answer+"\n"); err != nil {
				t.Fatal(err)
			}
			code := r.wait(c)
			out := r.stdout.String()
			newPlan := out[strings.Index(out, "The new plan:"):]
			if !strings.Contains(newPlan, iapSlug) || !strings.Contains(newPlan, stripeSlug) {
				t.Errorf("the new plan does not show both handoffs:\n%s", newPlan)
			}
			switch answer {
			case "yes":
				if code != 0 || !strings.Contains(out, "Apply complete") || c.liveIdentities() != 2 {
					t.Errorf("approved again: exit %d, %d identities\n%s\n%s", code, c.liveIdentities(), out, r.stderr.String())
				}
				if _, ok := c.s.Infisical.Secret("staging", "/MooseQuest/handoffs/"+iapSlug, "GH_HANDOFF_TOKEN"); !ok {
					t.Error("the new plan's repair of the deleted token was not applied")
				}
			case "no":
				if code != 1 || !strings.Contains(r.stderr.String(), "cancelled; nothing was changed") || c.liveIdentities() != before {
					t.Errorf("refused the second time: exit %d, %d identities (was %d)\n%s", code, c.liveIdentities(), before, r.stderr.String())
				}
			}
		})
	}
}
