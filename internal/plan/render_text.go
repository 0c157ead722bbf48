package plan

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultTextWidth is the width prose is wrapped to when TextOptions.Width is
// not set. Diff lines are never wrapped.
const DefaultTextWidth = 80

// TextOptions tunes RenderText.
type TextOptions struct {
	// Color adds ANSI colour codes: green +, yellow ~, red -, magenta -/+,
	// bold red escalation markers. The command decides it (flags,
	// NO_COLOR, whether the output is a terminal); never set it when the
	// output is not a terminal.
	Color bool
	// Width is the terminal width prose paragraphs (the header, warnings)
	// are wrapped to; 0 means DefaultTextWidth.
	Width int
}

// ANSI SGR sequences.
const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiBoldRed = "\x1b[1;31m"
)

// RenderText writes the plan for a terminal in the style of terraform plan: a
// header (environment, commit, policy result), a legend of the symbols used,
// one block per changed handoff with its reason and, per changed surface, the
// grant line by line (+ added, - removed, ~ changed as `key: "old" → "new"`,
// escalations marked "(!) escalation"), a note counting the unchanged
// handoffs, the mass-revocation warning when the guard tripped (a "guard:"
// header line counts the revocations before their TTL ends whenever there
// are some), and the summary line "Plan: 2 to create, 1 to refresh, 0 to
// replace, 0 to revoke." or "No changes. Live credentials match the specs."
//
// Values are quoted Go-style, so a control character in a value cannot reach
// the terminal. The output depends only on p and opts (no clock, no
// environment), so it can be golden-tested.
func RenderText(w io.Writer, p *Plan, opts TextOptions) error {
	if p == nil {
		return errors.New("plan: render text: nil plan")
	}
	t := &textWriter{color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = DefaultTextWidth
	}
	t.header(p)
	changed := changedHandoffs(p)
	held := heldHandoffs(p)
	if len(changed) > 0 {
		t.legend(changed)
		t.b.WriteString("handoff will perform the following actions:\n\n")
		for _, h := range changed {
			t.handoff(p, h)
		}
		hidden := p.Summary().NoOp
		for _, h := range held {
			if !h.Action.IsChange() {
				hidden--
			}
		}
		if hidden > 0 {
			t.b.WriteString("  " + plural(hidden, "unchanged handoff is", "unchanged handoffs are") + " not shown.\n\n")
		}
	}
	if len(held) > 0 {
		t.held(held)
	}
	t.rotation(p)
	t.guard(p.RevocationGuard)
	switch {
	case p.HasChanges():
		t.b.WriteString(t.paint(ansiBold, "Plan:") + " " + p.Summary().String() + rotationSuffix(p) + ".\n")
	case len(held) > 0:
		t.b.WriteString(t.paint(ansiBold, heldNoChangesSentence(len(held))) + "\n")
	default:
		t.b.WriteString(t.paint(ansiBold, noChangesSentence) + "\n")
	}
	if line := RefreshesLine(p.Refreshes); line != "" {
		t.b.WriteString(t.paint(ansiBold, "Refreshes:") + " " + line + "\n")
	}
	_, err := io.WriteString(w, t.b.String())
	return err
}

type textWriter struct {
	b     strings.Builder
	color bool
	width int
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func symbolColor(sym string) string {
	switch sym {
	case "+":
		return ansiGreen
	case "~":
		return ansiYellow
	case "-":
		return ansiRed
	case "-/+":
		return ansiMagenta
	}
	return ""
}

// line writes a diff line: the symbol right-aligned in three columns after
// depth levels of four spaces, as terraform does, so that "+", "~", "-" and
// "-/+" line up.
func (t *textWriter) line(depth int, sym, text string) {
	t.b.WriteString(strings.Repeat("    ", depth))
	pad := strings.Repeat(" ", max(0, 3-len(sym)))
	t.b.WriteString(pad)
	if c := symbolColor(sym); c != "" {
		t.b.WriteString(t.paint(c, sym))
	} else {
		t.b.WriteString(sym)
	}
	t.b.WriteString(" ")
	t.b.WriteString(text)
	t.b.WriteString("\n")
}

// closer writes the closing brace of a block opened at depth-1.
func (t *textWriter) closer(depth int, s string) {
	t.b.WriteString(strings.Repeat("    ", depth) + s + "\n")
}

// para writes prose wrapped to the width; continuation lines are indented by
// hang spaces, or start with cont when given (of width hang).
func (t *textWriter) para(prefix, text string, hang int, cont ...string) {
	words := strings.Fields(text)
	col := visibleLen(prefix)
	t.b.WriteString(prefix)
	next := strings.Repeat(" ", hang)
	if len(cont) > 0 {
		next = cont[0]
	}
	first := true
	for _, w := range words {
		n := len([]rune(w))
		if !first && col+1+n > t.width {
			t.b.WriteString("\n" + next)
			col = hang
			first = true
		}
		if !first {
			t.b.WriteString(" ")
			col++
		}
		t.b.WriteString(w)
		col += n
		first = false
	}
	t.b.WriteString("\n")
}

func (t *textWriter) header(p *Plan) {
	t.para("", fmt.Sprintf("Plan for %s in environment %q, vault root %q.",
		plural(len(p.Handoffs), "handoff", "handoffs"), p.Environment, p.HandoffRoot), 0)
	specs := shortDigest(p.SpecsDigest)
	if p.GitCommit != "" {
		specs = "commit " + shortCommit(p.GitCommit) + ", " + specs
	}
	t.para("  specs:      ", specs, 14)
	t.para("  live state: ", shortDigest(p.StateFingerprint), 14)
	result := "passed"
	if !p.Policy.Passed {
		result = t.paint(ansiBoldRed, "failed")
	}
	t.para("  policy:     ", result+", "+plural(len(p.Policy.Checks), "check", "checks")+", "+
		plural(len(p.Policy.Warnings), "warning", "warnings"), 14)
	for _, w := range p.Policy.Warnings {
		t.para("    "+t.paint(ansiYellow, "warning:")+" ", w, 13)
	}
	if g := p.RevocationGuard; g != nil && (g.Revocations > 0 || g.Tripped) {
		counts := fmt.Sprintf("%d of %d live %s (%d%%) revoked before their TTL ends; limits %d and %s",
			g.Revocations, g.Live, oneOrMany(g.Live, "handoff", "handoffs"), g.Percent(), g.MaxRevocations, g.MaxRevocationShare)
		if g.Tripped {
			counts = t.paint(ansiBoldRed, "MASS REVOCATION:") + " " + counts + ": apply refuses this plan without " + AllowMassRevocationFlag
		}
		t.para("  guard:      ", counts, 14)
	}
	t.b.WriteString("\n")
}

// guard writes the mass-revocation warning, right above the summary line
// where a long plan's reader looks.
func (t *textWriter) guard(g *RevocationGuard) {
	if g == nil || !g.Tripped {
		return
	}
	mark := t.paint(ansiBoldRed, "!!!") + " "
	t.para(mark, "Mass revocation: "+g.Sentence()+". handoff apply refuses this plan unless run with "+AllowMassRevocationFlag+
		". If specs/ was lost, or this is the wrong directory or branch, do not apply it: restore the specs and plan again.", 4, mark)
	t.b.WriteString("\n")
}

// held lists the handoffs a hold keeps from being minted: who revoked them,
// when, why, and how to proceed. Its words are the user's and the
// manifest's: control characters are escaped.
func (t *textWriter) held(held []Handoff) {
	t.para("", t.paint(ansiYellow, "Held back:")+" "+plural(len(held), "handoff has its spec in the repository", "handoffs have their specs in the repository")+
		", but apply does not mint "+itOrThem(len(held))+":", 0)
	t.b.WriteString("\n")
	quote := func(s string) string { return "'" + printable(s) + "'" }
	for _, h := range held {
		what, next := holdWords(h, holdStyle{code: quote, text: printable, time: formatTime})
		t.para("  # ", fmt.Sprintf("handoff %q: %s.", h.Slug, what), 4, "  # ")
		if h.Description != "" {
			t.para("  #   ", "("+printable(ClipDescription(h.Description))+")", 6, "  #   ")
		}
		t.para("  #   ", next, 6, "  #   ")
		t.b.WriteString("\n")
	}
}

func (t *textWriter) legend(changed []Handoff) {
	used := map[Action]bool{}
	for _, h := range changed {
		used[h.Action] = true
		for _, c := range h.Changes {
			used[c.Action] = true
		}
	}
	t.b.WriteString("Actions are indicated with the following symbols:\n")
	for _, a := range []struct {
		action Action
		text   string
	}{
		{Create, "create"},
		{Refresh, "refresh (mint again, same grant)"},
		{Replace, "replace (revoke, then mint with the new grant)"},
		{Revoke, "revoke"},
	} {
		if used[a.action] {
			t.line(0, a.action.Symbol(), a.text)
		}
	}
	t.b.WriteString("\n")
}

func (t *textWriter) handoff(p *Plan, h Handoff) {
	comment := fmt.Sprintf("handoff %q will be %s", h.Slug, h.Action.pastTense())
	if h.Reason != "" {
		comment += ": " + printable(h.Reason)
	}
	t.line(0, "#", comment)
	t.line(0, h.Action.Symbol(), fmt.Sprintf("handoff %q {", h.Slug))

	var meta []textEntry
	if h.Card != 0 {
		meta = append(meta, textEntry{key: "card", value: strconv.Itoa(h.Card)})
	}
	if h.Description != "" {
		meta = append(meta, textEntry{key: "description", value: strconv.Quote(ClipDescription(h.Description))})
	}
	if h.SpecFile != "" {
		meta = append(meta, textEntry{key: "spec_file", value: strconv.Quote(h.SpecFile)})
	}
	if !h.ExpiresAt.IsZero() {
		meta = append(meta, textEntry{key: "expires_at", value: strconv.Quote(formatTime(h.ExpiresAt))})
	}
	t.entries(1, meta)

	var hidden []string
	for _, c := range h.Changes {
		if !c.Action.IsChange() {
			hidden = append(hidden, c.Surface)
			continue
		}
		t.b.WriteString("\n")
		t.change(p, h, c)
	}
	if len(hidden) > 0 {
		t.b.WriteString("\n")
		t.line(1, "#", fmt.Sprintf("(%s hidden: %s)",
			plural(len(hidden), "unchanged surface", "unchanged surfaces"), strings.Join(hidden, ", ")))
	}
	t.handoffRotation(h)
	t.closer(1, "}")
	t.b.WriteString("\n")
}

// textEntry is one attribute line of a block; children, when set, make it a
// map or list opened with open and closed with close.
type textEntry struct {
	sym        string
	key        string
	value      string // for "key = value"
	delta      string // for "key: before → after"; replaces value
	escalation bool
	children   []textEntry
	open       string // "{" or "["
	close      string
	bare       bool // list element: no key
}

// entries writes attribute lines at depth, aligning the "=" of the key =
// value lines as terraform does. Delta lines ("key: a → b") are not padded.
func (t *textWriter) entries(depth int, es []textEntry) {
	width := 0
	for _, e := range es {
		if e.delta == "" && !e.bare {
			width = max(width, len(e.key))
		}
	}
	for _, e := range es {
		sym := e.sym
		if sym == "" {
			sym = " "
		}
		var text string
		switch {
		case e.bare:
			text = e.value + ","
		case e.delta != "":
			text = e.key + ": " + e.delta
		case e.open != "":
			text = fmt.Sprintf("%-*s = %s", width, e.key, e.open)
		default:
			text = fmt.Sprintf("%-*s = %s", width, e.key, e.value)
		}
		if e.escalation {
			text += "  " + t.paint(ansiBoldRed, "(!) escalation")
		}
		t.line(depth, sym, text)
		if e.open != "" {
			t.entries(depth+1, e.children)
			t.closer(depth+1, e.close)
		}
	}
}

func kindSymbol(k fieldKind) string {
	switch k {
	case fieldAdded:
		return "+"
	case fieldRemoved:
		return "-"
	case fieldChanged:
		return "~"
	}
	return " "
}

// aggregate is the symbol of a map or list from its elements' symbols.
func aggregate(children []textEntry) string {
	sym := ""
	for _, c := range children {
		s := c.sym
		if s == "" {
			s = " "
		}
		switch {
		case sym == "":
			sym = s
		case sym != s:
			return "~"
		}
	}
	if sym == "" {
		return " "
	}
	return sym
}

// fieldEntry renders one grant line.
func fieldEntry(f grantField) textEntry {
	e := textEntry{sym: kindSymbol(f.kind()), key: f.Key, escalation: f.Escalation != ""}
	switch f.kind() {
	case fieldChanged:
		after := "(known after apply)"
		if !f.Unknown {
			after = strconv.Quote(f.After)
		}
		e.delta = strconv.Quote(f.Before) + " → " + after
	case fieldRemoved:
		e.value = strconv.Quote(f.Before)
	default:
		e.value = strconv.Quote(f.After)
	}
	return e
}

func (t *textWriter) change(p *Plan, h Handoff, c Change) {
	fields := diffGrant(c.Before, c.After)
	if c.Reason != "" && c.Reason != h.Reason {
		t.line(1, "#", fmt.Sprintf("%s will be %s: %s", c.Surface, c.Action.pastTense(), printable(c.Reason)))
	}
	label := c.Surface
	if c.Resource != "" {
		label += " " + strconv.Quote(c.Resource)
	}
	t.line(1, c.Action.Symbol(), label+" {")

	var es, perms, paths []textEntry
	var expiry *textEntry
	for _, f := range fields {
		switch f.Group {
		case groupPermissions:
			perms = append(perms, fieldEntry(f))
		case groupReadPaths:
			e := fieldEntry(f)
			e.bare = true
			paths = append(paths, e)
		case groupExpiry:
			e := fieldEntry(f)
			expiry = &e
		default:
			es = append(es, fieldEntry(f))
		}
	}
	if len(perms) > 0 {
		es = append(es, textEntry{sym: aggregate(perms), key: "permissions", open: "{", close: "}", children: perms})
	}
	if len(paths) > 0 {
		es = append(es, textEntry{sym: aggregate(paths), key: "read_paths", open: "[", close: "]", children: paths})
	}
	if expiry != nil {
		es = append(es, *expiry)
	}
	if len(c.Secrets) > 0 {
		sym := " "
		switch c.Action {
		case Create:
			sym = "+"
		case Revoke:
			sym = "-"
		case Refresh, Replace:
			sym = "~"
		}
		quoted := make([]string, len(c.Secrets))
		for i, s := range c.Secrets {
			quoted[i] = strconv.Quote(s)
		}
		es = append(es, textEntry{sym: sym, key: "secrets", value: "[" + strings.Join(quoted, ", ") + "]"})
	}
	t.entries(2, es)
	for _, e := range unmatchedEscalations(c, fields) {
		t.line(2, "#", t.paint(ansiBoldRed, "(!) escalation:")+" "+e)
	}
	t.closer(2, "}")
}

// oneOrMany returns one when n is 1, else many.
func oneOrMany(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func itOrThem(n int) string { return oneOrMany(n, "it", "them") }

// printable returns s with every character a terminal would not print
// (control and format characters: escapes, bidirectional overrides)
// escaped Go-style, so that words from a spec or a manifest cannot move
// the cursor or reorder the line.
func printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// visibleLen is the number of characters of s a terminal shows: runes,
// without ANSI escape sequences.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			if j := strings.IndexByte(s[i:], 'm'); j >= 0 {
				i += j + 1
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}
