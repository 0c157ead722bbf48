package policy_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/policy/policytest"
)

// TestInvalidCorpus checks every case of the invalid corpus through
// spec.LoadDir and policy.Check, as handoff validate runs them: exactly the
// wanted diagnostics, in the order validate prints them, each with a
// detail that says what to do, and the text rendering of the golden
// stderr (less validate's own summary line, which cmd/handoff checks with
// the exit status).
func TestInvalidCorpus(t *testing.T) {
	cases, err := policytest.Load("testdata/invalid")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("corpus has %d cases, want at least 40", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			if err := c.Materialize(dir); err != nil {
				t.Fatal(err)
			}
			repo, diags := load(t, dir)
			rel := func(name string) string {
				if r, err := filepath.Rel(dir, name); err == nil && !strings.HasPrefix(r, "..") {
					return filepath.ToSlash(r)
				}
				return name
			}
			sorted := diag.Sort(diags)
			var got []policytest.Want
			for _, d := range sorted {
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no location", d.Summary)
					continue
				}
				if strings.TrimSpace(d.Detail) == "" {
					t.Errorf("diagnostic %q has no detail telling what to do", d.Summary)
				}
				sev := "error"
				if d.Severity != 1 { // hcl.DiagError
					sev = "warning"
				}
				got = append(got, policytest.Want{
					Location: fmt.Sprintf("%s:%d:%d", rel(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column),
					Severity: sev,
					Summary:  d.Summary,
				})
			}
			if len(got) != len(c.Wants) {
				var b strings.Builder
				for _, w := range got {
					b.WriteString("want: " + w.String() + "\n")
				}
				t.Errorf("got %d diagnostics, want %d:\n%s", len(got), len(c.Wants), b.String())
			}
			for i := range min(len(got), len(c.Wants)) {
				w, g := c.Wants[i], got[i]
				if g.Location != w.Location || g.Severity != w.Severity || g.Summary != w.Summary {
					t.Errorf("diagnostic %d:\n got: %s\nwant: %s", i, g, w)
				}
				if w.Do != "" && !strings.Contains(sorted[i].Detail, w.Do) {
					t.Errorf("diagnostic %d detail %q does not contain %q", i, sorted[i].Detail, w.Do)
				}
			}

			if !c.HasStderr {
				t.Fatal("no golden stderr section")
			}
			var text bytes.Buffer
			if err := diag.WriteText(&text, diags, repo.Sources, false); err != nil {
				t.Fatal(err)
			}
			out := strings.ReplaceAll(text.String(), dir+string(filepath.Separator), "")
			out = strings.ReplaceAll(out, dir, ".")
			want := c.Stderr
			if i := strings.LastIndex(strings.TrimSuffix(want, "\n"), "\n"); i >= 0 && strings.HasPrefix(want[i+1:], "handoff validate: ") {
				want = want[:i+1]
			}
			if out != want {
				t.Errorf("text output differs from the golden stderr:\n got:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}
