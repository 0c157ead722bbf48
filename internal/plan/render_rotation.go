package plan

// This file renders the rotation document's part of a plan (Rotation, and
// each handoff's RotationChange) for the three renderers, which call it at
// one place each.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/raxx-app/handoff/internal/rotation"
)

// rotationSuffix completes the summary line when apply writes the
// document: ", and the rotation document to write (2 entries to add, 1 to
// remove)". Empty when it does not.
func rotationSuffix(p *Plan) string {
	if !p.rotationWrites() {
		return ""
	}
	add, remove := 0, 0
	for _, h := range p.Handoffs {
		if c := h.Rotation; c != nil {
			add, remove = add+len(c.Add), remove+len(c.Remove)
		}
	}
	if c := p.Rotation.Repair; c != nil {
		add, remove = add+len(c.Add), remove+len(c.Remove)
	}
	counts := fmt.Sprintf("%d to add, %d to remove", add, remove)
	if p.Rotation.Live == string(rotation.StateMissing) {
		counts = "to create, " + plural(p.Rotation.Entries, "entry", "entries")
	} else if add+remove == 0 {
		counts = "to rewrite"
	}
	return ", and the rotation document (" + counts + ")"
}

// path is the document's vault path.
func (r *Rotation) path() string {
	return strings.TrimSuffix(r.Folder, "/") + "/" + r.Secret
}

// entryPair is an entry added, removed, or changed (both).
type entryPair struct {
	before, after *rotation.Entry
}

// pairEntries pairs c's entries by key, in the document's order.
func pairEntries(c *RotationChange) []entryPair {
	if c == nil {
		return nil
	}
	var out []entryPair
	index := map[string]int{}
	for i := range c.Remove {
		index[c.Remove[i].Key()] = len(out)
		out = append(out, entryPair{before: &c.Remove[i]})
	}
	for i := range c.Add {
		if j, ok := index[c.Add[i].Key()]; ok && out[j].after == nil {
			out[j].after = &c.Add[i]
			continue
		}
		out = append(out, entryPair{after: &c.Add[i]})
	}
	return out
}

// symbol is the pair's diff marker.
func (e entryPair) symbol() string {
	switch {
	case e.before == nil:
		return "+"
	case e.after == nil:
		return "-"
	}
	return "~"
}

// entry is the entry that stands for the pair (the new one when both).
func (e entryPair) entry() rotation.Entry {
	if e.after != nil {
		return *e.after
	}
	return *e.before
}

// changed describes what differs between the two sides of a changed
// pair, quoted by q: `auto_revoke_after "a" → "b"`, else "edited".
func (e entryPair) changed(q func(string) string) string {
	if e.before == nil || e.after == nil {
		return ""
	}
	b, a := *e.before, *e.after
	if b.AutoRevokeAfter.Equal(a.AutoRevokeAfter) {
		return "fields edited"
	}
	b.AutoRevokeAfter = a.AutoRevokeAfter
	if !b.Equal(a) {
		return "fields edited"
	}
	return "auto_revoke_after " + q(formatTime(e.before.AutoRevokeAfter)) + " → " + q(formatTime(a.AutoRevokeAfter))
}

// textEntryLine is one entry in the text plan; withConsumer names whose it
// is (the document's repair mixes handoffs).
func textEntryLine(e entryPair, withConsumer bool) string {
	x := e.entry()
	s := "rotation entry " + strconv.Quote(x.TokenName) + ": " + strconv.Quote(x.UpdateEndpoint) + " in " + strconv.Quote(x.Env)
	if withConsumer {
		s += " for " + strconv.Quote(x.ConsumerID)
	}
	if c := e.changed(strconv.Quote); c != "" {
		return s + ", " + c
	}
	return s + ", until " + strconv.Quote(formatTime(x.AutoRevokeAfter))
}

// handoffRotation writes, inside a handoff's block, the entries its change
// adds to the document and removes.
func (t *textWriter) handoffRotation(h Handoff) {
	pairs := pairEntries(h.Rotation)
	if len(pairs) == 0 {
		return
	}
	t.b.WriteString("\n")
	for _, e := range pairs {
		t.line(1, e.symbol(), textEntryLine(e, false))
	}
}

// rotation writes the document's section: where it is, whether apply
// writes it and why, and the repair of a drift.
func (t *textWriter) rotation(p *Plan) {
	r := p.Rotation
	if r == nil {
		return
	}
	head := fmt.Sprintf("Rotation document %q (environment %q): ", r.path(), r.Environment)
	switch {
	case r.Write:
		head += "apply writes it, " + plural(r.Entries, "entry", "entries") + "."
	case r.Live == string(rotation.StateValid):
		head += "up to date, " + plural(r.Entries, "entry", "entries") + "."
	default:
		head += t.paint(ansiYellow, "not written") + "."
	}
	t.para("", head, 0)
	if r.Reason != "" {
		t.para("  # ", printable(upperFirst(r.Reason))+".", 4, "  # ")
	}
	for _, e := range pairEntries(r.Repair) {
		t.line(0, e.symbol(), textEntryLine(e, true))
	}
	t.b.WriteString("\n")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdEntryLine is one entry in the Markdown plan.
func mdEntryLine(e entryPair, withConsumer bool) string {
	x := e.entry()
	verb := map[string]string{"+": "enrolls", "-": "removes", "~": "changes"}[e.symbol()]
	s := "- " + mdCode(e.symbol(), false) + " " + verb + " " + mdCode(x.TokenName, false) + " at " + mdCode(x.UpdateEndpoint, false) +
		" (" + mdText(x.Env) + ")"
	if withConsumer {
		s += " for " + mdCode(x.ConsumerID, false)
	}
	if c := e.changed(func(s string) string { return mdCode(s, false) }); c != "" {
		return s + ": " + c + "\n"
	}
	return s + " until " + mdTime(x.AutoRevokeAfter) + "\n"
}

// mdHandoffRotation is the part of a handoff's details that lists the
// entries its change adds and removes.
func mdHandoffRotation(h Handoff) string {
	pairs := pairEntries(h.Rotation)
	if len(pairs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("**Rotation document:**\n\n")
	for _, e := range pairs {
		b.WriteString(mdEntryLine(e, false))
	}
	b.WriteString("\n")
	return b.String()
}

// mdRotation is the document's paragraph, after the policy result: where
// it is, whether apply writes it and why, and (unless short) the repair.
func mdRotation(p *Plan, short bool) string {
	r := p.Rotation
	if r == nil {
		return ""
	}
	status := "✅ up to date"
	switch {
	case r.Write:
		status = "✏️ written by apply"
	case r.Live != string(rotation.StateValid):
		status = "⚠️ not written"
	}
	s := "**Rotation document:** " + status + ", " + plural(r.Entries, "entry", "entries") + " (" + mdCode(r.path(), false) + " in " + mdText(r.Environment) + ")"
	if r.Reason != "" {
		s += ": " + mdText(r.Reason)
	}
	s += "\n\n"
	if pairs := pairEntries(r.Repair); len(pairs) > 0 && !short {
		for _, e := range pairs {
			s += mdEntryLine(e, true)
		}
		s += "\n"
	}
	return s
}
