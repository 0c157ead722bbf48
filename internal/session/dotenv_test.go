package session

import (
	"bytes"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/session/sessiontest"
)

// TestDotenvNamesCredentialsInComments (issue 12, item 19): before Reveal,
// a credential's variable is not set (its reference is in a comment);
// after, it is. Nothing from the vault adds a line.
func TestDotenvNamesCredentialsInComments(t *testing.T) {
	c := &Context{Slug: "a-task-20260621", Env: Vars{
		{Name: "PLAIN", Value: "a\"b$c`d\\e\nEVIL=1"},
		{Name: "GH_TOKEN", Value: "infisical://p/e/f/GH_HANDOFF_TOKEN\nEVIL=2", secret: "GH_HANDOFF_TOKEN"},
	}}
	var b bytes.Buffer
	if err := c.WriteDotenv(&b); err != nil {
		t.Fatal(err)
	}
	vars := sessiontest.Sourced(t, b.String())
	if _, ok := vars["EVIL"]; ok {
		t.Errorf("a value added a variable:\n%s", b.String())
	}
	if v, ok := vars["GH_TOKEN"]; ok {
		t.Errorf("an unrevealed credential is set: GH_TOKEN=%q", v)
	}
	if !strings.Contains(b.String(), "#   GH_TOKEN  \"infisical://p/e/f/GH_HANDOFF_TOKEN\\nEVIL=2\"\n") {
		t.Errorf("the reference is not named in a comment:\n%s", b.String())
	}
	if vars["PLAIN"] != "a\"b$c`d\\e\\nEVIL=1" || vars["HANDOFF_MCP_TOOLS"] != "" {
		t.Errorf("PLAIN = %q", vars["PLAIN"])
	}

	c.Revealed = true
	c.Env[1].Value = "ghs_value"
	b.Reset()
	if err := c.WriteDotenv(&b); err != nil {
		t.Fatal(err)
	}
	if got := sessiontest.Sourced(t, b.String())["GH_TOKEN"]; got != "ghs_value" || strings.Contains(b.String(), "#   GH_TOKEN") {
		t.Errorf("a revealed credential: GH_TOKEN=%q\n%s", got, b.String())
	}

	for _, bad := range []*Context{
		{Slug: "a-task-20260621", Env: Vars{{Name: "BAD\nEVIL", Value: "x"}}},
		{Slug: "a-task-20260621", Env: Vars{{Name: "1BAD", Value: "x"}}},
		{Slug: "a\nEVIL=3"},
	} {
		if err := bad.WriteDotenv(&b); err == nil {
			t.Errorf("printed %q / %v", bad.Slug, bad.Env)
		}
	}
}
