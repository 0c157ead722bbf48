// Package sessiontest holds test helpers for session contexts: what a
// shell makes of a dotenv file.
package sessiontest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Sourced returns the variables a POSIX shell sets when it sources dotenv
// with set -a, as an orchestrator would. It skips the test when there is
// no sh.
func Sourced(t testing.TB, dotenv string) map[string]string {
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
