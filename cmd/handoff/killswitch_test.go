package main

import (
	"strings"
	"testing"
)

// TestRevokeDoesNotWaitForTheLock (issue 12, item 3): with the lease of an
// apply that was killed -9 still valid (it never moves on the dev clock),
// `handoff revoke` closes the gate and revokes everything at once: it
// neither waits nor reads the lock, and the lock it did not take is still
// there afterwards. (-lock-timeout is accepted and ignored.)
func TestRevokeDoesNotWaitForTheLock(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	release := c.holdLock()
	before := c.s.Kit.Stats.Total()
	stdout, stderr := c.must(0, "revoke", "-reason", "incident", "-lock-timeout", "1s", iapSlug)
	requests := c.s.Kit.Stats.Total() - before
	if !strings.Contains(stdout, "Revoked every surface of "+iapSlug) || strings.Contains(stderr, "lock:") {
		t.Errorf("revoke beside a held lock:\n%s\n%s", stdout, stderr)
	}
	if requests > 40 {
		t.Errorf("the kill sent %d requests", requests)
	}
	if _, ok := c.s.Infisical.Secret("staging", "/MooseQuest/handoffs", "PROVISION_LOCK"); !ok {
		t.Error("the kill touched the lock it does not take")
	}
	_, stderr = c.must(1, "gate", iapSlug)
	if !strings.Contains(stderr, "revoked (manual)") {
		t.Errorf("gate after the kill: %s", stderr)
	}
	if live := c.s.GitHub.LiveTokens(); len(live) != 0 {
		t.Errorf("%d GitHub tokens live after the kill", len(live))
	}
	for _, id := range c.s.Infisical.Identities() {
		if strings.Contains(id.Name, iapSlug) {
			t.Errorf("identity %s lives after the kill", id.Name)
		}
	}
	release()
	stdout, _ = c.must(0, "apply", "-auto-approve")
	if !strings.Contains(stdout, "No changes.") {
		t.Errorf("apply after the kill:\n%s", stdout)
	}
}
