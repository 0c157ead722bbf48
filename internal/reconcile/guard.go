package reconcile

import (
	"sort"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// guard is the mass-revocation guard's account of p (plan.RevocationGuard),
// under the revocation limits of the repository's policy.
//
// A handoff counts when the plan revokes it whole, its spec is not in the
// repository, and this plan decides it: an active manifest before its
// expiry, or leftovers without a usable manifest (a corrupt one, a
// journal, stray secrets). It does not count when its TTL has ended (the
// revocation H3 demands; Expired), or when the plan finishes a revocation
// already decided: beside a journal of a revocation (an apply that stopped
// part-way through, the kill switch's), or of a manifest already revoked.
func (pl *planner) guard(p *plan.Plan, specs map[string]*spec.Handoff) *plan.RevocationGuard {
	live := 0
	for _, lh := range pl.live.Handoffs {
		if pl.holdsCredentials(lh) {
			live++
		}
	}
	var slugs []string
	expired := 0
	for _, ph := range p.Handoffs {
		if ph.Action != plan.Revoke || ph.Operation == nil {
			continue
		}
		lh := pl.live.Handoffs[ph.Slug]
		if lh == nil {
			continue
		}
		m := lh.Manifest
		if lh.ManifestErr != nil {
			m = nil
		}
		alive := m != nil && len(pl.liveSurfaces(m)) > 0
		switch {
		case alive && !pl.now.Before(m.ExpiresAt):
			expired++
		case specs[ph.Slug] != nil:
			// A revocation the spec's presence does not explain is one
			// already decided (a kill to finish).
		case lh.Journal != nil && lh.Journal.Operation == state.JournalOpRevoke:
			// Half-revoked credentials are worse than either state:
			// finishing is never held back.
		case m != nil && !alive:
			// The leftovers of a revocation already recorded.
		default:
			slugs = append(slugs, ph.Slug)
		}
	}
	sort.Strings(slugs)
	return plan.NewRevocationGuard(live, slugs, expired, policy.RevocationLimits(pl.repo.Config))
}

// holdsCredentials reports whether a handoff's folder may hold a live
// credential: a manifest with a surface neither revoked nor killed, or anything
// without a usable manifest (a corrupt one, a journal, secrets).
func (pl *planner) holdsCredentials(lh *state.Handoff) bool {
	switch {
	case lh == nil:
		return false
	case lh.ManifestErr != nil:
		return true
	case lh.Manifest == nil:
		return lh.HasJournal() || len(lh.Secrets) > 0
	}
	// (A manifest revoked in part, some surfaces killed, still holds the
	// others.)
	return len(pl.liveSurfaces(lh.Manifest)) > 0
}
