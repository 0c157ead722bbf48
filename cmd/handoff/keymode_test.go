package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStripeLiveKeyUnderATestSpec: a live Stripe key where a test-mode
// spec reads is refused at apply before the handoff's first step (nothing
// is granted: no identity is ever created, nothing is written in its
// folder, the gate stays closed), passes once
// the key is a test key, and is a scope violation for verify when swapped
// back behind handoff's back. No output shows the key.
func TestStripeLiveKeyUnderATestSpec(t *testing.T) {
	c := newExecGitOps(t)
	prov, err := c.provisioner()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const queue, key = "/MooseQuest/queue/staging", "STRIPE_SECRET_KEY"
	live, test := "sk_live_51HxDEVLIVEKEYdoNotLeak0000000000", "sk_test_51HxDEVTESTKEYdoNotLeak0000000000"
	c.secrets[live], c.secrets[test] = true, true
	if _, err := prov.CreateSecret(ctx, "staging", queue, key, live); err != nil {
		t.Fatal(err)
	}
	folder := "/MooseQuest/handoffs/" + stripeSlug
	want := queue + "/" + key + " (environment staging), a live key (sk_live_)"

	// The stripe handoff alone, so that every request is its own.
	if err := os.Remove(filepath.Join(c.dir, "specs", iapSlug+".hcl")); err != nil {
		t.Fatal(err)
	}
	c.s.Kit.Stats.Reset()
	code, _, stderr := c.run("apply", "-auto-approve")
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("apply with a live key under a test spec: exit %d\n%s", code, stderr)
	}
	// The check runs before the handoff's first step (the pre-mint check
	// of the seam): no identity, membership, client secret or privilege is
	// ever created, so nothing is undone either.
	for route, n := range c.s.Kit.Stats.Snapshot() {
		method, path, _ := strings.Cut(route, " ")
		if method != "GET" && (strings.Contains(path, "identit") || strings.Contains(path, "privilege")) && n > 0 {
			t.Errorf("the refused apply sent %d requests to %s", n, route)
		}
	}
	if strings.Contains(stderr, "("+stripeSlug+")") {
		t.Errorf("the refused handoff ran steps:\n%s", stderr)
	}
	for _, id := range c.s.Infisical.Identities() {
		if strings.Contains(id.Name, stripeSlug) {
			t.Errorf("identity %s left after the refusal", id.Name)
		}
	}
	for _, s := range c.s.Infisical.Secrets("staging", folder, true) {
		t.Errorf("%s/%s written for a refused handoff", folder, s.Key)
	}
	c.must(1, "gate", stripeSlug)

	if _, err := prov.UpdateSecret(ctx, "staging", queue, key, test); err != nil {
		t.Fatal(err)
	}
	c.must(0, "apply", "-auto-approve")
	c.must(0, "gate", stripeSlug)
	c.must(0, "verify", stripeSlug)

	// Swapped behind handoff's back: the handoff's identity can read a
	// live key.
	if _, err := prov.UpdateSecret(ctx, "staging", queue, key, live); err != nil {
		t.Fatal(err)
	}
	stdout, _ := c.must(exitScopeViolation, "verify", stripeSlug)
	if !strings.Contains(stdout, want) {
		t.Errorf("verify does not name the live key:\n%s", stdout)
	}
}
