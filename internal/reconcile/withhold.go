package reconcile

import (
	"slices"
	"sort"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/surface"
)

// WithheldPaths returns the read paths the handoff's grants must not hold
// while the surfaces killed stay killed: the key paths that those of them
// read by reference (surface.ByReference) recorded in s. Killing such a
// surface narrows the grant of the surface that reads the vault
// (surface.Regranter) to leave them out; untombstone lifts the kill, and
// the next apply grants them again. Sorted, without duplicates; nil when
// there are none, or when a Regranter itself is killed (no grant is left
// to narrow).
func (pl *planner) WithheldPaths(s manifest.Surfaces, killed []string) []string {
	return WithheldPaths(pl.reg, s, killed)
}

// WithheldPaths is planner.WithheldPaths for registry reg (apply's kill
// switch uses it).
func WithheldPaths(reg *surface.Registry, s manifest.Surfaces, killed []string) []string {
	var out []string
	for _, name := range killed {
		sf, ok := reg.Get(name)
		if !ok {
			continue
		}
		if _, regrants := sf.(surface.Regranter); regrants {
			return nil
		}
		if br, ok := sf.(surface.ByReference); ok {
			out = append(out, br.KeyPaths(s[name])...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// withheldBy maps each withheld path to the killed surfaces that recorded
// it.
func (pl *planner) withheldBy(s manifest.Surfaces, killed []string) map[string][]string {
	out := map[string][]string{}
	for _, name := range killed {
		sf, ok := pl.reg.Get(name)
		if !ok {
			continue
		}
		br, ok := sf.(surface.ByReference)
		if !ok {
			continue
		}
		for _, p := range br.KeyPaths(s[name]) {
			if !slices.Contains(out[p], name) {
				out[p] = append(out[p], name)
			}
		}
	}
	return out
}
