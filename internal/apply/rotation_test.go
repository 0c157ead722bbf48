package apply_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/devserver/githubsrv"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/spec"
)

// The rotation document, where the tests keep it: outside the handoff
// root, in the handoffs' environment (handoff.hcl's default).
const (
	docFolder = "/Platform/rotation"
	docSecret = "HANDOFF_SUBSCRIPTIONS"
)

var (
	dnsSlug    = "dns-rotate-20260621"
	deploySlug = "moosequest-deploy-20260621"
	queueSlug  = "moosequest-queue-20260621"
)

// enableRotation writes the rotation block into the world's handoff.hcl
// and creates the document's folder, as an operator does once (handoff
// never creates it).
func (w *world) enableRotation() {
	w.t.Helper()
	rng := spec.FileRange(spec.ConfigFile)
	w.repo.Config.Rotation = &spec.RotationConfig{DefRange: rng,
		Path: spec.String{Value: docFolder, Range: rng}, Secret: spec.String{Value: docSecret, Range: rng}}
	if err := w.vault().EnsureFolder(context.Background(), env, docFolder); err != nil {
		w.t.Fatal(err)
	}
}

// doc is the live document (nil when missing), recorded for the scan: it
// must never hold a secret value.
func (w *world) doc() *rotation.Document {
	w.t.Helper()
	s, ok := w.srv.Infisical.Secret(env, docFolder, docSecret)
	if !ok {
		return nil
	}
	w.text(s.Value)
	d, err := rotation.Parse([]byte(s.Value))
	if err != nil {
		w.t.Fatalf("the rotation document: %v", err)
	}
	return d
}

// docVersion is the document secret's version (0: missing).
func (w *world) docVersion() int {
	s, _ := w.srv.Infisical.Secret(env, docFolder, docSecret)
	return s.Version
}

// wantDoc is the document the manifests say now.
func (w *world) wantDoc() *rotation.Document {
	return reconcile.LiveDocument(w.reg, w.live())
}

// assertDocConverged checks the live document is exactly what the
// manifests say, and that no handoff that is not active is enrolled.
func (w *world) assertDocConverged() {
	w.t.Helper()
	got, want := w.doc(), w.wantDoc()
	if got == nil {
		w.t.Fatal("no rotation document")
	}
	if string(got.Marshal()) != string(want.Marshal()) {
		w.t.Errorf("the rotation document differs from the manifests:\n got %s\nwant %s", got.Marshal(), want.Marshal())
	}
	ms := w.manifests()
	for _, c := range got.Consumers() {
		slug := strings.TrimPrefix(c, rotation.ConsumerPrefix)
		if m := ms[slug]; m == nil || m.Status != manifest.Active {
			w.t.Errorf("%s is enrolled but not active", slug)
		}
	}
}

// enrolled is what the document holds for slug: "token_name env endpoint"
// lines, sorted.
func enrolled(d *rotation.Document, slug string) []string {
	var out []string
	if d == nil {
		return nil
	}
	for _, e := range d.Of(rotation.Consumer(slug)) {
		out = append(out, e.TokenName+" "+e.Env+" "+e.UpdateEndpoint)
	}
	slices.Sort(out)
	return out
}

func plannedEntries(p *plan.Plan) []rotation.Entry {
	var out []rotation.Entry
	for _, h := range p.Handoffs {
		if h.Rotation != nil {
			out = append(out, h.Rotation.Add...)
		}
	}
	return rotation.Sort(out)
}

// TestRotationLifecycle: apply enrolls the long-lived credentials of every
// active handoff, exactly as the plan showed them, rewrites nothing when
// nothing changes, removes a handoff's entries when it is revoked (by its
// spec's deletion, or by the kill switch itself), repairs a document
// edited by hand, and never overwrites a secret that is not its document.
func TestRotationLifecycle(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug, stripeSlug, dnsSlug, deploySlug, queueSlug}})
	w.enableRotation()
	ctx := context.Background()

	p := w.plan()
	if r := p.Rotation; r == nil || !r.Write || r.Live != "missing" {
		t.Fatalf("first plan: %+v", p.Rotation)
	}
	rep := w.mustApply()
	if rep.Rotation == nil || !rep.Rotation.Written {
		t.Fatalf("apply did not write the document: %+v", rep.Rotation)
	}
	d := w.doc()
	w.assertDocConverged()
	if got, want := rotation.Sort(slices.Clone(d.Subscriptions)), plannedEntries(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("apply enrolled other entries than the plan showed:\n got %v\nwant %v", got, want)
	}
	for _, tc := range []struct {
		slug string
		want []string
	}{
		{iapSlug, []string{"INFISICAL_CLIENT_SECRET staging " + root + "/" + iapSlug + "/INFISICAL_CLIENT_SECRET"}},
		{stripeSlug, []string{"INFISICAL_CLIENT_SECRET staging " + root + "/" + stripeSlug + "/INFISICAL_CLIENT_SECRET"}},
		{dnsSlug, []string{"CLOUDFLARE_API_TOKEN staging " + root + "/" + dnsSlug + "/CLOUDFLARE_API_TOKEN"}},
		{deploySlug, []string{
			"HEROKU_API_KEY staging " + root + "/" + deploySlug + "/HEROKU_API_KEY",
			"INFISICAL_CLIENT_SECRET staging " + root + "/" + deploySlug + "/INFISICAL_CLIENT_SECRET"}},
		{queueSlug, nil}, // an STS session, and an MCP list: nothing to rotate
	} {
		if got := enrolled(d, tc.slug); !slices.Equal(got, tc.want) {
			t.Errorf("%s enrolled %q, want %q", tc.slug, got, tc.want)
		}
	}
	for _, e := range d.Subscriptions {
		m := w.manifest(strings.TrimPrefix(e.ConsumerID, "handoff-"))
		if !e.AutoRevokeAfter.Equal(m.ExpiresAt) || e.UpdateMethod != "INFISICAL_WRITE" || e.Required || !e.Active {
			t.Errorf("entry %+v", e)
		}
	}
	w.assertNoChanges()

	// A scheduled apply an hour on refreshes tokens: same entries, no write.
	w.advance(55 * time.Minute)
	v := w.docVersion()
	rep = w.mustApply()
	if w.docVersion() != v || rep.Rotation == nil || rep.Rotation.Written {
		t.Errorf("a refresh rewrote the document (version %d → %d): %+v", v, w.docVersion(), rep.Rotation)
	}
	w.assertNoChanges()

	// The spec deleted: the entries go with the revocation.
	w.dropSpec(deploySlug)
	p = w.plan()
	if h := findHandoff(p, deploySlug); h.Rotation == nil || len(h.Rotation.Remove) != 2 || len(h.Rotation.Add) != 0 {
		t.Errorf("plan of the deletion: %+v", h.Rotation)
	}
	w.mustApply()
	if got := enrolled(w.doc(), deploySlug); got != nil {
		t.Errorf("a revoked handoff is still enrolled: %q", got)
	}
	w.assertDocConverged()

	// The kill switch removes the entries itself, of the handoff or of
	// the killed surface alone, without an apply.
	w.mustRevoke(w.deps(), iapSlug)
	if got := enrolled(w.doc(), iapSlug); got != nil {
		t.Errorf("revoke left %q enrolled", got)
	}
	w.mustRevoke(w.deps(), dnsSlug, "cloudflare")
	if got := enrolled(w.doc(), dnsSlug); got != nil {
		t.Errorf("the kill of cloudflare left %q enrolled", got)
	}
	w.assertDocConverged()
	w.assertNoChanges()

	// Edited by hand: an entry no manifest says (what a forged one would
	// be) and one removed. The plan shows the repair; apply makes it.
	d = w.doc()
	forged := rotation.NewEntry("payments-admin", "prod", "/Payments/live/STRIPE_SECRET_KEY", "Stripe key", w.now().Add(72*time.Hour))
	d.Subscriptions = append(d.Subscriptions[1:], forged)
	if _, err := w.vault().UpsertSecret(ctx, env, docFolder, docSecret, string(d.Marshal()), "by hand"); err != nil {
		t.Fatal(err)
	}
	p = w.plan()
	if r := p.Rotation; !p.HasChanges() || r.Repair == nil || len(r.Repair.Remove) != 1 || len(r.Repair.Add) != 1 || !r.Repair.Remove[0].Equal(forged) {
		t.Fatalf("the plan does not repair the document: %+v", r)
	}
	w.mustApply()
	w.assertDocConverged()
	w.assertNoChanges()

	// A secret there that is not a rotation document is never overwritten.
	if _, err := w.vault().UpsertSecret(ctx, env, docFolder, docSecret, "sk_test_not_a_document_0123456789", ""); err != nil {
		t.Fatal(err)
	}
	p = w.plan()
	if p.Rotation.Write || p.HasChanges() || !slices.Contains(p.Policy.Warnings, "Rotation document not written") {
		t.Errorf("an invalid document: write %t, warnings %v", p.Rotation.Write, p.Policy.Warnings)
	}
	w.mu.Lock()
	w.values["sk_test_not_a_document_0123456789"] = true // the scan: never quoted
	w.mu.Unlock()
	w.repo.Handoffs = append(w.repo.Handoffs, w.specOf(iapSlug+"-b"))
	rep = w.mustApply()
	if s, _ := w.srv.Infisical.Secret(env, docFolder, docSecret); s.Value != "sk_test_not_a_document_0123456789" || rep.Rotation == nil || rep.Rotation.Problem == "" {
		t.Errorf("an invalid document was overwritten, or not reported: %+v", rep.Rotation)
	}
}

// specOf is a copy of the iap spec under another slug.
func (w *world) specOf(slug string) *spec.Handoff {
	w.t.Helper()
	src := strings.ReplaceAll(string(w.repo.Sources[w.repo.Handoff(iapSlug).Filename]), iapSlug, slug)
	h, diags := spec.ParseHandoffFile("testdata/repo/specs/"+slug+".hcl", []byte(src))
	if diags.HasErrors() {
		w.t.Fatal(diags)
	}
	return h
}

// docCalls counts the calls on the document's secret in a call log.
func docCalls(l *callLog) (reads, writes int) {
	for _, c := range l.log0() {
		if !strings.HasSuffix(c, docFolder+"/"+docSecret) {
			continue
		}
		if strings.HasPrefix(c, "get ") {
			reads++
		} else {
			writes++
		}
	}
	return reads, writes
}

// TestRotationRequests: one read of the document per plan, and per apply
// one read (under the lock) and at most one write, none when unchanged.
func TestRotationRequests(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.enableRotation()
	for i, step := range []struct {
		name          string
		before        func()
		reads, writes int
	}{
		{"create", func() {}, 1, 1},
		{"refresh: entries unchanged", func() { w.advance(55 * time.Minute) }, 1, 0},
		{"revoke: entries removed", func() { w.dropSpec(iapSlug) }, 1, 1},
	} {
		step.before()
		d := w.deps()
		l := &callLog{Vault: d.Vault}
		d.Vault = l
		p := w.plan()
		if _, err := apply.Apply(context.Background(), p, d); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if r, wr := docCalls(l); r != step.reads || wr != step.writes {
			t.Errorf("%d %s: %d reads and %d writes of the document, want %d and %d", i, step.name, r, wr, step.reads, step.writes)
		}
	}
	// A plan reads it once; a plan without changes makes apply send
	// nothing (assertNoChanges counts every request).
	w.assertNoChanges()
}

// TestRotationCrashBeforeTheWrite: an apply killed right before the
// document's write leaves it stale; the next plan shows the repair and the
// next apply makes it.
func TestRotationCrashBeforeTheWrite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(w *world)
	}{
		{"create", func(w *world) {}},
		{"revoke", func(w *world) { w.mustApply(); w.dropSpec(iapSlug) }},
		{"replace", func(w *world) {
			w.mustApply()
			h := w.specOf(iapSlug)
			h.TTL.Value, h.TTL.Raw = 12*time.Hour, "12h"
			w.repo.Handoffs = slices.DeleteFunc(slices.Clone(w.repo.Handoffs), func(x *spec.Handoff) bool { return x.Slug.Value == iapSlug })
			w.repo.Handoffs = append(w.repo.Handoffs, h)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{slugs: []string{iapSlug, stripeSlug}})
			w.enableRotation()
			tc.change(w)
			before := w.docVersion()
			d := w.deps()
			d.FailPoint = func(s apply.Step) error {
				if s.Op == apply.RotationStep {
					return apply.ErrCrash
				}
				return nil
			}
			if _, err := w.applyWith(d); !errors.Is(err, apply.ErrCrash) {
				t.Fatalf("crash before the write: %v", err)
			}
			if w.docVersion() != before {
				t.Fatal("the document was written")
			}
			p := w.plan()
			if r := p.Rotation; !r.Write || (before > 0 && r.Repair == nil) {
				t.Errorf("the plan after the crash does not repair the document: %+v", r)
			}
			w.advance(leaseTTL + time.Second)
			w.mustApply()
			w.assertDocConverged()
			w.assertNoChanges()
		})
	}
}

// blockingLog is a call log whose hook holds the first write of the
// document until released.
func blockAt(l *callLog, match func(op, full string) bool) (reached, release chan struct{}) {
	reached, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	l.before = func(op, full string) {
		if match(op, full) {
			once.Do(func() {
				close(reached)
				<-release
			})
		}
	}
	return reached, release
}

// TestRotationRevokeRacesApply: the kill switch (no lock) runs while an
// apply writes the document. Whatever the interleaving, the revoked
// handoff's credentials are cut at once, the document converges, and no
// revoked handoff stays enrolled after the next apply.
func TestRotationRevokeRacesApply(t *testing.T) {
	cases := []struct {
		name string
		// stale says the interleaving leaves the revoked handoff enrolled
		// until the next apply (the window the package comment documents).
		stale bool
		run   func(w *world, p *plan.Plan) error
	}{
		{"revoke before the apply's fence", false, func(w *world, p *plan.Plan) error {
			// The apply waits right before its write, before its fence.
			d := w.deps()
			reached, release := make(chan struct{}), make(chan struct{})
			d.FailPoint = func(s apply.Step) error {
				if s.Op == apply.RotationStep {
					close(reached)
					<-release
				}
				return nil
			}
			done := make(chan error, 1)
			go func() { _, err := apply.Apply(context.Background(), p, d); done <- err }()
			<-reached
			w.mustRevoke(w.deps(), iapSlug)
			close(release)
			return <-done
		}},
		{"revoke between the apply's fence and its write", true, func(w *world, p *plan.Plan) error {
			d := w.deps()
			l := &callLog{Vault: d.Vault}
			d.Vault = l
			reached, release := blockAt(l, func(op, full string) bool { return full == docFolder+"/"+docSecret })
			done := make(chan error, 1)
			go func() { _, err := apply.Apply(context.Background(), p, d); done <- err }()
			<-reached
			w.mustRevoke(w.deps(), iapSlug)
			close(release)
			return <-done
		}},
		{"apply while the revoke removes its entries", false, func(w *world, p *plan.Plan) error {
			// The revoke has cut everything and waits right before it
			// edits the document; the apply runs whole meanwhile.
			d := w.deps()
			reached, release := make(chan struct{}), make(chan struct{})
			d.FailPoint = func(s apply.Step) error {
				if s.Op == apply.RotationStep && s.Slug == iapSlug {
					close(reached)
					<-release
				}
				return nil
			}
			revoked := make(chan error, 1)
			go func() {
				_, err := apply.Revoke(context.Background(), iapSlug, apply.RevokeOptions{Reason: "incident", By: "sec"}, d)
				revoked <- err
			}()
			<-reached
			_, err := apply.Apply(context.Background(), w.plan(), w.deps())
			close(release)
			return errors.Join(err, <-revoked)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
			w.enableRotation()
			w.mustApply()
			if enrolled(w.doc(), iapSlug) == nil {
				t.Fatal("iap is not enrolled")
			}
			// The apply that races: a new handoff, whose entry it writes.
			w.repo.Handoffs = append(w.repo.Handoffs, w.specOf("iap-notif-handler-b"))
			p := w.plan()
			iapTokens := w.srv.GitHub.LiveTokens()
			if err := tc.run(w, p); err != nil {
				t.Fatalf("%v\nprogress:\n%s", err, w.progress.String())
			}
			w.assertKilledAmid(iapSlug, iapTokens)
			if got := enrolled(w.doc(), iapSlug); (got != nil) != tc.stale {
				t.Errorf("right after the race, iap enrolled: %q (stale expected: %t)", got, tc.stale)
			}
			w.mustApply()
			if got := enrolled(w.doc(), iapSlug); got != nil {
				t.Errorf("after the next apply, the revoked handoff is still enrolled: %q", got)
			}
			if enrolled(w.doc(), "iap-notif-handler-b") == nil {
				t.Error("the new handoff is not enrolled")
			}
			w.assertDocConverged()
			w.assertNoChanges()
		})
	}
}

// assertKilledAmid is assertTombstoned where another handoff's tokens
// may be live: the tokens live before the kill (slug's own) are not.
func (w *world) assertKilledAmid(slug string, before []githubsrv.TokenInfo) {
	w.t.Helper()
	if m := w.manifest(slug); !m.Tombstoned() {
		w.t.Errorf("%s is not tombstoned: status %s", slug, m.Status)
	}
	for _, id := range w.handoffIdentities() {
		if strings.Contains(id.Name, slug) {
			w.t.Errorf("identity %s of %s still exists", id.Name, slug)
		}
	}
	for _, live := range w.srv.GitHub.LiveTokens() {
		for _, b := range before {
			if live.Fingerprint == b.Fingerprint {
				w.t.Errorf("a GitHub token of %s (…%s) is live after the kill", slug, live.Last4)
			}
		}
	}
}

// TestRotationRevokeNeverFails: the kill switch cuts the credentials and
// succeeds although the document cannot be written; the next apply
// removes the entries.
func TestRotationRevokeNeverFails(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug, stripeSlug}})
	w.enableRotation()
	w.mustApply()
	d := w.deps()
	d.FailPoint = func(s apply.Step) error {
		if s.Op == apply.RotationStep {
			return errors.New("injected: the vault refuses the document")
		}
		return nil
	}
	if _, err := apply.Revoke(context.Background(), iapSlug, apply.RevokeOptions{Reason: "incident", By: "sec"}, d); err != nil {
		t.Fatalf("revoke failed with the document: %v", err)
	}
	w.assertTombstoned(iapSlug)
	if enrolled(w.doc(), iapSlug) == nil {
		t.Fatal("the injected failure did not stop the removal")
	}
	if !strings.Contains(w.progress.String(), "the next apply removes its entries") {
		t.Errorf("no warning:\n%s", w.progress.String())
	}
	p := w.plan()
	if !p.HasChanges() || p.Rotation.Repair == nil {
		t.Errorf("the plan does not repair the document: %+v", p.Rotation)
	}
	w.mustApply()
	w.assertDocConverged()
	w.assertNoChanges()
}

// rotationScenarios are the lifecycle scenarios of the heroku handoff
// with enrollment on: the crash and failure tests stop them at every step
// of the handoff's run, and the converged document must be what the
// manifests say (the crash at the document's own write is
// TestRotationCrashBeforeTheWrite's).
func rotationScenarios() []scenario {
	var out []scenario
	for _, sc := range lifecycleScenarios(deploySlug, "heroku", 55*time.Minute) {
		if sc.name != "create" && sc.name != "revoke-deleted" && sc.name != "revoke-manual" {
			continue
		}
		setup := sc.setup
		sc.name = "rotation-" + sc.name
		sc.setup = func(w *world) { w.enableRotation(); setup(w) }
		sc.check = func(w *world) { w.assertDocConverged() }
		out = append(out, sc)
	}
	return out
}

func init() {
	registerCrashCase(crashCase{slug: deploySlug, surface: "heroku", scenarios: rotationScenarios()})
}

// TestRotationExpiredHandoffIsPruned: a handoff past its TTL leaves the
// document with the apply that revokes it, as the plan shows; until then
// its entries' auto_revoke_after has passed, so the service has dropped
// them already.
func TestRotationExpiredHandoffIsPruned(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug, dnsSlug}})
	w.enableRotation()
	w.mustApply()
	m := w.manifest(iapSlug)
	if enrolled(w.doc(), iapSlug) == nil {
		t.Fatal("iap is not enrolled")
	}
	w.advance(m.ExpiresAt.Sub(w.now()) + time.Minute)
	for _, e := range w.doc().Of(rotation.Consumer(iapSlug)) {
		if !e.AutoRevokeAfter.Before(w.now()) {
			t.Errorf("an expired handoff's entry is not past its auto_revoke_after: %+v", e)
		}
	}
	p := w.plan()
	h := findHandoff(p, iapSlug)
	if h.Rotation == nil || len(h.Rotation.Remove) != 1 || len(h.Rotation.Add) != 0 || p.Rotation == nil || !p.Rotation.Write {
		t.Fatalf("the plan does not prune the expired handoff: %+v, %+v", h.Rotation, p.Rotation)
	}
	rep := w.mustApply()
	if rep.Rotation == nil || !rep.Rotation.Written {
		t.Errorf("the document was not written: %+v", rep.Rotation)
	}
	if m := w.manifest(iapSlug); m.Status == manifest.Active {
		t.Fatalf("the expired handoff is still active")
	}
	if got := enrolled(w.doc(), iapSlug); got != nil {
		t.Errorf("the expired handoff is still enrolled: %q", got)
	}
	w.assertDocConverged()
	w.assertNoChanges()
}

// TestVerifyReportsRotationDrift: verify reports, for each handoff, where
// the rotation document differs from what the manifests say (an entry
// missing, one no manifest says, a handoff it names that has no folder,
// the document gone or not a document) as drift, never as a scope
// violation, and quotes no value; after apply repairs it, verify is clean.
func TestVerifyReportsRotationDrift(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug, deploySlug}})
	w.enableRotation()
	ctx := context.Background()
	w.mustApply()
	loc := docFolder + "/" + docSecret + " (environment " + env + ")"

	// findings runs verify of every handoff and returns its rotation
	// findings, "slug: message", sorted.
	findings := func() []string {
		t.Helper()
		vs, err := apply.Verify(ctx, nil, w.deps())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			for _, x := range v.Violations {
				w.text(x.String())
				if x.Scope {
					t.Errorf("%s: a scope violation: %s", v.Slug, x)
				}
				if x.Surface == "rotation" {
					out = append(out, v.Slug+": "+x.Message)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	put := func(value string) {
		t.Helper()
		if _, err := w.vault().UpsertSecret(ctx, env, docFolder, docSecret, value, "by hand"); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, want []string) {
		t.Helper()
		if got := findings(); !slices.Equal(got, want) {
			t.Errorf("%s: verify found\n  %s\nwant\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}

	check("after apply", nil)

	// Edited by hand: the deploy handoff's Heroku entry dropped, and an
	// entry of a handoff that has no folder added.
	d := w.doc()
	heroku := root + "/" + deploySlug + "/HEROKU_API_KEY"
	d.Subscriptions = slices.DeleteFunc(d.Subscriptions, func(e rotation.Entry) bool { return e.UpdateEndpoint == heroku })
	d.Subscriptions = append(d.Subscriptions,
		rotation.NewEntry("payments-admin", "prod", "/Payments/live/STRIPE_SECRET_KEY", "Stripe key", w.now().Add(72*time.Hour)))
	put(string(d.Marshal()))
	check("edited by hand", []string{
		deploySlug + ": the rotation document " + loc + " lacks the entry of " + heroku + " (" + env + "): handoff apply writes it",
		"payments-admin: the rotation document " + loc + " holds 1 entry of a handoff with no folder: handoff apply removes them",
	})
	w.mustApply()
	check("repaired", nil)

	// Gone: every enrolled handoff says so.
	if err := w.vault().DeleteSecret(ctx, env, docFolder, docSecret); err != nil {
		t.Fatal(err)
	}
	check("deleted", []string{
		iapSlug + ": the rotation document " + loc + " does not exist, so the rotation service updates none of its 1 long-lived credential: handoff apply writes it",
		deploySlug + ": the rotation document " + loc + " does not exist, so the rotation service updates none of its 2 long-lived credentials: handoff apply writes it",
	})
	w.mustApply()
	check("written again", nil)

	// Not a document: said, never quoted, never overwritten.
	const notADocument = "sk_test_not_a_document_9876543210"
	w.mu.Lock()
	w.values[notADocument] = true // the scan: never quoted
	w.mu.Unlock()
	put(notADocument)
	got := findings()
	if len(got) != 2 || !strings.Contains(got[0], "is invalid (") || !strings.Contains(got[0], "handoff never overwrites it") {
		t.Errorf("not a document: verify found %q", got)
	}
}
