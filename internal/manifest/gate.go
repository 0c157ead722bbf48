package manifest

import (
	"fmt"
	"slices"
	"time"
)

// KilledSurfaces are the surfaces of an active handoff that `handoff revoke
// -surface` killed one by one; nil for a nil or revoked manifest, or one
// with nothing killed.
func (m *Manifest) KilledSurfaces() []string {
	if m == nil || m.Status != Active || m.Revocation == nil || m.Revocation.Kind != RevokedManual {
		return nil
	}
	return m.Revocation.Surfaces
}

// Killed is the set of surfaces an operator revoked by hand (the kill
// switch): those `handoff revoke -surface` named, or every surface of m
// when the revocation named none. They are never minted again until
// untombstoned. Nil when no manual revocation stands.
func (m *Manifest) Killed() map[string]bool {
	r := m.Revocation
	if r == nil || r.Kind != RevokedManual {
		return nil
	}
	out := map[string]bool{}
	names := r.Surfaces
	if len(names) == 0 {
		names = m.Surfaces.Names()
	}
	for _, s := range names {
		out[s] = true
	}
	return out
}

// Dispatch is what the gate knows besides the manifest.
type Dispatch struct {
	// SpecDigest is the digest of the spec on disk; "" when there is none.
	SpecDigest string
	Now        time.Time
	// Journal is true when a PROVISION_JOURNAL lies beside the manifest: an
	// apply is running for the handoff, or stopped part-way (a refresh that
	// stopped after revoking the old token and before writing the new one
	// leaves an active manifest with a dead token).
	Journal bool
	// Expiries are the credentials of the manifest that expire before the
	// handoff does (a GitHub token), as the surfaces read them from their
	// records.
	Expiries []Expiry
}

// Expiry is when one credential of a manifest expires.
type Expiry struct {
	Surface string
	// What names the credential in a message ("GitHub token").
	What string
	At   time.Time
}

// Admit is the dispatch gate (H4: no manifest, no dispatch): it returns nil
// when a task may be dispatched on m, that is when m is active, unexpired,
// written for the spec on disk, no apply is running or stopped part-way for
// it, and none of its short-lived credentials (Dispatch.Expiries), unless
// killed, is expired. Otherwise the
// error says why, in words for an operator.
func (m *Manifest) Admit(d Dispatch) error {
	now, specDigest := d.Now, d.SpecDigest
	switch {
	case m.Status != Active:
		if r := m.Revocation; r != nil {
			return fmt.Errorf("the handoff is revoked (%s) at %s: %s", r.Kind, r.At.UTC().Format(time.RFC3339), r.Reason)
		}
		return fmt.Errorf("the handoff is %s", m.Status)
	case !now.Before(m.ExpiresAt):
		return fmt.Errorf("the handoff expired at %s; the next apply revokes it", m.ExpiresAt.UTC().Format(time.RFC3339))
	case specDigest == "":
		return fmt.Errorf("no spec for it on disk (a deleted spec is revoked by the next apply)")
	case specDigest != m.SpecDigest && len(m.KilledSurfaces()) > 0:
		return fmt.Errorf("the spec changed while surface %v is killed: apply keeps the handoff frozen; run handoff untombstone, or use a new slug", m.KilledSurfaces())
	case specDigest != m.SpecDigest:
		return fmt.Errorf("the spec changed since the last apply (its digest differs from the manifest's): run handoff apply")
	case d.Journal:
		return fmt.Errorf("an apply is running for it or stopped part-way (%s is present): retry, or run handoff apply", JournalSecretName)
	}
	for _, e := range d.Expiries {
		if !slices.Contains(m.KilledSurfaces(), e.Surface) && !now.Before(e.At) {
			return fmt.Errorf("its %s expired at %s: run handoff apply to refresh it", e.What, e.At.UTC().Format(time.RFC3339))
		}
	}
	return nil
}
