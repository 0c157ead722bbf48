// Package policytest reads the corpus of invalid repositories kept in
// internal/policy/testdata/invalid, for the tests of policy and of the CLI
// and for the fuzz seeds.
//
// Each case is one txtar-style file: a comment, then sections "-- NAME --"
// holding the files of a repository (handoff.hcl, specs/…), and optionally a
// "-- stderr --" section holding the golden text output of
// "handoff validate". Comment lines of the form
//
//	want: FILE:LINE:COL: SEVERITY: SUMMARY | DO
//
// list, in the order validate prints them, every diagnostic the case must
// produce; DO, when present, is text the diagnostic's detail must contain
// (the part that tells the user what to do).
package policytest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// StderrSection is the name of the section that holds golden stderr.
const StderrSection = "stderr"

// File is one file of a case.
type File struct {
	Name string // slash-separated, relative to the repository
	Data []byte // the content
}

// Want is one expected diagnostic.
type Want struct {
	Location string // FILE:LINE:COL, FILE relative to the repository
	Severity string // "error" or "warning"
	Summary  string // exact summary
	Do       string // substring of the detail; may be empty
}

// String formats w as its want line (without "want: ").
func (w Want) String() string {
	s := fmt.Sprintf("%s: %s: %s", w.Location, w.Severity, w.Summary)
	if w.Do != "" {
		s += " | " + w.Do
	}
	return s
}

// Case is one corpus entry.
type Case struct {
	Name      string   // file name without .txtar
	Path      string   // the .txtar file
	Comment   []string // comment lines other than want lines
	Wants     []Want   // every expected diagnostic, in output order
	Files     []File   // the repository
	Stderr    string   // golden text output of validate
	HasStderr bool     // whether the case has a stderr section
}

// Load reads every *.txtar case in dir, sorted by name.
func Load(dir string) ([]*Case, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var cases []*Case
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		c, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		c.Path = n
		c.Name = strings.TrimSuffix(filepath.Base(n), ".txtar")
		cases = append(cases, c)
	}
	return cases, nil
}

// Parse parses one case.
func Parse(data []byte) (*Case, error) {
	c := &Case{}
	lines := strings.SplitAfter(string(data), "\n")
	cur := -1 // index in c.Files, or -2 for stderr
	var stderr strings.Builder
	for _, line := range lines {
		if line == "" {
			continue
		}
		if name, ok := marker(line); ok {
			if name == StderrSection {
				cur, c.HasStderr = -2, true
				continue
			}
			c.Files = append(c.Files, File{Name: name})
			cur = len(c.Files) - 1
			continue
		}
		switch {
		case cur == -1:
			text := strings.TrimRight(line, "\n")
			if rest, ok := strings.CutPrefix(text, "want: "); ok {
				w, err := parseWant(rest)
				if err != nil {
					return nil, err
				}
				c.Wants = append(c.Wants, w)
			} else {
				c.Comment = append(c.Comment, text)
			}
		case cur == -2:
			stderr.WriteString(line)
		default:
			c.Files[cur].Data = append(c.Files[cur].Data, line...)
		}
	}
	c.Stderr = stderr.String()
	return c, nil
}

func marker(line string) (string, bool) {
	l := strings.TrimRight(line, "\n")
	if strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") && len(l) > 6 {
		return strings.TrimSpace(l[3 : len(l)-3]), true
	}
	return "", false
}

func parseWant(s string) (Want, error) {
	var w Want
	main, do, _ := strings.Cut(s, " | ")
	w.Do = strings.TrimSpace(do)
	// FILE:LINE:COL: SEVERITY: SUMMARY
	parts := strings.SplitN(main, ": ", 3)
	if len(parts) != 3 {
		return w, fmt.Errorf("bad want line %q", s)
	}
	w.Location, w.Severity, w.Summary = parts[0], parts[1], parts[2]
	return w, nil
}

// Format serialises the case back, with its Stderr section when HasStderr.
func (c *Case) Format() []byte {
	var b bytes.Buffer
	for _, l := range c.Comment {
		b.WriteString(l + "\n")
	}
	for _, w := range c.Wants {
		b.WriteString("want: " + w.String() + "\n")
	}
	for _, f := range c.Files {
		fmt.Fprintf(&b, "-- %s --\n", f.Name)
		b.Write(f.Data)
	}
	if c.HasStderr {
		fmt.Fprintf(&b, "-- %s --\n", StderrSection)
		b.WriteString(c.Stderr)
	}
	return b.Bytes()
}

// Materialize writes the case's files under dir.
func (c *Case) Materialize(dir string) error {
	for _, f := range c.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
