package plan

import (
	"strconv"
	"strings"
)

// RefreshesLine says r in a sentence, for the text and Markdown plans: "3
// in this run (2 due); the next runs (every 15m) need 1 at 09:15, 0 at
// 09:30, 4 at 09:45 and 1 at 10:00 (UTC); at most 524 fit in one run
// within the vault's rate limits." Empty when r is nil.
func RefreshesLine(r *Refreshes) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(r.ThisRun) + " in this run")
	if r.ThisRun > 0 {
		b.WriteString(" (" + strconv.Itoa(r.Due) + " due)")
	}
	if r.Deferred > 0 {
		b.WriteString(", " + plural(r.Deferred, "early refresh", "early refreshes") + " deferred to a later run")
	}
	if len(r.Next) > 0 {
		b.WriteString("; the next runs (every " + r.Schedule + ") need ")
		parts := make([]string, len(r.Next))
		for i, n := range r.Next {
			parts[i] = strconv.Itoa(n.Refreshes) + " at " + n.At.UTC().Format("15:04")
			if n.Due > 0 && n.Due != n.Refreshes {
				parts[i] += " (" + strconv.Itoa(n.Due) + " due)"
			}
		}
		if len(parts) == 1 {
			b.WriteString(parts[0])
		} else {
			b.WriteString(strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1])
		}
		b.WriteString(" (UTC)")
	}
	if r.Capacity > 0 {
		b.WriteString("; at most " + strconv.Itoa(r.Capacity) + " fit in one run within the vault's rate limits")
	}
	b.WriteString(".")
	return b.String()
}
