package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// emptySpecs deletes every spec of c: what a lost specs/ folder, a wrong
// checkout or a bad merge looks like to the planner.
func (c *gitops) emptySpecs() {
	c.t.Helper()
	entries, err := os.ReadDir(filepath.Join(c.dir, "specs"))
	if err != nil {
		c.t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(c.dir, "specs", e.Name())); err != nil {
			c.t.Fatal(err)
		}
	}
}

// setPolicy adds attributes to the policy block of c's handoff.hcl.
func (c *gitops) setPolicy(attrs string) {
	c.t.Helper()
	path := filepath.Join(c.dir, "handoff.hcl")
	b, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	src := strings.Replace(string(b), "policy {\n", "policy {\n  "+attrs+"\n", 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// TestApplyRefusesAMassRevocation (issue 12, item 9b): once the specs are
// gone, the plan says loudly that it revokes every live handoff, and apply
// refuses it (exit 5, nothing written) unless -allow-mass-revocation is
// given, with a plan file as without.
func TestApplyRefusesAMassRevocation(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	if n := c.liveIdentities(); n != 2 {
		t.Fatalf("%d identities after apply, want 2", n)
	}
	c.emptySpecs()

	stdout, _ := c.must(0, "plan")
	for _, want := range []string{
		"guard:      MASS REVOCATION: 2 of 2 live handoffs (100%)",
		"!!! Mass revocation: 2 of the 2 live handoffs (100%) would be revoked before",
		"-allow-mass-revocation",
		"Plan: 0 to create, 0 to refresh, 0 to replace, 2 to revoke.",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _ = c.must(0, "plan", "-json")
	var doc struct {
		Guard struct {
			Live, Revocations int
			Tripped           bool
			Exceeded          []string
		} `json:"revocation_guard"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || !doc.Guard.Tripped || doc.Guard.Live != 2 || doc.Guard.Revocations != 2 ||
		strings.Join(doc.Guard.Exceeded, ",") != "max_revocation_share" {
		t.Errorf("plan -json: %+v, %v", doc.Guard, err)
	}

	before := c.writes()
	code, stdout, stderr := c.run("apply", "-auto-approve")
	if code != exitMassRevocation || !strings.Contains(stderr, "refused by the mass-revocation guard: 2 of the 2 live handoffs") ||
		!strings.Contains(stderr, "Nothing was changed") || !strings.Contains(stdout, "!!! Mass revocation") {
		t.Fatalf("apply: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitMassRevocation, stdout, stderr)
	}
	if w := c.writes() - before; w != 0 || c.liveIdentities() != 2 {
		t.Fatalf("the refused apply made %d writes; %d identities left, want 2", w, c.liveIdentities())
	}

	// A saved plan: refused without the flag, whatever it was made with;
	// applied with it.
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	c.must(0, "plan", "-out", planFile)
	if _, stderr := c.must(exitMassRevocation, "apply", planFile); !strings.Contains(stderr, "'handoff apply -allow-mass-revocation "+planFile+"'") {
		t.Errorf("apply FILE: %s", stderr)
	}
	stdout, stderr = c.must(0, "apply", "-allow-mass-revocation", planFile)
	if !strings.Contains(stdout, "Apply complete: 2 revoked") || !strings.Contains(stderr, "warning: handoff apply: 2 of the 2 live handoffs") {
		t.Errorf("apply -allow-mass-revocation FILE:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if n := c.liveIdentities(); n != 0 {
		t.Errorf("%d identities after the allowed mass revocation, want 0", n)
	}
}

// TestRevocationGuardLimits: a single deletion passes the default limits;
// the limits of handoff.hcl when the plan is applied hold even for a plan
// saved under looser ones; expiries never count; the kill switch is never
// held back.
func TestRevocationGuardLimits(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")

	// One spec of two deleted: one revocation is never a mass revocation
	// under the default policy. Saved, then the policy tightens.
	if err := os.Remove(filepath.Join(c.dir, "specs", stripeSlug+".hcl")); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	stdout, _ := c.must(0, "plan", "-out", planFile)
	if !strings.Contains(stdout, "guard:      1 of 2 live handoffs (50%) revoked before their TTL ends") || strings.Contains(stdout, "!!!") {
		t.Errorf("plan of one deletion:\n%s", stdout)
	}
	c.setPolicy("max_revocations = 0")
	if _, stderr := c.must(exitMassRevocation, "apply", planFile); !strings.Contains(stderr, "at most 0 and 50%") {
		t.Errorf("a saved plan under a policy tightened since: %s", stderr)
	}

	// The kill switch is never guarded, whatever the policy.
	c.must(0, "revoke", "-reason", "drill", stripeSlug)

	// Past the TTL, the other handoff's spec gone too: an expiry does not
	// count, even under max_revocations = 0.
	c.emptySpecs()
	c.s.Kit.Clock.Advance(25 * time.Hour)
	stdout, stderr := c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "Apply complete: 1 revoked") || strings.Contains(stdout, "MASS REVOCATION") || strings.Contains(stderr, "mass-revocation") {
		t.Errorf("apply of an expired handoff:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if n := c.liveIdentities(); n != 0 {
		t.Errorf("%d identities left, want 0", n)
	}
}
