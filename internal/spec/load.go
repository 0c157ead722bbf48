package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/diag"
)

// SpecsDir is the directory, relative to the repository root, that holds
// one spec file per handoff.
const SpecsDir = "specs"

// Bounds of a repository, besides MaxFileSize per file. They keep the work
// and the memory of loading any directory bounded (validate of any
// directory stays under 200 MB) while leaving ample room: 10,000 real specs
// take 10,000 entries, about 7 MB on disk and 42 MB parsed.
const (
	// MaxSpecEntries is the most entries handoff looks at under specs/,
	// sub-directories' entries included. Beyond it, no spec is loaded.
	MaxSpecEntries = 20_000
	// MaxSpecBytes is the most bytes of spec files read in all: 32 MiB.
	// Beyond it, the remaining specs are not read.
	MaxSpecBytes = 32 << 20
	// MaxParsedBytes is the most memory the parsed specs may hold: 64 MiB
	// (an estimate, KeptSize). Beyond it, the remaining specs are not kept.
	// Specs of the usual size (those of tools/benchrun, with four surface
	// blocks) take about 4.2 KB each: some 15,000 fit.
	MaxParsedBytes = 64 << 20
	// MaxSpecDepth is how deep handoff looks into sub-directories of specs/
	// for misplaced specs.
	MaxSpecDepth = 8

	// bigSpec is the size from which specs are parsed one at a time: the
	// parser's working memory grows with the file (tens of MB for a
	// maximum-size file of tiny list elements), and real specs are far
	// smaller.
	bigSpec = 16 << 10

	// maxSourceBytes is how much source is kept in Repo.Sources for quoting
	// without being asked (FillSources reads the rest on demand).
	maxSourceBytes = 1 << 20
)

// limits are the bounds LoadDir applies; tests lower them.
var limits = loadLimits{MaxSpecEntries, MaxSpecBytes, maxSourceBytes, MaxParsedBytes}

// loadLimits are the bounds of one LoadDir: entries of specs/, bytes of
// spec files read, bytes of source kept for quoting, and bytes of parsed
// specs kept in memory.
type loadLimits struct {
	Entries, SpecBytes, SourceBytes int
	Parsed                          int64
}

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
	// Sources holds the bytes of files read, keyed by the file name used in
	// ranges, so that diagnostics can quote the source. LoadDir keeps those
	// of a small repository (up to 1 MiB in all), never those of a binary
	// file; FillSources adds those a list of diagnostics needs.
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

// looksLikeSpec reports whether name (a base name) looks like a spec file
// in any case or hidden: "*.hcl" or "*.hcl.json" whatever the case of the
// extension, such as "x.HCL" or ".x.hcl". Such a file in specs/ that is
// not loaded is an error, since its author surely meant it to be.
func looksLikeSpec(name string) bool {
	l := strings.ToLower(name)
	return strings.HasSuffix(l, ".hcl") || strings.HasSuffix(l, ".hcl.json")
}

// quietNames are files that may sit in specs/ without a word: the
// placeholders that keep an empty directory in git, and a README that says
// what the directory is for. Anything else that is not a spec is warned
// about, so that a misnamed spec is never silently ignored.
var quietNames = map[string]bool{".gitkeep": true, ".keep": true, "readme": true, "readme.md": true, "readme.txt": true}

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

// fileExists reports whether path names something other than a directory;
// a link counts (the safe reader refuses it with a clear diagnostic).
func fileExists(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && !st.IsDir()
}

// LoadDir reads and parses handoff.hcl and every spec file under
// <Root(dir)>/specs. Spec files are parsed concurrently, at most GOMAXPROCS
// at a time. All problems of all files are returned together; the Repo is
// never nil and holds whatever parsed. LoadDir checks structure only: call
// policy.Check for the rules.
//
// Every file is read through the safe reader (ReadFile): handoff.hcl,
// specs/ and the specs are opened relative to the repository root without
// following a link, and only regular files of at most MaxFileSize bytes of
// UTF-8 text are parsed. A missing specs/ is an error (an empty one is a
// repository without handoffs). Every entry of specs/ that is not loaded
// has a diagnostic: an error when it looks like a spec (any case of .hcl or
// .hcl.json, hidden, or in a sub-directory), a warning naming it
// otherwise, except for .gitkeep, .keep and a README. The diagnostics of one file are limited to
// diag.MaxPerFile, and once diag.MaxTotal are kept, each further file with
// problems keeps one "and N more …" diagnostic that counts them. Beyond
// MaxSpecEntries, MaxSpecBytes or MaxParsedBytes, one error says what was
// not loaded.
func LoadDir(dir string) (*Repo, hcl.Diagnostics) {
	return loadDir(dir, nil)
}

// LoadDirOf is LoadDir for a command about given handoffs only (revoke,
// gate, env, verify SLUG…): it lists specs/ as LoadDir does, but reads and
// parses only the spec files named for one of slugs (none when slugs is
// empty). Policy requires a spec's file name to be its slug, so no other
// file can hold their specs; another file, however large or hostile, costs
// these commands nothing but its directory entry.
func LoadDirOf(dir string, slugs []string) (*Repo, hcl.Diagnostics) {
	only := make(map[string]bool, len(slugs))
	for _, s := range slugs {
		only[s] = true
	}
	return loadDir(dir, only)
}

// loadDir loads dir, parsing only the spec files named for a slug of only
// (every spec file when only is nil).
func loadDir(dir string, only map[string]bool) (*Repo, hcl.Diagnostics) {
	root := Root(dir)
	l := &loader{repo: &Repo{Dir: root, Sources: make(map[string][]byte)}, budget: diag.MaxTotal, only: only}
	cfgPath := filepath.Join(root, ConfigFile)
	rd, err := openDirFollow(root)
	var fe *FileError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.add(missingConfig(root, cfgPath))
		return l.repo, l.diags
	case errors.As(err, &fe) && fe.Kind != "":
		l.add(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not a directory",
			Detail:  fmt.Sprintf("%s is %s. Point at the repository root, the directory holding %s and %s/.", root, fe.Kind, ConfigFile, SpecsDir),
			Subject: FileRange(root).Ptr()})
		return l.repo, l.diags
	case err != nil:
		l.add(fileDiagnostic(root, err))
		return l.repo, l.diags
	}
	defer rd.close()

	hasConfig := l.loadConfig(rd, cfgPath)
	l.loadSpecs(rd, filepath.Join(root, SpecsDir), hasConfig)
	sort.SliceStable(l.repo.Handoffs, func(i, j int) bool {
		a, b := l.repo.Handoffs[i], l.repo.Handoffs[j]
		if a.Slug.Value != b.Slug.Value {
			return a.Slug.Value < b.Slug.Value
		}
		return a.Filename < b.Filename
	})
	return l.repo, l.diags
}

// loader accumulates a Repo and its diagnostics under the bounds.
type loader struct {
	repo   *Repo
	diags  hcl.Diagnostics
	budget int // diagnostics that may still be kept in full
	// only, when not nil, are the slugs whose spec files are parsed.
	only map[string]bool

	sourceBytes int // bytes kept in repo.Sources
}

func (l *loader) add(ds ...*hcl.Diagnostic) { l.diags = append(l.diags, ds...) }

// addFile adds the diagnostics of one file: at most diag.MaxPerFile of
// them while the budget lasts, then only the one that counts them.
func (l *loader) addFile(ds hcl.Diagnostics) {
	if len(ds) == 0 {
		return
	}
	kept := diag.Limit(ds, diag.MaxPerFile, l.budget)
	l.budget = max(0, l.budget-len(kept))
	l.diags = append(l.diags, kept...)
}

// keepSource keeps src for quoting while the repository is small.
func (l *loader) keepSource(name string, src []byte) {
	if l.sourceBytes+len(src) <= limits.SourceBytes {
		l.repo.Sources[name] = src
		l.sourceBytes += len(src)
	}
}

func missingConfig(root, cfgPath string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Missing " + ConfigFile,
		Detail: fmt.Sprintf("Directory %q has no %s. Point at the repository root (the directory holding %s and %s/), "+
			"or create %s with %s (environment, handoff_root) and a policy block.",
			root, ConfigFile, ConfigFile, SpecsDir, ConfigFile, vaultBlockPhrase()),
		Subject: FileRange(cfgPath).Ptr(),
	}
}

// loadConfig reads and parses handoff.hcl; it reports whether the file
// exists (whatever its state).
func (l *loader) loadConfig(rd *dirHandle, cfgPath string) bool {
	src, _, err := rd.readFile(ConfigFile, cfgPath)
	if errors.Is(err, fs.ErrNotExist) {
		l.add(missingConfig(l.repo.Dir, cfgPath))
		return false
	}
	if err != nil {
		l.add(fileDiagnostic(cfgPath, err))
		return true
	}
	if d := CheckText(cfgPath, src); d != nil {
		l.add(d)
		return true
	}
	l.keepSource(cfgPath, src)
	cfg, cd := ParseConfig(cfgPath, src)
	l.repo.Config = cfg
	l.addFile(cd)
	return true
}

// specEntry is one entry found under specs/.
type specEntry struct {
	rel  string // path relative to specs/, slash-separated
	path string // path as ranges name it
}

// loadSpecs lists specs/, reports what it does not load and loads the rest.
func (l *loader) loadSpecs(rd *dirHandle, specDir string, hasConfig bool) {
	sd, err := rd.openDir(SpecsDir)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Without handoff.hcl the directory is probably not a
			// repository at all: that one error says it.
			if hasConfig {
				l.add(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Missing " + SpecsDir + "/ directory",
					Detail: fmt.Sprintf("%s has %s but no %s/ directory. Create it, even empty (git keeps an empty directory with a %s/.gitkeep file): "+
						"without it a wrong path would read as a repository without handoffs, and plan would revoke every handoff.",
						l.repo.Dir, ConfigFile, SpecsDir, SpecsDir),
					Subject: FileRange(specDir).Ptr(),
				})
			}
		default:
			l.add(fileDiagnostic(specDir, err))
		}
		return
	}
	defer sd.close()

	var loadable []specEntry
	w := &walker{l: l, specDir: specDir}
	w.walk(sd, "", 0, func(e specEntry) { loadable = append(loadable, e) })
	if w.tooMany {
		l.add(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Too many entries in " + SpecsDir + "/",
			Detail: fmt.Sprintf("%s holds more than %d entries (sub-directories included); handoff loads none of its specs. "+
				"A repository holds one spec per handoff: remove what is not a spec, or split the handoffs between repositories.",
				specDir, limits.Entries),
			Subject: FileRange(specDir).Ptr(),
		})
		return
	}
	if l.only != nil {
		loadable = slices.DeleteFunc(loadable, func(e specEntry) bool { return !l.only[SlugFromFilename(e.path)] })
	}
	sort.Slice(loadable, func(i, j int) bool { return loadable[i].path < loadable[j].path })
	l.parseSpecs(sd, specDir, loadable)
}

// walker lists specs/ and its sub-directories, bounded by MaxSpecEntries
// and MaxSpecDepth, reporting every entry that is not loaded.
type walker struct {
	l       *loader
	specDir string
	seen    int
	tooMany bool
}

// walk lists d (rel is its path under specs/, "" for specs/ itself) and
// calls load for each spec file of specs/ itself that is to be loaded. It
// returns the number of entries that look like specs found in sub-directories.
func (w *walker) walk(d *dirHandle, rel string, depth int, load func(specEntry)) (specLike int) {
	for !w.tooMany {
		batch, err := d.readDir(256)
		for _, e := range batch {
			w.seen++
			if w.seen > limits.Entries {
				w.tooMany = true
				return specLike
			}
			specLike += w.entry(d, rel, depth, e, load)
		}
		if err == io.EOF || len(batch) == 0 {
			break
		}
		if err != nil {
			w.l.add(fileDiagnostic(d.path, err))
			break
		}
	}
	return specLike
}

// entry classifies and reports one entry of a directory under specs/. It
// returns the number of errors it reported for spec-like entries inside a
// sub-directory of specs/ (or for a sub-directory itself), so that a
// directory holding some is not also reported as merely ignored.
func (w *walker) entry(d *dirHandle, rel string, depth int, e fs.DirEntry, load func(specEntry)) int {
	name := e.Name()
	path := filepath.Join(d.path, name)
	mode := e.Type()
	if rel != "" {
		rel += "/"
	}
	se := specEntry{rel: rel + name, path: path}
	looks := looksLikeSpec(name)
	switch {
	case mode.IsDir():
		found := 0
		if depth < MaxSpecDepth {
			sub, err := d.openDir(name)
			if err != nil {
				w.l.add(fileDiagnostic(path, err))
				return 1
			}
			found = w.walk(sub, se.rel, depth+1, load)
			sub.close()
		} else {
			// Not searched: a spec moved there would be revoked unseen.
			w.l.add(notLoaded(path, "Directory too deep to search",
				"%s lies more than %d levels below %s/; handoff does not look inside, so a spec there would be revoked unseen. Move what it holds out of %s/.",
				path, MaxSpecDepth, SpecsDir, SpecsDir))
			found++
		}
		if looks {
			w.l.add(notLoaded(path, "Directory named like a spec",
				"%s is a directory; a spec is a file. Move the specs it holds to %s/ and remove it.", path, SpecsDir))
			found++
		}
		if rel == "" && found == 0 && !w.tooMany {
			w.l.add(&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Directory ignored",
				Detail: fmt.Sprintf("%s is a directory; handoff loads only %s/*.hcl and %s/*.hcl.json, not sub-directories, so everything in it is ignored. "+
					"Move it out of %s/ to silence this warning.", path, SpecsDir, SpecsDir, SpecsDir),
				Subject: FileRange(path).Ptr()})
		}
		return found
	case rel != "":
		if looks {
			w.l.add(notLoaded(path, "Spec in a sub-directory not loaded",
				"%s is in a sub-directory of %s/; handoff loads only the files of %s/ itself, so this spec would never be provisioned, "+
					"and a spec moved here would be revoked at the next apply. Move it to %s.", path, SpecsDir, SpecsDir, filepath.Join(w.specDir, name)))
			return 1
		}
		return 0 // reported with its directory
	case looks && mode&fs.ModeType != 0:
		// A link, FIFO, device or socket named like a spec. Nothing of
		// it is opened, let alone read.
		w.l.add(fileDiagnostic(path, &FileError{Path: path, Kind: kindOf(mode)}))
		return 0
	case looks && strings.HasPrefix(name, "."):
		w.l.add(notLoaded(path, "Hidden spec file not loaded",
			"%s starts with a dot; handoff ignores hidden files, so this spec would never be provisioned, "+
				"and a spec renamed so would be revoked at the next apply. Rename it to %s, or remove it.",
			path, filepath.Join(d.path, canonicalName(strings.TrimLeft(name, ".")))))
		return 0
	case looks && !IsSpecFile(name):
		w.l.add(notLoaded(path, "Spec file name not in lower case",
			"%s has an upper-case extension; handoff loads only *.hcl and *.hcl.json, so this spec would never be provisioned. Rename it to %s.",
			path, filepath.Join(d.path, canonicalName(name))))
		return 0
	case looks:
		load(se)
		return 0
	case mode.IsRegular() && quietNames[strings.ToLower(name)]:
		return 0
	}
	what := "File"
	if mode&fs.ModeType != 0 {
		what = "Entry"
	}
	kind := "a file"
	if mode&fs.ModeType != 0 {
		kind = kindOf(mode)
	}
	w.l.add(&hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  what + " ignored",
		Detail: fmt.Sprintf("%s is %s that is not a spec (*.hcl or *.hcl.json), so handoff ignores it and does not open it. "+
			"Move it out of %s/ to silence this warning; if it is a spec, name it <slug>.hcl.", path, kind, SpecsDir),
		Subject: FileRange(path).Ptr(),
	})
	return 0
}

// canonicalName is name with its spec extension in lower case.
func canonicalName(name string) string {
	l := strings.ToLower(name)
	for _, ext := range []string{".hcl.json", ".hcl"} {
		if strings.HasSuffix(l, ext) {
			return name[:len(name)-len(ext)] + ext
		}
	}
	return name
}

func notLoaded(path, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: FileRange(path).Ptr()}
}

type parseResult struct {
	src     []byte // nil unless the file is kept for quoting
	handoff *Handoff
	diags   hcl.Diagnostics
	read    int   // bytes read
	kept    int64 // KeptSize of handoff
}

// parseSpecs reads and parses the spec files of specs/ with a bounded pool
// of workers. Results are taken in order, with few parsed ahead, so that
// the bounds stop the work at the same file whatever the timing.
func (l *loader) parseSpecs(sd *dirHandle, specDir string, files []specEntry) {
	n := len(files)
	if n == 0 {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), n)
	out := make([]chan parseResult, n)
	for i := range out {
		out[i] = make(chan parseResult, 1)
	}
	next := make(chan int)
	ahead := make(chan struct{}, 2*workers) // results parsed but not yet taken
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var big sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] <- parseOne(sd, files[i], &big)
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range n {
			select {
			case ahead <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case next <- i:
			case <-stop:
				return
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)

	read, kept := 0, int64(0)
	for i := range n {
		r := <-out[i]
		<-ahead
		read += r.read
		kept += r.kept
		if read > limits.SpecBytes || kept > limits.Parsed {
			what := fmt.Sprintf("%s of spec files", mib(int64(limits.SpecBytes)))
			if kept > limits.Parsed {
				what = fmt.Sprintf("%s of parsed specs", mib(limits.Parsed))
			}
			l.add(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Specs too large in all",
				Detail: fmt.Sprintf("handoff reads at most %s; the specs from %s on (%d of %d files) were not loaded. "+
					"A real spec is under 2 KB: look for files that are not specs, or split the handoffs between repositories.",
					what, files[i].path, n-i, n),
				Subject: FileRange(specDir).Ptr(),
			})
			return
		}
		if r.src != nil {
			l.keepSource(files[i].path, r.src)
		}
		l.addFile(r.diags)
		if r.handoff != nil {
			l.repo.Handoffs = append(l.repo.Handoffs, r.handoff)
		}
	}
}

// mib formats n bytes in MiB, or in bytes when smaller.
func mib(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// parseOne reads one spec through the safe reader and parses it, holding
// big while it parses a file of bigSpec bytes or more.
func parseOne(sd *dirHandle, e specEntry, big *sync.Mutex) parseResult {
	src, _, err := sd.readFile(filepath.Base(e.path), e.path)
	if err != nil {
		return parseResult{diags: hcl.Diagnostics{fileDiagnostic(e.path, err)}}
	}
	if d := CheckText(e.path, src); d != nil {
		return parseResult{diags: hcl.Diagnostics{d}, read: len(src)}
	}
	if len(src) >= bigSpec {
		big.Lock()
		defer big.Unlock()
	}
	h, diags := ParseHandoffFile(e.path, src)
	if len(diags) > diag.MaxPerFile {
		// Drop the bulk here, in the worker: a file of garbage may have
		// thousands; addFile limits again against the running budget.
		diags = diag.Limit(diags, diag.MaxPerFile, diag.MaxPerFile+1)
	}
	r := parseResult{handoff: h, diags: diags, read: len(src), src: src}
	if h != nil {
		r.kept = KeptSize(h)
	}
	return r
}

// FillSources adds to r.Sources the files the diagnostics point into that
// it does not hold yet, so that they can be quoted: handoff.hcl and the
// spec files of specs/, read again through the safe reader (a file that
// is now a link, too large or binary stays unquoted). Call it with the
// diagnostics to be shown (after diag.Limit): it reads at most one file
// per diagnostic.
func (r *Repo) FillSources(diags hcl.Diagnostics) {
	if r == nil {
		return
	}
	if r.Sources == nil {
		r.Sources = make(map[string][]byte)
	}
	cfgPath := filepath.Join(r.Dir, ConfigFile)
	specDir := filepath.Join(r.Dir, SpecsDir)
	for _, d := range diags {
		if d.Subject == nil || diag.OmittedOf(d) != nil {
			continue
		}
		name := d.Subject.Filename
		if _, ok := r.Sources[name]; ok {
			continue
		}
		var src []byte
		switch {
		case name == cfgPath:
			src = readRepoFile(r.Dir, "", ConfigFile)
		case filepath.Dir(name) == specDir && IsSpecFile(filepath.Base(name)):
			src = readRepoFile(r.Dir, SpecsDir, filepath.Base(name))
		}
		r.Sources[name] = src // nil when unreadable: not tried again
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

// readRepoFile reads root/sub/name through the safe reader, sub opened
// without following a link; nil when it cannot or is not text.
func readRepoFile(root, sub, name string) []byte {
	d, err := openDirFollow(root)
	if err != nil {
		return nil
	}
	defer d.close()
	if sub != "" {
		s, err := d.openDir(sub)
		if err != nil {
			return nil
		}
		defer s.close()
		d = s
	}
	src, _, err := d.readFile(name, filepath.Join(d.path, name))
	if err != nil || CheckText(name, src) != nil {
		return nil
	}
	return src
}
