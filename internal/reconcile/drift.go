package reconcile

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// missingSecrets are the secrets m names that the folder lacks, by owning
// surface.
func (pl *planner) missingSecrets(m *manifest.Manifest, lh *state.Handoff) map[string][]string {
	missing := map[string][]string{}
	for _, name := range m.Secrets {
		if _, ok := lh.Secrets[name]; !ok {
			s := pl.secretOwner(name, m)
			missing[s] = append(missing[s], name)
		}
	}
	return missing
}

func missingReason(names []string) string {
	if len(names) == 1 {
		return fmt.Sprintf("secret %s missing from the vault", names[0])
	}
	return fmt.Sprintf("secrets %s missing from the vault", strings.Join(names, ", "))
}

// regrantInput is what a Regranter plans an in-place change of m's record
// of surface s from.
func (pl *planner) regrantInput(h *spec.Handoff, m *manifest.Manifest, s, specDigest string) surface.RegrantInput {
	killed := m.KilledSurfaces()
	return surface.RegrantInput{
		Target:     pl.keepTarget(h, m, nil),
		FromRecord: m.SpecDigest != specDigest,
		Record:     m.Surfaces[s],
		Withhold:   pl.WithheldPaths(m.Surfaces, killed),
		WithheldBy: pl.withheldBy(m.Surfaces, killed),
		Kill:       m.Revocation,
	}
}

// drift plans an active, unexpired handoff whose spec is unchanged:
// credentials near expiry, secrets missing from the folder, a credential
// deleted out of band, a grant to change in place, the journal of an apply
// that did not finish.
func (pl *planner) drift(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	m := lh.Manifest
	ph.ExpiresAt = m.ExpiresAt
	missing := pl.missingSecrets(m, lh)
	// Whether every change is an early refresh (the cap may defer it),
	// and the soonest expiry among them.
	var earlySoonest time.Time
	others := false

	inManifest := map[string]bool{}
	dead := m.Killed()
	for _, s := range pl.surfaces(m) {
		inManifest[s] = true
		if dead[s] {
			ph.Changes = append(ph.Changes, pl.killedChange(m, s))
			continue
		}
		rec := m.Surfaces[s]
		sf, _ := pl.reg.Get(s)
		before := pl.recorded(m, s)
		c := plan.Change{Surface: s, Action: plan.NoOp, Resource: pl.resource(s, m.Slug, before), Before: before}
		var reasons []string
		// rotate: what is minted again writes the surface's secrets (a
		// change of a grant in place writes nothing).
		var rotate, earlyOne bool
		if v, ok := sf.(surface.Vanishing); ok {
			if why, gone := v.Vanished(rec, pl.live); gone {
				c.Action = plan.Replace
				reasons = append(reasons, why)
			}
		}
		if e, ok := sf.(surface.Expiring); ok && c.Action == plan.NoOp {
			if at, noun, early := e.Expiry(rec); !at.IsZero() {
				left := at.Sub(pl.now)
				switch {
				case left <= 0:
					c.Action, rotate = plan.Refresh, true
					reasons = append(reasons, fmt.Sprintf("%s expired %s ago", noun, fmtDur(-left)))
				case early:
					if refresh, due := pl.spread.decide(m.Slug, left, pl.now); refresh {
						c.Action, rotate = plan.Refresh, true
						reasons = append(reasons, pl.spread.refreshReason(noun, left, due))
						if !due {
							earlyOne = true
							if earlySoonest.IsZero() || at.Before(earlySoonest) {
								earlySoonest = at
							}
						}
					}
				}
			}
		}
		// A grant that changes in place (the read paths of the handoff's
		// identity, narrowed by a kill of a surface read by reference (H8),
		// widened again once untombstoned).
		var regrantAfter *plan.Grant
		if rg, ok := sf.(surface.Regranter); ok {
			why, esc, after := rg.PlanRegrant(pl.regrantInput(h, m, s, ph.SpecDigest))
			regrantAfter = after
			if c.Action != plan.Replace && len(why) > 0 {
				if c.Action == plan.NoOp {
					c.Action = plan.Refresh
				}
				reasons = append(reasons, why...)
				c.Escalations = esc
			}
		}
		if names := missing[s]; len(names) > 0 {
			if c.Action == plan.NoOp {
				c.Action = plan.Refresh
			}
			reasons = append(reasons, missingReason(names))
			c.Secrets = names
			rotate = true
		}
		if c.Action.IsChange() {
			c.After = pl.keepGrant(h, m, s, before, c.Action)
			if regrantAfter != nil {
				c.After.ReadPaths = slices.Clone(regrantAfter.ReadPaths)
			}
			c.Reason = strings.Join(reasons, "; ")
			switch {
			case c.Action == plan.Replace:
				c.Secrets = union(c.Secrets, pl.secrets(s, nil))
			case rotate:
				c.Secrets = union(c.Secrets, pl.secrets(s, rec))
			}
			if !earlyOne || len(reasons) > 1 {
				others = true
			}
		} else {
			c.Reason = upToDate(sf, rec, pl.now)
		}
		ph.Changes = append(ph.Changes, c)
	}
	n := len(ph.Changes)
	for _, s := range h.Surfaces() {
		if inManifest[s] || len(dead) > 0 {
			continue
		}
		after := pl.desired(s, pl.keepTarget(h, m, nil))
		if after != nil {
			after.ExpiresAt = earliest(after.ExpiresAt, m.ExpiresAt)
		}
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Create, Reason: "in the spec but not in the manifest",
			Resource: pl.resource(s, h.Slug.Value, after), After: after, Secrets: pl.secrets(s, nil),
		})
	}
	if names := missing[SurfaceVault]; len(names) > 0 {
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: SurfaceVault, Action: plan.Refresh, Reason: missingReason(names),
			Resource: "vault folder " + lh.Folder, Secrets: names,
		})
	}
	if lh.HasJournal() {
		pl.journalOnActive(ph, h, lh)
	}
	if !changed(ph.Changes) {
		ph.Reason = fmt.Sprintf("up to date (expires %s)", fmtTime(m.ExpiresAt))
	}
	if !earlySoonest.IsZero() && !others && n == len(ph.Changes) && !lh.HasJournal() {
		pl.noteEarly(ph, earlySoonest)
	}
	if len(dead) > 0 {
		note := fmt.Sprintf("%s killed by %s at %s", strings.Join(pl.killedNames(m), ", "), orUnknown(m.Revocation.By), fmtTime(m.Revocation.At))
		if ph.Reason == "" {
			ph.Reason = note
		} else {
			ph.Reason += "; " + note
		}
	}
}

// killedChange is the no-op of a surface an operator killed.
func (pl *planner) killedChange(m *manifest.Manifest, s string) plan.Change {
	return plan.Change{Surface: s, Action: plan.NoOp, Resource: pl.resource(s, m.Slug, nil),
		Reason: killedReason(m) + "; not minted again until handoff untombstone (or a new slug)"}
}

// killedReason says who killed surfaces of m, when and why.
func killedReason(m *manifest.Manifest) string {
	r := m.Revocation
	return fmt.Sprintf("killed by %s at %s: %s", orUnknown(r.By), fmtTime(r.At), r.Reason)
}

// frozen plans an active handoff some of whose surfaces were killed by hand
// (`handoff revoke -surface`) and whose spec changed since it was applied.
// The changed spec is not applied: replacing the rest would mint under an
// operator's kill, and a refresh or repair of what lives would record
// grants of one spec under another's digest. Nothing is minted under the
// old spec either. The handoff keeps the spec digest and the expiry it was
// applied with, the gate refuses it (the digests differ) and its
// credentials run out (a short-lived token within its life, the rest at
// expires_at); only what narrows is done: the read paths of killed
// by-reference surfaces withheld from the recorded grant, what a stopped
// run left of a killed surface revoked. A warning says the way out:
// handoff untombstone (the next apply replaces the whole handoff with the
// new spec, under a new TTL) or a new slug.
func (pl *planner) frozen(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	m := lh.Manifest
	dead := m.Killed()
	ks := pl.killedNames(m)
	ph.ExpiresAt = m.ExpiresAt
	change := fmt.Sprintf("digest %s → %s", shortDigest(m.SpecDigest), shortDigest(ph.SpecDigest))
	ph.Reason = fmt.Sprintf("spec changed since the last apply (%s) while %s killed by %s at %s: the new spec is not applied and nothing is minted (no refresh, no repair) until handoff untombstone, which replaces the whole handoff with the new spec, or a new slug; it keeps its grants and its expiry (%s) and the gate refuses it",
		change, strings.Join(ks, ", "), orUnknown(m.Revocation.By), fmtTime(m.Revocation.At), fmtTime(m.ExpiresAt))
	kept := fmt.Sprintf("kept as applied (spec %s) until %s: not minted again while the changed spec waits", shortDigest(m.SpecDigest), fmtTime(m.ExpiresAt))

	missing := pl.missingSecrets(m, lh)
	for _, s := range pl.surfaces(m) {
		if dead[s] {
			ph.Changes = append(ph.Changes, pl.killedChange(m, s))
			continue
		}
		rec := m.Surfaces[s]
		sf, _ := pl.reg.Get(s)
		before := pl.recorded(m, s)
		c := plan.Change{Surface: s, Action: plan.NoOp, Resource: pl.resource(s, m.Slug, before), Before: before}
		var notes []string
		if e, ok := sf.(surface.Expiring); ok {
			if at, noun, early := e.Expiry(rec); early && !at.IsZero() {
				if left := at.Sub(pl.now); left <= 0 {
					notes = append(notes, fmt.Sprintf("%s expired %s ago, not refreshed", noun, fmtDur(-left)))
				} else {
					notes = append(notes, fmt.Sprintf("%s expires in %s, not refreshed", noun, fmtDur(left)))
				}
			}
		}
		vanished := false
		if v, ok := sf.(surface.Vanishing); ok {
			if why, gone := v.Vanished(rec, pl.live); gone {
				notes = append(notes, why+", not created again")
				vanished = true
			}
		}
		if rg, ok := sf.(surface.Regranter); ok && !vanished {
			// Narrowing only: the recorded grant less what the kills
			// withhold (never the changed spec's).
			if why, _, after := rg.PlanRegrant(pl.regrantInput(h, m, s, ph.SpecDigest)); len(why) > 0 {
				c.Action = plan.Refresh
				c.Reason = strings.Join(why, "; ")
				c.After = after
			}
		}
		if names := missing[s]; len(names) > 0 {
			notes = append(notes, fmt.Sprintf("%s missing from the vault, not written again", strings.Join(names, ", ")))
		}
		if c.Action == plan.NoOp {
			c.Reason = strings.Join(append([]string{kept}, notes...), "; ")
		}
		ph.Changes = append(ph.Changes, c)
	}
	if lh.HasJournal() {
		// A stopped run's journal: what it left of a killed surface is
		// revoked, as on any active handoff; the rest is not cleaned by
		// minting again (a refresh revokes leftovers by rotating), it goes
		// when the handoff is replaced or revoked (by name: the token in
		// the folder, what the surfaces' names find). The run clears the
		// journal, which untombstone needs.
		var named []string
		if lh.Journal != nil {
			named = lh.Journal.Surfaces()
		}
		bySurface := pl.secretsBySurface(lh)
		for i := range ph.Changes {
			c := &ph.Changes[i]
			switch {
			case !slices.Contains(named, c.Surface):
			case dead[c.Surface]:
				c.Action = plan.Revoke
				c.Reason = killedReason(m) + "; revoke what the unfinished apply left; not minted again"
				c.Secrets = union(c.Secrets, bySurface[c.Surface])
			default:
				c.Reason += "; an unfinished apply's journal names it: what that left is not cleaned by minting, it goes when the handoff is replaced or revoked"
			}
		}
		if !changed(ph.Changes) {
			ph.Changes = append(ph.Changes, plan.Change{
				Surface: SurfaceVault, Action: plan.Refresh, Resource: "vault folder " + lh.Folder,
				Reason: "incomplete apply found (journal): clear it; nothing is minted",
			})
		}
	}

	d := &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  fmt.Sprintf("Handoff %s has killed surfaces; its spec changed", ph.Slug),
		Detail: fmt.Sprintf("handoff %s has killed surfaces (%s: %s); its spec changed since it was applied (%s): untombstone it or use a new slug. "+
			"Until then the changed spec is not applied and nothing is minted for the handoff (no refresh, no repair): its manifest keeps the spec digest and the expiry (%s) it was applied with, "+
			"the dispatch gate refuses it (the digests differ), and its credentials run out. "+
			"handoff untombstone %s lifts the kill: the next apply replaces the whole handoff with the new spec, under a new TTL, minting the killed surfaces again if the spec still asks for them. "+
			"A new slug is a new handoff; this one is revoked when its spec is deleted or its TTL passes.",
			ph.Slug, strings.Join(ks, ", "), killedReason(m), change, fmtTime(m.ExpiresAt), ph.Slug),
	}
	if h != nil {
		d.Subject = h.DefRange.Ptr()
	}
	pl.diags = append(pl.diags, d)
}

// killedNames are the surfaces of m killed by hand, in the registry's
// order.
func (pl *planner) killedNames(m *manifest.Manifest) []string {
	dead := m.Killed()
	var out []string
	for _, s := range pl.surfaces(m) {
		if dead[s] {
			out = append(out, s)
		}
	}
	return out
}

// finishRevocation plans an active manifest beside the journal of a
// revocation that stopped part-way. A manual kill of some surfaces (the
// journal's record names them) revokes those again and keeps the rest as
// they are, as apply finishes the kill before anything else; any other
// revocation (all surfaces by hand, or by apply) revokes everything.
func (pl *planner) finishRevocation(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	m := lh.Manifest
	rv := lh.Journal.Revocation
	if rv == nil || rv.Kind != manifest.RevokedManual || len(rv.Surfaces) == 0 {
		why := "incomplete revocation found (journal): finish it"
		if rv != nil {
			why = fmt.Sprintf("unfinished revocation by %s at %s (%s: %s) found (journal): finish it", orUnknown(rv.By), fmtTime(rv.At), rv.Kind, rv.Reason)
		}
		pl.revoke(ph, h, lh, why)
		return
	}
	why := fmt.Sprintf("unfinished revocation of %s by %s at %s (%s) found (journal): finish it; not minted again until handoff untombstone",
		strings.Join(rv.Surfaces, ", "), orUnknown(rv.By), fmtTime(rv.At), rv.Reason)
	ph.Reason = why
	ph.ExpiresAt = m.ExpiresAt
	bySurface := pl.secretsBySurface(lh)
	for _, s := range pl.surfaces(m) {
		before := pl.recorded(m, s)
		c := plan.Change{Surface: s, Action: plan.NoOp, Resource: pl.resource(s, m.Slug, before), Before: before,
			Reason: "kept as it is while the revocation of " + strings.Join(rv.Surfaces, ", ") + " is finished"}
		if slices.Contains(rv.Surfaces, s) {
			c.Action, c.Reason, c.Secrets = plan.Revoke, why, bySurface[s]
		}
		ph.Changes = append(ph.Changes, c)
	}
}

// journalOnActive marks the surfaces a leftover journal names (or the
// vault folder) for refresh, so that apply revokes what the journal made
// that the manifest does not name. A killed surface is never refreshed:
// what the journal may have left of it is revoked.
func (pl *planner) journalOnActive(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	const why = "incomplete apply found (journal): revoke its leftovers the manifest does not name"
	m := lh.Manifest
	dead := m.Killed()
	var surfaces []string
	if lh.Journal != nil {
		surfaces = lh.Journal.Surfaces()
	}
	if len(surfaces) == 0 {
		surfaces = []string{SurfaceVault}
	}
	for _, s := range surfaces {
		found := false
		sf, _ := pl.reg.Get(s)
		rg, regrants := sf.(surface.Regranter)
		for i := range ph.Changes {
			c := &ph.Changes[i]
			if c.Surface != s {
				continue
			}
			found = true
			if dead[s] {
				c.Action = plan.Revoke
				c.Reason = killedReason(m) + "; revoke what the unfinished apply left; not minted again"
				c.Secrets = union(c.Secrets, pl.secretsBySurface(lh)[s])
				c.After = nil
				continue
			}
			if c.Action == plan.NoOp {
				c.Action, c.Reason = plan.Refresh, why
				c.After = pl.keepGrant(h, m, s, c.Before, plan.Refresh)
				if regrants {
					if _, _, after := rg.PlanRegrant(pl.regrantInput(h, m, s, ph.SpecDigest)); after != nil && c.After != nil {
						c.After.ReadPaths = slices.Clone(after.ReadPaths)
					}
				}
			} else {
				c.Reason += "; " + why
			}
			if regrants && c.Action == plan.Refresh {
				// Leftovers of the journal are revoked by minting the
				// credential again, not only by changing its grant.
				c.Secrets = union(c.Secrets, pl.secrets(s, m.Surfaces[s]))
			}
		}
		if !found {
			ph.Changes = append(ph.Changes, plan.Change{
				Surface: s, Action: plan.Refresh, Reason: why, Resource: pl.resource(s, ph.Slug, nil),
			})
		}
	}
	sort.SliceStable(ph.Changes, func(i, j int) bool { return pl.rank(ph.Changes[i].Surface) < pl.rank(ph.Changes[j].Surface) })
}

// keepGrant is the grant after a refresh or an out-of-band repair of
// surface s: the spec's grant (unchanged, since the digest matches) as
// minted now, bounded by the handoff's expiry; a refresh keeps what the
// record names (an identity), a repair names anew.
func (pl *planner) keepGrant(h *spec.Handoff, m *manifest.Manifest, s string, before *plan.Grant, action plan.Action) *plan.Grant {
	if h == nil || !h.HasSurface(s) {
		return before
	}
	var rec surface.Record
	if action == plan.Refresh {
		rec = m.Surfaces[s]
	}
	g := pl.desired(s, pl.keepTarget(h, m, rec))
	if g != nil && g.ExpiresAt.IsZero() {
		g.ExpiresAt = m.ExpiresAt
	}
	return g
}

// upToDate is the reason of a surface with nothing to do.
func upToDate(sf surface.Surface, rec surface.Record, now time.Time) string {
	if e, ok := sf.(surface.Expiring); ok {
		if at, noun, early := e.Expiry(rec); early && !at.IsZero() {
			return fmt.Sprintf("up to date; %s expires in %s", noun, fmtDur(at.Sub(now)))
		}
	}
	return "up to date"
}
