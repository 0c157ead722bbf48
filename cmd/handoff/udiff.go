package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffContext is the number of unchanged lines shown around each change.
const diffContext = 3

// diffLine is one line of a line diff: op is ' ', '-' or '+'; text keeps
// its final newline, if any.
type diffLine struct {
	op   byte
	text string
}

// unifiedDiff returns the unified diff (as diff -u and git diff print it)
// from old to new of the file at path, with headers "--- a/path" and
// "+++ b/path"; "" when the contents are equal.
func unifiedDiff(path, old, new string) string {
	if old == new {
		return ""
	}
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // exact diff; files are small
	a, b, lines := dmp.DiffLinesToRunes(old, new)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(a, b, false), lines)

	var all []diffLine
	for _, d := range diffs {
		op := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = '-'
		case diffmatchpatch.DiffInsert:
			op = '+'
		}
		for _, l := range splitLines(d.Text) {
			all = append(all, diffLine{op: op, text: l})
		}
	}

	name := strings.TrimPrefix(filepath.ToSlash(path), "/")
	var out strings.Builder
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", name, name)
	for i := 0; i < len(all); {
		// Find the next change.
		for i < len(all) && all[i].op == ' ' {
			i++
		}
		if i == len(all) {
			break
		}
		start := max(i-diffContext, 0)
		// Extend the hunk while changes are at most 2*context lines apart.
		end := i
		for j := i; j < len(all); j++ {
			if all[j].op != ' ' {
				end = j
			} else if j-end > 2*diffContext {
				break
			}
		}
		stop := min(end+diffContext+1, len(all))
		writeHunk(&out, all, start, stop)
		i = stop
	}
	return out.String()
}

// writeHunk writes lines [start, stop) of all as one hunk.
func writeHunk(out *strings.Builder, all []diffLine, start, stop int) {
	oldLine, newLine := 1, 1
	for _, l := range all[:start] {
		if l.op != '+' {
			oldLine++
		}
		if l.op != '-' {
			newLine++
		}
	}
	oldCount, newCount := 0, 0
	for _, l := range all[start:stop] {
		if l.op != '+' {
			oldCount++
		}
		if l.op != '-' {
			newCount++
		}
	}
	// An empty side starts at the line before, as diff -u prints it.
	if oldCount == 0 {
		oldLine--
	}
	if newCount == 0 {
		newLine--
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(oldLine, oldCount), hunkRange(newLine, newCount))
	for _, l := range all[start:stop] {
		out.WriteByte(l.op)
		out.WriteString(l.text)
		if !strings.HasSuffix(l.text, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

func hunkRange(line, count int) string {
	if count == 1 {
		return fmt.Sprint(line)
	}
	return fmt.Sprintf("%d,%d", line, count)
}

// splitLines splits s after each newline; the last line may lack one.
func splitLines(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}
