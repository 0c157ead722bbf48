package manifest

import (
	"fmt"
	"slices"
	"strings"
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
	// MaxTTL is the policy's max_ttl: the longest a handoff may live from
	// the start of its TTL. Zero stands for the hard maximum, HardMaxTTL.
	MaxTTL time.Duration
	// Expiries are the expiring or stamped credentials the manifest
	// records (a GitHub token, an identity's client secret), as their
	// surfaces read them from their records.
	Expiries []Expiry
}

// Expiry is when one credential of a manifest was minted and expires, as
// its record says, and the bounds its surface sets on that expiry.
type Expiry struct {
	Surface string
	// What names the credential in a message ("GitHub token").
	What string
	// At is when the credential expires; zero when the record does not
	// say.
	At time.Time
	// AtField and MintedField are the record's names for At and MintedAt
	// ("token_expires_at", "minted_at"), for messages: "" when its surface
	// does not say.
	AtField, MintedField string
	// Life is the longest life the credential's vendor gives it after its
	// mint (GitHub's hour), for a credential whose vendor fixes its life:
	// it may then outlive the handoff, by Life at most. Zero for a
	// credential minted to end with the handoff: At is then no later than
	// the handoff's expiry.
	Life time.Duration
	// MintedAt is when the credential was minted, as its record says; zero
	// when the record does not say (the manifest's updated_at, the last
	// time apply wrote it, bounds it then).
	MintedAt time.Time
}

// HardMaxTTL is the longest TTL any policy allows (H3; policy.HardMaxTTL,
// which this package cannot import).
const HardMaxTTL = 24 * time.Hour

// ClockSkew is how far the clocks of the machines that apply and that ask
// the gate, and the vendors' clocks, may disagree: a time a manifest
// records may lie that far in the future of the gate's clock, and a
// vendor's expiry that far beyond the bound it keeps.
const ClockSkew = 5 * time.Minute

// Admit is the dispatch gate (H4: no manifest, no dispatch): it returns nil
// when a task may be dispatched on m, that is when m is active, consistent
// (Consistent), unexpired, written for the spec on disk, no apply is
// running or stopped part-way for it, and none of its expiring credentials
// (Dispatch.Expiries), unless killed, is expired. Otherwise the error says
// why, in words for an operator.
func (m *Manifest) Admit(d Dispatch) error {
	now, specDigest := d.Now, d.SpecDigest
	if m.Status != Active {
		if r := m.Revocation; r != nil {
			return fmt.Errorf("the handoff is revoked (%s) at %s: %s", r.Kind, r.At.UTC().Format(time.RFC3339), r.Reason)
		}
		return fmt.Errorf("the handoff is %s", m.Status)
	}
	if err := m.Consistent(d); err != nil {
		return fmt.Errorf("its manifest cannot be trusted: %w. handoff apply never writes that: find out who changed %s (handoff audit %s), then revoke the handoff (handoff revoke %s)",
			err, SecretName, m.Slug, m.Slug)
	}
	switch {
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
		if !e.At.IsZero() && !slices.Contains(m.KilledSurfaces(), e.Surface) && !now.Before(e.At) {
			return fmt.Errorf("its %s expired at %s: run handoff apply to refresh it", e.What, e.At.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// Consistent checks that m's own dates are ones handoff apply writes, so
// that the gate does not take a manifest's word for how long it lives: its
// times are not in the future of d.Now (ClockSkew aside); it expires no
// later than d.MaxTTL after its TTL began (TTLStart); and each credential
// of d.Expiries (checkCredential) was minted within the handoff's life,
// not in the future, and expires no earlier than its mint and no later
// than the handoff does or, when its vendor fixes its life, than that life
// after its mint. The error says what is wrong and, for a credential,
// which field of which surface's record.
func (m *Manifest) Consistent(d Dispatch) error {
	maxTTL := d.MaxTTL
	if maxTTL <= 0 {
		maxTTL = HardMaxTTL
	}
	latest := d.Now.Add(ClockSkew)
	switch {
	case m.CreatedAt.After(latest):
		return fmt.Errorf("it was created at %s, in the future", stamp(m.CreatedAt))
	case m.UpdatedAt.After(latest):
		return fmt.Errorf("it was updated at %s, in the future", stamp(m.UpdatedAt))
	case m.UpdatedAt.Before(m.CreatedAt.Add(-ClockSkew)):
		// Runs on machines whose clocks disagree (two CI runners, a
		// revoke from a laptop) may write an update a little before
		// the creation they follow.
		return fmt.Errorf("it was updated at %s, before it was created (%s)", stamp(m.UpdatedAt), stamp(m.CreatedAt))
	}
	for _, ev := range m.History {
		if ev.At.After(latest) {
			return fmt.Errorf("its history records a %s at %s, in the future", ev.Action, stamp(ev.At))
		}
	}
	start := m.TTLStart(latest)
	if life := m.ExpiresAt.Sub(start); life > maxTTL {
		return fmt.Errorf("it expires at %s, %s after its TTL began (%s), beyond the policy's max_ttl of %s",
			stamp(m.ExpiresAt), hours(life), stamp(start), hours(maxTTL))
	}
	for _, e := range d.Expiries {
		if err := m.checkCredential(e, latest); err != nil {
			return err
		}
	}
	return nil
}

// checkCredential checks the times e's record holds against m's (latest
// is the gate's clock plus ClockSkew). The error starts with the field at
// fault ("surfaces.cloudflare.minted_at: ") and quotes only times.
func (m *Manifest) checkCredential(e Expiry, latest time.Time) error {
	field := func(name string) string {
		if name == "" {
			return "surfaces." + e.Surface
		}
		return "surfaces." + e.Surface + "." + name
	}
	verb := "minted"
	if strings.HasPrefix(e.MintedField, "issued") {
		verb = "issued" // an STS session is issued
	}
	mintedField, from := field(e.MintedField), verb
	minted := e.MintedAt
	if minted.IsZero() && e.Life > 0 && !e.At.IsZero() {
		// A fixed life is counted from the mint: without one, from the
		// last time apply wrote the manifest, which bounds it.
		minted, mintedField, from = m.UpdatedAt, "updated_at", "last written by apply"
	}
	if !minted.IsZero() {
		switch {
		case minted.After(latest):
			return fmt.Errorf("%s: its %s was %s at %s, in the future", mintedField, e.What, verb, stamp(minted))
		case minted.Before(m.CreatedAt.Add(-ClockSkew)):
			return fmt.Errorf("%s: its %s was %s at %s, before the handoff was created (%s)", mintedField, e.What, verb, stamp(minted), stamp(m.CreatedAt))
		case minted.After(m.ExpiresAt):
			return fmt.Errorf("%s: its %s was %s at %s, after the handoff expired (%s)", mintedField, e.What, verb, stamp(minted), stamp(m.ExpiresAt))
		}
	}
	atField := field(e.AtField)
	switch {
	case e.At.IsZero():
	case !e.MintedAt.IsZero() && e.At.Before(e.MintedAt):
		return fmt.Errorf("%s: its %s expires at %s, before it was %s (%s)", atField, e.What, stamp(e.At), verb, stamp(e.MintedAt))
	case e.Life <= 0 && e.At.After(m.ExpiresAt.Add(ClockSkew)):
		return fmt.Errorf("%s: its %s expires at %s, after the handoff (%s)", atField, e.What, stamp(e.At), stamp(m.ExpiresAt))
	case e.Life > 0 && e.At.After(minted.Add(e.Life+ClockSkew)):
		return fmt.Errorf("%s: its %s expires at %s, more than the %s its vendor allows after it was %s (%s)",
			atField, e.What, stamp(e.At), hours(e.Life), from, stamp(minted))
	}
	return nil
}

// TTLStart is when m's TTL began: its created_at, or the last create or
// replace its history records up to latest, if later. A run that replaces
// the whole handoff with a changed spec starts a new TTL and keeps
// created_at; it records a create or replace of every surface then.
func (m *Manifest) TTLStart(latest time.Time) time.Time {
	start := m.CreatedAt
	for _, ev := range m.History {
		if (ev.Action == EventCreate || ev.Action == EventReplace) && ev.At.After(start) && !ev.At.After(latest) {
			start = ev.At
		}
	}
	return start
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// hours writes d in whole hours and minutes ("24h", "1h30m", "631734h").
func hours(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
	switch {
	case m == 0:
		return fmt.Sprintf("%dh", h)
	case h == 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}
