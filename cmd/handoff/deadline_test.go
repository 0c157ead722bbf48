package main

import (
	"strings"
	"testing"
)

// TestApplyDeadline (issue 13): apply -deadline stops starting handoffs
// once it has passed; those it did not start are named, the exit says the
// run is incomplete, and the next apply does them.
func TestApplyDeadline(t *testing.T) {
	c := newGitOps(t)
	if _, stderr := c.must(1, "apply", "-auto-approve", "-deadline", "-1s"); !strings.Contains(stderr, "want a positive duration") {
		t.Errorf("a negative deadline: %s", stderr)
	}
	_, stderr := c.must(1, "apply", "-auto-approve", "-deadline", "1ns")
	for _, slug := range []string{iapSlug, "founders-checkout-20260621"} {
		if !strings.Contains(stderr, slug) || !strings.Contains(stderr, "deadline passed") {
			t.Errorf("stderr does not say %s was left for the next apply:\n%s", slug, stderr)
		}
	}
	for _, id := range c.s.Infisical.Identities() {
		if strings.Contains(id.Name, iapSlug) {
			t.Errorf("identity %s was created after the deadline", id.Name)
		}
	}
	c.must(0, "apply", "-auto-approve", "-deadline", "10m")
	stdout, _ := c.must(0, "plan")
	if !strings.Contains(stdout, "No changes") {
		t.Errorf("after the second apply:\n%s", stdout)
	}
}
