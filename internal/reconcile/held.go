package reconcile

import (
	"slices"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// held says why apply leaves unminted a handoff whose spec h is in the
// repository: a tombstone or a kill of some surfaces that stands until
// `handoff untombstone`, or a revocation (its spec deleted, its TTL ended)
// that the spec being there cannot undo. Nil without a spec, without a
// revocation, or once a tombstone was lifted (the next apply mints it).
func held(h *spec.Handoff, lh *state.Handoff) *plan.Hold {
	if h == nil || lh == nil || lh.Manifest == nil || lh.Manifest.Revocation == nil {
		return nil
	}
	m, r := lh.Manifest, lh.Manifest.Revocation
	hold := &plan.Hold{By: r.By, At: r.At.UTC(), Reason: r.Reason}
	switch {
	case m.Untombstoned():
		return nil
	case m.Status == manifest.Active:
		killed := m.KilledSurfaces()
		if len(killed) == 0 {
			return nil
		}
		hold.Kind, hold.Surfaces, hold.Untombstone = plan.HoldKill, slices.Clone(killed), true
	case r.Kind == manifest.RevokedManual:
		hold.Kind, hold.Untombstone = plan.HoldTombstone, true
	case r.Kind == manifest.RevokedDeleted:
		hold.Kind = plan.HoldDeleted
	case r.Kind == manifest.RevokedExpired:
		hold.Kind = plan.HoldExpired
	default:
		return nil
	}
	return hold
}
