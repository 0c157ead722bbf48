package main

import (
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/session/sessiontest"
)

// TestDotenvNeverSetsACredentialToAReference (issue 12, item 19): without
// -reveal, sourcing `env -format dotenv` sets no credential's variable (a
// tool would take the reference for the token); the references are named
// in comments; with -reveal the values are set.
func TestDotenvNeverSetsACredentialToAReference(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	stdout, _ := c.must(0, "env", "-format", "dotenv", iapSlug)
	vars := sessiontest.Sourced(t, stdout)
	for _, name := range []string{"GH_TOKEN", "GH_HANDOFF_TOKEN", "INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET", "APPLE_IAP_KEY", "APPLE_IAP_KEY_ID", "APPLE_IAP_CONFIG"} {
		if v, ok := vars[name]; ok {
			t.Errorf("sourcing the dotenv sets %s=%q", name, v)
		}
	}
	for _, v := range vars {
		if strings.Contains(v, "infisical://") {
			t.Errorf("a variable holds a vault reference: %q", v)
		}
	}
	for name, want := range map[string]string{
		"HANDOFF_TASK_SLUG": iapSlug, "INFISICAL_SECRET_PATH": "/MooseQuest/handoffs/" + iapSlug, "INFISICAL_ENVIRONMENT": "staging",
		"HANDOFF_MCP_TOOLS": "github_pr_create,github_pr_comment,infisical_get_secret",
	} {
		if vars[name] != want {
			t.Errorf("%s = %q, want %q", name, vars[name], want)
		}
	}
	ref := "infisical://proj-moosequest/staging/MooseQuest/handoffs/" + iapSlug + "/GH_HANDOFF_TOKEN"
	if !strings.Contains(stdout, "#   GH_TOKEN ") || !strings.Contains(stdout, `"`+ref+`"`) || !strings.Contains(stdout, "-reveal "+iapSlug) {
		t.Errorf("the dotenv does not name GH_TOKEN's reference in a comment:\n%s", stdout)
	}

	// With -reveal, the values (the one output allowed to hold them).
	code, revealed, stderr := c.run("env", "-format", "dotenv", "-reveal", iapSlug)
	c.outputs = c.outputs[:len(c.outputs)-2]
	if code != 0 {
		t.Fatalf("env -reveal: %s", stderr)
	}
	token, _ := c.s.Infisical.Secret("staging", "/MooseQuest/handoffs/"+iapSlug, "GH_HANDOFF_TOKEN")
	if got := sessiontest.Sourced(t, revealed)["GH_TOKEN"]; got != token.Value || strings.Contains(revealed, "infisical://") {
		t.Errorf("env -reveal does not set GH_TOKEN to the token")
	}
}
