package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
)

// SpecsDir is the directory, relative to the repository root, that holds
// one spec file per handoff.
const SpecsDir = "specs"

// Repo is a parsed GitOps repository: handoff.hcl and every spec.
type Repo struct {
	// Dir is the repository root, as given (possibly relative).
	Dir string
	// Config is handoff.hcl; nil when the file is missing or has syntax
	// errors (the diagnostics say which).
	Config *Config
	// Handoffs are the parsed specs, sorted by slug and then file name.
	// Spec files with syntax errors are absent.
	Handoffs []*Handoff
	// Sources holds the bytes of every file read, keyed by the file name used
	// in ranges, so that diagnostics can quote the source.
	Sources map[string][]byte
}

// Handoff returns the (first) spec of slug, or nil when r is nil or has
// none.
func (r *Repo) Handoff(slug string) *Handoff {
	if r == nil {
		return nil
	}
	for _, h := range r.Handoffs {
		if h.Slug.Value == slug {
			return h
		}
	}
	return nil
}

// IsSpecFile reports whether name (a base name) is a spec file name:
// "*.hcl" or "*.hcl.json", not hidden.
func IsSpecFile(name string) bool {
	return !strings.HasPrefix(name, ".") &&
		(strings.HasSuffix(name, ".hcl") || strings.HasSuffix(name, ".hcl.json"))
}

// Root returns the repository root for dir: dir itself, or its parent when
// dir is the specs directory of a repository (it is named specs, has no
// handoff.hcl and its parent has one). So both "handoff validate ." and
// "handoff validate specs/" work from the root.
func Root(dir string) string {
	if fileExists(filepath.Join(dir, ConfigFile)) {
		return dir
	}
	clean := filepath.Clean(dir)
	if filepath.Base(clean) == SpecsDir {
		parent := filepath.Dir(clean)
		if fileExists(filepath.Join(parent, ConfigFile)) {
			return parent
		}
	}
	return dir
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// LoadDir reads and parses handoff.hcl and every spec file under
// <Root(dir)>/specs. Spec files are parsed concurrently, at most GOMAXPROCS
// at a time. All problems of all files are returned together; the Repo is
// never nil and holds whatever parsed. LoadDir checks structure only: call
// policy.Check for the rules.
func LoadDir(dir string) (*Repo, hcl.Diagnostics) {
	root := Root(dir)
	repo := &Repo{Dir: root, Sources: make(map[string][]byte)}
	var diags hcl.Diagnostics

	cfgPath := filepath.Join(root, ConfigFile)
	src, err := os.ReadFile(cfgPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing " + ConfigFile,
			Detail: fmt.Sprintf("Directory %q has no %s. Point at the repository root (the directory holding %s and %s/), "+
				"or create %s with %s (environment, handoff_root) and a policy block.",
				root, ConfigFile, ConfigFile, SpecsDir, ConfigFile, vaultBlockPhrase()),
			Subject: FileRange(cfgPath).Ptr(),
		})
	case err != nil:
		diags = append(diags, readError(cfgPath, err))
	default:
		repo.Sources[cfgPath] = src
		cfg, cd := ParseConfig(cfgPath, src)
		repo.Config = cfg
		diags = append(diags, cd...)
	}

	specDir := filepath.Join(root, SpecsDir)
	entries, err := os.ReadDir(specDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		diags = append(diags, readError(specDir, err))
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && IsSpecFile(e.Name()) {
			names = append(names, filepath.Join(specDir, e.Name()))
		}
	}

	results := parseFiles(names)
	for i, r := range results {
		if r.src != nil {
			repo.Sources[names[i]] = r.src
		}
		diags = append(diags, r.diags...)
		if r.handoff != nil {
			repo.Handoffs = append(repo.Handoffs, r.handoff)
		}
	}
	sort.SliceStable(repo.Handoffs, func(i, j int) bool {
		a, b := repo.Handoffs[i], repo.Handoffs[j]
		if a.Slug.Value != b.Slug.Value {
			return a.Slug.Value < b.Slug.Value
		}
		return a.Filename < b.Filename
	})
	return repo, diags
}

type parseResult struct {
	src     []byte
	handoff *Handoff
	diags   hcl.Diagnostics
}

// parseFiles reads and parses the named spec files with a bounded pool of
// workers; results are in the order of names.
func parseFiles(names []string) []parseResult {
	results := make([]parseResult, len(names))
	workers := min(runtime.GOMAXPROCS(0), len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = parseOne(names[i])
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func parseOne(name string) parseResult {
	src, err := os.ReadFile(name)
	if err != nil {
		return parseResult{diags: hcl.Diagnostics{readError(name, err)}}
	}
	h, diags := ParseHandoffFile(name, src)
	return parseResult{src: src, handoff: h, diags: diags}
}

func readError(path string, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Cannot read " + filepath.Base(path),
		Detail:   fmt.Sprintf("%v. Check that the path exists and is readable.", err),
		Subject:  FileRange(path).Ptr(),
	}
}

// vaultBlockPhrase names the vault's block of the installed language, for
// messages: "an infisical block".
func vaultBlockPhrase() string {
	if b := Installed().VaultBlock(); b != "" {
		return Article(b + " block")
	}
	return "the vault's block"
}

// Article puts "a" or "an" before a phrase, as its first letter asks.
func Article(phrase string) string {
	if phrase != "" && strings.ContainsRune("aeiouAEIOU", rune(phrase[0])) {
		return "an " + phrase
	}
	return "a " + phrase
}
