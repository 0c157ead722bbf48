package apply_test

import (
	"context"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/spec"
)

// TestSpecChangeReplaces: a changed spec mints everything again with the
// new grant and a new TTL, revoking what the old grant minted first.
func TestSpecChangeReplaces(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	before := w.manifest(iapSlug)
	oldToken := w.secret(iapSlug, "GH_HANDOFF_TOKEN")
	w.advance(2 * time.Hour)

	src := strings.Replace(string(w.repo.Sources[w.repo.Handoffs[0].Filename]), `issues = "write"`, `issues = "read"`, 1)
	h, diags := spec.ParseHandoffFile(w.repo.Handoffs[0].Filename, []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	w.repo.Handoffs[0] = h
	p := w.plan()
	if got := findHandoff(p, iapSlug); got.Action != plan.Replace {
		t.Fatalf("plan: %s (%s)", got.Action, got.Reason)
	}
	w.mustApply()
	after := w.manifest(iapSlug)
	if after.SpecDigest != h.Digest() || ghRec(after).Permissions["issues"] != "read" {
		t.Errorf("manifest after the replace: %s", asJSON(ghRec(after)))
	}
	if !after.ExpiresAt.Equal(w.now().Add(24 * time.Hour)) {
		t.Errorf("a replace starts a new TTL: expires %s", after.ExpiresAt)
	}
	if infRec(after).IdentityID == infRec(before).IdentityID {
		t.Error("the identity was not replaced")
	}
	if _, err := w.gh.RepoWithToken(context.Background(), oldToken, "raxx-app", "TradeMasterAPI"); err == nil {
		t.Error("the old token still works")
	}
	if toks := w.srv.GitHub.LiveTokens(); len(toks) != 1 || toks[0].Permissions["issues"] != "read" {
		t.Errorf("live tokens: %+v", toks)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestIdentityDeletedOutOfBand is drift: the identity is recreated, the
// token and the TTL kept.
func TestIdentityDeletedOutOfBand(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	before := w.manifest(iapSlug)
	if err := w.inf.DeleteIdentity(context.Background(), infRec(before).IdentityID); err != nil {
		t.Fatal(err)
	}
	w.advance(time.Minute)
	w.mustApply()
	after := w.manifest(iapSlug)
	if infRec(after).IdentityID == infRec(before).IdentityID ||
		ghRec(after).TokenFingerprint != ghRec(before).TokenFingerprint ||
		!after.ExpiresAt.Equal(before.ExpiresAt) {
		t.Errorf("after recreating the identity: %s", asJSON(after))
	}
	if _, err := w.login(iapSlug); err != nil {
		t.Errorf("the new identity: %v", err)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestCorruptManifestRecovers: a manifest that does not parse is replaced;
// what its deterministic names find is revoked first.
func TestCorruptManifestRecovers(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	token := w.secret(iapSlug, "GH_HANDOFF_TOKEN")
	if _, err := w.inf.UpdateSecret(context.Background(), env, root+"/"+iapSlug, manifest.SecretName, `{"schema_version": 1, "slug": "half`); err != nil {
		t.Fatal(err)
	}
	p := w.plan()
	if got := findHandoff(p, iapSlug); got.Action != plan.Replace {
		t.Fatalf("plan: %s (%s)", got.Action, got.Reason)
	}
	w.mustApply()
	if _, err := w.gh.RepoWithToken(context.Background(), token, "raxx-app", "TradeMasterAPI"); err == nil {
		t.Error("the token the corrupt manifest named still works")
	}
	if m := w.manifest(iapSlug); m.Status != manifest.Active {
		t.Errorf("status %s", m.Status)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestVerifyFindsScopeViolations: verify reports a privilege or a client
// secret the manifest does not record as scope violations, and an expired
// token as drift.
func TestVerifyFindsScopeViolations(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	ctx := context.Background()
	m := w.manifest(iapSlug)
	id := infRec(m).IdentityID
	wide := infisical.ReadRules(env, "", []string{"/MooseQuest/queue/staging/**"})
	if _, err := w.inf.CreatePrivilege(ctx, id, "extra", wide, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := w.inf.CreateClientSecret(ctx, id, "by hand", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.values[cs.Value] = true
	w.mu.Unlock()
	// Named by an earlier version (infisical-handoff-<slug>-<date>): still
	// named for the handoff.
	if _, err := w.inf.CreateIdentity(ctx, "infisical-handoff-"+iapSlug+"-20260620", "no-access"); err != nil {
		t.Fatal(err)
	}
	w.advance(61 * time.Minute)
	vs, err := apply.Verify(ctx, []string{iapSlug}, w.deps())
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || !vs[0].Scope() {
		t.Fatalf("verify: %+v", vs)
	}
	var text []string
	for _, v := range vs[0].Violations {
		text = append(text, v.String())
	}
	all := strings.Join(text, "\n")
	w.text(all)
	for _, want := range []string{
		"infisical: scope violation: identity " + infsurface.IdentityName(iapSlug, t0) + " holds privilege extra",
		"infisical: scope violation: identity " + infsurface.IdentityName(iapSlug, t0) + " has a live client secret",
		"client secret " + cs.ID + " of " + infsurface.IdentityName(iapSlug, t0) + " never expires",
		"infisical: scope violation: identity infisical-handoff-" + iapSlug + "-20260620",
		"github: drift: the token expired at",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("verify lacks %q:\n%s", want, all)
		}
	}
}

// TestFreshProjectWithoutRoot: the handoff root does not exist yet; the
// lock and the first handoff create it.
func TestFreshProjectWithoutRoot(t *testing.T) {
	fx := infisicalsrv.DefaultFixture()
	fx.Projects[0].Folders = fx.Projects[0].Folders[:1] // the queue only
	w := newWorld(t, worldOptions{fixture: &fx})
	if !w.live().RootMissing {
		t.Fatal("the fixture has the root")
	}
	w.mustApply()
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestManualRevokeOfLeftoversWithoutFolder: an identity named for a handoff
// whose folder is gone is revoked, and the tombstone is built from the spec.
func TestManualRevokeOfLeftoversWithoutFolder(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	ctx := context.Background()
	if _, err := w.inf.CreateIdentity(ctx, infsurface.IdentityName(iapSlug, t0), "no-access"); err != nil {
		t.Fatal(err)
	}
	rep, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "cleanup", By: "ops"}, w.deps())
	w.record(rep, err)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.handoffIdentities()) != 0 {
		t.Error("the leftover identity survived")
	}
	if m := w.manifest(iapSlug); !m.Tombstoned() || m.SpecDigest != w.repo.Handoffs[0].Digest() {
		t.Errorf("tombstone: %s", asJSON(m))
	}
	w.assertNoChanges()
}
