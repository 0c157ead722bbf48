package apply_test

import (
	"context"
	"errors"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/infisical"
)

// login logs in as a handoff's own identity with the credentials apply
// wrote to its folder.
func (w *world) login(slug string) (*infisical.Client, error) {
	w.t.Helper()
	id := w.secret(slug, "INFISICAL_CLIENT_ID")
	secret := w.secret(slug, "INFISICAL_CLIENT_SECRET")
	return w.inf.AsIdentity(context.Background(), id, secret)
}

func TestCreateGrantsLeastPrivilegeAndRevokeEndsIt(t *testing.T) {
	w := newWorld(t, worldOptions{})
	ctx := context.Background()

	p := w.plan()
	if s := p.Summary(); s.Create != 2 {
		t.Fatalf("plan: %+v, want 2 creates", s)
	}
	rep := w.mustApply()
	if len(rep.Handoffs) != 2 || len(rep.Failed()) != 0 || len(rep.Flags) != 0 {
		t.Fatalf("report: %+v", rep)
	}
	out := w.progress.String()
	for _, want := range []string{"step 1/11: ensure folder " + root + "/" + iapSlug + " (" + iapSlug + ")",
		"step 11/11: delete PROVISION_JOURNAL (" + iapSlug + ")",
		"step 10/11: write GH_HANDOFF_TOKEN, INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET and PROVISION_MANIFEST (" + iapSlug + ")",
		"write INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET and PROVISION_MANIFEST (" + stripeSlug + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}

	// The manifests: active, naming what was minted.
	m := w.manifest(iapSlug)
	if m.Status != manifest.Active || ghRec(m) == nil || infRec(m) == nil || !m.Surfaces.Has("mcp") {
		t.Fatalf("manifest: %s", asJSON(m))
	}
	if got := strings.Join(m.Secrets, ","); got != "GH_HANDOFF_TOKEN,INFISICAL_CLIENT_ID,INFISICAL_CLIENT_SECRET" {
		t.Errorf("manifest secrets: %s", got)
	}
	if !m.ExpiresAt.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("expires_at %s", m.ExpiresAt)
	}
	if a := byref.Decode(m.Surfaces["apple_iap"]); a == nil || a.Environment != "sandbox" || a.BundleID != "com.raxx.trademaster" {
		t.Errorf("apple_iap record: %v", a)
	}
	if got := w.folderSecrets(iapSlug); strings.Join(got, ",") != "GH_HANDOFF_TOKEN,INFISICAL_CLIENT_ID,INFISICAL_CLIENT_SECRET,PROVISION_MANIFEST" {
		t.Errorf("folder: %v", got)
	}
	ms := w.manifest(stripeSlug)
	if st := byref.Decode(ms.Surfaces["stripe"]); ghRec(ms) != nil || st == nil || st.Mode != "test" {
		t.Errorf("founders manifest: %s", asJSON(ms))
	}
	inf := infRec(m)
	id, ok := w.srv.Infisical.Identity(inf.IdentityID)
	if !ok || id.Name != "infisical-handoff_"+iapSlug || id.OrgRole != "no-access" {
		t.Errorf("identity: %+v", id)
	}
	for _, mb := range w.srv.Infisical.Memberships(inf.IdentityID) {
		for _, r := range mb.Roles {
			if r.Role != "no-access" {
				t.Errorf("membership role %s", r.Role)
			}
		}
	}
	privs := w.srv.Infisical.Privileges(inf.IdentityID)
	if len(privs) != 1 || !privs[0].Temporary || !privs[0].EndsAt.Equal(m.ExpiresAt) {
		t.Errorf("privileges: %+v", privs)
	}
	css := w.srv.Infisical.ClientSecrets(inf.IdentityID)
	if len(css) != 1 || css[0].ExpiresAt == nil || !css[0].ExpiresAt.Equal(m.ExpiresAt) {
		t.Errorf("client secrets: %+v", css)
	}

	// The handoff's own identity: its folder and its grant, nothing else.
	own, err := w.login(iapSlug)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := own.GetSecret(ctx, env, path.Join(root, iapSlug), "GH_HANDOFF_TOKEN"); err != nil {
		t.Errorf("own folder: %v", err)
	}
	if list, err := own.ListSecretNames(ctx, env, path.Join(root, iapSlug), false); err != nil || len(list) != 4 {
		t.Errorf("list own folder: %d, %v", len(list), err)
	}
	if _, err := own.GetSecret(ctx, env, queue, "APPLE_IAP_KEY_ID"); err != nil {
		t.Errorf("granted APPLE_IAP_KEY_ID: %v", err)
	}
	if _, err := own.GetSecret(ctx, env, queue, "STRIPE_TEST_SECRET_KEY"); !infisical.IsForbidden(err) {
		t.Errorf("STRIPE_TEST_SECRET_KEY: want 403, got %v", err)
	}
	if _, err := own.GetSecret(ctx, env, path.Join(root, stripeSlug), manifest.SecretName); !infisical.IsForbidden(err) {
		t.Errorf("the other handoff's folder: want 403, got %v", err)
	}
	if _, err := own.ListSecretNames(ctx, env, path.Join(root, stripeSlug), false); !infisical.IsForbidden(err) {
		t.Errorf("listing the other handoff's folder: want 403, got %v", err)
	}
	if _, err := own.CreateSecret(ctx, env, path.Join(root, iapSlug), "X", "y"); !infisical.IsForbidden(err) {
		t.Errorf("write: want 403, got %v", err)
	}
	other, err := w.login(stripeSlug)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.GetSecret(ctx, env, queue, "STRIPE_TEST_SECRET_KEY"); err != nil {
		t.Errorf("founders reads its STRIPE_*: %v", err)
	}
	if _, err := other.GetSecret(ctx, env, queue, "APPLE_IAP_KEY_ID"); !infisical.IsForbidden(err) {
		t.Errorf("founders reads APPLE_IAP_*: want 403, got %v", err)
	}

	// Its GitHub token: its repository, nothing else.
	token := w.secret(iapSlug, "GH_HANDOFF_TOKEN")
	if r, err := w.gh.RepoWithToken(ctx, token, "raxx-app", "TradeMasterAPI"); err != nil || r.FullName != "raxx-app/TradeMasterAPI" {
		t.Errorf("token on its repository: %v", err)
	}
	if _, err := w.gh.RepoWithToken(ctx, token, "raxx-app", "PrivateVault"); !errors.Is(err, github.ErrNotFound) {
		t.Errorf("token on PrivateVault: want 404, got %v", err)
	}

	// Verify finds nothing wrong.
	vs, err := apply.Verify(ctx, nil, w.deps())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if len(v.Violations) > 0 || len(v.Flags) > 0 {
			t.Errorf("verify %s: %v %v", v.Slug, v.Violations, v.Flags)
		}
	}

	// Idempotence: nothing to do, and not a single request to do it.
	w.assertNoChanges()

	// Manual revoke: both refused afterwards.
	rep, err = apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "incident 17", By: "ops"}, w.deps())
	w.record(rep, err)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.gh.RepoWithToken(ctx, token, "raxx-app", "TradeMasterAPI"); !errors.Is(err, github.ErrTokenGone) && !isStatus(err, 401) {
		t.Errorf("revoked token: want 401, got %v", err)
	}
	if _, err := own.GetSecret(ctx, env, path.Join(root, iapSlug), manifest.SecretName); !infisical.IsUnauthorized(err) {
		t.Errorf("deleted identity's token: want 401, got %v", err)
	}
	if _, err := w.inf.AsIdentity(ctx, inf.IdentityID, "x"); !infisical.IsUnauthorized(err) {
		t.Errorf("login of the deleted identity: want 401, got %v", err)
	}
	m = w.manifest(iapSlug)
	if !m.Tombstoned() || m.Revocation.By != "ops" || m.Revocation.Reason != "incident 17" {
		t.Errorf("tombstone: %s", asJSON(m.Revocation))
	}
	if got := w.folderSecrets(iapSlug); strings.Join(got, ",") != manifest.SecretName {
		t.Errorf("folder after revoke: %v (the manifest alone stays, as the record)", got)
	}
	w.assertNoOrphans(false)

	// The tombstone holds: no re-mint.
	p = w.plan()
	for _, h := range p.Handoffs {
		if h.Action.IsChange() {
			t.Errorf("after a manual revoke, the plan changes %s: %s (%s)", h.Slug, h.Action, h.Reason)
		}
	}
	tokens := len(w.srv.GitHub.Tokens())
	w.mustApply()
	if n := len(w.srv.GitHub.Tokens()); n != tokens {
		t.Errorf("apply minted %d tokens for a tombstoned handoff", n-tokens)
	}
	if _, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{}, w.deps()); !errors.Is(err, apply.ErrNothingFound) {
		t.Errorf("revoking again: want ErrNothingFound, got %v", err)
	}

	// Untombstone: the slug may be minted again.
	old, err := apply.Untombstone(ctx, iapSlug, w.deps())
	if err != nil || old == nil || !old.Tombstoned() {
		t.Fatalf("untombstone: %v", err)
	}
	p = w.plan()
	if h := findHandoff(p, iapSlug); h.Action != plan.Create {
		t.Errorf("after untombstone: %s (%s), want create", h.Action, h.Reason)
	}
	w.mustApply()
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

func isStatus(err error, status int) bool {
	var ae *httpx.APIError
	return errors.As(err, &ae) && ae.Status == status
}

func findHandoff(p *plan.Plan, slug string) plan.Handoff {
	for _, h := range p.Handoffs {
		if h.Slug == slug {
			return h
		}
	}
	return plan.Handoff{}
}

func TestRefreshAfter55Minutes(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.mustApply()
	before := w.manifest(iapSlug)
	oldToken := w.secret(iapSlug, "GH_HANDOFF_TOKEN")

	w.advance(55 * time.Minute)
	p := w.plan()
	h := findHandoff(p, iapSlug)
	if h.Action != plan.Refresh {
		t.Fatalf("plan after 55 minutes: %s (%s)", h.Action, h.Reason)
	}
	if s := findHandoff(p, stripeSlug); s.Action.IsChange() {
		t.Errorf("founders (no token) changes: %s", s.Reason)
	}
	w.progress = syncBuffer{}
	w.mustApply()
	if !strings.Contains(w.progress.String(), "revoke installation token ("+iapSlug+")") {
		t.Errorf("progress: %s", w.progress.String())
	}
	after := w.manifest(iapSlug)
	if ghRec(after).TokenFingerprint == ghRec(before).TokenFingerprint ||
		!ghRec(after).TokenExpiresAt.Equal(w.now().Add(time.Hour)) {
		t.Errorf("manifest github after refresh: %s", asJSON(ghRec(after)))
	}
	if infRec(after).IdentityID != infRec(before).IdentityID || !after.ExpiresAt.Equal(before.ExpiresAt) {
		t.Errorf("a refresh changed the identity or the TTL")
	}
	last := after.History[len(after.History)-1]
	if last.Action != manifest.EventRefresh || last.Surface != "github" || last.Fingerprint != ghRec(after).TokenFingerprint {
		t.Errorf("history: %s", asJSON(after.History))
	}
	ctx := context.Background()
	if _, err := w.gh.RepoWithToken(ctx, oldToken, "raxx-app", "TradeMasterAPI"); err == nil {
		t.Error("the old token still works")
	}
	if _, err := w.gh.RepoWithToken(ctx, w.secret(iapSlug, "GH_HANDOFF_TOKEN"), "raxx-app", "TradeMasterAPI"); err != nil {
		t.Errorf("the new token: %v", err)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

func TestExpiryRevokesEverything(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.mustApply()
	m := w.manifest(iapSlug)
	w.advance(24*time.Hour + time.Minute)
	p := w.plan()
	if s := p.Summary(); s.Revoke != 2 {
		t.Fatalf("plan past the TTL: %+v", s)
	}
	w.mustApply()
	for _, slug := range []string{iapSlug, stripeSlug} {
		got := w.manifest(slug)
		if got.Status != manifest.Revoked || got.Revocation.Kind != manifest.RevokedExpired || got.Tombstoned() {
			t.Errorf("%s: %s", slug, asJSON(got.Revocation))
		}
		if f := w.folderSecrets(slug); len(f) != 1 || f[0] != manifest.SecretName {
			t.Errorf("%s folder: %v", slug, f)
		}
		if len(got.Secrets) != 0 {
			t.Errorf("%s: a revoked manifest names secrets %v", slug, got.Secrets)
		}
	}
	if _, ok := w.srv.Infisical.Identity(infRec(m).IdentityID); ok {
		t.Error("the identity survived its handoff")
	}
	if ids := w.handoffIdentities(); len(ids) != 0 {
		t.Errorf("identities left: %v", ids)
	}
	if toks := w.srv.GitHub.LiveTokens(); len(toks) != 0 {
		t.Errorf("live tokens: %d", len(toks))
	}
	w.assertNoChanges()
}

func TestSpecDeletionRevokes(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.mustApply()
	token := w.secret(iapSlug, "GH_HANDOFF_TOKEN")
	w.repo.Handoffs = w.repo.Handoffs[:1] // founders only
	if w.repo.Handoffs[0].Slug.Value != stripeSlug {
		t.Fatal("unexpected order")
	}
	p := w.plan()
	if h := findHandoff(p, iapSlug); h.Action != plan.Revoke {
		t.Fatalf("plan: %s (%s)", h.Action, h.Reason)
	}
	w.mustApply()
	m := w.manifest(iapSlug)
	if m.Status != manifest.Revoked || m.Revocation.Kind != manifest.RevokedDeleted {
		t.Errorf("revocation: %s", asJSON(m.Revocation))
	}
	if _, err := w.gh.RepoWithToken(context.Background(), token, "raxx-app", "TradeMasterAPI"); err == nil {
		t.Error("the token of a deleted spec still works")
	}
	if w.manifest(stripeSlug).Status != manifest.Active {
		t.Error("founders was touched")
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

func TestKillOneSurface(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	ctx := context.Background()
	rep, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "token leaked", By: "sec", Surfaces: []string{"github"}}, w.deps())
	w.record(rep, err)
	if err != nil {
		t.Fatal(err)
	}
	m := w.manifest(iapSlug)
	if m.Status != manifest.Active || m.Revocation == nil || strings.Join(m.Revocation.Surfaces, ",") != "github" {
		t.Fatalf("manifest after killing github: %s", asJSON(m))
	}
	if len(w.srv.GitHub.LiveTokens()) != 0 {
		t.Error("the killed token is live")
	}
	// The identity still works; the token is never minted again.
	if _, err := w.login(iapSlug); err != nil {
		t.Errorf("identity after the github kill: %v", err)
	}
	w.advance(55 * time.Minute)
	n := len(w.srv.GitHub.Tokens())
	w.mustApply()
	if len(w.srv.GitHub.Tokens()) != n {
		t.Error("a killed surface was minted again")
	}
	w.assertNoOrphans(false)
}

func TestSavedPlanRefusedWhenStale(t *testing.T) {
	w := newWorld(t, worldOptions{})
	p := w.plan()
	w.mustApply() // changes the state under the saved plan
	rep, err := apply.ApplySaved(context.Background(), p, w.deps())
	w.record(rep, err)
	if !errors.Is(err, apply.ErrStalePlan) || !strings.Contains(err.Error(), "live state changed") {
		t.Fatalf("stale state: %v", err)
	}
	// Specs changed since the plan.
	w.advance(55 * time.Minute)
	p = w.plan()
	w.repo.Handoffs = w.repo.Handoffs[:1]
	_, err = apply.ApplySaved(context.Background(), p, w.deps())
	if !errors.Is(err, apply.ErrStalePlan) || !strings.Contains(err.Error(), "specs changed") {
		t.Fatalf("stale specs: %v", err)
	}
}

// TestUnfinishedKillIsFinishedNotRefreshed: `handoff revoke -surface
// github` stops after its tombstone, before the token is revoked. The plan
// finishes the kill (revoke), never refreshes the killed token, and once
// the kill is done the killed surface stays a no-op that says why.
func TestUnfinishedKillIsFinishedNotRefreshed(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	ctx := context.Background()
	token := w.secret(iapSlug, "GH_HANDOFF_TOKEN")
	d := w.deps()
	d.FailPoint = func(s apply.Step) error {
		if s.Slug == iapSlug && s.Name == "revoke installation token" {
			return apply.ErrCrash
		}
		return nil
	}
	rep, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "token leaked", By: "sec", Surfaces: []string{"github"}}, d)
	w.record(rep, err)
	if !errors.Is(err, apply.ErrCrash) {
		t.Fatalf("crash: %v", err)
	}
	w.advance(leaseTTL + time.Second)

	// The kill is finished, whatever the token's expiry says.
	for _, after := range []time.Duration{0, 55 * time.Minute} {
		w.advance(after)
		h := findHandoff(w.plan(), iapSlug)
		gh, _ := findChange(h, "github")
		if h.Action != plan.Revoke || gh.Action != plan.Revoke || !strings.Contains(gh.Reason, "unfinished revocation of github by sec") {
			t.Fatalf("plan after the stopped kill (+%s): %s (%s); github %s (%s)", after, h.Action, h.Reason, gh.Action, gh.Reason)
		}
		for _, c := range h.Changes {
			if c.Surface != "github" && c.Action.IsChange() {
				t.Errorf("%s: %s (%s) while the kill is unfinished", c.Surface, c.Action, c.Reason)
			}
		}
	}
	tokens := len(w.srv.GitHub.Tokens())
	w.mustApply()
	if _, err := w.gh.RepoWithToken(ctx, token, "raxx-app", "TradeMasterAPI"); err == nil {
		t.Error("the killed token still works")
	}
	if n := len(w.srv.GitHub.Tokens()); n != tokens {
		t.Errorf("finishing the kill minted %d tokens", n-tokens)
	}
	m := w.manifest(iapSlug)
	if m.Status != manifest.Active || m.Revocation == nil || strings.Join(m.Revocation.Surfaces, ",") != "github" {
		t.Fatalf("manifest after the kill: %s", asJSON(m))
	}
	w.assertNoOrphans(false)

	// Killed: a no-op that says so, even with the recorded token expired.
	w.advance(time.Hour)
	h := findHandoff(w.plan(), iapSlug)
	gh, _ := findChange(h, "github")
	if gh.Action != plan.NoOp || !strings.Contains(gh.Reason, "killed by sec") || !strings.Contains(gh.Reason, "untombstone") {
		t.Errorf("killed github: %s (%s)", gh.Action, gh.Reason)
	}
	w.assertNoChanges()
}

func findChange(h plan.Handoff, surface string) (plan.Change, bool) {
	for _, c := range h.Changes {
		if c.Surface == surface {
			return c, true
		}
	}
	return plan.Change{}, false
}

// TestUnfinishedKillThenSpecDeleted: a kill of one surface stopped part-way
// and the spec was deleted meanwhile: the plan revokes the whole handoff,
// and apply does exactly that (not only the kill).
func TestUnfinishedKillThenSpecDeleted(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	d := w.deps()
	d.FailPoint = func(s apply.Step) error {
		if s.Slug == iapSlug && s.Name == "revoke installation token" {
			return apply.ErrCrash
		}
		return nil
	}
	rep, err := apply.Revoke(context.Background(), iapSlug, apply.RevokeOptions{Reason: "token leaked", By: "sec", Surfaces: []string{"github"}}, d)
	w.record(rep, err)
	if !errors.Is(err, apply.ErrCrash) {
		t.Fatalf("crash: %v", err)
	}
	w.advance(leaseTTL + time.Second)
	w.repo.Handoffs = nil
	if h := findHandoff(w.plan(), iapSlug); h.Action != plan.Revoke || hasChange(h, plan.NoOp, "infisical") {
		t.Fatalf("plan: %s (%s): %+v", h.Action, h.Reason, h.Changes)
	}
	w.mustApply()
	m := w.manifest(iapSlug)
	if m.Status != manifest.Revoked || m.Revocation.Kind != manifest.RevokedDeleted {
		t.Errorf("manifest: %s", asJSON(m.Revocation))
	}
	if ids := w.handoffIdentities(); len(ids) != 0 {
		t.Errorf("identities left: %v", ids)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

func hasChange(h plan.Handoff, action plan.Action, surface string) bool {
	c, ok := findChange(h, surface)
	return ok && c.Action == action
}

// gateRefusal is handoff gate's rule (manifest.Admit against the spec of
// the world's repository): "" when it admits.
func (w *world) gateRefusal(slug string) string {
	w.t.Helper()
	m := w.manifests()[slug]
	if m == nil {
		return "no manifest"
	}
	digest := ""
	if h := w.repo.Handoff(slug); h != nil {
		digest = h.Digest()
	}
	_, journal := w.srv.Infisical.Secret(env, root+"/"+slug, manifest.JournalSecretName)
	if err := m.Admit(manifest.Dispatch{SpecDigest: digest, Now: w.now(), Journal: journal}); err != nil {
		return err.Error()
	}
	return ""
}

// TestUntombstoneKeepsTheRecord: revoke → apply mints nothing →
// untombstone (the revoked manifest stays, lifted, with the event) → plan
// shows create → apply mints a new manifest that carries the old history →
// the gate passes. A second revoke tombstones it again.
func TestUntombstoneKeepsTheRecord(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	ctx := context.Background()
	w.mustApply()
	first := w.manifest(iapSlug)
	if r := w.gateRefusal(iapSlug); r != "" {
		t.Fatalf("gate after create: %s", r)
	}
	rep, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "drill", By: "ops"}, w.deps())
	w.record(rep, err)
	if err != nil {
		t.Fatal(err)
	}
	if w.gateRefusal(iapSlug) == "" {
		t.Fatal("the gate passes a tombstone")
	}
	tokens := len(w.srv.GitHub.Tokens())
	w.mustApply()
	if n := len(w.srv.GitHub.Tokens()); n != tokens || len(w.handoffIdentities()) != 0 {
		t.Fatalf("apply minted for a tombstone: %d tokens, %d identities", n-tokens, len(w.handoffIdentities()))
	}

	w.advance(time.Minute)
	old, err := apply.Untombstone(ctx, iapSlug, w.deps())
	if err != nil || old == nil || !old.Tombstoned() || old.Revocation.By != "ops" {
		t.Fatalf("untombstone: %v (%v)", err, old)
	}
	lifted := w.manifest(iapSlug)
	last := lifted.History[len(lifted.History)-1]
	if lifted.Status != manifest.Revoked || !lifted.Untombstoned() || !lifted.Revocation.UntombstonedAt.Equal(w.now()) ||
		lifted.Revocation.By != "ops" || last.Action != manifest.EventUntombstone {
		t.Fatalf("the record after untombstone: %s", asJSON(lifted))
	}
	if w.gateRefusal(iapSlug) == "" {
		t.Fatal("the gate passes an untombstoned handoff before apply")
	}
	// Lifting twice is lifting once.
	if _, err := apply.Untombstone(ctx, iapSlug, w.deps()); err != nil {
		t.Errorf("untombstone again: %v", err)
	}
	if again := w.manifest(iapSlug); len(again.History) != len(lifted.History) {
		t.Errorf("a second untombstone wrote: %s", asJSON(again.History))
	}

	h := findHandoff(w.plan(), iapSlug)
	if h.Action != plan.Create || !strings.Contains(h.Reason, "untombstoned at") {
		t.Fatalf("plan after untombstone: %s (%s)", h.Action, h.Reason)
	}
	w.mustApply()
	m := w.manifest(iapSlug)
	if m.Status != manifest.Active || m.Revocation != nil || !m.CreatedAt.Equal(w.now()) ||
		infRec(m).IdentityID == infRec(first).IdentityID {
		t.Fatalf("manifest after the new mint: %s", asJSON(m))
	}
	// The history is the whole story: first create, the revocation, the
	// untombstone, the new create.
	var story []string
	for _, e := range m.History {
		if len(story) == 0 || story[len(story)-1] != string(e.Action) {
			story = append(story, string(e.Action))
		}
	}
	if got := strings.Join(story, ","); got != "create,revoke,untombstone,create" {
		t.Errorf("history %s:\n%s", got, asJSON(m.History))
	}
	if r := w.gateRefusal(iapSlug); r != "" {
		t.Errorf("gate after the new mint: %s", r)
	}
	if _, err := w.login(iapSlug); err != nil {
		t.Errorf("the new identity: %v", err)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()

	// Revoked again: a tombstone again, even before an apply minted.
	if _, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "again", By: "ops"}, w.deps()); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Untombstone(ctx, iapSlug, w.deps()); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "changed my mind", By: "ops"}, w.deps()); err != nil {
		t.Fatalf("revoking an untombstoned handoff: %v", err)
	}
	if m := w.manifest(iapSlug); !m.Tombstoned() || m.Revocation.Reason != "changed my mind" {
		t.Errorf("re-tombstone: %s", asJSON(m.Revocation))
	}
	w.assertNoChanges()
	w.assertNoOrphans(false)
}

// TestUntombstoneThenCrashedMint: the first apply after untombstone stops
// in the middle of its mint; the next one revokes the leftovers and mints.
func TestUntombstoneThenCrashedMint(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	ctx := context.Background()
	w.mustApply()
	if _, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "drill", By: "ops"}, w.deps()); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Untombstone(ctx, iapSlug, w.deps()); err != nil {
		t.Fatal(err)
	}
	d := w.deps()
	d.FailPoint = func(s apply.Step) error {
		if s.Slug == iapSlug && s.Name == "create client secret" {
			return apply.ErrCrash
		}
		return nil
	}
	if _, err := w.applyWith(d); !errors.Is(err, apply.ErrCrash) {
		t.Fatalf("crash: %v", err)
	}
	w.advance(leaseTTL + time.Second)
	if h := findHandoff(w.plan(), iapSlug); h.Action != plan.Replace {
		t.Fatalf("plan after the crash: %s (%s)", h.Action, h.Reason)
	}
	w.mustApply()
	if r := w.gateRefusal(iapSlug); r != "" {
		t.Errorf("gate: %s", r)
	}
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestEveryObjectNamesTheSlug (H5): the identity's metadata, its client
// secret's description, its privilege's slug and the comment of every
// secret apply writes name the handoff.
func TestEveryObjectNamesTheSlug(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	inf := infRec(w.manifest(iapSlug))
	id, err := w.inf.GetIdentity(context.Background(), inf.IdentityID)
	if err != nil || id.Metadata["handoff-slug"] != iapSlug {
		t.Errorf("identity metadata %v (%v)", id.Metadata, err)
	}
	for _, cs := range w.srv.Infisical.ClientSecrets(inf.IdentityID) {
		if !strings.Contains(cs.Description, iapSlug) {
			t.Errorf("client secret %s: description %q", cs.ID, cs.Description)
		}
	}
	for _, p := range w.srv.Infisical.Privileges(inf.IdentityID) {
		if p.Slug != "handoff-"+iapSlug {
			t.Errorf("privilege %s: slug %q", p.ID, p.Slug)
		}
	}
	names := w.folderSecrets(iapSlug)
	if len(names) != 4 {
		t.Fatalf("folder: %v", names)
	}
	for _, name := range names {
		s, _ := w.srv.Infisical.Secret(env, path.Join(root, iapSlug), name)
		if s.Comment != "handoff "+iapSlug+": written by handoff apply" {
			t.Errorf("%s: comment %q", name, s.Comment)
		}
	}
}

// TestRevokeOfUntombstonedStoppedBeforeItsTombstone: an operator revokes a
// lifted tombstone again and the run stops before it writes the tombstone:
// the next apply writes it, and mints nothing.
func TestRevokeOfUntombstonedStoppedBeforeItsTombstone(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	ctx := context.Background()
	w.mustApply()
	if _, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "drill", By: "ops"}, w.deps()); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Untombstone(ctx, iapSlug, w.deps()); err != nil {
		t.Fatal(err)
	}
	d := w.deps()
	d.FailPoint = func(s apply.Step) error {
		if s.Slug == iapSlug && strings.HasSuffix(s.Name, "(tombstone)") {
			return apply.ErrCrash
		}
		return nil
	}
	if _, err := apply.Revoke(ctx, iapSlug, apply.RevokeOptions{Reason: "again", By: "sec"}, d); !errors.Is(err, apply.ErrCrash) {
		t.Fatalf("crash: %v", err)
	}
	w.advance(leaseTTL + time.Second)
	if h := findHandoff(w.plan(), iapSlug); hasChange(h, plan.Create, "github") || hasChange(h, plan.Replace, "github") {
		t.Fatalf("plan mints: %s (%s)", h.Action, h.Reason)
	}
	tokens := len(w.srv.GitHub.Tokens())
	w.mustApply()
	if n := len(w.srv.GitHub.Tokens()); n != tokens || len(w.handoffIdentities()) != 0 {
		t.Errorf("apply minted: %d tokens, %d identities", n-tokens, len(w.handoffIdentities()))
	}
	if m := w.manifest(iapSlug); !m.Tombstoned() || m.Revocation.Reason != "again" || m.Revocation.By != "sec" {
		t.Errorf("tombstone: %s", asJSON(m.Revocation))
	}
	w.assertNoChanges()
}
