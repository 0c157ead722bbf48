package plan

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultMarkdownMarker starts every Markdown plan, so that a later run finds
// the pull request comment it posted and updates it rather than adding one.
const DefaultMarkdownMarker = "<!-- handoff-plan -->"

// GitHubCommentLimit is the longest body GitHub accepts for an issue or pull
// request comment, in characters.
const GitHubCommentLimit = 65536

// MarkdownOptions tunes RenderMarkdown.
type MarkdownOptions struct {
	// Marker is the hidden HTML comment the comment starts with;
	// DefaultMarkdownMarker when empty. A marker that is not an HTML comment
	// is wrapped in one.
	Marker string
	// MaxBytes is the size limit, counted in characters (Unicode code
	// points) as GitHub counts a comment body, not in bytes;
	// GitHubCommentLimit when 0 or less.
	MaxBytes int
	// RunURL links to the CI run whose log holds the full plan, for when
	// the comment has to leave parts out. Optional.
	RunURL string
}

// Markdown detail levels, from the most complete to the smallest. Each level
// drops more, and RenderMarkdown uses the first one that fits.
const (
	mdFull        = iota // every handoff in the table, details of every changed handoff, unchanged surfaces included
	mdChangedOnly        // unchanged handoffs and surfaces left out
	mdCollapsed          // one collapsed block with a line per changed handoff instead of per-handoff details
	mdTableOnly          // the table of changed handoffs, no details
	mdPartial            // as many table rows as fit, escalations first, and a count of the rest
)

// RenderMarkdown renders the plan as the body of a pull request comment: the
// marker, a title with the summary, the mass-revocation warning when the
// guard tripped, the policy result, the privilege
// escalations (each on a ⚠️ line), a table of handoffs (action, slug, card,
// expiry, reason) and, per changed handoff, a collapsible <details> block
// with its changes, a permissions table (surface | grant | before | after |
// escalation) and the vault paths it writes or deletes.
//
// The result is at most opts.MaxBytes characters. When the full form is too
// long it degrades step by step: unchanged handoffs and surfaces are left
// out; then per-handoff details collapse into one line each; then only the
// table of changed handoffs remains; then only as many rows as fit, handoffs
// with escalations first, and "N more handoffs not shown" with a link to
// opts.RunURL. Each step says what it left out. Parts are whole rows, lines
// or blocks: the output is never cut inside markup. The marker, the summary
// and the policy result are always present; an error is returned only when
// even that minimal form does not fit.
//
// User-controlled text is escaped, so a value cannot open a tag, a link or a
// table cell.
func RenderMarkdown(p *Plan, opts MarkdownOptions) (string, error) {
	if p == nil {
		return "", errors.New("plan: render markdown: nil plan")
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = GitHubCommentLimit
	}
	m := newMarkdown(p, opts)
	for level := mdFull; level < mdPartial; level++ {
		if s := m.render(level); runeLen(s) <= limit {
			return s, nil
		}
	}
	return m.partial(limit)
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

type markdown struct {
	p       *Plan
	marker  string
	runURL  string
	changed []Handoff
	held    []Handoff
	noop    int
	// escalations per changed handoff, parallel to changed.
	escalations [][]surfaceEscalation
	escalating  map[string]bool // by slug
}

type surfaceEscalation struct {
	surface, text string
}

func newMarkdown(p *Plan, opts MarkdownOptions) *markdown {
	m := &markdown{p: p, marker: markerComment(opts.Marker), runURL: opts.RunURL, changed: changedHandoffs(p), held: heldHandoffs(p), escalating: map[string]bool{}}
	m.noop = len(p.Handoffs) - len(m.changed)
	for _, h := range m.changed {
		var es []surfaceEscalation
		for _, c := range h.Changes {
			if !c.Action.IsChange() {
				continue
			}
			for _, e := range changeEscalations(c, diffGrant(c.Before, c.After)) {
				es = append(es, surfaceEscalation{c.Surface, e})
			}
		}
		m.escalations = append(m.escalations, es)
		if len(es) > 0 {
			m.escalating[h.Slug] = true
		}
	}
	return m
}

func markerComment(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultMarkdownMarker
	}
	if strings.HasPrefix(s, "<!--") && strings.HasSuffix(s, "-->") && !strings.Contains(s[4:len(s)-3], "--") {
		return s
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "--", "- -"), "\n", " ")
	return "<!-- " + s + " -->"
}

func (m *markdown) escalationCount() (n, handoffs int) {
	for _, es := range m.escalations {
		n += len(es)
		if len(es) > 0 {
			handoffs++
		}
	}
	return n, handoffs
}

// head is the part every level starts with: marker, title, context line and
// policy result (with check names and warnings unless short).
func (m *markdown) head(short bool) string {
	var b strings.Builder
	p := m.p
	b.WriteString(m.marker + "\n")
	switch {
	case p.HasChanges():
		b.WriteString("### handoff plan: " + p.Summary().String() + rotationSuffix(p) + "\n\n")
	case len(m.held) > 0:
		b.WriteString("### handoff plan: no changes, " + plural(len(m.held), "handoff", "handoffs") + " held back\n\n" +
			strings.Replace(heldNoChangesSentence(len(m.held)), "see above", "see below", 1) + "\n\n")
	default:
		b.WriteString("### handoff plan: no changes\n\n" + noChangesSentence + "\n\n")
	}
	b.WriteString(m.guardCaution())
	ctx := []string{"Environment " + mdCode(p.Environment, false), "vault root " + mdCode(p.HandoffRoot, false)}
	if p.GitCommit != "" {
		ctx = append(ctx, "specs at commit "+mdCode(shortCommit(p.GitCommit), false))
	}
	ctx = append(ctx, plural(len(p.Handoffs), "handoff", "handoffs")+" ("+strconv.Itoa(m.noop)+" unchanged)")
	b.WriteString(strings.Join(ctx, " · ") + "\n\n")

	status := "✅ passed"
	if !p.Policy.Passed {
		status = "❌ failed"
	}
	counts := plural(len(p.Policy.Checks), "check", "checks") + ", " + plural(len(p.Policy.Warnings), "warning", "warnings")
	if short || len(p.Policy.Checks) == 0 {
		b.WriteString("**Policy:** " + status + " (" + counts + ")\n\n")
	} else {
		names := make([]string, len(p.Policy.Checks))
		for i, c := range p.Policy.Checks {
			names[i] = mdText(c)
		}
		b.WriteString("**Policy:** " + status + " (" + counts + "): " + strings.Join(names, " · ") + "\n\n")
	}
	if line := RefreshesLine(p.Refreshes); line != "" {
		b.WriteString("**Refreshes:** " + mdText(line) + "\n\n")
	}
	if !short && len(p.Policy.Warnings) > 0 {
		for _, w := range p.Policy.Warnings {
			b.WriteString("- ⚠️ " + mdText(w) + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(mdRotation(p, short))
	b.WriteString(m.guardLine())
	return b.String()
}

// guardCaution is the mass-revocation warning (a GitHub "caution"
// alert), first after the title, when the guard tripped. Every detail
// level keeps it.
func (m *markdown) guardCaution() string {
	g := m.p.RevocationGuard
	if g == nil || !g.Tripped {
		return ""
	}
	return "> [!CAUTION]\n> **🛑 Mass revocation:** " + fmt.Sprintf("%d of the %d live %s (%d%%) would be revoked before their TTL ends, their specs gone; "+
		"the policy allows at most %d and %s (`%s`, `%s` in `handoff.hcl`).",
		g.Revocations, g.Live, oneOrMany(g.Live, "handoff", "handoffs"), g.Percent(),
		g.MaxRevocations, mdText(g.MaxRevocationShare), LimitMaxRevocations, LimitMaxRevocationShare) + "\n>\n" +
		"> `handoff apply` refuses this plan unless run with `" + AllowMassRevocationFlag + "`. " +
		"If `specs/` was lost, or this is the wrong branch, do not merge: restore the specs.\n\n"
}

// guardLine counts, after the policy result, the revocations the guard
// counts when they are within its limits.
func (m *markdown) guardLine() string {
	g := m.p.RevocationGuard
	if g == nil || g.Tripped || g.Revocations == 0 {
		return ""
	}
	return fmt.Sprintf("**Revocations before the TTL ends:** %d of %d live %s (%d%%), within the policy's limits (%d and %s).\n\n",
		g.Revocations, g.Live, oneOrMany(g.Live, "handoff", "handoffs"), g.Percent(), g.MaxRevocations, mdText(g.MaxRevocationShare))
}

// escalationBlock lists every escalation of the plan, or, when short, only
// counts them.
func (m *markdown) escalationBlock(short bool) string {
	n, hs := m.escalationCount()
	if n == 0 {
		return ""
	}
	title := "**⚠️ " + plural(n, "privilege escalation", "privilege escalations") + "** in " + plural(hs, "handoff", "handoffs")
	if short {
		return title + "; they are listed first below. Review them before merging.\n\n"
	}
	var b strings.Builder
	b.WriteString(title + ". Review them before merging:\n\n")
	for i, h := range m.changed {
		for _, e := range m.escalations[i] {
			b.WriteString("- ⚠️ " + mdCode(h.Slug, false) + " " + mdText(e.surface) + ": " + mdText(e.text) + "\n")
		}
	}
	b.WriteString("\n")
	return b.String()
}

// heldBlock lists the handoffs held back, with who, when, why and how to
// proceed; when short, it only counts them.
func (m *markdown) heldBlock(short bool) string {
	if len(m.held) == 0 {
		return ""
	}
	title := "**⏸️ " + plural(len(m.held), "handoff held back", "handoffs held back") + "**: " +
		oneOrMany(len(m.held), "its spec is", "their specs are") + " in the repository, but apply does not mint " + itOrThem(len(m.held))
	if short {
		return title + "; " + m.fullPlanPointer() + " for who revoked " + itOrThem(len(m.held)) + ", when and why.\n\n"
	}
	var b strings.Builder
	b.WriteString(title + ":\n\n")
	st := holdStyle{code: func(s string) string { return mdCode(s, false) }, text: mdText, time: mdTime}
	for _, h := range m.held {
		what, next := holdWords(h, st)
		b.WriteString("- " + mdCode(h.Slug, false) + ": " + what + ". " + next + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

const tableHeader = "| action | handoff | card | expires | reason |\n|:--|:--|--:|:--|:--|\n"

func (m *markdown) row(h Handoff, escalates bool) string {
	action := string(h.Action)
	if sym := h.Action.Symbol(); sym != " " {
		action = mdCode(sym, true) + " " + action
	}
	if escalates {
		action += " ⚠️"
	}
	if h.Held != nil {
		action += " ⏸️"
	}
	card := ""
	if h.Card != 0 {
		card = strconv.Itoa(h.Card)
	}
	return "| " + action + " | " + mdCode(h.Slug, true) + " | " + card + " | " + mdTime(h.ExpiresAt) + " | " + mdText(h.Reason) + " |\n"
}

func (m *markdown) table(all bool) string {
	var b strings.Builder
	for _, h := range m.p.Handoffs {
		if all || h.Action.IsChange() {
			b.WriteString(m.row(h, m.escalating[h.Slug]))
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return tableHeader + b.String() + "\n"
}

func (m *markdown) footer() string {
	parts := []string{}
	if m.p.HandoffVersion != "" {
		parts = append(parts, "handoff "+mdText(m.p.HandoffVersion))
	}
	if !m.p.CreatedAt.IsZero() {
		parts = append(parts, "planned "+mdTime(m.p.CreatedAt))
	}
	if m.p.StateFingerprint != "" {
		parts = append(parts, "live state "+mdCode(shortDigest(m.p.StateFingerprint), false))
	}
	if m.runURL != "" {
		parts = append(parts, "[workflow run]("+mdURL(m.runURL)+")")
	}
	if len(parts) == 0 {
		return ""
	}
	return "<sub>" + strings.Join(parts, " · ") + "</sub>\n"
}

func (m *markdown) fullPlanPointer() string {
	if m.runURL != "" {
		return "the full plan is in the [workflow run](" + mdURL(m.runURL) + ")"
	}
	return "run `handoff plan` to see the full plan"
}

func (m *markdown) render(level int) string {
	var b strings.Builder
	b.WriteString(m.head(false))
	b.WriteString(m.escalationBlock(false))
	b.WriteString(m.heldBlock(false))
	b.WriteString(m.table(level == mdFull))
	if level > mdFull && m.noop > 0 && len(m.changed) > 0 {
		b.WriteString("_" + plural(m.noop, "unchanged handoff is", "unchanged handoffs are") + " not listed, to fit GitHub's comment size limit._\n\n")
	}
	switch level {
	case mdFull, mdChangedOnly:
		for i, h := range m.changed {
			b.WriteString(m.details(h, m.escalations[i], level == mdFull))
		}
	case mdCollapsed:
		b.WriteString(m.collapsed())
		b.WriteString("_Per-handoff details are collapsed to fit GitHub's comment size limit; " + m.fullPlanPointer() + "._\n\n")
	case mdTableOnly:
		if len(m.changed) > 0 {
			b.WriteString("_Per-handoff details are left out to fit GitHub's comment size limit; " + m.fullPlanPointer() + "._\n\n")
		}
	}
	b.WriteString(m.footer())
	return b.String()
}

// partial fills the limit with as many table rows as fit, escalating
// handoffs first, then by action (revoke, replace, create, refresh) and slug.
func (m *markdown) partial(limit int) (string, error) {
	head := m.head(true) + m.escalationBlock(true) + m.heldBlock(true)
	order := make([]int, len(m.changed))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ea, eb := len(m.escalations[order[a]]) > 0, len(m.escalations[order[b]]) > 0
		if ea != eb {
			return ea
		}
		return m.changed[order[a]].Action.rank() > m.changed[order[b]].Action.rank()
	})
	more := func(shown int) string {
		changed := len(m.changed) - shown
		switch {
		case changed == 0 && m.noop == 0:
			return ""
		case changed == 0:
			return fmt.Sprintf("**%s not shown**; %s.\n\n",
				plural(m.noop, "unchanged handoff", "unchanged handoffs"), m.fullPlanPointer())
		}
		return fmt.Sprintf("**%s not shown** (%d with changes, %d unchanged); %s.\n\n",
			plural(changed+m.noop, "more handoff", "more handoffs"), changed, m.noop, m.fullPlanPointer())
	}
	footer := m.footer()
	// Reserve room for the longest "more" line: with rows shown, its
	// numbers only shrink.
	used := runeLen(head) + max(runeLen(more(0)), runeLen(more(len(m.changed)))) + runeLen(footer)
	if used > limit {
		return "", fmt.Errorf("plan: render markdown: even the summary of the plan takes %d characters, more than the limit of %d", used, limit)
	}
	var rows strings.Builder
	shown := 0
	if len(order) > 0 && used+runeLen(tableHeader)+1 <= limit {
		used += runeLen(tableHeader) + 1
		for _, i := range order {
			r := m.row(m.changed[i], len(m.escalations[i]) > 0)
			if used+runeLen(r) > limit {
				break
			}
			used += runeLen(r)
			rows.WriteString(r)
			shown++
		}
	}
	var b strings.Builder
	b.WriteString(head)
	if shown > 0 {
		b.WriteString(tableHeader + rows.String() + "\n")
	}
	b.WriteString(more(shown))
	b.WriteString(footer)
	return b.String(), nil
}

// details is the collapsible block of one changed handoff.
func (m *markdown) details(h Handoff, escs []surfaceEscalation, withUnchanged bool) string {
	var b strings.Builder
	summary := htmlText(string(h.Action))
	if sym := h.Action.Symbol(); sym != " " {
		summary = "<code>" + html.EscapeString(sym) + "</code> " + summary
	}
	summary += " <b>" + htmlText(h.Slug) + "</b>"
	if h.Reason != "" {
		summary += ": " + htmlText(h.Reason)
	}
	if len(escs) > 0 {
		summary += " ⚠️"
	}
	b.WriteString("<details><summary>" + summary + "</summary>\n\n")
	if h.Description != "" {
		b.WriteString("_" + mdText(ClipDescription(h.Description)) + "_\n\n")
	}

	var rows, paths strings.Builder
	for _, c := range h.Changes {
		change := c.Action.IsChange()
		if !change && !withUnchanged {
			continue
		}
		line := "- "
		if sym := c.Action.Symbol(); sym != " " {
			line += mdCode(sym, false) + " "
		}
		line += "**" + mdText(c.Surface) + "** " + mdText(string(c.Action))
		if c.Resource != "" {
			line += ": " + mdText(c.Resource)
		}
		if c.Reason != "" && c.Reason != h.Reason {
			line += " (" + mdText(c.Reason) + ")"
		}
		b.WriteString(line + "\n")

		fields := diffGrant(c.Before, c.After)
		for _, f := range fields {
			rows.WriteString(permissionRow(c.Surface, f))
		}
		if change {
			verb := "writes"
			if c.Action == Revoke {
				verb = "deletes"
			}
			for _, s := range c.Secrets {
				paths.WriteString("- " + verb + " " + mdCode(vaultPath(m.p.HandoffRoot, h.Slug, s), false) + "\n")
			}
		}
	}
	b.WriteString("\n")
	for _, e := range escs {
		b.WriteString("⚠️ **Escalation** on " + mdText(e.surface) + ": " + mdText(e.text) + "\n\n")
	}
	if rows.Len() > 0 {
		b.WriteString("| surface | grant | before | after | escalation |\n|:--|:--|:--|:--|:--|\n")
		b.WriteString(rows.String() + "\n")
	}
	if paths.Len() > 0 {
		b.WriteString("**Vault paths:**\n\n" + paths.String() + "\n")
	}
	b.WriteString(mdHandoffRotation(h))
	b.WriteString("</details>\n\n")
	return b.String()
}

func permissionRow(surface string, f grantField) string {
	grant := mdCode(f.Key, true)
	if f.Group == groupReadPaths {
		grant = "read path"
	}
	cell := func(has bool, v string) string {
		if !has {
			return "—"
		}
		if f.Group == groupExpiry {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				return mdTime(t)
			}
		}
		return mdCode(v, true)
	}
	before := cell(f.HasBefore, f.Before)
	after := cell(f.HasAfter, f.After)
	if f.Unknown {
		after = "_known after apply_"
	}
	esc := ""
	if f.Escalation != "" {
		esc = "⚠️ " + mdText(f.Escalation)
	}
	return "| " + mdText(surface) + " | " + grant + " | " + before + " | " + after + " | " + esc + " |\n"
}

// collapsed is one <details> block with a line per changed handoff listing
// what changes in its grants.
func (m *markdown) collapsed() string {
	if len(m.changed) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<details><summary>Grants of " + plural(len(m.changed), "changed handoff", "changed handoffs") + "</summary>\n\n")
	for _, h := range m.changed {
		var parts []string
		for _, c := range h.Changes {
			if !c.Action.IsChange() {
				continue
			}
			var fs []string
			for _, f := range diffGrant(c.Before, c.After) {
				if s := compactField(f); s != "" {
					fs = append(fs, s)
				}
			}
			part := "**" + mdText(c.Surface) + "** " + mdText(string(c.Action))
			if len(fs) > 0 && c.Action != Revoke {
				part += " " + strings.Join(fs, ", ")
			}
			parts = append(parts, part)
		}
		b.WriteString("- " + mdCode(h.Action.Symbol(), false) + " " + mdCode(h.Slug, false) + ": " + strings.Join(parts, "; ") + "\n")
	}
	b.WriteString("\n</details>\n\n")
	return b.String()
}

func compactField(f grantField) string {
	if f.Group == groupExpiry {
		return ""
	}
	key := mdText(f.Key)
	if f.Group == groupReadPaths {
		key = "read"
	}
	var s string
	switch f.kind() {
	case fieldSame:
		return ""
	case fieldAdded:
		if f.Group == groupReadPaths {
			s = "+read " + mdCode(f.After, false)
		} else {
			s = key + " " + mdCode(f.After, false)
		}
	case fieldRemoved:
		if f.Group == groupReadPaths {
			s = "−read " + mdCode(f.Before, false)
		} else {
			s = "−" + key
		}
	case fieldChanged:
		s = key + " " + mdCode(f.Before, false) + " → " + mdCode(f.After, false)
	}
	if f.Escalation != "" {
		s += " ⚠️"
	}
	return s
}

// mdTime renders an instant for people: "2026-06-22 09:00 UTC".
func mdTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// mdText escapes s for Markdown prose and table cells: no tag, link,
// emphasis, heading or cell separator can come out of it.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '#', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if !unicode.IsPrint(r) {
				// A control or format character (an escape, a
				// bidirectional override) is shown, not obeyed.
				q := strconv.QuoteRune(r)
				b.WriteString(`\\` + q[2:len(q)-1])
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// htmlEntities also neutralises the Markdown punctuation GitHub might still
// interpret inside an HTML element.
var htmlEntities = strings.NewReplacer("[", "&#91;", "]", "&#93;", "*", "&#42;", "_", "&#95;", "`", "&#96;", "~", "&#126;", "|", "&#124;")

// htmlText escapes s for the inside of an HTML element such as <summary>.
func htmlText(s string) string {
	return htmlEntities.Replace(html.EscapeString(oneLine(s)))
}

// mdCode renders s as a code span, with a fence longer than any run of
// backticks inside; in a table cell, "|" is escaped as GitHub requires.
func mdCode(s string, inTable bool) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdURL makes a URL safe inside a Markdown link destination; anything that
// is not an http(s) URL is dropped to "#".
func mdURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "#"
	}
	r := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")
	return r.Replace(u.String())
}
