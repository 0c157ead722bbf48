package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// checkFastParse fails unless fastParseBody either declines src or gives
// exactly the body hclsyntax.ParseConfig gives it, without diagnostics. It
// reports whether the fast path took src.
func checkFastParse(t *testing.T, name string, src []byte) bool {
	t.Helper()
	got, ok := fastParseBody(name, src)
	if !ok {
		return false
	}
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags != nil {
		t.Fatalf("%s: the fast parser took\n%s\nto which HCL says %v", name, src, diags)
	}
	want := f.Body.(*hclsyntax.Body)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: the fast parser's body differs from HCL's for\n%s\n(-hcl +fast):\n%s", name, src,
			cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true })))
	}
	return true
}

// fastParseCorpus is every native-syntax file of the repository and the
// package's test data, and the specs the benchmarks write.
func fastParseCorpus(t testing.TB) map[string][]byte {
	corpus := map[string][]byte{}
	for _, root := range []string{"../../specs", "../../examples", "../../schema", "../../internal", "../../handoff.hcl"} {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".hcl") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			corpus[path] = b
			return nil
		})
	}
	if len(corpus) < 10 {
		t.Fatalf("only %d files in the corpus", len(corpus))
	}
	for name, src := range fastParseExtra {
		corpus[name] = []byte(src)
	}
	return corpus
}

// fastParseExtra are shapes the repository's files may lack.
var fastParseExtra = map[string]string{
	"empty.hcl":       "",
	"blank.hcl":       "\n\n",
	"comment.hcl":     "# only a comment",
	"comments.hcl":    "# a\n// b\nhandoff \"x\" { # c\n  a = 1 // d\n  # e\n  b = [ # f\n    \"x\", // g\n  ]\n}\n",
	"noeol.hcl":       "handoff \"x\" {\n  a = \"b\"\n}",
	"emptystr.hcl":    "a = \"\"\nb = [\"\", \"x\"]\nc = { \"\" = \"\" }\n",
	"literals.hcl":    "a = true\nb = false\nc = null\nd = 007\ne = [1, 2,]\nf = {}\ng = []\n",
	"objects.hcl":     "m = {\n  a = 1\n  \"b\" = 2, c: 3\n\n  d = { e = [] }\n}\n",
	"labels.hcl":      "blk a \"b\" \"\" {\n}\nblk {\n}\nblk \"x\" {}\n",
	"ident.hcl":       "a = b\nc = [d, e-f]\n",
	"tabs.hcl":        "a\t=\t\"x\"\t# t\n",
	"trail.hcl":       "a = 1   \n   \nb = 2",
	"nested.hcl":      "a {\n  b {\n    c \"d\" {\n      e = [[1], [\"x\"], {f = {g = null}}]\n    }\n  }\n}\n",
	"single.hcl":      "a { b = 1 }\n",
	"dup.hcl":         "a = 1\na = 2\n",
	"escape.hcl":      "a = \"x\\ny\"\n",
	"template.hcl":    "a = \"${b}\"\n",
	"unicode.hcl":     "a = \"é\"\n",
	"crlf.hcl":        "a = 1\r\nb = 2\r\n",
	"block-comment":   "/* x */ a = 1\n",
	"number.hcl":      "a = 1.5\nb = 1e3\n",
	"for.hcl":         "a = [for x in y: x]\n",
	"op.hcl":          "a = 1 + 2\n",
	"missingnl.hcl":   "a = 1 b = 2\n",
	"unclosed.hcl":    "a {\n  b = 1\n",
	"keyexpr.hcl":     "a = { (b) = 1 }\n",
	"traversal.hcl":   "a = b.c\n",
	"call.hcl":        "a = f(1)\n",
	"colon.hcl":       "a = { b: 1 }\n",
	"comma-attr.hcl":  "a = 1,\n",
	"block-eq.hcl":    "a = {\n}\nb \"c\" {\n}\n",
	"hash-in-str.hcl": "a = \"#x // y\"\n",
	"keywords.hcl":    "a = { true = 1, null = 2, for-x = 3, in = [if] }\nb = for\n",
	"eof-comment.hcl": "a = 1 # x",
	"brace-str.hcl":   "a = \"{[,]}=:\"\n",
	"quoted-attr.hcl": "\"a\" = 1\n",
	"ident-num.hcl":   "a = 1x\nb = a1-2_\n",
}

// TestFastParseSameAsHCL: on every file of the corpus, and on each of its
// prefixes and one-byte deletions (a sample of them), the fast parser gives HCL's body or
// declines; and it takes the specs (else it would be no faster).
func TestFastParseSameAsHCL(t *testing.T) {
	took := 0
	for name, src := range fastParseCorpus(t) {
		if checkFastParse(t, name, src) {
			took++
		}
		// At most about 150 cuts a file: the fuzz target goes further.
		for i := 0; i < len(src); i += 1 + len(src)/150 {
			checkFastParse(t, name+" prefix", src[:i])
			checkFastParse(t, name+" deletion", append(append([]byte{}, src[:i]...), src[i+1:]...))
		}
	}
	for _, name := range []string{"../../specs/iap-notif-handler-20260621.hcl", "comments.hcl", "emptystr.hcl", "literals.hcl", "objects.hcl", "labels.hcl", "nested.hcl"} {
		src := fastParseCorpus(t)[name]
		if _, ok := fastParseBody(name, src); !ok {
			t.Errorf("the fast parser declines %s", name)
		}
	}
	t.Logf("the fast parser took %d files", took)
}

func FuzzFastParse(f *testing.F) {
	for _, src := range fastParseCorpus(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkFastParse(t, "fuzz.hcl", src)
	})
}
