package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/atomicfile"
	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/spec"
)

// exitUnformatted is the status of "fmt -check" when a file would change.
const exitUnformatted = 3

func init() { register(fmtCommand) }

func fmtCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "fmt",
		Usage:     "rewrite handoff.hcl and specs/*.hcl in the canonical layout",
		ArgsUsage: "[DIR|FILE...]",
		Description: "For a DIR (default \".\"), formats the *.hcl files in DIR and in DIR/specs; HCL JSON files are left alone.\n" +
			"Files are read as validate reads them: a link, a FIFO or a device is refused, and so is a file\n" +
			"over 64 KiB or not UTF-8 text.\n" +
			"Exit status: 0 done, 1 syntax error, 3 with -check when a file is not formatted.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "write nothing; exit 3 if any file is not formatted"},
			&cli.BoolFlag{Name: "diff", Usage: "print a unified diff of the changes on stdout"},
			&cli.BoolFlag{Name: "write", Value: true, Usage: "rewrite files in place (false with -check)"},
			&cli.BoolFlag{Name: "list", Value: true, Usage: "print the names of the files that change on stdout"},
		},
		Action: func(c *cli.Context) error {
			targets := c.Args().Slice()
			if err := misplacedFlag(targets); err != nil {
				return usageError(c, err, true)
			}
			if len(targets) == 0 {
				targets = []string{"."}
			}
			files, diags, closeDirs, err := fmtFiles(targets)
			defer closeDirs()
			if err != nil {
				return exitf(exitError, "handoff fmt: %v", err)
			}
			write := c.Bool("write") && !c.Bool("check")
			sources := map[string][]byte{}
			syntaxOnly := len(diags) == 0
			changed := 0
			for _, f := range files {
				src, info, ds := f.read()
				if ds != nil {
					diags = append(diags, ds...)
					syntaxOnly = false
					continue
				}
				if _, d := hclsyntax.ParseConfig(src, f.path, hcl.InitialPos); d.HasErrors() {
					// Only the first files with problems are shown: keep
					// the sources of those alone, and the diagnostics
					// bounded however many files are broken.
					if len(sources) < diag.MaxTotal {
						sources[f.path] = src
					}
					diags = append(diags, diag.Limit(d, diag.MaxPerFile, diag.MaxPerFile+1)...)
					if len(diags) > 2*diag.MaxTotal {
						diags = diag.Limit(diags, diag.MaxPerFile, diag.MaxTotal)
					}
					continue
				}
				out := hclwrite.Format(src)
				if bytes.Equal(src, out) {
					continue
				}
				changed++
				if c.Bool("list") {
					fmt.Fprintln(e.stdout, f.path)
				}
				if c.Bool("diff") {
					fmt.Fprint(e.stdout, unifiedDiff(f.path, string(src), string(out)))
				}
				if write {
					if err := atomicfile.WriteFile(f.path, out, info.Mode().Perm()); err != nil {
						return exitf(exitError, "handoff fmt: %v", err)
					}
				}
			}
			if len(diags) > 0 {
				diags = diag.Limit(diags, diag.MaxPerFile, diag.MaxTotal)
				if err := diag.WriteText(e.stderr, diags, sources, e.colorFor(c, e.stderr)); err != nil {
					return exitf(exitError, "handoff fmt: %v", err)
				}
				if e.getenv("GITHUB_ACTIONS") == "true" {
					_ = diag.WriteGitHubActions(e.stderr, diags, e.getenv("GITHUB_WORKSPACE"))
				}
				errs, _ := diag.Counts(diags)
				if syntaxOnly {
					return exitf(exitError, "handoff fmt: %s; fix the syntax, then run fmt again", plural(errs, "syntax error"))
				}
				return exitf(exitError, "handoff fmt: %s; fix them, then run fmt again", plural(errs, "error"))
			}
			if c.Bool("check") && changed > 0 {
				return exitf(exitUnformatted, "handoff fmt: %s not formatted; run 'handoff fmt' to fix", plural(changed, "file"))
			}
			return nil
		},
	}
}

// fmtFile is one file to format, read through the safe reader: relative
// to the directory it was listed in (never through a link), or by its path
// when named on the command line.
type fmtFile struct {
	path string
	dir  *spec.Dir // nil for a file named on the command line
	name string    // base name in dir
}

func (f fmtFile) read() ([]byte, fs.FileInfo, hcl.Diagnostics) {
	if f.dir == nil {
		return spec.ReadSource(f.path)
	}
	return f.dir.ReadSource(f.name)
}

// fmtFiles expands the targets into a sorted list of files: a directory
// gives the *.hcl files in it and in its specs/ directory; a file is taken
// as is, unless it is HCL JSON. The directories are opened as the safe
// reader does (specs/ never through a link); an entry named *.hcl that is
// not a regular file (a link, a FIFO, a device) is refused with a
// diagnostic and nothing of it is opened. closeDirs closes the directories
// the files are read from.
func fmtFiles(targets []string) (files []fmtFile, diags hcl.Diagnostics, closeDirs func(), err error) {
	var dirs []*spec.Dir
	closeDirs = func() {
		for _, d := range dirs {
			d.Close()
		}
	}
	seen := map[string]bool{}
	add := func(f fmtFile) {
		if !seen[f.path] {
			seen[f.path] = true
			files = append(files, f)
		}
	}
	for _, t := range targets {
		st, err := os.Stat(t)
		if err != nil {
			return nil, nil, closeDirs, fmt.Errorf("%s: %w", t, pathError(err))
		}
		if !st.IsDir() {
			if strings.HasSuffix(t, ".json") {
				return nil, nil, closeDirs, fmt.Errorf("%s: fmt formats native HCL only; HCL JSON files are left as they are", t)
			}
			add(fmtFile{path: t})
			continue
		}
		top, err := spec.OpenDir(t)
		if err != nil {
			return nil, nil, closeDirs, err
		}
		dirs = append(dirs, top)
		list := []*spec.Dir{top}
		sub, err := top.Sub(spec.SpecsDir)
		switch {
		case err == nil:
			dirs = append(dirs, sub)
			list = append(list, sub)
		case errors.Is(err, fs.ErrNotExist):
		default:
			diags = append(diags, spec.FileDiagnostic(filepath.Join(t, spec.SpecsDir), err))
		}
		for _, d := range list {
			entries, err := d.Entries(spec.MaxSpecEntries)
			if err != nil {
				return nil, nil, closeDirs, err
			}
			for _, en := range entries {
				name := en.Name()
				if en.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".hcl") {
					continue
				}
				path := filepath.Join(d.Path(), name)
				if !en.Type().IsRegular() {
					diags = append(diags, spec.RefusedDiagnostic(path, en.Type()))
					continue
				}
				add(fmtFile{path: path, dir: d, name: name})
			}
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, diags, closeDirs, nil
}
