package apply_test

import (
	"context"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/state"
)

// canRead reports how a handoff's own identity, logged in with the
// credentials in its folder, fares reading key in folder: nil, or the
// error (403 for a key its privilege does not reach).
func (w *world) canRead(slug, folder, key string) error {
	w.t.Helper()
	own, err := w.login(slug)
	if err != nil {
		w.t.Fatalf("log in as %s: %v", slug, err)
	}
	_, err = own.GetSecret(context.Background(), env, folder, key)
	return err
}

// TestKillByReferenceSurfaceCutsItsKey (H8): `handoff revoke -surface
// stripe` on a handoff that reads a pre-provisioned Stripe key through its
// identity's read paths narrows that identity's privilege in place: the
// identity is refused STRIPE_* at once and still reads its own folder
// (same identity, same client secret, same privilege), the manifest
// records the narrower read paths and the event, later applies never widen
// it again, and untombstone then apply restores the full grant.
func TestKillByReferenceSurfaceCutsItsKey(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{stripeSlug}})
	ctx := context.Background()
	w.mustApply()
	folder := path.Join(root, stripeSlug)
	full := infRec(w.manifest(stripeSlug))
	if err := w.canRead(stripeSlug, queue, "STRIPE_TEST_SECRET_KEY"); err != nil {
		t.Fatalf("before the kill, the handoff reads its key: %v", err)
	}
	clientSecret := w.secret(stripeSlug, "INFISICAL_CLIENT_SECRET")

	rep, err := apply.Revoke(ctx, stripeSlug, apply.RevokeOptions{Reason: "key leaked", By: "sec", Surfaces: []string{"stripe"}}, w.deps())
	w.record(rep, err)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.canRead(stripeSlug, queue, "STRIPE_TEST_SECRET_KEY"); !infisical.IsForbidden(err) {
		t.Errorf("after the kill of stripe, STRIPE_TEST_SECRET_KEY: want 403, got %v", err)
	}
	if err := w.canRead(stripeSlug, queue, "STRIPE_WEBHOOK_SECRET"); !infisical.IsForbidden(err) {
		t.Errorf("after the kill of stripe, STRIPE_WEBHOOK_SECRET: want 403, got %v", err)
	}
	if err := w.canRead(stripeSlug, folder, manifest.SecretName); err != nil {
		t.Errorf("after the kill of stripe, its own folder: %v", err)
	}
	m := w.manifest(stripeSlug)
	inf := infRec(m)
	if m.Status != manifest.Active || m.Revocation == nil || strings.Join(m.Revocation.Surfaces, ",") != "stripe" {
		t.Fatalf("manifest after the kill: %s", asJSON(m))
	}
	if strings.Join(inf.ReadPaths, ",") != folder+"/**" {
		t.Errorf("recorded read paths after the kill: %v, want only the own folder", inf.ReadPaths)
	}
	if inf.IdentityID != full.IdentityID || inf.PrivilegeID != full.PrivilegeID || inf.ClientSecretID != full.ClientSecretID ||
		w.secret(stripeSlug, "INFISICAL_CLIENT_SECRET") != clientSecret {
		t.Errorf("the kill replaced the identity, its privilege or its client secret: %s, was %s", asJSON(inf), asJSON(full))
	}
	if !slices.ContainsFunc(m.History, func(e manifest.Event) bool {
		return e.Surface == "infisical" && e.Action == manifest.EventRevoke && strings.Contains(e.Detail, "/MooseQuest/queue/staging/STRIPE_*")
	}) {
		t.Errorf("no history event for the narrowed privilege: %s", asJSON(m.History))
	}
	w.assertNoOrphans(false)
	if vs, err := apply.Verify(ctx, nil, w.deps()); err != nil || len(vs) != 1 || len(vs[0].Violations) != 0 {
		t.Errorf("verify after the kill: %+v, %v", vs, err)
	}

	// Idempotent, and the scheduled applies never widen it again.
	if _, err := apply.Revoke(ctx, stripeSlug, apply.RevokeOptions{Reason: "again", By: "sec", Surfaces: []string{"stripe"}}, w.deps()); err != nil {
		t.Fatalf("killing it again: %v", err)
	}
	w.assertNoChanges()
	w.advance(2 * time.Hour)
	w.assertNoChanges()
	if err := w.canRead(stripeSlug, queue, "STRIPE_TEST_SECRET_KEY"); !infisical.IsForbidden(err) {
		t.Errorf("two hours after the kill, STRIPE_TEST_SECRET_KEY: want 403, got %v", err)
	}

	// Untombstone: the next apply restores the full grant in place.
	if _, err := apply.Untombstone(ctx, stripeSlug, w.deps()); err != nil {
		t.Fatal(err)
	}
	h := findHandoff(w.plan(), stripeSlug)
	c, _ := findChange(h, "infisical")
	if c.Action != plan.Refresh || !slices.Contains(c.Escalations, "wider vault path /MooseQuest/queue/staging/STRIPE_*") || len(c.Secrets) != 0 {
		t.Fatalf("plan after untombstone: infisical %s (%s), escalations %v, secrets %v", c.Action, c.Reason, c.Escalations, c.Secrets)
	}
	w.mustApply()
	if err := w.canRead(stripeSlug, queue, "STRIPE_TEST_SECRET_KEY"); err != nil {
		t.Errorf("after untombstone and apply, STRIPE_TEST_SECRET_KEY: %v", err)
	}
	m = w.manifest(stripeSlug)
	if m.Revocation != nil || strings.Join(infRec(m).ReadPaths, ",") != strings.Join(full.ReadPaths, ",") ||
		infRec(m).PrivilegeID != full.PrivilegeID || w.secret(stripeSlug, "INFISICAL_CLIENT_SECRET") != clientSecret {
		t.Errorf("manifest after untombstone and apply: %s", asJSON(m))
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestKillOfInfisicalLeavesNothingToNarrow: killing the infisical surface
// with a by-reference one ends the identity; there is no privilege left to
// narrow, and the rest of the handoff stays.
func TestKillOfInfisicalLeavesNothingToNarrow(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	rep, err := apply.Revoke(context.Background(), iapSlug, apply.RevokeOptions{Reason: "drill", By: "sec", Surfaces: []string{"infisical", "apple_iap"}}, w.deps())
	w.record(rep, err)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(w.progress.String(), "update privilege") {
		t.Errorf("a privilege was updated although the identity was killed:\n%s", w.progress.String())
	}
	if ids := w.handoffIdentities(); len(ids) != 0 {
		t.Errorf("identities left: %v", ids)
	}
	if m := w.manifest(iapSlug); m.Status != manifest.Active || len(w.srv.GitHub.LiveTokens()) != 1 {
		t.Errorf("the rest of the handoff: %s, %d live tokens", m.Status, len(w.srv.GitHub.LiveTokens()))
	}
	w.assertNoChanges()
}

// TestJournalNamingOnlyAKilledSurface: a stopped run's journal that names
// only a killed surface (apple_iap, read by reference) makes the plan
// revoke that surface's leftovers; apply does that alone: the handoff stays
// active, the killed surface's record (its key paths, still withheld)
// stays, and the journal is cleared.
func TestJournalNamingOnlyAKilledSurface(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	ctx := context.Background()
	w.mustApply()
	w.kill(iapSlug, "apple_iap")
	j := &state.Journal{Slug: iapSlug, Operation: "refresh", Entries: []state.JournalEntry{{Step: "refresh", Surface: "apple_iap", At: w.now()}}}
	b, err := j.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.inf.UpsertSecret(ctx, env, path.Join(root, iapSlug), state.JournalSecretName, string(b)); err != nil {
		t.Fatal(err)
	}
	h := findHandoff(w.plan(), iapSlug)
	if c, _ := findChange(h, "apple_iap"); c.Action != plan.Revoke {
		t.Fatalf("plan: apple_iap %s (%s)", c.Action, c.Reason)
	}
	w.mustApply()
	m := w.manifest(iapSlug)
	if m.Status != manifest.Active || m.Revocation == nil || strings.Join(m.Revocation.Surfaces, ",") != "apple_iap" {
		t.Fatalf("a journal naming a killed surface revoked the handoff: %s", asJSON(m.Revocation))
	}
	if !m.Surfaces.Has("apple_iap") {
		t.Errorf("the killed surface's record was dropped: %v", m.Surfaces.Names())
	}
	if err := w.canRead(iapSlug, queue, "APPLE_IAP_KEY_ID"); !infisical.IsForbidden(err) {
		t.Errorf("the killed surface's key: want 403, got %v", err)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}
