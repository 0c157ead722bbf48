package workspace

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// repoWith copies the repository's handoff.hcl and specs into a temporary
// directory and adds files (path relative to it → content).
func repoWith(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("../../handoff.hcl", filepath.Join(dir, "handoff.hcl"))
	entries, err := os.ReadDir("../../specs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(filepath.Join("../../specs", e.Name()), filepath.Join(dir, "specs", e.Name()))
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadForSlugs(t *testing.T) {
	const (
		iap    = "iap-notif-handler-20260621"
		stripe = "founders-checkout-20260621"
	)
	badTTL := func(slug string) string { return "handoff \"" + slug + "\" {\n  ttl = \"48h\"\n}\n" }
	tests := []struct {
		name    string
		files   map[string]string
		slugs   []string
		wantErr string   // "" loads
		warn    []string // files named in a "left out" warning
		kept    []string // slugs of the workspace
	}{
		// No other spec is read: its errors, its size or its hostility
		// (nesting that would take HCL seconds to parse) cost nothing.
		{"all valid", nil, []string{iap}, "", nil, []string{iap}},
		{"another spec invalid", map[string]string{"specs/broken-task-20260621.hcl": badTTL("broken-task-20260621")},
			[]string{iap}, "", nil, []string{iap}},
		{"another spec does not parse", map[string]string{"specs/broken-task-20260621.hcl": "handoff {"},
			[]string{iap}, "", nil, []string{iap}},
		{"another spec binary", map[string]string{"specs/broken-task-20260621.hcl": "\x00\x01"},
			[]string{iap}, "", nil, []string{iap}},
		{"two slugs", nil, []string{iap, stripe}, "", nil, []string{stripe, iap}},
		{"no slug", nil, nil, "", nil, nil},
		{"its own spec invalid", map[string]string{"specs/" + iap + ".hcl": badTTL(iap)}, []string{iap}, "Missing required argument", nil, nil},
		{"its own spec does not parse", map[string]string{"specs/" + iap + ".hcl": "handoff {"}, []string{iap}, iap + ".hcl", nil, nil},
		{"a second file named for its slug", map[string]string{"specs/" + iap + ".hcl.json": `{"handoff": {"` + iap + `": {}}}`},
			[]string{iap}, iap + ".hcl.json", nil, nil},
		// A file named otherwise cannot hold its spec (policy: the file
		// is named for the slug), so it is not read.
		{"its slug declared in a file named otherwise", map[string]string{"specs/other-20260621.hcl": mustRead(t, "../../specs/"+iap+".hcl")},
			[]string{iap}, "", nil, []string{iap}},
		{"one of two slugs invalid", map[string]string{"specs/" + stripe + ".hcl": badTTL(stripe)}, []string{iap, stripe}, "Missing required argument", nil, nil},
		{"handoff.hcl invalid", map[string]string{"handoff.hcl": mustRead(t, "../../handoff.hcl") + "\nbogus {}\n"}, []string{iap}, "bogus", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := repoWith(t, tt.files)
			ws, diags := LoadForSlugs(context.Background(), dir, func(string) string { return "" }, tt.slugs)
			if tt.wantErr != "" {
				if ws != nil || !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Fatalf("want an error saying %q, got %v", tt.wantErr, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var warned []string
			for _, d := range diags {
				if d.Severity == hcl.DiagWarning && d.Summary == "Spec with errors left out" {
					warned = append(warned, filepath.Base(d.Subject.Filename))
				} else {
					t.Errorf("a diagnostic of another spec was kept: %s", d.Error())
				}
			}
			if strings.Join(warned, ",") != strings.Join(tt.warn, ",") {
				t.Errorf("warned about %v, want %v", warned, tt.warn)
			}
			var kept []string
			for _, h := range ws.Repo.Handoffs {
				kept = append(kept, h.Slug.Value)
			}
			if strings.Join(kept, ",") != strings.Join(tt.kept, ",") {
				t.Errorf("kept %v, want %v", kept, tt.kept)
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
