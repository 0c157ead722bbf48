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
		"Apply complete: 1 created",
		"may be dispatched",
		"denied (403, another task's secret)",
		"404 (outside the token's one repository)",
		"Apply complete: 1 refreshed",
		"Apply complete: 1 revoked",
		"refused: the handoff is revoked",
		"none found",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo output lacks %q", want)
		}
	}
	// Each apply's steps (stderr) come before its verdict (stdout), as on a
	// terminal (issue 12, item 23).
	for _, verdict := range []string{"Apply complete: 1 created", "Apply complete: 1 refreshed", "Apply complete: 1 revoked"} {
		i := strings.Index(out.String(), verdict)
		start := strings.LastIndex(out.String()[:max(i, 0)], "$ handoff apply")
		if i < 0 || start < 0 || !strings.Contains(out.String()[start:i], "step 1/") {
			t.Errorf("%q is not preceded by its apply's steps:\n%s", verdict, out.String())
		}
	}
}
