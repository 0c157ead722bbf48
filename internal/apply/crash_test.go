package apply_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/spec"
)

// scenario is an operation on the iap handoff, after its setup.
type scenario struct {
	name  string
	op    string // the run's Op, as FailPoints see it
	setup func(w *world)
	// run performs the operation with the fail point fp.
	run func(w *world, fp func(apply.Step) error) error
	// rerun converges after a crash or failure: apply (the scheduled run),
	// and for a manual revoke the operator running it again if it never
	// reached its tombstone.
	rerun func(w *world) apply.Report
	// check, when set, asserts what the operation must have done remotely
	// once converged.
	check func(w *world)
}

func (sc scenario) converge(w *world) apply.Report {
	if sc.rerun != nil {
		return sc.rerun(w)
	}
	return w.mustApply()
}

func applyRun(w *world, fp func(apply.Step) error) error {
	d := w.deps()
	d.FailPoint = fp
	_, err := w.applyWith(d)
	return err
}

// killAppleIAP is `handoff revoke -surface apple_iap`: a by-reference
// surface, whose kill narrows the identity's privilege.
func killAppleIAP(w *world, fp func(apply.Step) error) error {
	d := w.deps()
	d.FailPoint = fp
	rep, err := apply.Revoke(context.Background(), iapSlug, apply.RevokeOptions{Reason: "key leaked", By: "sec", Surfaces: []string{"apple_iap"}}, d)
	w.record(rep, err)
	return err
}

var scenarios = []scenario{
	{name: "create", op: "create", setup: func(*world) {}, run: applyRun},
	{name: "refresh", op: "refresh", setup: func(w *world) { w.mustApply(); w.advance(55 * time.Minute) }, run: applyRun},
	{name: "revoke-expired", op: "revoke", setup: func(w *world) { w.mustApply(); w.advance(24*time.Hour + time.Minute) }, run: applyRun},
	{name: "revoke-deleted", op: "revoke", setup: func(w *world) { w.mustApply(); w.repo.Handoffs = []*spec.Handoff{} }, run: applyRun},
	{name: "revoke-manual", op: "revoke", setup: func(w *world) { w.mustApply() }, run: func(w *world, fp func(apply.Step) error) error {
		d := w.deps()
		d.FailPoint = fp
		rep, err := apply.Revoke(context.Background(), iapSlug, apply.RevokeOptions{Reason: "drill", By: "ops"}, d)
		w.record(rep, err)
		return err
	}, rerun: func(w *world) apply.Report {
		rep := w.mustApply()
		if !w.manifest(iapSlug).Tombstoned() {
			r, err := apply.Revoke(context.Background(), iapSlug, apply.RevokeOptions{Reason: "drill", By: "ops"}, w.deps())
			w.record(r, err)
			if err != nil {
				w.t.Fatal(err)
			}
			rep.Flags = append(rep.Flags, r.Flags...)
		}
		return rep
	}},
	{name: "kill-by-reference", op: "revoke", setup: func(w *world) { w.mustApply() }, run: killAppleIAP, rerun: func(w *world) apply.Report {
		rep := w.mustApply()
		if rv := w.manifest(iapSlug).Revocation; rv == nil || !slices.Contains(rv.Surfaces, "apple_iap") {
			if err := killAppleIAP(w, nil); err != nil {
				w.t.Fatal(err)
			}
		}
		return rep
	}, check: func(w *world) {
		if err := w.canRead(iapSlug, queue, "APPLE_IAP_KEY_ID"); !infisical.IsForbidden(err) {
			w.t.Errorf("APPLE_IAP_KEY_ID after the kill of apple_iap: want 403, got %v", err)
		}
		if err := w.canRead(iapSlug, root+"/"+iapSlug, "GH_HANDOFF_TOKEN"); err != nil {
			w.t.Errorf("its own folder after the kill of apple_iap: %v", err)
		}
	}},
}

func init() {
	registerCrashCase(crashCase{slug: iapSlug, scenarios: scenarios, window: mintWindow, flagNames: "raxx-app/TradeMasterAPI"})
}

// mintWindow reports whether a run stopped before step name has minted a
// token whose value may not have reached the vault: it stopped at the mint
// itself (after the journal recorded it in flight: a possible window, no
// token) or at the write right after it (a real one).
//
// The token is written in the run's commit, one batch with the manifest
// ("write GH_HANDOFF_TOKEN, …, and PROVISION_MANIFEST"): stopped before
// it, the token is minted and not in the vault.
func mintWindow(name string) (flagged, token bool) {
	switch {
	case name == "mint installation token":
		return true, false
	case strings.HasPrefix(name, "write GH_HANDOFF_TOKEN"):
		return true, true
	}
	return false, false
}

// TestCrashAtEveryStep kills apply (an injected crash: nothing more is sent,
// nothing compensated, the lock left behind) before every step of create,
// refresh and each kind of revoke, then reruns apply: no identity, live
// client secret, privilege or live token may exist that an active manifest
// does not name, except the documented window (a token minted and killed
// before its value reached the vault), which must be narrowed and flagged;
// and the end state must equal a clean run's.
func TestCrashAtEveryStep(t *testing.T) {
	exhaustive(t)
	for _, c := range crashCases {
		t.Run(c.slug, func(t *testing.T) { crashAtEveryStep(t, c) })
	}
}

func crashAtEveryStep(t *testing.T, c crashCase) {
	slug := c.slug
	for _, sc := range c.scenarios {
		t.Run(sc.name, func(t *testing.T) {
			// The clean run: its steps and its end state.
			ref := newWorld(t, worldOptions{slugs: []string{slug}})
			sc.setup(ref)
			var log stepLog
			if err := sc.run(ref, log.fp); err != nil {
				t.Fatal(err)
			}
			steps := log.of(slug, sc.op)
			if len(steps) == 0 {
				t.Fatalf("the clean %s ran no step", sc.name)
			}
			want := asJSON(ref.snapshot())
			ref.assertNoOrphans(false)
			if sc.check != nil {
				sc.check(ref)
			}

			for _, st := range steps {
				t.Run(fmt.Sprintf("%02d-%s", st.Index, strings.ReplaceAll(st.Name, " ", "_")), func(t *testing.T) {
					w := newWorld(t, worldOptions{slugs: []string{slug}})
					sc.setup(w)
					err := sc.run(w, crashAt(slug, sc.op, st.Index))
					if !errors.Is(err, apply.ErrCrash) {
						t.Fatalf("crash at %s: got %v", st, err)
					}
					// H4: right after the crash, the gate admits the task only
					// when everything its manifest names is there for it.
					if w.gateRefusal(slug) == "" {
						w.assertDispatchable(slug)
					}
					// The crashed run's lease expires; the next apply takes it over.
					w.advance(leaseTTL + time.Second)
					rep := sc.converge(w)
					flagged, token := c.windowAt(st.Name)
					window := w.assertNoOrphans(token)
					switch {
					case token && len(window) != 1:
						t.Errorf("want exactly one window token, got %d", len(window))
					case token:
						w.assertNarrowed(window[0])
					}
					if got := len(rep.Flags) > 0; got != flagged {
						t.Errorf("flags %v, want flagged=%t", rep.Flags, flagged)
					}
					if flagged {
						if !strings.Contains(strings.Join(rep.Flags, "\n"), c.flagNames) {
							t.Errorf("the flag does not name %s: %v", c.flagNames, rep.Flags)
						}
						if m := w.manifests()[slug]; m != nil && !hasFlagEvent(m) {
							t.Errorf("the manifest's history does not record the window: %s", asJSON(m.History))
						}
						if token {
							pm := apply.PendingMints(w.live(), w.now())
							if len(pm) != 1 || !pm[0].Confirmed {
								t.Errorf("PendingMints: %+v", pm)
							}
						}
					}
					if got := asJSON(w.snapshot()); got != want {
						t.Errorf("end state after the crash and a rerun differs from a clean run:\n got %s\nwant %s", got, want)
					}
					if sc.check != nil {
						sc.check(w)
					}
					w.assertNoChanges()
				})
			}
		})
	}
}

func hasFlagEvent(m *manifest.Manifest) bool {
	for _, e := range m.History {
		if e.Action == manifest.EventAdopt && strings.HasPrefix(e.Detail, "unrevocable: ") {
			return true
		}
	}
	return false
}

// TestFailureAtEveryStepCompensates injects a failure that is not a crash
// before every step: the run undoes in memory what it minted (no window
// token, ever), returns a clear error, and a rerun converges.
func TestFailureAtEveryStepCompensates(t *testing.T) {
	exhaustive(t)
	for _, c := range crashCases {
		t.Run(c.slug, func(t *testing.T) { failureAtEveryStep(t, c) })
	}
}

func failureAtEveryStep(t *testing.T, c crashCase) {
	slug := c.slug
	for _, sc := range c.scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ref := newWorld(t, worldOptions{slugs: []string{slug}})
			sc.setup(ref)
			var log stepLog
			if err := sc.run(ref, log.fp); err != nil {
				t.Fatal(err)
			}
			want := asJSON(ref.snapshot())
			for _, st := range log.of(slug, sc.op) {
				t.Run(fmt.Sprintf("%02d", st.Index), func(t *testing.T) {
					w := newWorld(t, worldOptions{slugs: []string{slug}})
					sc.setup(w)
					err := sc.run(w, failAt(slug, sc.op, st.Index))
					if err == nil || errors.Is(err, apply.ErrCrash) || !strings.Contains(err.Error(), st.Name) {
						t.Fatalf("failure at %s: got %v", st, err)
					}
					// Compensated: nothing live that no manifest names, even
					// right after the mint. (A failed revocation leaves what
					// it did not revoke yet, for the rerun.)
					if sc.op != "revoke" {
						w.assertNoOrphans(false)
					}
					// The rerun comes later than the failed run, if only by
					// the second it takes to start: an STS session is
					// revoked by its issue time, to the second (aws).
					w.advance(time.Second)
					rep := sc.converge(w)
					w.assertNoOrphans(false)
					// The failed run revoked what it minted and said so in
					// its journal: the rerun flags no credential as one
					// nobody can revoke.
					if len(rep.Flags) > 0 {
						t.Errorf("flags after a compensated failure: %v", rep.Flags)
					}
					if got := asJSON(w.snapshot()); got != want {
						t.Errorf("end state differs from a clean run:\n got %s\nwant %s", got, want)
					}
					if sc.check != nil {
						sc.check(w)
					}
					w.assertNoChanges()
				})
			}
		})
	}
}

// assertDispatchable fails unless every credential the handoff's manifest
// names is usable now: its secrets in the folder, its identity, and, unless
// killed, a live GitHub token in GH_HANDOFF_TOKEN.
func (w *world) assertDispatchable(slug string) {
	w.t.Helper()
	m := w.manifests()[slug]
	folder := root + "/" + slug
	for _, name := range m.Secrets {
		if _, ok := w.srv.Infisical.Secret(env, folder, name); !ok {
			w.t.Errorf("the gate admits %s but %s is missing from its folder", slug, name)
		}
	}
	if inf := infRec(m); inf != nil && !slices.Contains(m.KilledSurfaces(), "infisical") {
		if _, ok := w.srv.Infisical.Identity(inf.IdentityID); !ok {
			w.t.Errorf("the gate admits %s but its identity %s is gone", slug, inf.IdentityID)
		}
	}
	for _, p := range probes {
		if p.dispatchable == nil || slices.Contains(m.KilledSurfaces(), p.surface) {
			continue
		}
		for _, msg := range p.dispatchable(w, slug, m) {
			w.t.Errorf("the gate admits %s but its %s credential does not work: %s", slug, p.surface, msg)
		}
	}
	if g := ghRec(m); g != nil && !slices.Contains(m.KilledSurfaces(), "github") {
		tok, ok := w.srv.Infisical.Secret(env, folder, g.Secret)
		if !ok {
			return // reported above
		}
		sum := sha256.Sum256([]byte(tok.Value))
		for _, live := range w.srv.GitHub.LiveTokens() {
			if live.Fingerprint == hex.EncodeToString(sum[:]) {
				return
			}
		}
		w.t.Errorf("the gate admits %s but the token in %s is not live", slug, g.Secret)
	}
}

// exhaustive skips t under the race detector: the matrices of every step
// and every request (hundreds of sequential single-handoff applies, no
// concurrency of their own) cost minutes there. `make test` runs them
// without it (MATRIX_TESTS in the Makefile); the concurrent tests of this
// package run under the race detector.
func exhaustive(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("a matrix test: make test runs it without -race")
	}
}
