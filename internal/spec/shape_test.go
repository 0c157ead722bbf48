package spec_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
)

// TestHostileExpressionsAreRefusedBeforeParsing: expressions that HCL's
// parser takes seconds and hundreds of MB for (nesting, operator chains),
// in a spec, in handoff.hcl or in a JSON spec, each give one error at the
// first token past the bound (file:line:col), quoting nothing; the bounds
// themselves are allowed.
func TestHostileExpressionsAreRefusedBeforeParsing(t *testing.T) {
	const n = 30_000
	deepObject := func(depth int) string {
		return strings.Repeat("{a=", depth) + "1" + strings.Repeat("}", depth)
	}
	chain := func(op string, k int) string { return strings.Repeat("1 "+op+" ", k) + "1" }
	// col is where the bound is passed in "description = <expr>" on line
	// 2: column 17 is the expression's first character, and the handoff
	// block's brace is the first level of nesting.
	const deepest = spec.MaxNesting - 1 // levels the expression may open
	tests := []struct {
		name, expr, summary string
		col                 int // 0: allowed
	}{
		{"parentheses", strings.Repeat("(", n) + "1" + strings.Repeat(")", n), "Nested too deeply", 17 + deepest},
		{"calls", strings.Repeat("f(", n/2) + "1" + strings.Repeat(")", n/2), "Nested too deeply", 17 + 2*deepest + 1},
		{"lists", strings.Repeat("[", n) + strings.Repeat("]", n), "Nested too deeply", 17 + deepest},
		{"objects", deepObject(n / 3), "Nested too deeply", 17 + 3*deepest},
		{"templates", strings.Repeat(`"${`, n/4) + "1" + strings.Repeat(`}"`, n/4), "Nested too deeply", 17 + 3*deepest + 1},
		{"unary minus", strings.Repeat("-", n) + "1", "Too many operators", 17 + spec.MaxOperators},
		{"negation", strings.Repeat("!", n) + "true", "Too many operators", 17 + spec.MaxOperators},
		{"sums", chain("+", n), "Too many operators", 17 + 4*spec.MaxOperators + 2},
		{"conditionals", strings.Repeat("true ? 1 : ", n/12) + "1", "Too many operators", 17 + 11*spec.MaxOperators + 5},
		{"a number with a huge exponent", "1e10000000", "Number too long", 17},
		{"a number of many digits", strings.Repeat("9", 100), "Number too long", 17},
		{"nesting at the bound", strings.Repeat("[", deepest) + strings.Repeat("]", deepest), "", 0},
		{"a number at the bound", strings.Repeat("9", spec.MaxNumberLength), "", 0},
		{"a JSON-looking string in a spec", `"${` + strings.Repeat("(", 10) + "1" + strings.Repeat(")", 10) + `}"`, "", 0},
		{"operators at the bound", chain("+", spec.MaxOperators), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "handoff \"x-20260621\" {\n  description = " + tt.expr + "\n}\n"
			for _, file := range []string{"specs/x-20260621.hcl", spec.ConfigFile} {
				var d hcl.Diagnostics
				if file == spec.ConfigFile {
					_, d = spec.ParseConfig(file, []byte(src))
				} else {
					_, d = spec.ParseHandoffFile(file, []byte(src))
				}
				var summaries []string
				var where string
				for _, x := range d {
					summaries = append(summaries, x.Summary)
					if x.Summary == tt.summary {
						where = x.Subject.String()
					}
				}
				diags := d.Error()
				if tt.col == 0 {
					for _, s := range summaries {
						if s == "Nested too deeply" || s == "Too many operators" {
							t.Errorf("%s: within the bounds but refused: %s", file, diags)
						}
					}
					continue
				}
				if len(summaries) != 1 || summaries[0] != tt.summary {
					t.Fatalf("%s: want one %q, got %q", file, tt.summary, summaries)
				}
				if want := fmt.Sprintf("%s:2,%d-%d", file, tt.col, tt.col); where != want {
					t.Errorf("%s: at %s, want %s", file, where, want)
				}
				if strings.Contains(diags, tt.expr[:min(40, len(tt.expr))]) {
					t.Errorf("%s: the diagnostic quotes the file: %.200s", file, diags)
				}
			}
		})
	}
}

// TestHostileJSONIsRefusedBeforeParsing: a JSON spec's nesting and numbers
// are bounded as native syntax is. (Its strings are not templates: specs
// are decoded without an evaluation context, so a "${" in a JSON string is
// literal text, and a template there is refused by nothing.)
func TestHostileJSONIsRefusedBeforeParsing(t *testing.T) {
	for _, tt := range []struct{ name, value, summary string }{
		{"arrays", strings.Repeat("[", 30_000) + strings.Repeat("]", 30_000), "Nested too deeply"},
		{"objects", strings.Repeat(`{"a":`, 30_000) + "1" + strings.Repeat("}", 30_000), "Nested too deeply"},
		{"a number with a huge exponent", "1e100000000", "Number too long"},
		{"a number of many digits", strings.Repeat("9", 100), "Number too long"},
		{"a number at the end of the file", strings.Repeat("9", 100) + "}}}" + strings.Repeat("9", 100), "Number too long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := `{"handoff": {"x-20260621": {"description": ` + tt.value + `}}}`
			_, d := spec.ParseHandoffFile("specs/x-20260621.hcl.json", []byte(src))
			if len(d) != 1 || d[0].Summary != tt.summary || d[0].Subject == nil || d[0].Subject.Start.Line != 1 {
				t.Fatalf("want one %q at line 1, got %v", tt.summary, d)
			}
		})
	}
}

// TestEveryRepositoryFileIsWithinTheShapeBounds: the bounds refuse no
// .hcl file of the repository (examples, test data, the template).
func TestEveryRepositoryFileIsWithinTheShapeBounds(t *testing.T) {
	n := 0
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".hcl") || strings.HasSuffix(path, ".hcl.json")) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		_, d1 := spec.ParseHandoffFile(path, src)
		_, d2 := spec.ParseConfig(path, src)
		for _, x := range append(d1, d2...) {
			if x.Summary == "Nested too deeply" || x.Summary == "Too many operators" {
				t.Errorf("%s: %s", path, x.Error())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("only %d files checked", n)
	}
}
