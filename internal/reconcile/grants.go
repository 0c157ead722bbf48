package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/surface"
)

// liveModes are the modes and environments that act on real money or
// production data.
var liveModes = map[string]bool{"live": true, "production": true, "prod": true}

// levelRank orders permission levels; a level includes those below.
var levelRank = map[string]int{"": 0, "none": 0, "read": 1, "write": 2, "admin": 3}

// deltas compares a grant of surface s before and after and returns the
// privilege escalations (what after may do that before could not, in the
// words of plan.GrantEscalations, plus those of the surface's attributes,
// as its AttrKinds say) and every other difference, each as a short
// phrase.
func (pl *planner) deltas(s string, before, after *plan.Grant) (escalations, others []string) {
	if before == nil || after == nil {
		return nil, nil
	}
	var kinds map[string]surface.AttrKind
	if sf, ok := pl.reg.Get(s); ok {
		if a, ok := sf.(surface.Attributed); ok {
			kinds = a.Attrs()
		}
	}
	escalations = plan.GrantEscalations(before, after)
	esc := func(format string, args ...any) {
		if e := fmt.Sprintf(format, args...); !slices.Contains(escalations, e) {
			escalations = append(escalations, e)
		}
	}
	oth := func(format string, args ...any) { others = append(others, fmt.Sprintf(format, args...)) }

	if after.Repository != "" && before.Repository != "" && !strings.EqualFold(after.Repository, before.Repository) {
		oth("drops repository %s", before.Repository)
	}
	for _, k := range plan.SortedKeys(after.Permissions, before.Permissions) {
		a, b := after.Permissions[k], before.Permissions[k]
		switch {
		case a == b || b == "":
		case a == "":
			oth("drops permission %s: %s", k, b)
		case levelRank[a] < levelRank[b]:
			oth("%s: %s → %s", k, b, a)
		}
	}
	if after.Environment != before.Environment && after.Environment != "" && before.Environment != "" && !liveModes[after.Environment] {
		oth("environment: %s → %s", before.Environment, after.Environment)
	}
	if after.Mode != before.Mode && after.Mode != "" && before.Mode != "" && !liveModes[after.Mode] {
		oth("mode: %s → %s", before.Mode, after.Mode)
	}
	for _, p := range after.ReadPaths {
		if !plan.CoveredBy(p, before.ReadPaths) {
			esc("wider vault path %s", p)
		}
	}
	for _, p := range before.ReadPaths {
		if !plan.CoveredBy(p, after.ReadPaths) {
			oth("drops vault path %s", p)
		}
	}
	for _, k := range plan.SortedKeys(after.Attributes) {
		a := after.Attributes[k]
		b, known := before.Attributes[k]
		if !known || a == b {
			continue
		}
		kind := kinds[k]
		noun := kind.Noun
		if noun == "" {
			noun = k
		}
		switch {
		case kind.Name:
			oth("%s %s → %s", k, b, a)
		case kind.List && kind.Exclusions:
			for _, x := range minus(splitList(b), splitList(a)) {
				esc("no longer excludes %s", x)
			}
			for _, x := range minus(splitList(a), splitList(b)) {
				oth("now excludes %s", x)
			}
		case kind.List:
			for _, x := range minus(splitList(a), splitList(b)) {
				esc("new %s %s", noun, x)
			}
			for _, x := range minus(splitList(b), splitList(a)) {
				oth("drops %s %s", noun, x)
			}
		case kind.Duration:
			da, ea := time.ParseDuration(a)
			db, eb := time.ParseDuration(b)
			if ea == nil && eb == nil && da > db {
				esc("%s: %s → %s", k, b, a)
			} else {
				oth("%s: %s → %s", k, b, a)
			}
		case kind.Opaque:
			esc("%s changed", strings.ReplaceAll(k, "_", " "))
		default:
			esc("%s: %s → %s", k, b, a)
		}
	}
	return escalations, others
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ", ")
}

// minus returns the elements of a not in b, in a's order.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
