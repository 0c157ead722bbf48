package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// SurfaceVault is the pseudo-surface of changes to a handoff's vault folder
// itself: secrets that no surface owns, the leftovers of a crashed apply
// when no surface can be told. It needs no provider.
const SurfaceVault = "vault"

// DefaultRefreshWindow is how long before its expiry a short-lived token is
// minted again.
const DefaultRefreshWindow = 10 * time.Minute

// Registry is the set of surfaces this build can provision (mint and
// revoke). Plan reports any other surface a change needs as an error. The
// mcp surface (tool lists recorded in the manifest, nothing minted) and the
// vault folder need no entry.
type Registry map[string]bool

// NewRegistry returns a registry of the named surfaces.
func NewRegistry(surfaces ...string) Registry {
	r := Registry{}
	for _, s := range surfaces {
		r[s] = true
	}
	return r
}

// Has reports whether the build can provision surface.
func (r Registry) Has(surface string) bool {
	return surface == spec.SurfaceMCP || surface == SurfaceVault || r[surface]
}

// Options are the inputs of Plan besides the specs and the live state.
type Options struct {
	// Now is the instant the plan is computed for; required. Expiries,
	// identity names and the plan's CreatedAt derive from it.
	Now time.Time
	// RefreshWindow is how long before expiry a GitHub token (or any
	// surface credential whose manifest entry has an expires_at) is
	// refreshed; DefaultRefreshWindow when zero.
	RefreshWindow time.Duration
	// GitCommit is the commit of the GitOps repository, if known.
	GitCommit string
	// Version is the version of the handoff binary.
	Version string
	// Registry is the set of surfaces this build can provision.
	Registry Registry
	// PolicyChecked says the caller already ran policy.Check on the
	// repository, with PolicyDiagnostics as its result; Plan then records
	// that result in the plan and does not return those diagnostics again.
	// Otherwise Plan runs policy.Check itself and returns its diagnostics
	// with its own.
	PolicyChecked     bool
	PolicyDiagnostics hcl.Diagnostics
}

// policyChecks names what policy.Check enforces, for the plan's record.
var policyChecks = []string{
	"slug: lower-case [a-z0-9-], 3 to 63 characters, unique, equal to the label and file name",
	"ttl parses and is at most max_ttl (hard ceiling 24h)",
	"GitHub permissions inside the policy ceiling; never administration, secrets, workflows, organization-wide or admin",
	"vault read paths absolute, free of .., strictly below the handoff's folder or a vault_read_roots root, in a vault_read_environments environment",
	"live financial credentials only with a live_approval block",
	"every surface's own settings (zones, role ARN and session policy, Heroku scopes, bundle id)",
}

// planChecks names what Plan checks against the live state.
var planChecks = []string{
	"a provider for every surface to provision (this build's registry)",
	"a GitHub App installation on each repository's owner",
	"each installation can grant the permissions asked",
	"no installation a spec uses grants a permission no handoff may hold (a warning: tokens are narrowed anyway)",
}

// Plan diffs the specs of repo against live and returns the plan, with the
// reason for every action, and the diagnostics of the plan-time checks
// (and of policy.Check, unless opts.PolicyChecked). It does no I/O. When
// the diagnostics hold errors the plan is still returned, for display, but
// must not be applied.
func Plan(ctx context.Context, repo *spec.Repo, live *state.Live, opts Options) (*plan.Plan, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if repo == nil || live == nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nothing to plan",
			Detail: "The planner needs the parsed repository and the live state; one of them is missing."})
	}
	if opts.Now.IsZero() {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No time to plan for",
			Detail: "reconcile.Options.Now is zero; the caller must give the instant the plan is computed for."})
	}
	if opts.RefreshWindow <= 0 {
		opts.RefreshWindow = DefaultRefreshWindow
	}
	now := opts.Now.UTC()

	policyDiags := opts.PolicyDiagnostics
	if !opts.PolicyChecked {
		policyDiags = policy.Check(repo)
		diags = append(diags, policyDiags...)
	}

	p := &plan.Plan{
		FormatVersion:    plan.FormatVersion,
		HandoffVersion:   opts.Version,
		CreatedAt:        now,
		GitCommit:        opts.GitCommit,
		Environment:      live.Environment,
		HandoffRoot:      live.Root,
		StateFingerprint: live.Fingerprint(),
		SpecsDigest:      SpecsDigest(repo.Handoffs),
		Handoffs:         []plan.Handoff{},
	}

	env := live.Environment
	if cfg := repo.Config; cfg != nil && cfg.Infisical != nil && cfg.Infisical.Environment.Valid() {
		env = cfg.Infisical.Environment.Value
	}
	pl := &planner{repo: repo, live: live, opts: opts, now: now, env: env, identityIDs: map[string]bool{}}
	for _, id := range live.Identities {
		pl.identityIDs[id.ID] = true
	}

	specs := map[string]*spec.Handoff{}
	for _, h := range repo.Handoffs {
		if _, dup := specs[h.Slug.Value]; !dup { // policy reports duplicates
			specs[h.Slug.Value] = h
		}
	}
	slugs := make([]string, 0, len(specs)+len(live.Handoffs))
	for s := range specs {
		slugs = append(slugs, s)
	}
	for s := range live.Handoffs {
		if _, ok := specs[s]; !ok {
			slugs = append(slugs, s)
		}
	}
	sort.Strings(slugs)
	for _, slug := range slugs {
		if err := ctx.Err(); err != nil {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Plan interrupted", Detail: err.Error()})
		}
		p.Handoffs = append(p.Handoffs, pl.handoff(slug, specs[slug], live.Handoffs[slug]))
	}
	p.Finalize()
	pl.appPermissions()

	for _, prob := range live.Problems {
		pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unexpected content in the vault",
			Detail: prob + ". handoff leaves it alone; remove it by hand if it is not needed."})
	}
	diags = append(diags, pl.diags...)

	checks := append(append([]string{}, policyChecks...), planChecks...)
	p.Policy = plan.PolicyResult{Passed: !policyDiags.HasErrors() && !pl.diags.HasErrors(), Checks: checks}
	for _, d := range append(append(hcl.Diagnostics{}, policyDiags...), pl.diags...) {
		if d.Severity == hcl.DiagWarning {
			p.Policy.Warnings = append(p.Policy.Warnings, d.Summary)
		}
	}
	return p, diags
}

// SpecsDigest returns "sha256:" and the hex SHA-256 over every spec's slug
// and digest, sorted by slug: what a saved plan records so that apply can
// refuse it when the specs on disk changed.
func SpecsDigest(handoffs []*spec.Handoff) string {
	lines := make([]string, 0, len(handoffs))
	for _, h := range handoffs {
		lines = append(lines, h.Slug.Value+"\t"+h.Digest())
	}
	sort.Strings(lines)
	sum := sha256.New()
	sum.Write([]byte("handoff-specs v1\n"))
	for _, l := range lines {
		sum.Write([]byte(l + "\n"))
	}
	return "sha256:" + hex.EncodeToString(sum.Sum(nil))
}

// RevocationKind says how apply records the revocation of an active
// manifest: expired when it is past its TTL at now, deleted otherwise (the
// plan revokes an unexpired active manifest only when its spec is gone).
func RevocationKind(m *manifest.Manifest, now time.Time) manifest.RevocationKind {
	if !now.Before(m.ExpiresAt) {
		return manifest.RevokedExpired
	}
	return manifest.RevokedDeleted
}

type planner struct {
	repo *spec.Repo
	live *state.Live
	opts Options
	now  time.Time
	env  string
	// identityIDs are the ids of live.Identities.
	identityIDs map[string]bool
	diags       hcl.Diagnostics
	// reported dedupes diagnostics per handoff and surface.
	reported map[string]bool
}

// handoff plans one slug; h or lh may be nil, not both.
func (pl *planner) handoff(slug string, h *spec.Handoff, lh *state.Handoff) plan.Handoff {
	ph := plan.Handoff{Slug: slug, Changes: []plan.Change{}}
	if h != nil {
		ph.Card = int(h.Card.Value)
		ph.SpecFile = pl.specFile(h)
		ph.SpecDigest = h.Digest()
	}
	var m *manifest.Manifest
	if lh != nil {
		m = lh.Manifest
	}
	if h == nil && m != nil {
		ph.Card = m.Card
	}
	switch {
	case h == nil && (lh == nil || (!lh.HasManifest() && !lh.HasJournal() && len(lh.Secrets) == 0)):
		ph.Reason = "empty folder; nothing to do"
	case lh == nil || (!lh.HasManifest() && !lh.HasJournal() && len(lh.Secrets) == 0):
		pl.create(&ph, h, "new spec")
	case lh.ManifestErr != nil:
		pl.recover(&ph, h, lh, fmt.Sprintf("%v", lh.ManifestErr))
	case m == nil && lh.HasJournal():
		pl.recover(&ph, h, lh, "incomplete apply found (journal)")
	case m == nil:
		pl.recover(&ph, h, lh, fmt.Sprintf("folder %s holds %s but no manifest", lh.Folder, strings.Join(lh.SecretNames(), ", ")))
	case m.Untombstoned() && h != nil && (!lh.HasJournal() || (lh.Journal != nil && lh.Journal.Operation != state.JournalOpRevoke)):
		// (A journal of a revocation, or one that cannot be read, may be
		// an operator tombstoning it again: its leftovers are revoked
		// first, below, and nothing is minted.)
		pl.untombstoned(&ph, h, lh)
	case m.Status == manifest.Revoked && len(liveSurfaces(m)) == 0:
		pl.revoked(&ph, h, lh)
	case !pl.now.Before(m.ExpiresAt):
		pl.revoke(&ph, h, lh, fmt.Sprintf("past its TTL (expired %s)", fmtTime(m.ExpiresAt)))
	case h == nil:
		pl.revoke(&ph, h, lh, "spec deleted")
	case lh.Journal != nil && lh.Journal.Operation == state.JournalOpRevoke:
		// A revocation stopped part-way: finish it. Refreshing would bring
		// back what an operator (or a deleted spec) was ending.
		pl.finishRevocation(&ph, h, lh)
	case m.SpecDigest != ph.SpecDigest && len(m.Killed()) == 0:
		pl.replace(&ph, h, lh)
	case m.SpecDigest != ph.SpecDigest:
		// Some surfaces were killed by hand: the changed spec is not
		// applied, and nothing is minted under the old one either.
		pl.frozen(&ph, h, lh)
	default:
		pl.drift(&ph, h, lh)
	}
	sort.SliceStable(ph.Changes, func(i, j int) bool {
		return surfaceRank(ph.Changes[i].Surface) < surfaceRank(ph.Changes[j].Surface)
	})
	pl.check(&ph, h, lh)
	return ph
}

func (pl *planner) specFile(h *spec.Handoff) string {
	if rel, err := filepath.Rel(pl.repo.Dir, h.Filename); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(h.Filename)
}

func (pl *planner) target(h *spec.Handoff) *target {
	t := &target{h: h, root: pl.live.Root, env: pl.env, now: pl.now}
	if h.TTL.Valid() && h.TTL.Value > 0 {
		t.expires = pl.now.Add(h.TTL.Value)
	}
	return t
}

// create plans every surface of a spec whose handoff has no folder.
func (pl *planner) create(ph *plan.Handoff, h *spec.Handoff, reason string) {
	t := pl.target(h)
	ph.Reason = reason
	ph.ExpiresAt = t.expires
	for _, s := range h.Surfaces() {
		after := t.afterGrant(s)
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Create, Reason: reason,
			Resource: resource(s, h.Slug.Value, after), After: after,
			Secrets: defaultSecrets(s),
		})
	}
}

// defaultSecrets are the vault secrets apply writes for a surface it
// creates. Providers of other surfaces name theirs when they mint.
func defaultSecrets(surface string) []string {
	switch surface {
	case spec.SurfaceGitHub:
		return []string{SecretGitHubToken}
	case spec.SurfaceInfisical:
		return []string{SecretInfisicalClientID, SecretInfisicalClientSecret}
	}
	return nil
}

// recover plans a folder whose manifest is corrupt or missing while
// something is there (a journal, secrets): what exists is found by
// deterministic names (folder secrets, identities named for the slug,
// journal entries) and revoked; with a spec, everything is created again.
func (pl *planner) recover(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff, why string) {
	leftovers := pl.leftovers(lh)
	if h == nil {
		ph.Reason = why + "; no spec: revoke its leftovers"
		for _, s := range leftovers.surfaces {
			ph.Changes = append(ph.Changes, plan.Change{
				Surface: s, Action: plan.Revoke, Reason: ph.Reason,
				Resource: leftovers.resource(s, ph.Slug), Secrets: leftovers.secrets[s],
			})
		}
		return
	}
	t := pl.target(h)
	ph.Reason = why + ": revoke its leftovers and create again"
	ph.ExpiresAt = t.expires
	inSpec := map[string]bool{}
	for _, s := range h.Surfaces() {
		inSpec[s] = true
		after := t.afterGrant(s)
		res := resource(s, h.Slug.Value, after)
		if s == spec.SurfaceInfisical && len(leftovers.identities) > 0 {
			res += ", replacing " + strings.TrimPrefix(leftovers.resource(s, ph.Slug), "identity ")
		}
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Replace, Reason: ph.Reason,
			Resource: res, After: after,
			Secrets: union(leftovers.secrets[s], defaultSecrets(s)),
		})
	}
	for _, s := range leftovers.surfaces {
		if inSpec[s] {
			continue
		}
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Revoke, Reason: why + "; not in the spec: revoke its leftovers",
			Resource: leftovers.resource(s, ph.Slug), Secrets: leftovers.secrets[s],
		})
	}
}

// leftoverSet is what a folder without a usable manifest holds, by surface.
type leftoverSet struct {
	surfaces   []string
	secrets    map[string][]string
	identities []state.Identity
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

func (l *leftoverSet) resource(surface, slug string) string {
	if surface == spec.SurfaceInfisical && len(l.identities) > 0 {
		names := make([]string, len(l.identities))
		for i, id := range l.identities {
			names[i] = id.Name
		}
		return "identity " + strings.Join(names, ", ")
	}
	if surface == SurfaceVault {
		return "vault folder"
	}
	return resource(surface, slug, nil) + " (found by name)"
}

func (pl *planner) leftovers(lh *state.Handoff) *leftoverSet {
	l := &leftoverSet{secrets: map[string][]string{}}
	for _, name := range lh.SecretNames() {
		if name == manifest.SecretName || name == state.JournalSecretName {
			continue
		}
		l.add(secretOwner(name, nil), name)
	}
	if lh.Journal != nil {
		for _, s := range lh.Journal.Surfaces() {
			l.add(s, "")
		}
	}
	l.identities = pl.live.IdentitiesOf(lh.Slug)
	if len(l.identities) > 0 {
		l.add(spec.SurfaceInfisical, "")
	}
	if len(l.surfaces) == 0 {
		l.add(SurfaceVault, "")
	}
	sort.SliceStable(l.surfaces, func(i, j int) bool { return surfaceRank(l.surfaces[i]) < surfaceRank(l.surfaces[j]) })
	return l
}

// secretOwner says which surface a secret of a handoff's folder belongs to:
// by the names the manifest records, else by prefix (GH_ → github,
// INFISICAL_ → infisical, STRIPE_ → stripe, …), else the vault folder.
func secretOwner(name string, m *manifest.Manifest) string {
	if m != nil {
		s := m.Surfaces
		if s.GitHub != nil && name == s.GitHub.Secret {
			return spec.SurfaceGitHub
		}
		if s.Infisical != nil && (name == s.Infisical.ClientIDSecret || name == s.Infisical.ClientSecretSecret) {
			return spec.SurfaceInfisical
		}
		for surface, meta := range s.Other {
			for _, k := range []string{"secret", "secrets"} {
				switch v := meta[k].(type) {
				case string:
					if v == name {
						return surface
					}
				case []any:
					for _, x := range v {
						if x == name {
							return surface
						}
					}
				}
			}
		}
	}
	switch {
	case strings.HasPrefix(name, "GH_") || strings.HasPrefix(name, "GITHUB_"):
		return spec.SurfaceGitHub
	case strings.HasPrefix(name, "INFISICAL_"):
		return spec.SurfaceInfisical
	}
	for _, s := range surfaceOrder {
		if strings.HasPrefix(name, strings.ToUpper(s)+"_") {
			return s
		}
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
	case len(lh.Secrets) > 1 || len(pl.live.IdentitiesOf(ph.Slug)) > 0:
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
				Resource: l.resource(s, ph.Slug), Secrets: l.secrets[s],
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
	for _, s := range liveSurfaces(m) {
		before := beforeGrant(m, s)
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Revoke, Reason: reason,
			Resource: resource(s, m.Slug, before), Before: before, Secrets: bySurface[s],
		})
	}
	// Secrets of surfaces already killed, or owned by none, go with the
	// folder.
	vs := bySurface[SurfaceVault]
	for _, s := range m.Surfaces.Names() {
		if !slices.Contains(liveSurfaces(m), s) {
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
		s := secretOwner(name, lh.Manifest)
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
	ph.ExpiresAt = t.expires
	bySurface := pl.secretsBySurface(lh)
	inSpec := map[string]bool{}
	for _, s := range h.Surfaces() {
		inSpec[s] = true
		after := t.afterGrant(s)
		before := beforeGrant(m, s)
		c := plan.Change{Surface: s, Resource: resource(s, h.Slug.Value, after), Before: before, After: after}
		if before == nil {
			c.Action, c.Reason, c.Secrets = plan.Create, "added to the spec", defaultSecrets(s)
		} else {
			esc, others := deltas(before, after)
			c.Action, c.Escalations = plan.Replace, esc
			c.Secrets = union(bySurface[s], defaultSecrets(s))
			if all := append(append([]string{}, esc...), others...); len(all) > 0 {
				c.Reason = "spec changed: " + strings.Join(all, "; ")
			} else {
				c.Reason = "spec changed; same grant, minted again under the new spec"
			}
		}
		ph.Changes = append(ph.Changes, c)
	}
	for _, s := range m.Surfaces.Names() {
		if inSpec[s] {
			continue
		}
		before := beforeGrant(m, s)
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Revoke, Reason: "removed from the spec",
			Resource: resource(s, m.Slug, before), Before: before, Secrets: bySurface[s],
		})
	}
}

// drift plans an active, unexpired handoff whose spec is unchanged: tokens
// near expiry, secrets missing from the folder, an identity deleted out of
// band, the journal of an apply that did not finish.
func (pl *planner) drift(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	m := lh.Manifest
	ph.ExpiresAt = m.ExpiresAt
	window := pl.opts.RefreshWindow
	t := pl.target(h)

	// Secrets the manifest names that the folder lacks, by surface.
	missing := map[string][]string{}
	for _, name := range m.Secrets {
		if _, ok := lh.Secrets[name]; !ok {
			s := secretOwner(name, m)
			missing[s] = append(missing[s], name)
		}
	}
	missingReason := func(names []string) string {
		if len(names) == 1 {
			return fmt.Sprintf("secret %s missing from the vault", names[0])
		}
		return fmt.Sprintf("secrets %s missing from the vault", strings.Join(names, ", "))
	}

	inManifest := map[string]bool{}
	dead := m.Killed()
	for _, s := range m.Surfaces.Names() {
		inManifest[s] = true
		if dead[s] {
			ph.Changes = append(ph.Changes, killedChange(m, s))
			continue
		}
		before := beforeGrant(m, s)
		c := plan.Change{Surface: s, Action: plan.NoOp, Resource: resource(s, m.Slug, before), Before: before}
		var reasons []string
		// For infisical: the client secret is minted again (rotate), or
		// only the privilege's read paths change in place (grant).
		var rotate bool
		var grant []string
		switch s {
		case spec.SurfaceGitHub:
			left := m.Surfaces.GitHub.TokenExpiresAt.Sub(pl.now)
			switch {
			case left <= 0:
				c.Action = plan.Refresh
				reasons = append(reasons, fmt.Sprintf("token expired %s ago", fmtDur(-left)))
			case left <= window:
				c.Action = plan.Refresh
				reasons = append(reasons, fmt.Sprintf("token expires in %s", fmtDur(left)))
			}
		case spec.SurfaceInfisical:
			inf := m.Surfaces.Infisical
			if pl.live.IdentitiesKnown {
				if !pl.identityIDs[inf.IdentityID] {
					c.Action = plan.Replace
					reasons = append(reasons, fmt.Sprintf("identity %s (%s) deleted out of band", inf.IdentityName, inf.IdentityID))
				}
			}
			if exp := inf.ClientSecretExpiresAt; c.Action == plan.NoOp && !exp.IsZero() && !pl.now.Before(exp) {
				c.Action, rotate = plan.Refresh, true
				reasons = append(reasons, fmt.Sprintf("client secret expired %s ago", fmtDur(pl.now.Sub(exp))))
			}
			// The privilege reads what the spec grants less what killed
			// surfaces withhold (H8): a kill of a surface read by
			// reference narrows it, untombstone widens it again.
			grant = pl.readPathsNow(m, h, ph.SpecDigest)
			if c.Action != plan.Replace {
				if why, esc := grantDelta(m, grant); len(why) > 0 {
					if c.Action == plan.NoOp {
						c.Action = plan.Refresh
					}
					reasons = append(reasons, why...)
					c.Escalations = esc
				}
			}
		default:
			if meta, ok := m.Surfaces.Other[s]; ok {
				if exp, ok := metaTime(meta["expires_at"]); ok {
					left := exp.Sub(pl.now)
					switch {
					case left <= 0:
						c.Action = plan.Refresh
						reasons = append(reasons, fmt.Sprintf("credential expired %s ago", fmtDur(-left)))
					case left <= window:
						c.Action = plan.Refresh
						reasons = append(reasons, fmt.Sprintf("credential expires in %s", fmtDur(left)))
					}
				}
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
			c.After = pl.keepGrant(t, s, before, c.Action)
			c.Reason = strings.Join(reasons, "; ")
			if s == spec.SurfaceInfisical {
				withheldGrant(c.After, grant)
			}
			switch {
			case c.Action == plan.Replace:
				c.Secrets = union(c.Secrets, defaultSecrets(s))
			case s == spec.SurfaceInfisical && rotate:
				// A new client secret is written with its id; a change of
				// the read paths alone writes nothing.
				c.Secrets = union(c.Secrets, defaultSecrets(s))
			case s == spec.SurfaceGitHub:
				// A refreshed token is written over the old one.
				c.Secrets = union(c.Secrets, []string{m.Surfaces.GitHub.Secret})
			}
		} else {
			c.Reason = upToDate(s, m, pl.now)
		}
		ph.Changes = append(ph.Changes, c)
	}
	for _, s := range h.Surfaces() {
		if inManifest[s] || len(dead) > 0 {
			continue
		}
		after := t.afterGrant(s)
		after.ExpiresAt = earliest(after.ExpiresAt, m.ExpiresAt)
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: s, Action: plan.Create, Reason: "in the spec but not in the manifest",
			Resource: resource(s, h.Slug.Value, after), After: after, Secrets: defaultSecrets(s),
		})
	}
	if names := missing[SurfaceVault]; len(names) > 0 {
		ph.Changes = append(ph.Changes, plan.Change{
			Surface: SurfaceVault, Action: plan.Refresh, Reason: missingReason(names),
			Resource: "vault folder " + lh.Folder, Secrets: names,
		})
	}
	if lh.HasJournal() {
		pl.journalOnActive(ph, lh, t)
	}
	if !changed(ph.Changes) {
		ph.Reason = fmt.Sprintf("up to date (expires %s)", fmtTime(m.ExpiresAt))
	}
	if len(dead) > 0 {
		note := fmt.Sprintf("%s killed by %s at %s", strings.Join(killedNames(m), ", "), orUnknown(m.Revocation.By), fmtTime(m.Revocation.At))
		if ph.Reason == "" {
			ph.Reason = note
		} else {
			ph.Reason += "; " + note
		}
	}
}

// killedReason says who killed surfaces of m, when and why.
// killedChange is the no-op of a surface an operator killed.
func killedChange(m *manifest.Manifest, s string) plan.Change {
	return plan.Change{Surface: s, Action: plan.NoOp, Resource: resource(s, m.Slug, nil),
		Reason: killedReason(m) + "; not minted again until handoff untombstone (or a new slug)"}
}

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
// credentials run out (the GitHub token within the hour, the rest at
// expires_at); only what narrows is done: the read paths of killed
// by-reference surfaces withheld from the recorded privilege, what a
// stopped run left of a killed surface revoked. A warning says the way
// out: handoff untombstone (the next apply replaces the whole handoff with
// the new spec, under a new TTL) or a new slug.
func (pl *planner) frozen(ph *plan.Handoff, h *spec.Handoff, lh *state.Handoff) {
	m := lh.Manifest
	dead := m.Killed()
	ks := killedNames(m)
	ph.ExpiresAt = m.ExpiresAt
	change := fmt.Sprintf("digest %s → %s", shortDigest(m.SpecDigest), shortDigest(ph.SpecDigest))
	ph.Reason = fmt.Sprintf("spec changed since the last apply (%s) while %s killed by %s at %s: the new spec is not applied and nothing is minted (no refresh, no repair) until handoff untombstone, which replaces the whole handoff with the new spec, or a new slug; it keeps its grants and its expiry (%s) and the gate refuses it",
		change, strings.Join(ks, ", "), orUnknown(m.Revocation.By), fmtTime(m.Revocation.At), fmtTime(m.ExpiresAt))
	kept := fmt.Sprintf("kept as applied (spec %s) until %s: not minted again while the changed spec waits", shortDigest(m.SpecDigest), fmtTime(m.ExpiresAt))

	missing := map[string][]string{}
	for _, name := range m.Secrets {
		if _, ok := lh.Secrets[name]; !ok {
			s := secretOwner(name, m)
			missing[s] = append(missing[s], name)
		}
	}
	for _, s := range m.Surfaces.Names() {
		if dead[s] {
			ph.Changes = append(ph.Changes, killedChange(m, s))
			continue
		}
		before := beforeGrant(m, s)
		c := plan.Change{Surface: s, Action: plan.NoOp, Resource: resource(s, m.Slug, before), Before: before}
		var notes []string
		switch s {
		case spec.SurfaceGitHub:
			if left := m.Surfaces.GitHub.TokenExpiresAt.Sub(pl.now); left <= 0 {
				notes = append(notes, fmt.Sprintf("token expired %s ago, not refreshed", fmtDur(-left)))
			} else {
				notes = append(notes, fmt.Sprintf("token expires in %s, not refreshed", fmtDur(left)))
			}
		case spec.SurfaceInfisical:
			inf := m.Surfaces.Infisical
			if pl.live.IdentitiesKnown && !pl.identityIDs[inf.IdentityID] {
				notes = append(notes, fmt.Sprintf("identity %s (%s) deleted out of band, not created again", inf.IdentityName, inf.IdentityID))
				break
			}
			// Narrowing only: the recorded read paths less those the
			// kills withhold (never the changed spec's).
			grant := pl.readPathsNow(m, h, ph.SpecDigest)
			if why, _ := grantDelta(m, grant); len(why) > 0 {
				c.Action = plan.Refresh
				c.Reason = strings.Join(why, "; ")
				c.After = beforeGrant(m, s) // a fresh copy: the grant it has, narrowed
				withheldGrant(c.After, grant)
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
		// the folder, the identities named for the slug). The run clears
		// the journal, which untombstone needs.
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

// killedNames are the surfaces of m killed by hand, in the manifest's
// order.
func killedNames(m *manifest.Manifest) []string {
	dead := m.Killed()
	var out []string
	for _, s := range m.Surfaces.Names() {
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
	for _, s := range m.Surfaces.Names() {
		before := beforeGrant(m, s)
		c := plan.Change{Surface: s, Action: plan.NoOp, Resource: resource(s, m.Slug, before), Before: before,
			Reason: "kept as it is while the revocation of " + strings.Join(rv.Surfaces, ", ") + " is finished"}
		if slices.Contains(rv.Surfaces, s) {
			c.Action, c.Reason, c.Secrets = plan.Revoke, why, bySurface[s]
		}
		ph.Changes = append(ph.Changes, c)
	}
}

// liveSurfaces are the surfaces of m that may still hold a credential:
// all of them while active, none once revoked, except those a partial
// manual revocation (one surface killed) left alive.
func liveSurfaces(m *manifest.Manifest) []string {
	if m.Status == manifest.Revoked && (m.Revocation == nil || len(m.Revocation.Surfaces) == 0) {
		return nil
	}
	dead := m.Killed()
	var out []string
	for _, s := range m.Surfaces.Names() {
		if !dead[s] {
			out = append(out, s)
		}
	}
	return out
}

// journalOnActive marks the surfaces a leftover journal names (or the
// vault folder) for refresh, so that apply revokes what the journal made
// that the manifest does not name. A killed surface is never refreshed:
// what the journal may have left of it is revoked.
func (pl *planner) journalOnActive(ph *plan.Handoff, lh *state.Handoff, t *target) {
	const why = "incomplete apply found (journal): revoke its leftovers the manifest does not name"
	dead := lh.Manifest.Killed()
	var surfaces []string
	if lh.Journal != nil {
		surfaces = lh.Journal.Surfaces()
	}
	if len(surfaces) == 0 {
		surfaces = []string{SurfaceVault}
	}
	for _, s := range surfaces {
		found := false
		for i := range ph.Changes {
			c := &ph.Changes[i]
			if c.Surface != s {
				continue
			}
			found = true
			if dead[s] {
				c.Action = plan.Revoke
				c.Reason = killedReason(lh.Manifest) + "; revoke what the unfinished apply left; not minted again"
				c.Secrets = union(c.Secrets, pl.secretsBySurface(lh)[s])
				c.After = nil
				continue
			}
			if c.Action == plan.NoOp {
				c.Action, c.Reason = plan.Refresh, why
				c.After = pl.keepGrant(t, s, c.Before, plan.Refresh)
				if s == spec.SurfaceInfisical {
					withheldGrant(c.After, pl.readPathsNow(lh.Manifest, t.h, ph.SpecDigest))
				}
			} else {
				c.Reason += "; " + why
			}
			if s == spec.SurfaceInfisical && c.Action == plan.Refresh {
				// Leftovers of the journal are revoked by minting the
				// client secret again.
				c.Secrets = union(c.Secrets, defaultSecrets(s))
			}
		}
		if !found {
			ph.Changes = append(ph.Changes, plan.Change{
				Surface: s, Action: plan.Refresh, Reason: why, Resource: resource(s, ph.Slug, nil),
			})
		}
	}
	sort.SliceStable(ph.Changes, func(i, j int) bool {
		return surfaceRank(ph.Changes[i].Surface) < surfaceRank(ph.Changes[j].Surface)
	})
}

// keepGrant is the grant after a refresh or an out-of-band repair: the
// spec's grant (unchanged, since the digest matches) with the new expiry of
// what is minted again; the handoff's expiry bounds everything.
func (pl *planner) keepGrant(t *target, surface string, before *plan.Grant, action plan.Action) *plan.Grant {
	if t.h == nil || !hasSurface(t.h, surface) {
		return before
	}
	g := t.afterGrant(surface)
	m := pl.live.Handoffs[t.h.Slug.Value].Manifest
	if surface != spec.SurfaceGitHub { // GitHub fixes its token's life
		g.ExpiresAt = earliest(g.ExpiresAt, m.ExpiresAt)
		if g.ExpiresAt.IsZero() {
			g.ExpiresAt = m.ExpiresAt
		}
	}
	if surface == spec.SurfaceInfisical && before != nil && action == plan.Refresh {
		// A refresh keeps the identity; only a replace names a new one.
		if n := before.Attributes[AttrIdentity]; n != "" {
			g.Attributes[AttrIdentity] = n
		}
	}
	return g
}

func hasSurface(h *spec.Handoff, s string) bool {
	for _, x := range h.Surfaces() {
		if x == s {
			return true
		}
	}
	return false
}

func upToDate(surface string, m *manifest.Manifest, now time.Time) string {
	if surface == spec.SurfaceGitHub {
		return fmt.Sprintf("up to date; token expires in %s", fmtDur(m.Surfaces.GitHub.TokenExpiresAt.Sub(now)))
	}
	return "up to date"
}

func changed(cs []plan.Change) bool {
	for _, c := range cs {
		if c.Action.IsChange() {
			return true
		}
	}
	return false
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, x := range b {
		found := false
		for _, y := range out {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "an operator"
	}
	return s
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// fmtDur renders a duration for a reason: whole minutes ("8m", "1h5m",
// "24h") from a minute up, whole seconds below.
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func shortDigest(d string) string {
	algo, h, ok := strings.Cut(d, ":")
	if !ok {
		return d
	}
	if len(h) > 12 {
		h = h[:12]
	}
	return algo + ":" + h
}
