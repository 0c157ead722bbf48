package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo keeps `make demo` true: the whole story runs with the binary
// built from this tree, every stage passes, and no secret is printed.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the whole demo")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	bin := filepath.Join(t.TempDir(), "handoff")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/handoff").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out bytes.Buffer
	if err := run(context.Background(), bin, "../../examples/gitops", false, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"<!-- handoff-plan -->",
		"Apply complete: 2 created",
		"may be dispatched",
		"denied (403, another task's secret)",
		"404 (outside the token's one repository)",
		// The release handoff: an STS session, a Heroku token and a
		// Cloudflare token, each granted and refused one step beyond.
		"ssm GetParameter /raxx/moosequest-queue/config/REGION: us-east-1",
		"AccessDeniedException (the role may, the session policy does not)",
		"config-vars: 200",
		"config-vars: 403 (read-protected: it sets nothing)",
		"(TXT _release): 200",
		"403 (outside the token's one zone)",
		"Apply complete: 2 refreshed",
		// revoke -surface cloudflare: its token dies, the rest lives.
		"Revoked surface cloudflare of " + release,
		"(the token is deleted)",
		"still read (only cloudflare was killed)",
		"was killed by an operator; the task runs without it",
		release + ": verified (active)",
		"Apply complete: 2 revoked",
		"refused: the handoff is revoked",
		"AccessDeniedException (the role's deny names the handoff)",
		"401 (the authorization is deleted)",
		"none found",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo output lacks %q", want)
		}
	}
	// Each apply's steps (stderr) come before its verdict (stdout), as on a
	// terminal (issue 12, item 23).
	for _, verdict := range []string{"Apply complete: 2 created", "Apply complete: 2 refreshed", "Apply complete: 2 revoked"} {
		i := strings.Index(out.String(), verdict)
		start := strings.LastIndex(out.String()[:max(i, 0)], "$ handoff apply")
		if i < 0 || start < 0 || !strings.Contains(out.String()[start:i], "step 1/") {
			t.Errorf("%q is not preceded by its apply's steps:\n%s", verdict, out.String())
		}
	}
}
