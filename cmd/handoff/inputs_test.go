//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/spec"
)

// leakedSecret stands for a provisioner credential: in the process
// environment (what /proc/self/environ shows) and in a token file outside
// the repository.
const leakedSecret = "infisical-client-secret-0123456789abcdef"

// okRepo copies testdata/repos/ok to a temporary directory.
func okRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, "testdata/repos/ok", dir)
	return dir
}

// TestNothingOutsideTheRepositoryIsPrinted: a spec or handoff.hcl linked to
// the process environment or to a token file is refused, and no command
// that reads specs prints a byte of what the link points to.
func TestNothingOutsideTheRepositoryIsPrinted(t *testing.T) {
	t.Setenv("INFISICAL_CLIENT_SECRET", leakedSecret)
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte(leakedSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	links := []struct {
		name string
		link map[string]string // link → target
	}{
		{"specs linked to the environment and to a token", map[string]string{
			"specs/env-aaa.hcl": "/proc/self/environ",
			"specs/tok-bbb.hcl": token,
		}},
		{"handoff.hcl linked to a token", map[string]string{spec.ConfigFile: token}},
		{"handoff.hcl linked to the environment", map[string]string{spec.ConfigFile: "/proc/self/environ"}},
	}
	for _, l := range links {
		t.Run(l.name, func(t *testing.T) {
			dir := okRepo(t)
			for name, target := range l.link {
				p := filepath.Join(dir, name)
				os.Remove(p)
				if err := os.Symlink(target, p); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{"INFISICAL_CLIENT_SECRET": leakedSecret}
			runs := [][]string{
				{"validate", dir},
				{"validate", "-json", dir},
				{"validate", filepath.Join(dir, "specs")},
				{"fmt", "-check", "-diff", dir},
				{"fmt", dir},
				{"plan", dir},
				{"gate", "-C", dir, "some-task-20260621"},
				{"env", "-C", dir, "some-task-20260621"},
			}
			for name := range l.link {
				runs = append(runs, []string{"fmt", "-check", "-diff", filepath.Join(dir, name)}, []string{"fmt", filepath.Join(dir, name)})
				if strings.HasPrefix(name, "specs/") {
					runs = append(runs, []string{"fmt", "-check", "-diff", filepath.Join(dir, "specs")})
				}
			}
			for _, args := range runs {
				for _, ghEnv := range []map[string]string{env, {"GITHUB_ACTIONS": "true"}} {
					code, stdout, stderr := runCLI(t, ghEnv, args...)
					if code != 1 {
						t.Errorf("handoff %s: exit %d, want 1\n%s", strings.Join(args, " "), code, stderr)
					}
					for _, out := range []string{stdout, stderr} {
						// The output itself is not shown: it would put the
						// secret in the test log.
						if strings.Contains(out, leakedSecret) || strings.Contains(out, "INFISICAL_CLIENT_SECRET=") {
							t.Errorf("handoff %s printed what a link points to (%d bytes of output)", strings.Join(args, " "), len(out))
						}
					}
					if !strings.Contains(stdout+stderr, "Symbolic link refused") && !strings.Contains(stdout+stderr, "symbolic link") {
						t.Errorf("handoff %s does not say why:\n%s%s", strings.Join(args, " "), stdout, stderr)
					}
				}
			}
			// fmt wrote nothing through a link, and left the links alone.
			if b, _ := os.ReadFile(token); string(b) != leakedSecret+"\n" {
				t.Errorf("the token file changed: %q", b)
			}
			for name := range l.link {
				if st, err := os.Lstat(filepath.Join(dir, name)); err != nil || st.Mode()&os.ModeSymlink == 0 {
					t.Errorf("%s is no longer the link: %v", name, err)
				}
			}
		})
	}
}

// TestNoSpecIsSilentlyIgnored: a spec moved into a sub-directory, hidden
// or with an upper-case extension fails validate (plan would revoke it);
// anything else in specs/ is named in a warning; .gitkeep and a README
// are quiet.
func TestNoSpecIsSilentlyIgnored(t *testing.T) {
	dir := okRepo(t)
	entries, err := os.ReadDir(filepath.Join(dir, "specs"))
	if err != nil || len(entries) == 0 {
		t.Fatal(entries, err)
	}
	spec0 := entries[0].Name()
	data, err := os.ReadFile(filepath.Join(dir, "specs", spec0))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"specs/sub/" + spec0:              string(data),
		"specs/." + spec0:                 string(data),
		"specs/" + strings.ToUpper(spec0): string(data),
		"specs/notes.txt":                 "x",
		"specs/.gitkeep":                  "",
		"specs/README.md":                 "x",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := runCLI(t, nil, "validate", dir)
	want := []string{
		"specs/sub/" + spec0 + ":1:1: error: Spec in a sub-directory not loaded",
		"specs/." + spec0 + ":1:1: error: Hidden spec file not loaded",
		"specs/" + strings.ToUpper(spec0) + ":1:1: error: Spec file name not in lower case",
		"specs/notes.txt:1:1: warning: File ignored",
		"3 errors, 1 warning",
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("validate does not say %q", w)
		}
	}
	if code != 1 || strings.Contains(stderr, ".gitkeep") || strings.Contains(stderr, "README") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
}

// TestSpecialFilesDoNotBlock: a FIFO named like a spec is refused by
// validate and fmt without waiting for a writer (a hang here is the bug).
func TestSpecialFilesDoNotBlock(t *testing.T) {
	dir := okRepo(t)
	if err := syscall.Mkfifo(filepath.Join(dir, "specs", "pipe-task.hcl"), 0o644); err != nil {
		t.Skip(err)
	}
	for _, args := range [][]string{
		{"validate", dir},
		{"fmt", "-check", dir},
		{"fmt", "-check", filepath.Join(dir, "specs", "pipe-task.hcl")},
	} {
		code, _, stderr := runCLI(t, nil, args...)
		if code != 1 || !strings.Contains(stderr, "pipe-task.hcl:1:1: error: Not a regular file") {
			t.Errorf("handoff %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestValidateMissingSpecs: without specs/, validate fails (and plan would
// have revoked everything); an empty specs/ is a valid repository.
func TestValidateMissingSpecs(t *testing.T) {
	dir := okRepo(t)
	if err := os.RemoveAll(filepath.Join(dir, "specs")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, nil, "validate", dir)
	if code != 1 || !strings.Contains(stderr, "error: Missing specs/ directory") {
		t.Errorf("validate without specs/: exit %d\n%s", code, stderr)
	}
	if err := os.Mkdir(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, nil, "validate", dir)
	if code != 0 || !strings.Contains(stderr, "handoff validate: 0 handoffs valid") {
		t.Errorf("validate with an empty specs/: exit %d\n%s", code, stderr)
	}
}

// TestValidateOutputIsBounded: a random binary saved as a spec is one
// diagnostic; a file of thousands of errors shows diag.MaxPerFile of them
// and counts the rest, in text, JSON and GitHub annotations.
func TestValidateOutputIsBounded(t *testing.T) {
	dir := okRepo(t)
	bin := make([]byte, 4096)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(bin)
	if err := os.WriteFile(filepath.Join(dir, "specs", "x.hcl"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, nil, "validate", dir)
	if code != 1 || strings.Count(stderr, ": error: ") != 1 || len(stderr) > 1000 {
		t.Errorf("validate of a binary spec: exit %d, %d bytes of stderr:\n%s", code, len(stderr), stderr)
	}

	if err := os.WriteFile(filepath.Join(dir, "specs", "x.hcl"), []byte(strings.Repeat("a b c\n", 3000)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, map[string]string{"GITHUB_ACTIONS": "true"}, "validate", dir)
	if code != 1 || strings.Count(stderr, "::error ") != diag.MaxPerFile+1 ||
		!strings.Contains(stderr, "error: and 2990 more errors in this file\n") || !strings.Contains(stderr, "handoff validate: 3000 errors") {
		t.Errorf("validate of a file of errors: exit %d, %d bytes:\n%s", code, len(stderr), stderr)
	}
	code, stdout, _ := runCLI(t, nil, "validate", "-json", dir)
	var doc diag.Document
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 1 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if doc.ErrorCount != 3000 || len(doc.Diagnostics) != diag.MaxPerFile+1 {
		t.Errorf("JSON: %d errors in %d entries", doc.ErrorCount, len(doc.Diagnostics))
	}
	code, _, stderr = runCLI(t, nil, "fmt", "-check", dir)
	if code != 1 || strings.Count(stderr, ": error: ") != diag.MaxPerFile+1 || !strings.Contains(stderr, "3000 syntax errors") {
		t.Errorf("fmt of a file of errors: exit %d\n%s", code, stderr)
	}
}
