package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unwrap joins the wrapped comment lines of a text plan, so that a test
// finds a phrase whatever the width.
func unwrap(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n  #", " ")), " ")
}

// TestRevokedHandoffsDoNotLookHealthy (issue 12, item 8): after `handoff
// revoke`, and after a spec revoked by its deletion is added again, the
// text plan and the pull request comment say who revoked the handoff,
// when, why and how to proceed; neither says that the live credentials
// match the specs.
func TestRevokedHandoffsDoNotLookHealthy(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	c.must(0, "revoke", "-by", "alice", "-reason", "token pasted in a log", iapSlug)

	stdout, _ := c.must(0, "plan")
	text := unwrap(stdout)
	for _, want := range []string{
		`handoff "` + iapSlug + `": tombstoned by alice at`, "token pasted in a log",
		"'handoff untombstone " + iapSlug + "', or give the task a new slug",
		"No changes. 1 handoff is held back and not minted: see above.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan after revoke lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "Live credentials match the specs") {
		t.Errorf("plan after revoke calls the live credentials up to date:\n%s", stdout)
	}

	// The pull request comment says it too.
	c.env["GITHUB_REPOSITORY"] = "raxx-app/TradeMasterAPI"
	c.must(0, "plan", "-pr-comment", "-pr", "42")
	var body string
	for _, cm := range c.s.GitHub.Comments("raxx-app", "TradeMasterAPI", 42) {
		if strings.Contains(cm.Body, "<!-- handoff-plan -->") {
			body = cm.Body
		}
	}
	for _, want := range []string{"held back", "tombstoned by alice at", "token pasted in a log", "`handoff untombstone " + iapSlug + "`"} {
		if !strings.Contains(body, want) {
			t.Errorf("the plan comment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Live credentials match the specs") {
		t.Errorf("the plan comment calls the live credentials up to date:\n%s", body)
	}

	// -json carries the same, structured.
	stdout, _ = c.must(0, "plan", "-json")
	var doc struct {
		Handoffs []struct {
			Slug        string
			Description string
			Held        *struct {
				Kind, By, Reason string
				Untombstone      bool
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, h := range doc.Handoffs {
		switch h.Slug {
		case iapSlug:
			if h.Held == nil || h.Held.Kind != "tombstone" || h.Held.By != "alice" || !h.Held.Untombstone || h.Description == "" {
				t.Errorf("plan -json of %s: held %+v, description %q", h.Slug, h.Held, h.Description)
			}
		default:
			if h.Held != nil {
				t.Errorf("plan -json holds %s back: %+v", h.Slug, h.Held)
			}
		}
	}

	// A spec deleted (its merge revokes the handoff), then added again.
	spec := filepath.Join(c.dir, "specs", stripeSlug+".hcl")
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(spec); err != nil {
		t.Fatal(err)
	}
	c.must(0, "apply", "-auto-approve")
	if err := os.WriteFile(spec, b, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _ = c.must(0, "plan")
	text = unwrap(stdout)
	for _, want := range []string{
		`handoff "` + stripeSlug + `": revoked at`, "when its spec was deleted",
		"a revoked slug is never minted again", "give the task a new slug",
		"No changes. 2 handoffs are held back",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan after re-adding a deleted spec lacks %q:\n%s", want, stdout)
		}
	}
}
