package reconcile

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
)

// MetaKeyPaths is the key, in the manifest entry of a surface read by
// reference (stripe, apple_iap, alpaca: a pre-provisioned key in the
// vault), of the read paths through which the handoff's own identity reads
// that key.
const MetaKeyPaths = "key_paths"

// WithheldPaths returns the read paths the handoff's identity must not be
// granted while the surfaces killed stay killed: the key paths
// (MetaKeyPaths) that those of them read by reference recorded in s.
// Killing such a surface narrows the identity's privilege to leave them
// out; untombstone lifts the kill, and the next apply grants them again.
// Sorted, without duplicates; nil when there are none, or when the
// infisical surface itself is killed (no identity is left to narrow).
func WithheldPaths(s manifest.Surfaces, killed []string) []string {
	if slices.Contains(killed, spec.SurfaceInfisical) {
		return nil
	}
	var out []string
	for _, name := range killed {
		out = append(out, keyPaths(s.Other[name])...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// keyPaths are the key paths a by-reference surface's entry records.
func keyPaths(meta manifest.Meta) []string {
	var out []string
	switch v := meta[MetaKeyPaths].(type) {
	case []any:
		for _, x := range v {
			if p, ok := x.(string); ok && p != "" {
				out = append(out, p)
			}
		}
	case []string:
		for _, p := range v {
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// withheldBy maps each withheld path to the killed surfaces that recorded
// it.
func withheldBy(s manifest.Surfaces, killed []string) map[string][]string {
	out := map[string][]string{}
	for _, name := range killed {
		for _, p := range keyPaths(s.Other[name]) {
			if !slices.Contains(out[p], name) {
				out[p] = append(out[p], name)
			}
		}
	}
	return out
}

// Without returns paths less those in withheld, in order.
func Without(paths, withheld []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if !slices.Contains(withheld, p) {
			out = append(out, p)
		}
	}
	return out
}

// readPathsNow are the read paths the identity of an active handoff should
// hold now: its own folder and the spec's read paths, less those withheld
// by killed surfaces. While surfaces are killed a changed spec is not
// applied, so the base is then what the manifest records: a kill only ever
// narrows it.
func (pl *planner) readPathsNow(m *manifest.Manifest, h *spec.Handoff, specDigest string) []string {
	inf := m.Surfaces.Infisical
	base := inf.ReadPaths
	if m.SpecDigest == specDigest && h != nil && h.Infisical != nil {
		base = append([]string{ownFolderGlob(pl.live.Root, m.Slug)}, h.Infisical.Read.Strings()...)
	}
	return Without(base, WithheldPaths(m.Surfaces, m.KilledSurfaces()))
}

// grantDelta says how the identity's recorded read paths differ from want:
// the reasons for the change, and the escalations (paths granted again).
// Both are empty when they are the same set.
func grantDelta(m *manifest.Manifest, want []string) (reasons, escalations []string) {
	have := m.Surfaces.Infisical.ReadPaths
	by := withheldBy(m.Surfaces, m.KilledSurfaces())
	for _, p := range sortedSet(have) {
		if slices.Contains(want, p) {
			continue
		}
		if ks := by[p]; len(ks) > 0 {
			reasons = append(reasons, fmt.Sprintf("read of %s is withheld since %s was killed by %s at %s: narrow the privilege in place",
				p, strings.Join(ks, ", "), orUnknown(m.Revocation.By), fmtTime(m.Revocation.At)))
		} else {
			reasons = append(reasons, fmt.Sprintf("read of %s is not in the spec: narrow the privilege in place", p))
		}
	}
	for _, p := range sortedSet(want) {
		if slices.Contains(have, p) {
			continue
		}
		reasons = append(reasons, fmt.Sprintf("read of %s is in the spec and no kill withholds it: grant it again, widening the privilege in place", p))
		if !coveredBy(p, have) {
			escalations = append(escalations, "wider vault path "+p)
		}
	}
	if len(reasons) > 0 {
		reasons[len(reasons)-1] += " (the identity and its client secret are kept)"
	}
	return reasons, escalations
}

func sortedSet(l []string) []string {
	out := append([]string(nil), l...)
	sort.Strings(out)
	return slices.Compact(out)
}

// withheldGrant sets an infisical grant's read paths to want.
func withheldGrant(g *plan.Grant, want []string) {
	if g != nil {
		g.ReadPaths = append([]string(nil), want...)
	}
}
