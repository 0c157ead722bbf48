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
			files, err := fmtFiles(targets)
			if err != nil {
				return exitf(exitError, "handoff fmt: %v", err)
			}
			write := c.Bool("write") && !c.Bool("check")
			var diags hcl.Diagnostics
			sources := map[string][]byte{}
			changed := 0
			for _, name := range files {
				src, err := os.ReadFile(name)
				if err != nil {
					return exitf(exitError, "handoff fmt: %v", err)
				}
				if _, d := hclsyntax.ParseConfig(src, name, hcl.InitialPos); d.HasErrors() {
					sources[name] = src
					diags = append(diags, d...)
					continue
				}
				out := hclwrite.Format(src)
				if bytes.Equal(src, out) {
					continue
				}
				changed++
				if c.Bool("list") {
					fmt.Fprintln(e.stdout, name)
				}
				if c.Bool("diff") {
					fmt.Fprint(e.stdout, unifiedDiff(name, string(src), string(out)))
				}
				if write {
					if err := writeFileAtomic(name, out); err != nil {
						return exitf(exitError, "handoff fmt: %v", err)
					}
				}
			}
			if len(diags) > 0 {
				if err := diag.WriteText(e.stderr, diags, sources, e.color(c)); err != nil {
					return exitf(exitError, "handoff fmt: %v", err)
				}
				if e.getenv("GITHUB_ACTIONS") == "true" {
					_ = diag.WriteGitHubActions(e.stderr, diags, e.getenv("GITHUB_WORKSPACE"))
				}
				errs, _ := diag.Counts(diags)
				return exitf(exitError, "handoff fmt: %s; fix the syntax, then run fmt again", plural(errs, "syntax error"))
			}
			if c.Bool("check") && changed > 0 {
				return exitf(exitUnformatted, "handoff fmt: %s not formatted; run 'handoff fmt' to fix", plural(changed, "file"))
			}
			return nil
		},
	}
}

// fmtFiles expands the targets into a sorted list of files: a directory
// gives the *.hcl files in it and in its specs/ directory; a file is taken
// as is, unless it is HCL JSON.
func fmtFiles(targets []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			files = append(files, name)
		}
	}
	for _, t := range targets {
		st, err := os.Stat(t)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if strings.HasSuffix(t, ".json") {
				return nil, fmt.Errorf("%s: fmt formats native HCL only; HCL JSON files are left as they are", t)
			}
			add(t)
			continue
		}
		for _, dir := range []string{t, filepath.Join(t, spec.SpecsDir)} {
			entries, err := os.ReadDir(dir)
			if errors.Is(err, fs.ErrNotExist) && dir != t {
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, en := range entries {
				if !en.IsDir() && !strings.HasPrefix(en.Name(), ".") && strings.HasSuffix(en.Name(), ".hcl") {
					add(filepath.Join(dir, en.Name()))
				}
			}
		}
	}
	sort.Strings(files)
	return files, nil
}

// writeFileAtomic replaces name with data through a temporary file in the
// same directory, keeping the file's permissions.
func writeFileAtomic(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
