package apply_test

import (
	"slices"
	"sort"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/manifest"
)

// A vendorProbe is what the tests of this package know of one vendor's
// local server beyond the vault: the credentials it holds, to find orphans
// and compare end states. The Infisical identities and GitHub tokens are
// checked by the world itself (helpers_test.go); every other surface that
// mints registers a probe from its own test file (<surface>_test.go) with
// registerProbe, together with a fixture spec in testdata/repo/specs and a
// crash case (registerCrashCase): the crash, failure, fault and scan tests
// then cover it without another change.
type vendorProbe struct {
	// surface is the surface's name (its block in specs, its key in the
	// manifest); errPrefix starts the errors of its vendor client
	// ("cloudflare:"), for the fault tests.
	surface, errPrefix string
	// secrets are the folder secrets of the surface whose values are
	// secret (the scan looks for them in every text); a non-secret value
	// (AWS_REGION) is left out.
	secrets []string
	// orphans returns one message for each live credential at the vendor
	// that no active manifest of ms names for the surface, unkilled.
	orphans func(w *world, ms map[string]*manifest.Manifest) []string
	// snapshot is the handoff's state at the vendor, free of ids and
	// times, so that a recovered run compares equal to a clean one (nil
	// when it has nothing there).
	snapshot func(w *world, slug string, m *manifest.Manifest) any
	// dispatchable returns what is missing for an admitted handoff's
	// credential of the surface to work now (nil: nothing).
	dispatchable func(w *world, slug string, m *manifest.Manifest) []string
	// safeToRetry says whether the vendor client repeats a failed request
	// on route (known false: the fault tests fall back to the generic
	// rule, reads and deletes).
	safeToRetry func(route, kind string) (safe, known bool)
}

var probes []vendorProbe

// registerProbe adds p to every test of the package (call it from init).
func registerProbe(p vendorProbe) {
	probes = append(probes, p)
	sort.Slice(probes, func(i, j int) bool { return probes[i].surface < probes[j].surface })
}

// A crashCase is a handoff whose every step of every scenario the crash and
// failure tests stop at.
type crashCase struct {
	slug      string
	scenarios []scenario
	// window says, for a step's name, whether a run stopped before it may
	// have left a credential nobody can find (flagged) and whether one was
	// minted for sure (token): see mintWindow. Nil: no Untraceable step.
	window func(step string) (flagged, token bool)
	// flagNames is what a flag of the window must name (the repository a
	// lost token reaches).
	flagNames string
}

func (c crashCase) windowAt(step string) (flagged, token bool) {
	if c.window == nil {
		return false, false
	}
	return c.window(step)
}

var crashCases []crashCase

// registerCrashCase adds c to the crash and failure tests (call it from
// init). c.slug must be a spec of testdata/repo/specs.
func registerCrashCase(c crashCase) {
	crashCases = append(crashCases, c)
	sort.Slice(crashCases, func(i, j int) bool { return crashCases[i].slug < crashCases[j].slug })
}

// classicSlugs are the handoffs of testdata/repo a world holds unless its
// options say otherwise: the tests written before the other surfaces
// count on exactly these.
var classicSlugs = []string{iapSlug, stripeSlug}

// lifecycleScenarios are the scenarios every minting surface's handoff
// goes through: create, refresh (refreshAfter after the create; none when
// zero, for a credential that lives as long as the handoff), revocation at
// the TTL's end, by the spec's deletion, by the kill switch, and the kill
// of the surface alone.
func lifecycleScenarios(slug, surface string, refreshAfter time.Duration) []scenario {
	revokeManual := func(opts func() apply.RevokeOptions) func(w *world, fp func(apply.Step) error) error {
		return func(w *world, fp func(apply.Step) error) error { return w.revokeWith(slug, opts(), fp) }
	}
	all := func() apply.RevokeOptions { return apply.RevokeOptions{Reason: "drill", By: "ops"} }
	one := func() apply.RevokeOptions {
		return apply.RevokeOptions{Reason: "key leaked", By: "sec", Surfaces: []string{surface}}
	}
	converge := func(opts func() apply.RevokeOptions, done func(m *manifest.Manifest) bool) func(w *world) apply.Report {
		return func(w *world) apply.Report {
			rep := w.mustApply()
			if m := w.manifests()[slug]; m == nil || !done(m) {
				if err := w.revokeWith(slug, opts(), nil); err != nil {
					w.t.Fatal(err)
				}
			}
			return rep
		}
	}
	out := []scenario{{name: "create", op: "create", setup: func(*world) {}, run: applyRun}}
	if refreshAfter > 0 {
		out = append(out, scenario{name: "refresh", op: "refresh", setup: func(w *world) { w.mustApply(); w.advance(refreshAfter) }, run: applyRun})
	}
	return append(out, []scenario{
		{name: "revoke-expired", op: "revoke", setup: func(w *world) { w.mustApply(); w.advance(24*time.Hour + time.Minute) }, run: applyRun},
		{name: "revoke-deleted", op: "revoke", setup: func(w *world) { w.mustApply(); w.dropSpec(slug) }, run: applyRun},
		{name: "revoke-manual", op: "revoke", setup: func(w *world) { w.mustApply() }, run: revokeManual(all),
			rerun: converge(all, (*manifest.Manifest).Tombstoned)},
		{name: "kill-" + surface, op: "revoke", setup: func(w *world) { w.mustApply() }, run: revokeManual(one),
			rerun: converge(one, func(m *manifest.Manifest) bool {
				return m.Revocation != nil && slices.Contains(m.Revocation.Surfaces, surface)
			})},
	}...)
}
