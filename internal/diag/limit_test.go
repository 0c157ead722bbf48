package diag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// many returns n diagnostics in file, one per line, errors unless warn;
// warnings start on line 1001, after any errors.
func many(file string, n int, warn bool) hcl.Diagnostics {
	sev, first := hcl.DiagError, 0
	if warn {
		sev, first = hcl.DiagWarning, 1000
	}
	var out hcl.Diagnostics
	for i := first; i < first+n; i++ {
		p := hcl.Pos{Line: i + 1, Column: 1, Byte: i * 10}
		out = append(out, &hcl.Diagnostic{Severity: sev, Summary: fmt.Sprintf("%s problem %d", file, i),
			Detail: "Fix it.", Subject: &hcl.Range{Filename: file, Start: p, End: p}})
	}
	return out
}

func summaries(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary)
	}
	return out
}

func TestLimit(t *testing.T) {
	tests := []struct {
		name          string
		in            hcl.Diagnostics
		perFile, all  int
		wantLen       int
		wantLast      string // summary of the last diagnostic
		wantErrs      int
		wantWarns     int
		wantHasErrors bool
	}{
		{"under the caps: unchanged", many("a", 3, false), 10, 100, 3, "a problem 2", 3, 0, true},
		{"per file", many("a", 25, false), 10, 100, 11, "and 15 more errors in this file", 25, 0, true},
		{"warnings only stay warnings", many("a", 12, true), 10, 100, 11, "and 2 more warnings in this file", 0, 12, false},
		{"errors and warnings", append(many("a", 10, false), many("a", 3, true)...), 10, 100, 11,
			"and 3 more warnings in this file", 10, 3, true},
		{"in all", append(append(many("a", 8, false), many("b", 8, false)...), many("c", 8, false)...), 10, 10, 11,
			"and 14 more errors in 2 files", 24, 0, true},
		{"per file, then in all", append(append(many("a", 30, false), many("b", 30, false)...), many("c", 30, false)...), 10, 21, 22,
			"and 50 more errors in 2 files", 90, 0, true},
		{"no location is a group of its own", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "x"}, {Severity: hcl.DiagError, Summary: "y"}},
			1, 100, 2, "and 1 more error in this file", 2, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Limit(tt.in, tt.perFile, tt.all)
			if len(got) != tt.wantLen {
				t.Fatalf("Limit kept %d, want %d: %q", len(got), tt.wantLen, summaries(got))
			}
			if last := got[len(got)-1].Summary; last != tt.wantLast {
				t.Errorf("last = %q, want %q", last, tt.wantLast)
			}
			if e, w := Counts(got); e != tt.wantErrs || w != tt.wantWarns {
				t.Errorf("Counts = %d, %d; want %d, %d (the real numbers)", e, w, tt.wantErrs, tt.wantWarns)
			}
			if e, w := Counts(tt.in); e != tt.wantErrs || w != tt.wantWarns {
				t.Errorf("Counts of the input = %d, %d", e, w)
			}
			if got.HasErrors() != tt.wantHasErrors {
				t.Errorf("HasErrors = %v", got.HasErrors())
			}
			// Limiting again changes nothing.
			again := Limit(got, tt.perFile, tt.all)
			if strings.Join(summaries(again), "|") != strings.Join(summaries(got), "|") {
				t.Errorf("Limit of a limited list differs:\n%q\n%q", summaries(again), summaries(got))
			}
		})
	}
}

// TestLimitMergesEarlierLimits: a list limited file by file (as LoadDir
// does), with more appended later (as validate does with the policy's),
// shows the same as limiting everything at once.
func TestLimitMergesEarlierLimits(t *testing.T) {
	a, b, c := many("a", 30, false), many("b", 4, true), many("c", 30, false)
	var piecewise hcl.Diagnostics
	for _, part := range []hcl.Diagnostics{a, b, c} {
		piecewise = append(piecewise, Limit(part, 10, 11)...)
	}
	piecewise = Limit(piecewise, 10, 25)
	whole := Limit(append(append(append(hcl.Diagnostics{}, a...), b...), c...), 10, 25)
	if g, w := strings.Join(summaries(piecewise), "|"), strings.Join(summaries(whole), "|"); g != w {
		t.Errorf("piecewise:\n%s\nwhole:\n%s", g, w)
	}
	if e, w := Counts(piecewise); e != 60 || w != 4 {
		t.Errorf("Counts = %d, %d; want 60, 4", e, w)
	}
}

// TestLimitedOutputIsBounded: ten thousand problems in a thousand files
// print a bounded text, whose last diagnostic counts the rest, and a JSON
// document whose counts are the real ones.
func TestLimitedOutputIsBounded(t *testing.T) {
	var all hcl.Diagnostics
	for i := range 1000 {
		all = append(all, many(fmt.Sprintf("specs/f%04d.hcl", i), 10, false)...)
	}
	shown := Limit(all, MaxPerFile, MaxTotal)
	if len(shown) != MaxTotal+1 {
		t.Fatalf("shown %d, want %d", len(shown), MaxTotal+1)
	}
	var text bytes.Buffer
	if err := WriteText(&text, shown, nil, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "error: and 9900 more errors in 990 files\n") {
		t.Errorf("no final count in the text:\n%s", text.String()[text.Len()-400:])
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, shown); err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	last := doc.Diagnostics[len(doc.Diagnostics)-1]
	if doc.ErrorCount != 10000 || doc.Valid || len(doc.Diagnostics) != MaxTotal+1 ||
		last.Omitted == nil || *last.Omitted != (OmittedCounts{Errors: 9900, Files: 990}) {
		t.Errorf("document: %d errors, %d entries, last %+v %+v", doc.ErrorCount, len(doc.Diagnostics), last, last.Omitted)
	}
	if doc.Diagnostics[0].Omitted != nil {
		t.Error("an ordinary entry has an omitted field")
	}
	var gh bytes.Buffer
	if err := WriteGitHubActions(&gh, shown, ""); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(gh.String(), "\n"); n != MaxTotal+1 {
		t.Errorf("%d annotations, want %d", n, MaxTotal+1)
	}
}

// TestCountsOfALoweredOmitted: a caller that lowers errors to warnings
// (revoke leaves invalid specs out) lowers what an "and N more" hides too.
func TestCountsOfALoweredOmitted(t *testing.T) {
	shown := Limit(many("a", 12, false), 10, 100)
	for _, d := range shown {
		d.Severity = hcl.DiagWarning
	}
	if e, w := Counts(shown); e != 0 || w != 12 {
		t.Errorf("Counts = %d, %d; want 0, 12", e, w)
	}
}

func TestOmittedHasNoSnippet(t *testing.T) {
	src := []byte(strings.Repeat("a line   \n", 3))
	shown := Limit(many("f", 3, false), 2, 100)
	var b bytes.Buffer
	if err := WriteText(&b, shown, map[string][]byte{"f": src}, false); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimSpace(b.String()), "\n\n")
	if len(blocks) != 3 || !strings.Contains(blocks[0], " | a line") || !strings.Contains(blocks[1], " | a line") ||
		!strings.Contains(blocks[2], "and 1 more error") || strings.Contains(blocks[2], "|") {
		t.Errorf("want the two shown problems quoted and the count not:\n%s", b.String())
	}
}

func TestLongLinesAreCut(t *testing.T) {
	long := strings.Repeat("a", 300) + `"here"` + strings.Repeat("b", 300)
	src := []byte("x\n" + long + "\n")
	start := 2 + 300
	rng := hcl.Range{Filename: "f", Start: hcl.Pos{Line: 2, Column: 301, Byte: start}, End: hcl.Pos{Line: 2, Column: 307, Byte: start + 6}}
	id := func(s string) string { return s }
	var b bytes.Buffer
	writeSnippet(&b, src, rng, id, id)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %q", b.String())
	}
	quoted, carets := lines[0], lines[1]
	if !strings.Contains(quoted, `…`+strings.Repeat("a", snippetLead)+`"here"`) || !strings.HasSuffix(quoted, "…") {
		t.Errorf("quoted line not cut around the range: %q", quoted)
	}
	if n := len([]rune(quoted)) - len("    2 | "); n != maxSnippetWidth+2 {
		t.Errorf("quoted %d characters, want %d and two ellipses", n, maxSnippetWidth)
	}
	// The carets stand under "here".
	col := strings.Index(carets, "^") // the caret line is ASCII: bytes are characters
	if got := string([]rune(quoted)[col : col+6]); got != `"here"` {
		t.Errorf("carets under %q, want under \"here\":\n%s\n%s", got, quoted, carets)
	}
	if strings.Count(carets, "^") != 6 {
		t.Errorf("carets %q", carets)
	}
}
