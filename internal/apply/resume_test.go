package apply_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// TestLargeApplyResumesWhereItStopped: a create-apply of many handoffs,
// run by DefaultParallelism workers, is killed once some have finished,
// some are under way and the rest not started. The next apply finishes
// those under way from their journals and creates the rest, and does not
// touch a finished handoff: no step at all (a journal marked committed is
// only deleted), so no mint, its token, identity and client secret those
// of the first run. Everything converges: every handoff active, nothing
// orphaned, the plan after it empty.
func TestLargeApplyResumesWhereItStopped(t *testing.T) {
	const n, stopAfter = 48, 20
	fx := infisicalsrv.DefaultFixture()
	fx.Settings.RateLimits.Profile = infisicalsrv.ProfileSelfHosted // the frozen clock never opens a new window
	w := newWorld(t, worldOptions{fixture: &fx})
	w.srv.NoRateLimits()
	specs := make([]*spec.Handoff, n)
	for i := range specs {
		specs[i] = benchSpec(t, i)
	}
	w.repo.Handoffs = specs

	// The first run is killed once stopAfter handoffs have deleted their
	// journal (their last step), at the first step of a handoff whose
	// journal is written: that handoff is under way whatever the workers'
	// timing. Every step after it crashes too (the process is dead).
	var mu sync.Mutex
	finished, crashed := 0, false
	journaled := map[string]bool{}
	d := w.deps()
	d.FailPoint = func(s apply.Step) error {
		mu.Lock()
		defer mu.Unlock()
		if !crashed && finished >= stopAfter && journaled[s.Slug] && s.Name != "delete "+state.JournalSecretName {
			crashed = true
		}
		if crashed {
			return apply.ErrCrash
		}
		switch s.Name {
		case "write " + state.JournalSecretName:
			journaled[s.Slug] = true
		case "delete " + state.JournalSecretName:
			finished++
		}
		return nil
	}
	if _, err := w.applyWith(d); !errors.Is(err, apply.ErrCrash) {
		t.Fatalf("the first run: %v", err)
	}

	// What the first run left: done (a manifest; perhaps a journal marked
	// committed), under way (a journal), not started (nothing).
	live := w.live()
	done := map[string]*manifest.Manifest{}
	underWay := 0
	for _, h := range specs {
		slug := h.Slug.Value
		lh := live.Handoffs[slug]
		switch {
		case lh != nil && lh.Manifest != nil && (lh.Journal == nil || lh.Journal.Settled()):
			done[slug] = lh.Manifest
		case lh != nil:
			underWay++
		}
	}
	if len(done) < stopAfter || underWay == 0 || len(done)+underWay >= n {
		t.Fatalf("the run stopped with %d done and %d under way of %d: not midway", len(done), underWay, n)
	}
	t.Logf("killed with %d handoffs done, %d under way, %d not started", len(done), underWay, n-len(done)-underWay)

	// The crashed run's lease expires; the next apply takes it over.
	w.advance(leaseTTL + time.Second)
	var log stepLog
	d = w.deps()
	d.FailPoint = log.fp
	rep, err := w.applyWith(d)
	if err != nil {
		t.Fatalf("the second run: %v\n%s", err, w.progress.String())
	}
	for _, h := range rep.Handoffs {
		if h.Err != nil {
			t.Errorf("%s: %v", h.Slug, h.Err)
		}
	}
	for slug, before := range done {
		for _, s := range log.steps {
			if s.Slug == slug && s.Name != "delete "+state.JournalSecretName {
				t.Errorf("%s, finished by the first run, went through %q in the second", slug, s.Name)
			}
		}
		after := w.manifest(slug)
		if after == nil || ghRec(after).TokenFingerprint != ghRec(before).TokenFingerprint ||
			infRec(after).IdentityID != infRec(before).IdentityID || infRec(after).ClientSecretID != infRec(before).ClientSecretID {
			t.Errorf("%s, finished by the first run, was minted again", slug)
		}
	}
	ms := w.manifests()
	for _, h := range specs {
		if m := ms[h.Slug.Value]; m == nil || m.Status != manifest.Active {
			t.Errorf("%s is not active after the second run", h.Slug.Value)
		}
		if slices.Contains(w.folderSecrets(h.Slug.Value), state.JournalSecretName) {
			t.Errorf("%s still has a journal", h.Slug.Value)
		}
	}
	// A token minted by the first run and killed before its commit is the
	// only kind of leftover the second run cannot revoke (it is not in the
	// vault): flagged, narrowed, and dead within the hour.
	for _, tok := range w.assertNoOrphans(true) {
		w.assertNarrowed(tok)
	}
	if mints := strings.Count(w.progress.String(), "mint installation token"); mints == 0 {
		t.Errorf("no mint in the progress:\n%s", w.progress.String())
	}
	w.assertNoChanges()
}
