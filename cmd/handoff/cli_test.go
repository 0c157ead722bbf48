package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/raxx-app/handoff/internal/spec"
)

// scenario is one run of the CLI whose exit code, stdout and stderr are
// pinned by testdata/golden/<name>.golden.
type scenario struct {
	name string
	args []string
	env  map[string]string
}

var scenarios = []scenario{
	{name: "help", args: []string{"-help"}},
	{name: "no-args", args: nil},
	{name: "version", args: []string{"-version"}},
	{name: "unknown-command", args: []string{"frobnicate"}},

	{name: "validate-ok", args: []string{"validate", "testdata/repos/ok"}},
	{name: "validate-ok-specs-dir", args: []string{"validate", "testdata/repos/ok/specs"}},
	{name: "validate-ok-json", args: []string{"validate", "-json", "testdata/repos/ok"}},
	{name: "validate-invalid", args: []string{"validate", "testdata/repos/invalid"}},
	{name: "validate-invalid-no-color", args: []string{"-no-color", "validate", "testdata/repos/invalid"}, env: map[string]string{"NO_COLOR": "1"}},
	{name: "validate-invalid-json", args: []string{"validate", "-json", "testdata/repos/invalid"}},
	{name: "validate-invalid-github-actions", args: []string{"validate", "testdata/repos/invalid"}, env: map[string]string{"GITHUB_ACTIONS": "true"}},
	{name: "validate-invalid-json-github-actions", args: []string{"validate", "-json", "testdata/repos/invalid"}, env: map[string]string{"GITHUB_ACTIONS": "true"}},
	{name: "validate-missing-dir", args: []string{"validate", "testdata/repos/nothing-here"}},
	{name: "validate-too-many-args", args: []string{"validate", "a", "b"}},
	{name: "validate-bad-flag", args: []string{"validate", "-jsn"}},
	{name: "validate-flag-after-dir", args: []string{"validate", "testdata/repos/ok", "-json"}},
	{name: "validate-help", args: []string{"validate", "-help"}},

	{name: "fmt-check-clean", args: []string{"fmt", "-check", "testdata/repos/ok"}},
	{name: "fmt-check-unformatted", args: []string{"fmt", "-check", "testdata/repos/unformatted"}},
	{name: "fmt-check-diff", args: []string{"fmt", "-check", "-diff", "testdata/repos/unformatted"}},
	{name: "fmt-check-diff-no-list", args: []string{"fmt", "-check", "-diff", "-list=false", "testdata/repos/unformatted/specs/messy-task.hcl"}},
	{name: "fmt-write-false", args: []string{"fmt", "-write=false", "testdata/repos/unformatted"}},
	{name: "fmt-syntax-error", args: []string{"fmt", "-check", "testdata/repos/syntax"}},
	{name: "fmt-json-file", args: []string{"fmt", "testdata/repos/unformatted/specs/json-task.hcl.json"}},
	{name: "fmt-missing-file", args: []string{"fmt", "testdata/repos/nothing-here.hcl"}},
	{name: "fmt-help", args: []string{"fmt", "-help"}},
	{name: "fmt-flag-after-dir", args: []string{"fmt", "testdata/repos/ok", "-check"}},

	{name: "plan-help", args: []string{"plan", "-help"}},
	{name: "env-help", args: []string{"env", "-help"}},
	{name: "apply-help", args: []string{"apply", "-help"}},
	{name: "revoke-help", args: []string{"revoke", "-help"}},
	{name: "show-help", args: []string{"show", "-help"}},
	{name: "gate-help", args: []string{"gate", "-help"}},
	{name: "verify-help", args: []string{"verify", "-help"}},
	{name: "audit-help", args: []string{"audit", "-help"}},
	{name: "untombstone-help", args: []string{"untombstone", "-help"}},
	{name: "pats-help", args: []string{"pats", "-help"}},
	{name: "rotation-help", args: []string{"rotation", "-help"}},
	{name: "dev-help", args: []string{"dev", "-help"}},
	{name: "help-help", args: []string{"help", "help"}},
	{name: "help-unknown", args: []string{"help", "frobnicate"}},
	{name: "chdir-validate", args: []string{"-chdir=testdata/repos/ok", "validate"}},
	{name: "chdir-missing", args: []string{"-chdir=testdata/nowhere", "plan"}},
	{name: "validate-no-color-after-command", args: []string{"validate", "-no-color", "testdata/repos/invalid"}},
	{name: "gate-no-slug", args: []string{"gate"}},
	{name: "env-bad-format", args: []string{"env", "-format", "yaml", "some-slug"}},
	{name: "apply-two-args", args: []string{"apply", "a", "b"}},
}

func TestScenarios(t *testing.T) {
	version, commit = "v1.2.3", "abc1234"
	t.Cleanup(func() { version, commit = "", "" })
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, sc.env, sc.args...)
			var got bytes.Buffer
			fmt.Fprintf(&got, "$ handoff %s\n", strings.Join(sc.args, " "))
			for _, k := range sortedKeys(sc.env) {
				fmt.Fprintf(&got, "env %s=%s\n", k, sc.env[k])
			}
			fmt.Fprintf(&got, "exit %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout, stderr)
			path := filepath.Join("testdata", "golden", sc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("output differs from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got.Bytes(), want)
			}
		})
	}
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func TestExitCodesOfTheContract(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"validate", "../.."}, 0},
		{[]string{"validate", "../../specs"}, 0},
		{[]string{"validate", "testdata/repos/invalid"}, 1},
		{[]string{"fmt", "-check", "../../handoff.hcl", "../../specs"}, 0},
		{[]string{"fmt", "-check", "testdata/repos/unformatted"}, 3},
		{[]string{"fmt", "-check", "testdata/repos/syntax"}, 1},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, nil, tt.args...)
		if code != tt.want {
			t.Errorf("handoff %s: exit %d, want %d\n%s", strings.Join(tt.args, " "), code, tt.want, stderr)
		}
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFmtWritesInPlace(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/repos/unformatted", dir)
	messy := filepath.Join(dir, "specs", "messy-task.hcl")
	if err := os.Chmod(messy, 0o640); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(messy)
	jsonBefore, _ := os.ReadFile(filepath.Join(dir, "specs", "json-task.hcl.json"))

	code, stdout, stderr := runCLI(t, nil, "fmt", dir)
	if code != 0 {
		t.Fatalf("fmt: exit %d\n%s", code, stderr)
	}
	want := filepath.Join(dir, "handoff.hcl") + "\n" + messy + "\n"
	if stdout != want {
		t.Errorf("fmt listed %q, want %q", stdout, want)
	}
	after, _ := os.ReadFile(messy)
	if !bytes.Equal(after, hclwrite.Format(before)) {
		t.Errorf("file not in canonical form:\n%s", after)
	}
	if st, _ := os.Stat(messy); st.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", st.Mode().Perm())
	}
	if jsonAfter, _ := os.ReadFile(filepath.Join(dir, "specs", "json-task.hcl.json")); !bytes.Equal(jsonAfter, jsonBefore) {
		t.Error("fmt changed an HCL JSON file")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "specs")); len(entries) != 3 {
		t.Errorf("fmt left %d files in specs/, want 3 (no temporary files)", len(entries))
	}
	if code, stdout, _ := runCLI(t, nil, "fmt", "-check", dir); code != 0 || stdout != "" {
		t.Errorf("fmt -check after fmt: exit %d, stdout %q", code, stdout)
	}
	// Formatting never changes meaning.
	h1, d1 := spec.ParseHandoffFile(messy, before)
	h2, d2 := spec.ParseHandoffFile(messy, after)
	if d1.HasErrors() || d2.HasErrors() || h1.Digest() != h2.Digest() {
		t.Errorf("digest changed by fmt: %v %v", d1, d2)
	}
}

func TestFmtCheckWritesNothing(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/repos/unformatted", dir)
	before, _ := os.ReadFile(filepath.Join(dir, "specs", "messy-task.hcl"))
	for _, args := range [][]string{{"fmt", "-check", dir}, {"fmt", "-check", "-write=true", dir}, {"fmt", "-write=false", "-diff", dir}} {
		runCLI(t, nil, args...)
		if after, _ := os.ReadFile(filepath.Join(dir, "specs", "messy-task.hcl")); !bytes.Equal(before, after) {
			t.Fatalf("handoff %s wrote a file", strings.Join(args, " "))
		}
	}
}

func TestBuildVersionFallback(t *testing.T) {
	version, commit = "", ""
	v, rev := buildVersion()
	if v == "" || rev == "" {
		t.Errorf("buildVersion() = %q, %q; want non-empty fallbacks", v, rev)
	}
	version, commit = "v9", "deadbeef"
	t.Cleanup(func() { version, commit = "", "" })
	if v, rev := buildVersion(); v != "v9" || rev != "deadbeef" {
		t.Errorf("buildVersion() = %q, %q; want the ldflags values", v, rev)
	}
}

func TestColorIsOffUnlessATerminal(t *testing.T) {
	// Buffers are never terminals; NO_COLOR, TERM=dumb and -no-color turn
	// color off even on one. Only the first case can be checked without a
	// TTY, so this pins that tests and pipes never get escape codes.
	for _, environ := range []map[string]string{nil, {"NO_COLOR": "1"}, {"TERM": "dumb"}} {
		_, _, stderr := runCLI(t, environ, "validate", "testdata/repos/invalid")
		if strings.Contains(stderr, "\x1b[") {
			t.Errorf("env %v: escape codes in stderr", environ)
		}
	}
}
