package diag

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var update = flag.Bool("update", false, "rewrite golden files")

const inputFile = "testdata/input.hcl"

// fixture returns diagnostics over testdata/input.hcl, deliberately out of
// order, covering: a tab before the range, multi-byte characters, a
// multi-line range, a warning, a diagnostic without location, one in a file
// whose source is unknown, and characters that need escaping.
func fixture(t *testing.T) (hcl.Diagnostics, map[string][]byte) {
	t.Helper()
	src, err := os.ReadFile(inputFile)
	if err != nil {
		t.Fatal(err)
	}
	// Real ranges, from the parser.
	file, diags := hclsyntax.ParseConfig(src, inputFile, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	blk := file.Body.(*hclsyntax.Body).Blocks[0]
	attrs := blk.Body.Attributes
	gh := blk.Body.Blocks[0]
	inf := blk.Body.Blocks[1]
	perm := gh.Body.Attributes["permissions"].Expr.(*hclsyntax.ObjectConsExpr).Items[0]
	rng := func(r hcl.Range) *hcl.Range { return &r }

	out := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "Forbidden GitHub permission \"administration\"",
			Detail: "Remove it.\nA second line, 100% certain, with a: colon, and commas.", Subject: rng(perm.KeyExpr.Range())},
		{Severity: hcl.DiagWarning, Summary: "Odd description",
			Detail: "Write plain ASCII.", Subject: rng(attrs["description"].Expr.Range())},
		{Severity: hcl.DiagError, Summary: "ttl above the policy's max_ttl",
			Detail: "Shorten ttl to 24h or less.", Subject: rng(attrs["ttl"].Expr.Range())},
		{Severity: hcl.DiagError, Summary: "Missing handoff.hcl",
			Detail: "Create it.", Subject: &hcl.Range{Filename: "elsewhere/handoff.hcl", Start: hcl.InitialPos, End: hcl.InitialPos}},
		{Severity: hcl.DiagError, Summary: "Multi-line list",
			Detail: "Shown from its first line.", Subject: rng(inf.Body.Attributes["read"].Expr.Range())},
		{Severity: hcl.DiagError, Summary: "No location at all",
			Detail: "Some problems have no place; they sort first."},
		{Severity: hcl.DiagError, Summary: "Control \x1b[31mcharacters\x1b[0m",
			Detail: "are neutralised\r in text.", Subject: rng(attrs["card"].Expr.Range())},
	}
	return out, map[string][]byte{inputFile: src}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (run go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	diags, sources := fixture(t)
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"text", func(b *bytes.Buffer) error { return WriteText(b, diags, sources, false) }},
		{"text-color", func(b *bytes.Buffer) error { return WriteText(b, diags, sources, true) }},
		{"json", func(b *bytes.Buffer) error { return WriteJSON(b, diags) }},
		{"github", func(b *bytes.Buffer) error { return WriteGitHubActions(b, diags, "") }},
		{"json-empty", func(b *bytes.Buffer) error { return WriteJSON(b, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestSortDoesNotModifyInput(t *testing.T) {
	diags, _ := fixture(t)
	first := diags[0]
	sorted := Sort(diags)
	if diags[0] != first {
		t.Error("Sort modified its input")
	}
	if sorted[0].Subject != nil {
		t.Errorf("diagnostic without location should sort first, got %q", sorted[0].Summary)
	}
	for i := 2; i < len(sorted); i++ {
		a, b := sorted[i-1].Subject, sorted[i].Subject
		if a.Filename > b.Filename || (a.Filename == b.Filename && a.Start.Byte > b.Start.Byte) {
			t.Errorf("not sorted at %d: %v then %v", i, a, b)
		}
	}
}

func TestSortErrorsBeforeWarningsAtSamePlace(t *testing.T) {
	r := &hcl.Range{Filename: "f", Start: hcl.Pos{Line: 1, Column: 1}}
	got := Sort(hcl.Diagnostics{
		{Severity: hcl.DiagWarning, Summary: "w", Subject: r},
		{Severity: hcl.DiagError, Summary: "e1", Subject: r},
		{Severity: hcl.DiagError, Summary: "e2", Subject: r},
	})
	if got[0].Summary != "e1" || got[1].Summary != "e2" || got[2].Summary != "w" {
		t.Errorf("order = %s %s %s", got[0].Summary, got[1].Summary, got[2].Summary)
	}
}

func TestCounts(t *testing.T) {
	diags, _ := fixture(t)
	if e, w := Counts(diags); e != 6 || w != 1 {
		t.Errorf("Counts = %d, %d; want 6, 1", e, w)
	}
	doc := NewDocument(diags)
	if doc.Valid || doc.ErrorCount != 6 || doc.WarningCount != 1 || len(doc.Diagnostics) != 7 {
		t.Errorf("document = %+v", doc)
	}
	if doc := NewDocument(hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "w"}}); !doc.Valid {
		t.Error("warnings alone must leave the document valid")
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"100%", "100%25", "100%25"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"k: v, w", "k: v, w", "k%3A v%2C w"},
		{"%0A", "%250A", "%250A"},
	}
	for _, tt := range tests {
		if got := escapeData(tt.in); got != tt.data {
			t.Errorf("escapeData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := escapeProperty(tt.in); got != tt.prop {
			t.Errorf("escapeProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
	}
}

func TestGitHubWorkspaceRelative(t *testing.T) {
	diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "s", Detail: "d",
		Subject: &hcl.Range{Filename: "/w/repo/specs/x.hcl", Start: hcl.Pos{Line: 2, Column: 3}, End: hcl.Pos{Line: 2, Column: 9}}}}
	var b bytes.Buffer
	if err := WriteGitHubActions(&b, diags, "/w/repo"); err != nil {
		t.Fatal(err)
	}
	want := "::error file=specs/x.hcl,line=2,col=3,endLine=2,endColumn=9,title=s::d\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	_ = WriteGitHubActions(&b, diags, "/elsewhere")
	if !strings.Contains(b.String(), "file=/w/repo/specs/x.hcl,") {
		t.Errorf("a file outside the workspace must keep its path: %q", b.String())
	}
}

func TestSnippetEdgeCases(t *testing.T) {
	src := []byte("one\r\ntwo\n")
	tests := []struct {
		name string
		rng  hcl.Range
		want string
	}{
		{"crlf line", hcl.Range{Filename: "f", Start: hcl.Pos{Line: 1, Column: 2, Byte: 1}, End: hcl.Pos{Line: 1, Column: 4, Byte: 3}},
			"    1 | one\n      |  ^^\n"},
		{"empty range gets one caret", hcl.Range{Filename: "f", Start: hcl.Pos{Line: 2, Column: 1, Byte: 5}, End: hcl.Pos{Line: 2, Column: 1, Byte: 5}},
			"    2 | two\n      | ^\n"},
		{"end of file", hcl.Range{Filename: "f", Start: hcl.Pos{Line: 3, Column: 1, Byte: 9}, End: hcl.Pos{Line: 3, Column: 1, Byte: 9}},
			"    3 | \n      | ^\n"},
		{"byte past the end", hcl.Range{Filename: "f", Start: hcl.Pos{Line: 9, Column: 1, Byte: 99}}, ""},
		{"negative byte", hcl.Range{Filename: "f", Start: hcl.Pos{Line: 1, Column: 1, Byte: -1}}, ""},
		{"end before start", hcl.Range{Filename: "f", Start: hcl.Pos{Line: 1, Column: 3, Byte: 2}, End: hcl.Pos{Line: 1, Column: 1, Byte: 0}},
			"    1 | one\n      |   ^\n"},
	}
	id := func(s string) string { return s }
	for _, tt := range tests {
		var b bytes.Buffer
		writeSnippet(&b, src, tt.rng, id, id)
		if b.String() != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, b.String(), tt.want)
		}
	}
}
