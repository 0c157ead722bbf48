package spec_test

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/raxx-app/handoff/internal/spec"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/diag"
)

// secretValue stands for a credential outside the repository: in a file a
// link points at, and in the process environment (/proc/self/environ).
const secretValue = "sk_live_51Hx9SECRETvalue0123456789"

const validSpec = "handoff \"a-task\" {\n  card = 1\n  ttl = \"1h\"\n  approved_by = \"ops\"\n}\n"

// newRepo writes handoff.hcl, an empty specs/ and files, and returns the
// directory.
func newRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, spec.SpecsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{spec.ConfigFile: string(mustRead(t, "testdata/equiv/handoff.hcl"))})
	writeFiles(t, dir, files)
	return dir
}

// diagAt is a diagnostic in short: the file relative to the repository,
// the severity and the summary.
type diagAt struct{ file, sev, summary string }

func short(dir string, diags hcl.Diagnostics) []diagAt {
	var out []diagAt
	for _, d := range diag.Sort(diags) {
		name := ""
		if d.Subject != nil {
			name, _ = filepath.Rel(dir, d.Subject.Filename)
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		out = append(out, diagAt{filepath.ToSlash(name), sev, d.Summary})
	}
	return out
}

// assertQuiet fails when any diagnostic, or any kept source, holds the
// secret value.
func assertQuiet(t *testing.T, repo *spec.Repo, diags hcl.Diagnostics) {
	t.Helper()
	for _, d := range diags {
		if strings.Contains(d.Summary+d.Detail, secretValue) || strings.Contains(d.Summary+d.Detail, "SECRET") {
			t.Errorf("diagnostic %q quotes the secret (not shown here)", d.Summary)
		}
	}
	for name, src := range repo.Sources {
		if bytes.Contains(src, []byte(secretValue)) {
			t.Errorf("source of %s holds the secret", name)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := newRepo(t, map[string]string{
		"specs/b-task.hcl":        "handoff \"b-task\" {\n  card = 2\n  ttl = \"1h\"\n  approved_by = \"ops\"\n}\n",
		"specs/a-task.hcl.json":   `{"handoff": {"a-task": {"card": 1, "ttl": "1h", "approved_by": "ops"}}}`,
		"specs/broken.hcl":        "handoff \"broken\" {\n",
		"specs/README.md":         "what this directory is for",
		"specs/.hidden.hcl":       "not read",
		"specs/nested/c-task.hcl": "not read either",
	})
	want := []diagAt{
		{"specs/.hidden.hcl", "error", "Hidden spec file not loaded"},
		{"specs/broken.hcl", "error", "Unclosed configuration block"},
		{"specs/nested/c-task.hcl", "error", "Spec in a sub-directory not loaded"},
	}
	for _, arg := range []string{dir, filepath.Join(dir, "specs"), filepath.Join(dir, "specs") + "/"} {
		repo, diags := spec.LoadDir(arg)
		if repo.Dir != dir && repo.Dir != dir+"/" {
			t.Errorf("spec.LoadDir(%s).Dir = %s, want %s", arg, repo.Dir, dir)
		}
		var slugs []string
		for _, h := range repo.Handoffs {
			slugs = append(slugs, h.Slug.Value)
		}
		if !slices.Equal(slugs, []string{"a-task", "b-task"}) {
			t.Errorf("spec.LoadDir(%s) handoffs = %v", arg, slugs)
		}
		if got := short(dir, diags); !slices.Equal(got, want) {
			t.Errorf("spec.LoadDir(%s) diagnostics:\n got %v\nwant %v", arg, got, want)
		}
		if repo.Config == nil || repo.Config.Vault == nil || repo.Config.Vault.HandoffRoot().Value != "/MooseQuest/handoffs" {
			t.Errorf("spec.LoadDir(%s) config = %+v", arg, repo.Config)
		}
		if len(repo.Sources) != 4 {
			t.Errorf("spec.LoadDir(%s) kept %d sources, want 4", arg, len(repo.Sources))
		}
	}
}

func TestLoadDirMissingConfig(t *testing.T) {
	dir := t.TempDir()
	repo, diags := spec.LoadDir(dir)
	if repo == nil || repo.Config != nil || len(repo.Handoffs) != 0 {
		t.Fatalf("spec.LoadDir(empty) = %+v", repo)
	}
	// Not a repository at all: one error says so, not one per missing part.
	if len(diags) != 1 || diags[0].Summary != "Missing handoff.hcl" || diags[0].Subject.Start.Line != 1 {
		t.Errorf("diagnostics = %v", diags)
	}
	repo, diags = spec.LoadDir(filepath.Join(dir, "no-such-dir"))
	if len(diags) != 1 || diags[0].Summary != "Missing handoff.hcl" || repo == nil {
		t.Errorf("missing directory: %v", diags)
	}
	file := filepath.Join(dir, "a-file")
	writeFiles(t, dir, map[string]string{"a-file": "x"})
	if _, diags = spec.LoadDir(file); len(diags) != 1 || diags[0].Summary != "Not a directory" ||
		!strings.Contains(diags[0].Detail, "a regular file") {
		t.Errorf("a file for a repository: %v", diags)
	}
}

// TestLoadDirMissingSpecs: without specs/, a repository is an error (plan
// would otherwise revoke every handoff); an empty specs/ is valid.
func TestLoadDirMissingSpecs(t *testing.T) {
	dir := newRepo(t, nil)
	if _, diags := spec.LoadDir(dir); len(diags) != 0 {
		t.Errorf("empty specs/: %v", diags)
	}
	if err := os.Remove(filepath.Join(dir, spec.SpecsDir)); err != nil {
		t.Fatal(err)
	}
	_, diags := spec.LoadDir(dir)
	if got, want := short(dir, diags), []diagAt{{"specs", "error", "Missing specs/ directory"}}; !slices.Equal(got, want) {
		t.Errorf("missing specs/: got %v, want %v", got, want)
	}
}

// TestLoadDirReportsEveryEntryNotLoaded: nothing under specs/ is silently
// ignored. What looks like a spec is an error; anything else a warning
// naming it; .gitkeep, .keep and a README pass quietly.
func TestLoadDirReportsEveryEntryNotLoaded(t *testing.T) {
	dir := newRepo(t, map[string]string{
		"specs/a-task.hcl":                              validSpec,
		"specs/.x-task.hcl":                             validSpec,
		"specs/Upper-task.HCL":                          validSpec,
		"specs/mixed-task.Hcl.Json":                     "{}",
		"specs/sub/moved-task.hcl":                      validSpec,
		"specs/sub/notes.md":                            "x",
		"specs/deep/a/b/c/d-task.hcl":                   validSpec,
		"specs/docs/notes.md":                           "x",
		"specs/dir-task.hcl/x":                          "x",
		"specs/notes.txt":                               "x",
		"specs/x.json":                                  "{}",
		"specs/.DS_Store":                               "x",
		"specs/.gitkeep":                                "",
		"specs/.keep":                                   "",
		"specs/README.md":                               "x",
		"specs/README":                                  "x",
		"specs/too/deep/1/2/3/4/5/6/7/8/9/far-task.hcl": validSpec,
	})
	if err := os.Symlink("docs", filepath.Join(dir, "specs", "link-dir")); err != nil {
		t.Fatal(err)
	}
	repo, diags := spec.LoadDir(dir)
	want := []diagAt{
		{"specs/.DS_Store", "warning", "File ignored"},
		{"specs/.x-task.hcl", "error", "Hidden spec file not loaded"},
		{"specs/Upper-task.HCL", "error", "Spec file name not in lower case"},
		{"specs/deep/a/b/c/d-task.hcl", "error", "Spec in a sub-directory not loaded"},
		{"specs/dir-task.hcl", "error", "Directory named like a spec"},
		{"specs/docs", "warning", "Directory ignored"},
		{"specs/link-dir", "warning", "Entry ignored"},
		{"specs/mixed-task.Hcl.Json", "error", "Spec file name not in lower case"},
		{"specs/notes.txt", "warning", "File ignored"},
		{"specs/sub/moved-task.hcl", "error", "Spec in a sub-directory not loaded"},
		{"specs/too/deep/1/2/3/4/5/6/7", "error", "Directory too deep to search"}, // deeper than spec.MaxSpecDepth: not searched
		{"specs/x.json", "warning", "File ignored"},
	}
	if got := short(dir, diags); !slices.Equal(got, want) {
		t.Errorf("diagnostics:\n got %v\nwant %v", got, want)
	}
	if len(repo.Handoffs) != 1 {
		t.Errorf("loaded %d handoffs, want a-task alone", len(repo.Handoffs))
	}
	for _, d := range diags {
		if !strings.Contains(d.Detail, d.Subject.Filename) {
			t.Errorf("%s: the detail does not name the entry: %s", d.Summary, d.Detail)
		}
	}
	for _, d := range diags {
		if d.Summary == "Spec file name not in lower case" && !strings.Contains(d.Detail, "Upper-task.hcl") && !strings.Contains(d.Detail, "mixed-task.hcl.json") {
			t.Errorf("no rename suggested: %s", d.Detail)
		}
	}
}

func TestReadFileSize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.hcl")
	for _, tt := range []struct {
		size int
		ok   bool
	}{{0, true}, {spec.MaxFileSize, true}, {spec.MaxFileSize + 1, false}, {25 << 20, false}} {
		if err := os.WriteFile(path, bytes.Repeat([]byte("#"), tt.size), 0o644); err != nil {
			t.Fatal(err)
		}
		src, info, err := spec.ReadFile(path)
		var fe *spec.FileError
		switch {
		case tt.ok && (err != nil || len(src) != tt.size || info.Size() != int64(tt.size)):
			t.Errorf("%d bytes: %d, %v", tt.size, len(src), err)
		case !tt.ok && (!errors.As(err, &fe) || fe.Size != int64(tt.size) || src != nil):
			t.Errorf("%d bytes: want a refusal by size, got %d bytes, %v", tt.size, len(src), err)
		}
	}
	// A directory named like a file is refused by what the open returned.
	if _, _, err := spec.ReadFile(dir); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("spec.ReadFile(dir) = %v", err)
	}
	if _, _, err := spec.ReadFile(filepath.Join(dir, "none.hcl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spec.ReadFile(missing) = %v, want ErrNotExist", err)
	}
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, src string
		summary   string
		line, col int
	}{
		{"text", "handoff \"é-ø\" {}\n", "", 0, 0},
		{"empty", "", "", 0, 0},
		{"NUL", "a = 1\nb = \"é\x00\"\n", "Binary file", 2, 7},
		{"NUL after invalid UTF-8 wins", "\xff\n\x00", "Binary file", 2, 1},
		{"invalid UTF-8", "a = 1\nb = \"ü\xc3\x28\"\n", "Invalid UTF-8", 2, 7},
		{"truncated rune at the end", "abc\xe2\x82", "Invalid UTF-8", 1, 4},
	}
	for _, tt := range tests {
		d := spec.CheckText("f.hcl", []byte(tt.src))
		switch {
		case tt.summary == "" && d != nil:
			t.Errorf("%s: %v", tt.name, d)
		case tt.summary != "" && (d == nil || d.Summary != tt.summary || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col):
			t.Errorf("%s: got %v, want %s at %d:%d", tt.name, d, tt.summary, tt.line, tt.col)
		case d != nil && !strings.Contains(d.Detail, fmt.Sprintf("line %d, column %d", tt.line, tt.col)):
			t.Errorf("%s: detail %q does not say where", tt.name, d.Detail)
		}
	}
}

// TestLoadDirBinaryIsOneDiagnostic: a binary saved as a spec gives one
// diagnostic, not one per stray byte, and its bytes are not kept.
func TestLoadDirBinaryIsOneDiagnostic(t *testing.T) {
	bin := make([]byte, 4096)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(bin)
	bin[100] = 0
	dir := newRepo(t, map[string]string{"specs/x.hcl": string(bin), "specs/y.hcl": string(bin[200:])})
	repo, diags := spec.LoadDir(dir)
	got := short(dir, diags)
	if len(got) != 2 || got[0].summary != got[1].summary || (got[0].summary != "Binary file" && got[0].summary != "Invalid UTF-8") {
		t.Errorf("diagnostics: %v", got)
	}
	if _, kept := repo.Sources[filepath.Join(dir, "specs/x.hcl")]; kept {
		t.Error("the binary's bytes were kept for quoting")
	}
}

// TestLoadDirLimitsDiagnostics: a file with thousands of problems keeps
// diag.MaxPerFile of them and one that counts the rest; past diag.MaxTotal,
// a file keeps only the count. The counts are the real ones.
func TestLoadDirLimitsDiagnostics(t *testing.T) {
	files := map[string]string{"specs/garbage.hcl": strings.Repeat("a b c\n", 2000)}
	for i := range 30 {
		files[fmt.Sprintf("specs/t%02d-task.hcl", i)] = "handoff \"x\" {\n  card = \"a\"\n  ttl = 1\n  foo = 2\n  bar = 3\n  baz = 4\n}\n"
	}
	dir := newRepo(t, files)
	_, diags := spec.LoadDir(dir)

	_, garbage := spec.ParseHandoffFile("g", []byte(files["specs/garbage.hcl"]))
	_, one := spec.ParseHandoffFile("t", []byte(files["specs/t00-task.hcl"]))
	wantErrs := len(garbage) + 30*len(one)
	if e, _ := diag.Counts(diags); e != wantErrs {
		t.Errorf("Counts = %d, want the real %d", e, wantErrs)
	}
	perFile := map[string]int{}
	for _, d := range diags {
		perFile[d.Subject.Filename]++
	}
	if n := perFile[filepath.Join(dir, "specs/garbage.hcl")]; n != diag.MaxPerFile+1 {
		t.Errorf("garbage.hcl kept %d diagnostics, want %d", n, diag.MaxPerFile+1)
	}
	if n := perFile[filepath.Join(dir, "specs/t29-task.hcl")]; n != 1 {
		t.Errorf("a file past the budget kept %d diagnostics, want its count alone", n)
	}
	if len(diags) > diag.MaxTotal+len(files) {
		t.Errorf("kept %d diagnostics", len(diags))
	}
}

// TestLoadDirBounds: past the entries, bytes or parsed-memory bounds, one
// error says what was not loaded.
func TestLoadDirBounds(t *testing.T) {
	saved := *spec.Limits
	t.Cleanup(func() { *spec.Limits = saved })
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("specs/t%02d-task.hcl", i)] = strings.Replace(validSpec, "a-task", fmt.Sprintf("t%02d-task", i), 1)
	}
	dir := newRepo(t, files)
	one := int64(len(files["specs/t00-task.hcl"]))
	parsed := spec.KeptSize(mustParseHandoff(t, filepath.Join(dir, "specs/t00-task.hcl"), []byte(files["specs/t00-task.hcl"])))
	tests := []struct {
		name    string
		set     func()
		summary string
		loaded  int
	}{
		{"all in bounds", func() {}, "", 20},
		{"entries", func() { spec.Limits.Entries = 19 }, "Too many entries in specs/", 0},
		{"bytes read", func() { spec.Limits.SpecBytes = int(5*one + one/2) }, "Specs too large in all", 5},
		{"memory kept", func() { spec.Limits.Parsed = 7*parsed + parsed/2 }, "Specs too large in all", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*spec.Limits = saved
			tt.set()
			repo, diags := spec.LoadDir(dir)
			if len(repo.Handoffs) != tt.loaded {
				t.Errorf("loaded %d, want %d", len(repo.Handoffs), tt.loaded)
			}
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
			}
			if (tt.summary == "" && len(got) != 0) || (tt.summary != "" && !slices.Equal(got, []string{tt.summary})) {
				t.Errorf("diagnostics %q, want %q", got, tt.summary)
			}
		})
	}
}

// TestFillSources: sources left out of a big repository are read again
// for the diagnostics shown, through the safe reader, and only files of the
// repository are read.
func TestFillSources(t *testing.T) {
	saved := *spec.Limits
	t.Cleanup(func() { *spec.Limits = saved })
	spec.Limits.SourceBytes = 0
	dir := newRepo(t, map[string]string{"specs/a-task.hcl": validSpec})
	repo, diags := spec.LoadDir(dir)
	if len(diags) != 0 || len(repo.Sources) != 0 {
		t.Fatalf("%v; %d sources kept", diags, len(repo.Sources))
	}
	specPath := filepath.Join(dir, "specs/a-task.hcl")
	cfg := filepath.Join(dir, spec.ConfigFile)
	outside := filepath.Join(t.TempDir(), "a-task.hcl")
	writeFiles(t, filepath.Dir(outside), map[string]string{"a-task.hcl": secretValue})
	at := func(name string) *hcl.Diagnostic {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "s", Subject: spec.FileRange(name).Ptr()}
	}
	repo.FillSources(hcl.Diagnostics{at(specPath), at(cfg), at(outside), {Severity: hcl.DiagError, Summary: "no place"}})
	if string(repo.Sources[specPath]) != validSpec || len(repo.Sources[cfg]) == 0 {
		t.Errorf("sources not filled: %q", repo.Sources)
	}
	if src := repo.Sources[outside]; src != nil {
		t.Errorf("read a file outside the repository: %q", src)
	}
}

func TestKeptSize(t *testing.T) {
	small := mustParseHandoff(t, "specs/a-task.hcl", []byte(validSpec))
	big := mustParseHandoff(t, "specs/a-task.hcl", []byte(strings.Replace(validSpec, "}\n",
		"  mcp {\n    allow = ["+strings.Repeat("\"tool\", ", 100)+"]\n  }\n}\n", 1)))
	s, b := spec.KeptSize(small), spec.KeptSize(big)
	if s <= 0 || b < s+100*int64(reflect.TypeFor[spec.String]().Size()) {
		t.Errorf("spec.KeptSize: small %d, big %d", s, b)
	}
	if spec.KeptSize(nil) != 0 || spec.KeptSize("abcd") != 16+4 {
		t.Errorf("spec.KeptSize(nil) = %d, spec.KeptSize(\"abcd\") = %d", spec.KeptSize(nil), spec.KeptSize("abcd"))
	}
}
