package plan

import "strings"

// CoveredBy reports whether every secret that vault path p reaches is also
// reached by one of paths. A path ending in "/**" reaches its whole folder;
// a final "*" reaches the names with that prefix in its folder.
func CoveredBy(p string, paths []string) bool {
	for _, q := range paths {
		if covers(q, p) {
			return true
		}
	}
	return false
}

func covers(q, p string) bool {
	if q == p {
		return true
	}
	if base, ok := strings.CutSuffix(q, "/**"); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	if prefix, ok := strings.CutSuffix(q, "*"); ok {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || strings.Contains(rest, "/") {
			return false
		}
		// p itself may end in "*": a narrower prefix in the same folder.
		return true
	}
	return false
}
