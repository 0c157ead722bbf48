package surfaces_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces"
)

// TestEveryTimedRecordIsStamped: the dispatch gate checks only the times
// a surface reports (surface.Stamped). A record that holds a time.Time
// its surface does not report is taken at its word: a Cloudflare token's
// minted_at hours in the future was admitted. Every surface package whose
// Record holds a time.Time declares Stamps, and every Expiring surface of
// the build is Stamped.
func TestEveryTimedRecordIsStamped(t *testing.T) {
	dirs, err := filepath.Glob("*")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		var parsed []*ast.File
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			parsed = append(parsed, f)
		}
		timed, stamps := recordTimes(parsed)
		if len(timed) > 0 {
			checked++
			if !stamps {
				t.Errorf("package %s: Record holds %v but (*Surface).Stamps is not declared: the gate cannot check them", dir, timed)
			}
		}
	}
	if checked < 5 {
		t.Errorf("%d surface packages with times in their Record, want github, infisical, cloudflare, aws and heroku at least", checked)
	}
	for _, name := range surfaces.Default.Names() {
		s, _ := surfaces.Default.Get(name)
		if _, ok := s.(surface.Expiring); !ok {
			continue
		}
		if _, ok := s.(surface.Stamped); !ok {
			t.Errorf("surface %s is Expiring but not Stamped", name)
		}
	}
}

// recordTimes returns the time.Time fields of the type Record files
// declare, and whether they declare a method Stamps on Surface.
func recordTimes(files []*ast.File) (fields []string, stamps bool) {
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					ts, ok := sp.(*ast.TypeSpec)
					if !ok || ts.Name.Name != "Record" {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, fl := range st.Fields.List {
						if sel, ok := fl.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Time" {
							if x, ok := sel.X.(*ast.Ident); ok && x.Name == "time" {
								for _, n := range fl.Names {
									fields = append(fields, n.Name)
								}
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || d.Name.Name != "Stamps" || len(d.Recv.List) != 1 {
					continue
				}
				recv := d.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				if id, ok := recv.(*ast.Ident); ok && id.Name == "Surface" {
					stamps = true
				}
			}
		}
	}
	return fields, stamps
}
