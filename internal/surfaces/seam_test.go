package surfaces_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/raxx-app/handoff/internal/surfaces"
)

// core are the packages that must name no surface and import no vendor
// client: the seam (internal/surface) is all they know of surfaces.
var core = []string{"spec", "policy", "state", "reconcile", "plan", "apply", "manifest"}

// allowed are the string literals of the core that name a vendor for
// another reason than its surface, each with why.
var allowed = map[string]string{
	// The Markdown plan is a pull request comment: GitHub is the platform
	// it is posted on, whatever the surfaces.
	"GitHub's comment size limit": "the PR comment platform",
}

// allowedIdents are identifiers of the core that name a vendor for another
// reason than its surface.
var allowedIdents = map[string]string{
	"GitHubCommentLimit": "the PR comment platform's size limit",
}

// TestCoreNamesNoSurface: the core imports no vendor client (internal/provider/...)
// and no surface implementation (internal/surfaces/...), and no string
// literal or identifier of its non-test code names a surface of this build.
func TestCoreNamesNoSurface(t *testing.T) {
	names := surfaces.Default.Names()
	if len(names) < 9 {
		t.Fatalf("the registry has %d surfaces: %v", len(names), names)
	}
	for _, pkg := range core {
		dir := filepath.Join("..", pkg)
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			checkFile(t, f, names)
		}
	}
}

var urlRE = regexp.MustCompile(`https?://\S+`)

func checkFile(t *testing.T, file string, names []string) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if strings.Contains(p, "/internal/provider/") || strings.Contains(p, "/internal/surfaces") || strings.Contains(p, "/internal/vault/") {
			t.Errorf("%s imports %s: the core knows surfaces and the vault only through internal/surface and internal/vault", fset.Position(imp.Pos()), p)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ImportSpec:
			return false
		case *ast.BasicLit:
			if x.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(x.Value)
			if err != nil {
				return true
			}
			for lit := range allowed {
				s = strings.ReplaceAll(s, lit, "")
			}
			s = urlRE.ReplaceAllString(s, "")
			for _, w := range words(s) {
				for _, name := range names {
					if strings.EqualFold(w, name) {
						t.Errorf("%s: string %q names the surface %s", fset.Position(x.Pos()), s, name)
					}
				}
			}
		case *ast.Ident:
			if _, ok := allowedIdents[x.Name]; ok {
				return true
			}
			for _, w := range camelWords(x.Name) {
				for _, name := range names {
					if len(name) > 3 && strings.EqualFold(w, strings.ReplaceAll(name, "_", "")) {
						t.Errorf("%s: identifier %s names the surface %s", fset.Position(x.Pos()), x.Name, name)
					}
				}
			}
		}
		return true
	})
}

// words splits s into its words: runs of letters, digits and '_'.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') })
}

// camelWords splits an identifier into lower-case words at case changes
// ("SurfaceGitHub" → surface, git, hub; "AppleIAP" → apple, iap) and
// also returns adjacent pairs joined ("github", "appleiap").
func camelWords(id string) []string {
	var parts []string
	cur := []rune{}
	for i, r := range id {
		if i > 0 && unicode.IsUpper(r) && len(cur) > 0 && !unicode.IsUpper(cur[len(cur)-1]) || r == '_' {
			parts = append(parts, strings.ToLower(string(cur)))
			cur = cur[:0]
			if r == '_' {
				continue
			}
		}
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		parts = append(parts, strings.ToLower(string(cur)))
	}
	out := append([]string{strings.ToLower(id)}, parts...)
	for i := 0; i+1 < len(parts); i++ {
		out = append(out, parts[i]+parts[i+1])
	}
	return out
}
