package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/vault/infisicalvault"
)

const (
	rotationFolder = "/Platform/rotation"
	rotationSecret = "HANDOFF_SUBSCRIPTIONS"
)

// enableRotation appends a rotation block to the GitOps directory's
// handoff.hcl and creates the document's folder, as an operator does once.
func (c *gitops) enableRotation() {
	c.t.Helper()
	f, err := os.OpenFile(filepath.Join(c.dir, "handoff.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := f.WriteString("\nrotation {\n  path   = \"" + rotationFolder + "\"\n  secret = \"" + rotationSecret + "\"\n}\n"); err != nil {
		c.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		c.t.Fatal(err)
	}
	c.putDocument("")
}

// putDocument writes value at the document's location behind handoff's
// back ("" creates only the folder).
func (c *gitops) putDocument(value string) {
	c.t.Helper()
	cl, err := c.provisioner()
	if err != nil {
		c.t.Fatal(err)
	}
	v := infisicalvault.New(cl)
	ctx := context.Background()
	if err := v.EnsureFolder(ctx, "staging", rotationFolder); err != nil {
		c.t.Fatal(err)
	}
	if value != "" {
		if _, err := v.UpsertSecret(ctx, "staging", rotationFolder, rotationSecret, value, "by hand"); err != nil {
			c.t.Fatal(err)
		}
	}
}

// TestRotationCommand: `handoff rotation` prints the document apply wrote,
// as the service reads it, with vault paths and never a value (the scan
// checks every output); -check exits 2 on a document edited by hand; a
// secret there that is not a document is refused and never printed.
func TestRotationCommand(t *testing.T) {
	c := newGitOps(t)

	_, stderr := c.must(1, "rotation")
	if !strings.Contains(stderr, "enrollment is off") {
		t.Errorf("rotation with enrollment off: %s", stderr)
	}
	c.enableRotation()
	_, stderr = c.must(1, "rotation")
	if !strings.Contains(stderr, "does not exist yet: handoff apply writes it") {
		t.Errorf("rotation before the first apply: %s", stderr)
	}

	c.must(0, "apply", "-auto-approve")
	stdout, stderr := c.must(0, "rotation", "-check")
	d, err := rotation.Parse([]byte(stdout))
	if err != nil {
		t.Fatalf("stdout is not a rotation document: %v\n%s", err, stdout)
	}
	stored, _ := c.s.Infisical.Secret("staging", rotationFolder, rotationSecret)
	if stdout != stored.Value {
		t.Errorf("printed another document than the one stored:\n%s\nstored:\n%s", stdout, stored.Value)
	}
	if got := d.Consumers(); len(got) != 2 || got[0] != rotation.Consumer(stripeSlug) || got[1] != rotation.Consumer(iapSlug) {
		t.Errorf("enrolled %q", got)
	}
	for _, e := range d.Subscriptions {
		if !strings.HasPrefix(e.UpdateEndpoint, "/MooseQuest/handoffs/") || e.TokenName != "INFISICAL_CLIENT_SECRET" || e.UpdateMethod != rotation.UpdateMethod {
			t.Errorf("entry %+v", e)
		}
	}
	if !strings.Contains(stderr, "2 entries of 2 handoffs; it says what the manifests say") {
		t.Errorf("stderr: %s", stderr)
	}

	// The kill switch removes the handoff's entries at once.
	c.must(0, "revoke", "-reason", "incident", iapSlug)
	stdout, _ = c.must(0, "rotation", "-check")
	if strings.Contains(stdout, iapSlug) {
		t.Errorf("the revoked handoff is still enrolled:\n%s", stdout)
	}

	// Edited by hand: -check exits 2, apply repairs it.
	forged := rotation.NewEntry("payments-admin", "prod", "/Payments/live/STRIPE_SECRET_KEY", "Stripe key", d.Subscriptions[0].AutoRevokeAfter)
	d, _ = rotation.Parse([]byte(stdout))
	d.Subscriptions = append(d.Subscriptions, forged)
	c.putDocument(string(d.Marshal()))
	_, stderr = c.must(0, "rotation")
	if !strings.Contains(stderr, "holds 1 entry no manifest says. handoff apply rewrites it") {
		t.Errorf("a forged entry: %s", stderr)
	}
	c.must(exitRotationDrift, "rotation", "-check")
	c.must(0, "apply", "-auto-approve")
	c.must(0, "rotation", "-check")

	// Not a document: refused, never quoted.
	value := "sk_test_" + strings.Repeat("q7", 20)
	c.secrets[value] = true
	c.putDocument(value)
	stdout, stderr = c.must(1, "rotation")
	if stdout != "" || !strings.Contains(stderr, "is invalid (not a rotation document") {
		t.Errorf("a value that is not a document:\nstdout %q\nstderr %s", stdout, stderr)
	}
	c.must(1, "rotation", "-check", "extra")
}
