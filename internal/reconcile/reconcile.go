package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// SurfaceVault is the pseudo-surface of changes to a handoff's vault folder
// itself: secrets that no surface owns, the leftovers of a crashed apply
// when no surface can be told. It needs no provider.
const SurfaceVault = "vault"

// DefaultRefreshWindow is how long before its expiry a short-lived token
// may be minted again: early, in the handoff's share of the scheduled runs
// (see spread.go), or, within DueWithin(Schedule), in any run.
const DefaultRefreshWindow = 50 * time.Minute

// Options are the inputs of Plan besides the specs and the live state.
type Options struct {
	// Now is the instant the plan is computed for; required. Expiries,
	// identity names and the plan's CreatedAt derive from it.
	Now time.Time
	// RefreshWindow is how long before expiry a GitHub token (or any
	// credential a surface refreshes ahead of its expiry) may be refreshed
	// early, in the handoff's share of the scheduled runs;
	// DefaultRefreshWindow when zero. Within DueWithin(Schedule) it is
	// refreshed by any run.
	RefreshWindow time.Duration
	// Schedule is the interval of the scheduled apply; DefaultSchedule
	// when zero. Refreshes are spread over its runs, and the plan
	// forecasts the next ones.
	Schedule time.Duration
	// RefreshCapacity is how many refreshes one run takes on; when zero,
	// what the vault's rate limits allow over a Schedule-long slot
	// (RefreshCapacity of the live state's Limits), and no cap when the
	// vault knows no limit. Due refreshes are never deferred.
	RefreshCapacity int
	// GitCommit is the commit of the GitOps repository, if known.
	GitCommit string
	// Version is the version of the handoff binary.
	Version string
	// Registry is the set of surfaces of this build; the installed one
	// (surface.Installed) when nil.
	Registry *surface.Registry
	// PolicyChecked says the caller already ran policy.Check on the
	// repository, with PolicyDiagnostics as its result; Plan then records
	// that result in the plan and does not return those diagnostics again.
	// Otherwise Plan runs policy.Check itself and returns its diagnostics
	// with its own.
	PolicyChecked     bool
	PolicyDiagnostics hcl.Diagnostics
}

// checks names what policy.Check enforces and what Plan checks against the
// live state, for the plan's record: the core's rules, and each surface's
// (surface.Described) in the registry's order.
func checks(reg *surface.Registry) []string {
	out := []string{
		"slug: lower-case [a-z0-9-], 3 to 63 characters, unique, equal to the label and file name",
		"ttl parses and is at most max_ttl (hard ceiling 24h)",
	}
	var settings []string
	var plan []string
	for _, s := range reg.All() {
		if d, ok := s.(surface.Described); ok {
			c := d.Checks()
			out = append(out, c.Policy...)
			if c.Settings != "" {
				settings = append(settings, c.Settings)
			}
			plan = append(plan, c.Plan...)
		}
	}
	out = append(out, "live financial credentials only with a live_approval block")
	if len(settings) > 0 {
		out = append(out, "every surface's own settings ("+strings.Join(settings, ", ")+")")
	}
	out = append(out, "a provider for every surface to provision (this build's registry)")
	return append(out, plan...)
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
	if opts.Schedule <= 0 {
		opts.Schedule = DefaultSchedule
	}
	if opts.Registry == nil {
		opts.Registry = surface.Installed()
	}
	now := opts.Now.UTC()

	policyDiags := opts.PolicyDiagnostics
	if !opts.PolicyChecked {
		policyDiags = policy.CheckWith(opts.Registry, repo)
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
		Handoffs:         []plan.Handoff{},
	}
	// Each spec's digest once: the plan's SpecsDigest and its handoff.
	digests := make(map[*spec.Handoff]string, len(repo.Handoffs))
	for _, h := range repo.Handoffs {
		digests[h] = h.Digest()
	}
	p.SpecsDigest = specsDigest(repo.Handoffs, digests)

	env := live.Environment
	if cfg := repo.Config; cfg != nil && cfg.Vault != nil && cfg.Vault.Environment().Valid() {
		env = cfg.Vault.Environment().Value
	}
	specs := map[string]*spec.Handoff{}
	for _, h := range repo.Handoffs {
		if _, dup := specs[h.Slug.Value]; !dup { // policy reports duplicates
			specs[h.Slug.Value] = h
		}
	}
	pl := &planner{repo: repo, live: live, opts: opts, reg: opts.Registry, now: now, env: env, spread: newSpread(opts),
		digests: digests, specs: specs}
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
	pl.limitRefreshes(p)
	p.Finalize()
	pl.checkPlan(p)
	pl.rotation(p, specs)
	p.RevocationGuard = pl.guard(p, specs)

	for _, prob := range live.Problems {
		pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unexpected content in the vault",
			Detail: prob + ". handoff leaves it alone; remove it by hand if it is not needed."})
	}
	diags = append(diags, pl.diags...)

	p.Policy = plan.PolicyResult{Passed: !policyDiags.HasErrors() && !pl.diags.HasErrors(), Checks: checks(opts.Registry)}
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
	return specsDigest(handoffs, nil)
}

// specsDigest is SpecsDigest with the digests of the specs known (a spec
// missing from digests has its digest computed).
func specsDigest(handoffs []*spec.Handoff, digests map[*spec.Handoff]string) string {
	lines := make([]string, 0, len(handoffs))
	for _, h := range handoffs {
		d, ok := digests[h]
		if !ok {
			d = h.Digest()
		}
		lines = append(lines, h.Slug.Value+"\t"+d)
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
	repo  *spec.Repo
	live  *state.Live
	opts  Options
	reg   *surface.Registry
	now   time.Time
	env   string
	diags hcl.Diagnostics
	// reported dedupes diagnostics per handoff and surface.
	reported map[string]bool
	// spread is the rule of refreshes; early the handoffs whose only
	// change is an early refresh, which the cap may defer.
	spread spread
	early  map[string]earlyOnly
	// digests are the specs' digests (spec.Handoff.Digest), computed once.
	digests map[*spec.Handoff]string
	// specs is the first spec of each slug (repo.Handoff, indexed).
	specs map[string]*spec.Handoff
}

// handoff plans one slug; h or lh may be nil, not both. A settled journal
// (the commit mark of a run that wrote its manifest) is planned as gone:
// whatever else the handoff needs deletes it on the way, and when it needs
// nothing else its deletion is the whole operation.
func (pl *planner) handoff(slug string, h *spec.Handoff, lh *state.Handoff) plan.Handoff {
	if lh.SettledJournal() {
		ph := pl.handoff(slug, h, lh.WithoutJournal())
		if ph.Operation == nil {
			pl.settle(&ph, lh)
			pl.sortChanges(ph.Changes)
		}
		return ph
	}
	ph := plan.Handoff{Slug: slug, Changes: []plan.Change{}}
	if h != nil {
		ph.Card = int(h.Card.Value)
		ph.Description = plan.ClipDescription(h.Description.Value)
		ph.SpecFile = pl.specFile(h)
		d, ok := pl.digests[h]
		if !ok {
			d = h.Digest()
		}
		ph.SpecDigest = d
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
	case m.Status == manifest.Revoked && len(pl.liveSurfaces(m)) == 0:
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
	pl.sortChanges(ph.Changes)
	pl.check(&ph, h, lh)
	ph.Operation = pl.operation(&ph, h, lh)
	ph.Held = held(h, lh)
	return ph
}

func (pl *planner) specFile(h *spec.Handoff) string {
	if rel, err := filepath.Rel(pl.repo.Dir, h.Filename); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(h.Filename)
}

// target is what a create (or replace) of h is planned against: a new TTL
// from now.
func (pl *planner) target(h *spec.Handoff) surface.Target {
	t := surface.Target{Slug: h.Slug.Value, Spec: h, Root: pl.live.Root, Folder: pl.folder(h.Slug.Value), Environment: pl.env, Now: pl.now, Live: pl.live}
	if h.TTL.Valid() && h.TTL.Value > 0 {
		t.ExpiresAt = pl.now.Add(h.TTL.Value)
	}
	return t
}

// keepTarget is what a refresh or repair of slug is planned against: the
// manifest's expiry, and the record it mints again (nil: a create of a
// surface the manifest lacks).
func (pl *planner) keepTarget(h *spec.Handoff, m *manifest.Manifest, rec surface.Record) surface.Target {
	return surface.Target{Slug: m.Slug, Spec: h, Root: pl.live.Root, Folder: pl.folder(m.Slug), Environment: pl.env,
		Now: pl.now, ExpiresAt: m.ExpiresAt, Record: rec, Live: pl.live}
}

func (pl *planner) folder(slug string) string { return pl.live.Root + "/" + slug }

// desired is surface s's grant for t (nil for a surface this build does
// not know).
func (pl *planner) desired(s string, t surface.Target) *plan.Grant {
	if sf, ok := pl.reg.Get(s); ok {
		return sf.Desired(t)
	}
	return nil
}

// recorded is the grant m records for surface s; nil when none.
func (pl *planner) recorded(m *manifest.Manifest, s string) *plan.Grant {
	rec, ok := m.Surfaces[s]
	if !ok {
		return nil
	}
	if sf, ok := pl.reg.Get(s); ok {
		return sf.Recorded(rec, m)
	}
	return &plan.Grant{ExpiresAt: m.ExpiresAt}
}

// resource names what a change mints or revokes on surface s.
func (pl *planner) resource(s, slug string, g *plan.Grant) string {
	if s == SurfaceVault {
		return "vault folder"
	}
	if sf, ok := pl.reg.Get(s); ok {
		return sf.Resource(slug, g)
	}
	return s
}

// secrets are the folder secrets surface s writes when rec (nil: the
// defaults) is minted again.
func (pl *planner) secrets(s string, rec surface.Record) []string {
	if sf, ok := pl.reg.Get(s); ok {
		return sf.Secrets(rec)
	}
	return nil
}

// sortChanges sorts changes in the registry's order, the vault folder
// last.
func (pl *planner) sortChanges(cs []plan.Change) {
	sort.SliceStable(cs, func(i, j int) bool { return pl.rank(cs[i].Surface) < pl.rank(cs[j].Surface) })
}

func (pl *planner) rank(s string) int {
	if s == SurfaceVault {
		return len(pl.reg.Names()) + 1
	}
	return pl.reg.Rank(s)
}

// surfaces returns m's surfaces in the registry's order.
func (pl *planner) surfaces(m *manifest.Manifest) []string {
	return pl.reg.SortNames(m.Surfaces.Names())
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
