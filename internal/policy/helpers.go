package policy

import (
	"fmt"
	"strings"

	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

// Suggest returns the candidate closest to name by edit distance, or ""
// when none is close: "Did you mean …?".
func Suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, cand := range candidates {
		if d := levenshtein(name, cand); d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// NonBlank reports whether s holds more than spaces.
func NonBlank(s spec.String) bool { return strings.TrimSpace(s.Value) != "" }

// SurfaceTTL checks a surface's own lifetime d (attribute name of block
// surfaceName): positive and within the handoff's ttl (H3).
func SurfaceTTL(c *surface.Check, h *spec.Handoff, d spec.Duration, surfaceName, name string) {
	if !d.Valid() {
		return
	}
	switch {
	case d.Value <= 0:
		c.Errorf(d.Range, fmt.Sprintf("Invalid %s %s", surfaceName, name),
			"%s is %q; write a positive duration such as %s = \"1h\".", name, d.Raw, name)
	case h.TTL.Valid() && h.TTL.Value > 0 && d.Value > h.TTL.Value:
		c.Errorf(d.Range, fmt.Sprintf("%s %s longer than the handoff's ttl", surfaceName, name),
			"%s is %s but the handoff's ttl is %s; no credential may outlive its handoff (H3). Shorten %s to %s or less.",
			name, d.Raw, h.TTL.Raw, name, h.TTL.Raw)
	}
}

// NonEmptyList reports an empty list and blank elements of attribute name
// of block surfaceName; example shows a good value.
func NonEmptyList(c *surface.Check, l spec.StringList, surfaceName, name, example string) {
	if l.Valid() && len(l.Values) == 0 {
		c.Errorf(l.Range, fmt.Sprintf("Empty %s %s", surfaceName, name),
			"%s is empty. List what the task needs, such as %s.", name, example)
	}
	for _, v := range l.Values {
		if !NonBlank(v) {
			c.Errorf(v.Range, fmt.Sprintf("Blank entry in %s %s", surfaceName, name),
				"Remove the empty string or write a value, such as %s.", example)
		}
	}
}
