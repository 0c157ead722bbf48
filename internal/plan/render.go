package plan

// This file holds what the three renderers (render_text.go, render_json.go,
// render_markdown.go) share: the summary sentence, the field-by-field diff of
// a grant and the detection of privilege escalations.

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// String is the summary in the words of the plan's last line, without the
// "Plan: " prefix and the period: "2 to create, 1 to refresh, 0 to replace,
// 0 to revoke". Unchanged handoffs are not part of it.
func (s Summary) String() string {
	return fmt.Sprintf("%d to create, %d to refresh, %d to replace, %d to revoke",
		s.Create, s.Refresh, s.Replace, s.Revoke)
}

// noChangesSentence is what every renderer says when the plan writes nothing.
const noChangesSentence = "No changes. Live credentials match the specs."

// summaryLine is the last line of the text plan and the headline of the
// Markdown one. A plan that changes nothing but holds handoffs back does
// not say that the live credentials match the specs.
func summaryLine(p *Plan) string {
	if p.HasChanges() {
		return "Plan: " + p.Summary().String() + rotationSuffix(p) + "."
	}
	if n := len(heldHandoffs(p)); n > 0 {
		return heldNoChangesSentence(n)
	}
	return noChangesSentence
}

// heldNoChangesSentence replaces noChangesSentence when n handoffs are held
// back.
func heldNoChangesSentence(n int) string {
	return "No changes. " + plural(n, "handoff is", "handoffs are") + " held back and not minted: see above."
}

// heldHandoffs returns the handoffs a hold keeps from being minted, in plan
// order.
func heldHandoffs(p *Plan) []Handoff {
	var out []Handoff
	for _, h := range p.Handoffs {
		if h.Held != nil {
			out = append(out, h)
		}
	}
	return out
}

// holdStyle is how a renderer writes the parts of holdWords.
type holdStyle struct {
	// code renders a command (quoted, or as a code span); text a user's
	// words (by, reason, surface names); time an instant.
	code, text func(string) string
	time       func(time.Time) string
}

// holdWords says in a clause what holds h back (who, when, why) and in a
// sentence how to proceed, for the text and Markdown renderers.
func holdWords(h Handoff, st holdStyle) (what, next string) {
	x := h.Held
	code, text := st.code, st.text
	at := st.time(x.At)
	by := ""
	if x.By != "" {
		by = " by " + text(x.By)
	}
	why := ""
	if x.Reason != "" {
		why = ": " + text(x.Reason)
	}
	untombstone := code("handoff untombstone " + h.Slug)
	switch x.Kind {
	case HoldTombstone:
		what = "tombstoned" + by + " at " + at + " (handoff revoke)" + why
		next = "To mint it again: " + untombstone + ", or give the task a new slug."
	case HoldKill:
		what = oneOrMany(len(x.Surfaces), "surface ", "surfaces ") + text(strings.Join(x.Surfaces, ", ")) + " killed" + by + " at " + at +
			" (handoff revoke -surface)" + why + "; the rest of the handoff lives on"
		next = "To mint " + itOrThem(len(x.Surfaces)) + " again: " + untombstone + "."
	case HoldDeleted:
		what = "revoked at " + at + " when its spec was deleted; the spec is back, but a revoked slug is never minted again"
		next = "To mint it again, give the task a new slug; or delete this spec."
	case HoldExpired:
		what = "expired at " + at + " and was revoked; its spec is still in the repository"
		next = "To mint it again, give the task a new slug; or delete this spec."
	default:
		what = "held back (" + text(string(x.Kind)) + ")" + by + " at " + at + why
		next = "To mint it again, give the task a new slug."
		if x.Untombstone {
			next = "To mint it again: " + untombstone + "."
		}
	}
	return what, next
}

// GrantEscalations returns what after grants beyond before, in the words of
// Change.Escalations: "new repository raxx-app/X", "contents: read → write",
// "issues: none → write", "wider vault path /a/**", "mode: test → live".
// The planner should fill Change.Escalations with it (adding what it alone
// knows), so that the renderers, which mark the lines these strings describe,
// and the planner use the same words.
//
// A create (before is nil) and a revoke (after is nil) escalate nothing: an
// escalation is a change of an existing grant. Attributes are not judged, as
// their meaning is surface-specific; the planner lists their escalations
// itself.
func GrantEscalations(before, after *Grant) []string {
	var out []string
	for _, f := range diffGrant(before, after) {
		if f.Escalation != "" {
			out = append(out, f.Escalation)
		}
	}
	return out
}

// changeEscalations is the union of the planner's escalations and those the
// renderer finds itself, the planner's first, without duplicates. A
// disagreement between the two thus errs on the side of showing more.
func changeEscalations(c Change, fields []grantField) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, e := range c.Escalations {
		add(e)
	}
	for _, f := range fields {
		add(f.Escalation)
	}
	return out
}

// unmatchedEscalations are the planner's escalations that no diff line
// carries, so that the text renderer lists them below the surface's block.
func unmatchedEscalations(c Change, fields []grantField) []string {
	onLine := map[string]bool{}
	for _, f := range fields {
		onLine[f.Escalation] = true
	}
	var out []string
	for _, e := range changeEscalations(c, fields) {
		if !onLine[e] {
			out = append(out, e)
		}
	}
	return out
}

// Groups of grant fields.
const (
	groupScalar      = ""            // repository, environment, mode, attributes
	groupPermissions = "permissions" // Key is the permission
	groupReadPaths   = "read_paths"  // Key is the path
	groupExpiry      = "expires_at"
)

// grantField is one line of a grant's diff.
type grantField struct {
	Group string
	// Key is the attribute or permission name, or the path for read paths.
	Key string
	// Before and After are the values, unquoted; Has* tell an empty value
	// from an absent one.
	Before, After       string
	HasBefore, HasAfter bool
	// Unknown marks an After that is known only once applied (the expiry of
	// a credential minted again).
	Unknown bool
	// Escalation describes what the line grants beyond Before, or is empty.
	Escalation string
}

// fieldKind is how a grant line changes.
type fieldKind int

const (
	fieldSame fieldKind = iota
	fieldAdded
	fieldRemoved
	fieldChanged
)

func (f grantField) kind() fieldKind {
	switch {
	case f.HasBefore && (f.HasAfter || f.Unknown):
		if f.Unknown || f.Before != f.After {
			return fieldChanged
		}
		return fieldSame
	case f.HasAfter || f.Unknown:
		return fieldAdded
	default:
		return fieldRemoved
	}
}

// levels orders permission levels; an unknown level compares as a change.
var levels = map[string]int{"none": 0, "read": 1, "write": 2, "admin": 3}

// sandboxValues are environments and modes that never hold real money or
// production data; moving to one of them is not an escalation.
var sandboxValues = map[string]bool{"test": true, "sandbox": true, "paper": true}

// diffGrant lists the lines of a grant's diff in a fixed order: repository,
// environment, mode, attributes (by key), permissions (by key), read paths
// (After's order, then removed ones), expiry. Either side may be nil.
func diffGrant(before, after *Grant) []grantField {
	var b, a Grant
	if before != nil {
		b = *before
	}
	if after != nil {
		a = *after
	}
	judge := before != nil && after != nil
	var out []grantField

	scalar := func(key, bv, av string, esc func(f grantField) string) {
		if bv == "" && av == "" {
			return
		}
		f := grantField{Group: groupScalar, Key: key, Before: bv, After: av, HasBefore: bv != "", HasAfter: av != ""}
		if judge && esc != nil && f.HasAfter && f.Before != f.After {
			f.Escalation = esc(f)
		}
		out = append(out, f)
	}
	scalar("repository", b.Repository, a.Repository, func(f grantField) string {
		return "new repository " + f.After
	})
	scope := func(f grantField) string {
		if sandboxValues[f.After] {
			return ""
		}
		return fmt.Sprintf("%s: %s → %s", f.Key, orNone(f.Before), f.After)
	}
	scalar("environment", b.Environment, a.Environment, scope)
	scalar("mode", b.Mode, a.Mode, scope)
	for _, k := range SortedKeys(b.Attributes, a.Attributes) {
		bv, hb := b.Attributes[k]
		av, ha := a.Attributes[k]
		out = append(out, grantField{Group: groupScalar, Key: k, Before: bv, After: av, HasBefore: hb, HasAfter: ha})
	}

	for _, k := range SortedKeys(b.Permissions, a.Permissions) {
		bv, hb := b.Permissions[k]
		av, ha := a.Permissions[k]
		f := grantField{Group: groupPermissions, Key: k, Before: bv, After: av, HasBefore: hb, HasAfter: ha}
		if judge && ha && (!hb || bv != av) {
			bl, bok := levels[orNone(bv)]
			al, aok := levels[av]
			if !bok || !aok || al > bl {
				f.Escalation = fmt.Sprintf("%s: %s → %s", k, orNone(bv), av)
			}
		}
		out = append(out, f)
	}

	for _, p := range a.ReadPaths {
		f := grantField{Group: groupReadPaths, Key: p, After: p, HasAfter: true}
		if slices.Contains(b.ReadPaths, p) {
			f.Before, f.HasBefore = p, true
		} else if judge && !CoveredBy(p, b.ReadPaths) {
			f.Escalation = "wider vault path " + p
		}
		out = append(out, f)
	}
	for _, p := range b.ReadPaths {
		if !slices.Contains(a.ReadPaths, p) {
			out = append(out, grantField{Group: groupReadPaths, Key: p, Before: p, HasBefore: true})
		}
	}

	if !b.ExpiresAt.IsZero() || !a.ExpiresAt.IsZero() {
		f := grantField{Group: groupExpiry, Key: "expires_at"}
		if !b.ExpiresAt.IsZero() {
			f.Before, f.HasBefore = formatTime(b.ExpiresAt), true
		}
		switch {
		case !a.ExpiresAt.IsZero():
			f.After, f.HasAfter = formatTime(a.ExpiresAt), true
		case after != nil:
			f.Unknown = true
		}
		out = append(out, f)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// SortedKeys returns the keys of every map given, sorted, without
// duplicates: the order in which grants list their permissions and
// attributes, here and in the planner.
func SortedKeys(maps ...map[string]string) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// formatTime renders an instant in UTC, RFC 3339, to the second.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// vaultPath is where a handoff's secret lives in the vault.
func vaultPath(root, slug, name string) string {
	return path.Join("/", root, slug, name)
}

// changedHandoffs returns the handoffs whose action writes something, in plan
// order.
func changedHandoffs(p *Plan) []Handoff {
	var out []Handoff
	for _, h := range p.Handoffs {
		if h.Action.IsChange() {
			out = append(out, h)
		}
	}
	return out
}

// pastTense is the verb of the text renderer's "will be …" comments.
func (a Action) pastTense() string {
	switch a {
	case Create:
		return "created"
	case Refresh:
		return "refreshed"
	case Replace:
		return "replaced"
	case Revoke:
		return "revoked"
	}
	return "left unchanged"
}

// plural returns "1 handoff" or "2 handoffs".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// shortDigest shortens "sha256:<hex>" to "sha256:<12 hex>" for prose; the
// JSON output carries the full value.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok {
		algo, hex = "", d
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	if algo == "" {
		return hex
	}
	return algo + ":" + hex
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
