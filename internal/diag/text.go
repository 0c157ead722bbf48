package diag

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// ANSI sequences used when color is on.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiDim    = "\x1b[2m"
)

// WriteText writes diags for a person, sorted as Sort, each as:
//
//	specs/x.hcl:7:5: error: Forbidden GitHub permission "administration"
//	    7 |     administration = "write"
//	      |     ^^^^^^^^^^^^^^
//	  No handoff may ever hold "administration": … Remove it; …
//
// followed by a blank line. The quoted line comes from sources (file name →
// bytes, as spec.Repo.Sources); it is left out when the file is not there,
// and for the "and N more …" diagnostics of Limit. A line longer than 160
// characters is cut around the range, an ellipsis marking each cut.
// WriteText shows every diagnostic it is given: apply Limit first.
// color adds ANSI colors; the caller decides (terminal, NO_COLOR, -no-color).
// Control characters from the input are neutralised, so a hostile spec
// cannot drive the terminal.
func WriteText(w io.Writer, diags hcl.Diagnostics, sources map[string][]byte, color bool) error {
	var b bytes.Buffer
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	for _, d := range Sort(diags) {
		sev, code := severity(d.Severity), ansiRed
		if d.Severity == hcl.DiagWarning {
			code = ansiYellow
		}
		if s := d.Subject; s != nil {
			b.WriteString(paint(ansiBold, fmt.Sprintf("%s:%d:%d:", clean(s.Filename), s.Start.Line, s.Start.Column)))
			b.WriteString(" ")
		}
		b.WriteString(paint(code, sev+":"))
		b.WriteString(" ")
		b.WriteString(paint(ansiBold, clean(d.Summary)))
		b.WriteString("\n")
		if s := d.Subject; s != nil && OmittedOf(d) == nil {
			writeSnippet(&b, sources[s.Filename], *s, func(x string) string { return paint(code, x) }, func(x string) string { return paint(ansiDim, x) })
		}
		for _, line := range strings.Split(clean(d.Detail), "\n") {
			if line == "" {
				continue
			}
			b.WriteString("  ")
			b.WriteString(line)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeSnippet quotes the first line of rng from src with a caret line under
// the range. It writes nothing when src does not hold the range.
func writeSnippet(b *bytes.Buffer, src []byte, rng hcl.Range, caret, dim func(string) string) {
	start := rng.Start.Byte
	if src == nil || start < 0 || start > len(src) || rng.Start.Line < 1 {
		return
	}
	lineStart := bytes.LastIndexByte(src[:start], '\n') + 1
	lineEnd := len(src)
	if i := bytes.IndexByte(src[lineStart:], '\n'); i >= 0 {
		lineEnd = lineStart + i
	}
	line := bytes.TrimSuffix(src[lineStart:lineEnd], []byte("\r"))
	startOff := min(start-lineStart, len(line))
	endOff := len(line)
	if rng.End.Line == rng.Start.Line && rng.End.Byte >= start {
		endOff = min(rng.End.Byte-lineStart, len(line))
	}

	// A long line (minified JSON, a one-line blob) is cut to a window
	// around the range, marked with an ellipsis where cut.
	text := []rune(string(line))
	startR := utf8.RuneCount(line[:startOff])
	endR := startR + utf8.RuneCount(line[startOff:endOff])
	from, to := 0, len(text)
	if len(text) > maxSnippetWidth {
		from = max(0, startR-snippetLead)
		to = min(len(text), from+maxSnippetWidth)
		from = max(0, to-maxSnippetWidth)
	}
	var lead, tail string
	if from > 0 {
		lead = "…"
	}
	if to < len(text) {
		tail = "…"
	}

	num := strconv.Itoa(rng.Start.Line)
	gutter := strings.Repeat(" ", len(num)+4)
	fmt.Fprintf(b, "%s %s %s\n", dim(fmt.Sprintf("%*s", len(num)+4, num)), dim("|"), lead+clean(string(text[from:to]))+tail)

	var pad strings.Builder
	if lead != "" {
		pad.WriteByte(' ')
	}
	for _, r := range text[from:startR] {
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	n := max(min(endR, to)-startR, 1)
	fmt.Fprintf(b, "%s %s %s%s\n", gutter, dim("|"), pad.String(), caret(strings.Repeat("^", n)))
}

// A quoted line longer than maxSnippetWidth characters is cut to that many,
// starting snippetLead characters before the range.
const (
	maxSnippetWidth = 160
	snippetLead     = 40
)

// clean replaces control characters other than tab and newline (so CR too)
// by '?', and invalid UTF-8 by U+FFFD.
func clean(s string) string { return sanitize(s, "\t\n") }

// sanitize replaces control characters not in keep by '?', and invalid UTF-8
// by U+FFFD.
func sanitize(s, keep string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case strings.ContainsRune(keep, r):
			return r
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
