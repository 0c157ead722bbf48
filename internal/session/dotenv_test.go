package session

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sourced returns the variables a POSIX shell sets when it sources dotenv
// with set -a.
func sourced(t *testing.T, dotenv string) map[string]string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	file := filepath.Join(t.TempDir(), "session.env")
	if err := os.WriteFile(file, []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-c", `set -a; . "$1"; set +a; env -0`, "sh", file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sourcing the dotenv: %v\n%s", err, dotenv)
	}
	vars := map[string]string{}
	for _, kv := range bytes.Split(out, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			vars[k] = v
		}
	}
	return vars
}

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
	vars := sourced(t, b.String())
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
	if got := sourced(t, b.String())["GH_TOKEN"]; got != "ghs_value" || strings.Contains(b.String(), "#   GH_TOKEN") {
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
