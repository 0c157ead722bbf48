package reconcile

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// create plans every surface of a spec whose handoff has no folder.
func (pl *planner) create(ph *plan.Handoff, h *spec.Handoff, reason string) {
	t := pl.target(h)
	ph.Reason = reason
	ph.ExpiresAt = t.ExpiresAt
	for _, s := range h.Surfaces() {
		after := pl.desired(s, t)
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Create, Reason: reason,
			Resource: pl.resource(s, h.Slug.Value, after), After: after,
			Secrets: pl.secrets(s, nil),
		})
	}
}

// recover plans a folder whose manifest is corrupt or missing while
// something is there (a journal, secrets): what exists is found by
// deterministic names (folder secrets, what surfaces' names find, journal
// entries) and revoked; with a spec, everything is created again.
func (pl *planner) recover(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff, why string) {
	leftovers := pl.leftovers(lh)
	if h == nil {
		ph.Reason = why + "; no spec: revoke its leftovers"
		for _, s := range leftovers.surfaces {
			ph.Changes = append(ph.Changes, plan.Change{
				Surface: s, Action: plan.Revoke, Reason: ph.Reason,
				Resource: leftovers.resource(pl, s, ph.Slug), Secrets: leftovers.secrets[s],
			})
		}
		return
	}
	t := pl.target(h)
	ph.Reason = why + ": revoke its leftovers and create again"
	ph.ExpiresAt = t.ExpiresAt
	inSpec := map[string]bool{}
	for _, s := range h.Surfaces() {
		inSpec[s] = true
		after := pl.desired(s, t)
		res := pl.resource(s, h.Slug.Value, after)
		if found := leftovers.found[s]; len(found) > 0 {
			res += ", replacing " + leftoverNames(found)
		}
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Replace, Reason: ph.Reason,
			Resource: res, After: after,
			Secrets: union(leftovers.secrets[s], pl.secrets(s, nil)),
		})
	}
	for _, s := range leftovers.surfaces {
		if inSpec[s] {
			continue
		}
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Revoke, Reason: why + "; not in the spec: revoke its leftovers",
			Resource: leftovers.resource(pl, s, ph.Slug), Secrets: leftovers.secrets[s],
		})
	}
}

// leftoverSet is what a folder without a usable manifest holds, by surface.
type leftoverSet struct {
	surfaces []string
	secrets  map[string][]string
	// found are what the surfaces' deterministic names find.
	found map[string][]surface.Leftover
}

func (l *leftoverSet) add(surface, secret string) {
	if _, ok := l.secrets[surface]; !ok {
		l.surfaces = append(l.surfaces, surface)
		l.secrets[surface] = nil
	}
	if secret != "" {
		l.secrets[surface] = append(l.secrets[surface], secret)
	}
}

func (l *leftoverSet) resource(pl *planner, s, slug string) string {
	if found := l.found[s]; len(found) > 0 {
		return found[0].Kind + " " + leftoverNames(found)
	}
	if s == SurfaceVault {
		return "vault folder"
	}
	return pl.resource(s, slug, nil) + " (found by name)"
}

func leftoverNames(found []surface.Leftover) string {
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func (pl *planner) leftovers(lh *state.Handoff) *leftoverSet {
	l := &leftoverSet{secrets: map[string][]string{}, found: map[string][]surface.Leftover{}}
	for _, name := range lh.SecretNames() {
		if name == manifest.SecretName || name == state.JournalSecretName {
			continue
		}
		l.add(pl.secretOwner(name, nil), name)
	}
	if lh.Journal != nil {
		for _, s := range lh.Journal.Surfaces() {
			l.add(s, "")
		}
	}
	for s, found := range pl.foundByName(lh.Slug) {
		l.found[s] = found
		l.add(s, "")
	}
	if len(l.surfaces) == 0 {
		l.add(SurfaceVault, "")
	}
	sort.SliceStable(l.surfaces, func(i, j int) bool { return pl.rank(l.surfaces[i]) < pl.rank(l.surfaces[j]) })
	return l
}

// foundByName is what the surfaces' deterministic names find for slug, by
// surface (those that find something).
func (pl *planner) foundByName(slug string) map[string][]surface.Leftover {
	out := map[string][]surface.Leftover{}
	for _, s := range pl.reg.All() {
		if lf, ok := s.(surface.Leftovers); ok {
			if found := lf.Leftovers(slug, pl.live); len(found) > 0 {
				out[s.Name()] = found
			}
		}
	}
	return out
}

// secretOwner says which surface a secret of a handoff's folder belongs to
// (the records of m first), else the vault folder.
func (pl *planner) secretOwner(name string, m *manifest.Manifest) string {
	var recs map[string]surface.Record
	if m != nil {
		recs = m.Surfaces
	}
	if s := pl.reg.SecretOwner(name, recs); s != "" {
		return s
	}
	return SurfaceVault
}

// untombstoned plans a handoff whose tombstone was lifted: its spec is
// minted again, as a create; what a stopped apply (a journal) or anything
// else named for the slug left is revoked first. Apply writes a new
// manifest that carries the revoked one's history.
func (pl *planner) untombstoned(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	r := lh.Manifest.Revocation
	since := "untombstoned at " + fmtTime(r.UntombstonedAt)
	switch {
	case lh.HasJournal():
		pl.recover(ph, h, lh, since+"; incomplete apply found (journal)")
	case len(lh.Secrets) > 1 || len(pl.foundByName(ph.Slug)) > 0:
		pl.recover(ph, h, lh, since+"; leftovers found by name")
	default:
		pl.create(ph, h, fmt.Sprintf("%s (revoked by %s at %s: %s): mint again", since, orUnknown(r.By), fmtTime(r.At), r.Reason))
	}
}

// revoked plans a handoff whose manifest is already revoked: nothing to do,
// except the leftovers of a revocation that did not finish.
func (pl *planner) revoked(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	m := lh.Manifest
	r := m.Revocation
	ph.ExpiresAt = m.ExpiresAt
	switch {
	case m.Tombstoned() && h != nil:
		ph.Reason = fmt.Sprintf("tombstoned by %s at %s: %s; run handoff untombstone or use a new slug",
			orUnknown(r.By), fmtTime(r.At), r.Reason)
	case r != nil:
		ph.Reason = fmt.Sprintf("revoked (%s) at %s", r.Kind, fmtTime(r.At))
		if r.By != "" {
			ph.Reason += " by " + r.By
		}
		if r.Reason != "" {
			ph.Reason += ": " + r.Reason
		}
		switch {
		case m.Untombstoned() && h == nil:
			ph.Reason += "; untombstoned at " + fmtTime(r.UntombstonedAt) + ", but its spec is gone"
		case m.Untombstoned():
			ph.Reason += "; untombstoned at " + fmtTime(r.UntombstonedAt) + ", then revoked again (journal): not minted"
		case h != nil:
			ph.Reason += "; a revoked slug is not minted again: use a new slug"
		}
	default:
		ph.Reason = "revoked"
	}
	if lh.HasJournal() {
		l := pl.leftovers(lh)
		why := "incomplete revocation found (journal): revoke its leftovers; " + ph.Reason
		for _, s := range l.surfaces {
			ph.Changes = append(ph.Changes, plan.Change{
				Surface: s, Action: plan.Revoke, Reason: why,
				Resource: l.resource(pl, s, ph.Slug), Secrets: l.secrets[s],
			})
		}
		ph.Reason = why
	}
}

// revoke plans the revocation of every surface an active manifest records.
func (pl *planner) revoke(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff, reason string) {
	m := lh.Manifest
	ph.Reason = reason
	ph.ExpiresAt = m.ExpiresAt
	bySurface := pl.secretsBySurface(lh)
	live := pl.liveSurfaces(m)
	for _, s := range live {
		before := pl.recorded(m, s)
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Revoke, Reason: reason,
			Resource: pl.resource(s, m.Slug, before), Before: before, Secrets: bySurface[s],
		})
	}
	// Secrets of surfaces already killed, or owned by none, go with the
	// folder.
	vs := bySurface[SurfaceVault]
	for _, s := range pl.surfaces(m) {
		if !slices.Contains(live, s) {
			vs = union(vs, bySurface[s])
		}
	}
	if len(vs) > 0 || len(ph.Changes) == 0 {
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: SurfaceVault, Action: plan.Revoke, Reason: reason,
			Resource: "vault folder " + lh.Folder, Secrets: vs,
		})
	}
}

// secretsBySurface groups the folder's secrets (manifest and journal aside)
// by owning surface.
func (pl *planner) secretsBySurface(lh *state.Handoff) map[string][]string {
	out := map[string][]string{}
	for _, name := range lh.SecretNames() {
		if name == manifest.SecretName || name == state.JournalSecretName {
			continue
		}
		s := pl.secretOwner(name, lh.Manifest)
		out[s] = append(out[s], name)
	}
	return out
}

// replace plans an active handoff whose spec changed: every surface is
// minted again under the new spec (a new TTL starts), added surfaces are
// created and removed ones revoked.
func (pl *planner) replace(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	m := lh.Manifest
	t := pl.target(h)
	ph.Reason = fmt.Sprintf("spec changed since the last apply (digest %s → %s)", shortDigest(m.SpecDigest), shortDigest(ph.SpecDigest))
	ph.ExpiresAt = t.ExpiresAt
	bySurface := pl.secretsBySurface(lh)
	inSpec := map[string]bool{}
	for _, s := range h.Surfaces() {
		inSpec[s] = true
		after := pl.desired(s, t)
		before := pl.recorded(m, s)
		c := plan.Change{Surface: s, Resource: pl.resource(s, h.Slug.Value, after), Before: before, After: after}
		if before == nil {
			c.Action, c.Reason, c.Secrets = plan.Create, "added to the spec", pl.secrets(s, nil)
		} else {
			esc, others := pl.deltas(s, before, after)
			c.Action, c.Escalations = plan.Replace, esc
			c.Secrets = union(bySurface[s], pl.secrets(s, nil))
			if all := append(append([]string{}, esc...), others...); len(all) > 0 {
				c.Reason = "spec changed: " + strings.Join(all, "; ")
			} else {
				c.Reason = "spec changed; same grant, minted again under the new spec"
			}
		}
		ph.Changes = append(ph.Changes, c)
	}
	for _, s := range pl.surfaces(m) {
		if inSpec[s] {
			continue
		}
		before := pl.recorded(m, s)
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Revoke, Reason: "removed from the spec",
			Resource: pl.resource(s, m.Slug, before), Before: before, Secrets: bySurface[s],
		})
	}
}

// liveSurfaces are the surfaces of m that may still hold a credential:
// all of them while active, none once revoked, except those a partial
// manual revocation (one surface killed) left alive.
func (pl *planner) liveSurfaces(m *manifest.Manifest) []string {
	if m.Status == manifest.Revoked && (m.Revocation == nil || len(m.Revocation.Surfaces) == 0) {
		return nil
	}
	dead := m.Killed()
	var out []string
	for _, s := range pl.surfaces(m) {
		if !dead[s] {
			out = append(out, s)
		}
	}
	return out
}
