package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/policy/policytest"
)

const corpusDir = "../../internal/policy/testdata/invalid"

// TestInvalidCorpus runs "handoff validate" on every invalid repository of
// the corpus: exit 1, exactly the wanted diagnostics at their file:line:col,
// a detail that says what to do, and the golden text output.
func TestInvalidCorpus(t *testing.T) {
	cases, err := policytest.Load(corpusDir)
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
			strip := func(s string) string {
				s = strings.ReplaceAll(s, dir+string(filepath.Separator), "")
				return strings.ReplaceAll(s, dir, ".")
			}

			// Structured check through -json.
			code, stdout, stderr := runCLI(t, nil, "validate", "-json", dir)
			if code != 1 {
				t.Fatalf("validate -json exit = %d, want 1\nstderr:\n%s", code, stderr)
			}
			var doc diag.Document
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("bad JSON: %v\n%s", err, stdout)
			}
			var got []policytest.Want
			for _, d := range doc.Diagnostics {
				if d.Range == nil {
					t.Errorf("diagnostic %q has no location", d.Summary)
					continue
				}
				if strings.TrimSpace(d.Detail) == "" {
					t.Errorf("diagnostic %q has no detail telling what to do", d.Summary)
				}
				got = append(got, policytest.Want{
					Location: strip(d.Range.Filename) + ":" + itoa(d.Range.Start.Line) + ":" + itoa(d.Range.Start.Column),
					Severity: d.Severity,
					Summary:  d.Summary,
				})
			}
			if len(got) != len(c.Wants) {
				t.Errorf("got %d diagnostics, want %d:\n%s", len(got), len(c.Wants), wantsString(got))
			}
			for i := range min(len(got), len(c.Wants)) {
				w, g := c.Wants[i], got[i]
				if g.Location != w.Location || g.Severity != w.Severity || g.Summary != w.Summary {
					t.Errorf("diagnostic %d:\n got: %s\nwant: %s", i, g, w)
				}
				if w.Do != "" && !strings.Contains(doc.Diagnostics[i].Detail, w.Do) {
					t.Errorf("diagnostic %d detail %q does not contain %q", i, doc.Diagnostics[i].Detail, w.Do)
				}
			}

			// Text output, golden.
			code, stdout, stderr = runCLI(t, nil, "validate", dir)
			if code != 1 || stdout != "" {
				t.Errorf("validate exit = %d, stdout %q; want 1 and nothing", code, stdout)
			}
			stderr = strip(stderr)
			if *update {
				c.Stderr, c.HasStderr = stderr, true
				if err := os.WriteFile(c.Path, c.Format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !c.HasStderr {
				t.Fatalf("no golden stderr section; run go test -update")
			}
			if stderr != c.Stderr {
				t.Errorf("stderr differs from golden (run go test -update to accept):\n got:\n%s\nwant:\n%s", stderr, c.Stderr)
			}
		})
	}
}

func wantsString(ws []policytest.Want) string {
	var b bytes.Buffer
	for _, w := range ws {
		b.WriteString("want: " + w.String() + "\n")
	}
	return b.String()
}
