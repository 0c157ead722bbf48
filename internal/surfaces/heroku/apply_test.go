package heroku_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	hk "github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
)

func names(steps []surface.Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Name
		if s.Untraceable {
			out[i] += " (untraceable)"
		}
	}
	return out
}

func same(a []string, b ...string) bool { return slices.Equal(a, b) }

// TestLifecycle: create, verify, refresh and revoke through the local
// Heroku with the real client. The token works until it is revoked or
// replaced; revoking twice is fine.
func TestLifecycle(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	h := specOf(t, herokusrv.DefaultAllowedApp, "read-protected")

	if got := names(w.s.Steps(surface.OpCreate, w.request(h, w.live()), nil)); !same(got, heroku.StepCreate) {
		t.Errorf("create steps %v", got)
	}
	res, err := w.s.Create(ctx, w.request(h, w.live()))
	if err != nil {
		t.Fatal(err)
	}
	if !same(w.steps, heroku.StepCreate) {
		t.Errorf("announced %v", w.steps)
	}
	tok := res.Secrets[heroku.SecretName]
	if !strings.HasPrefix(tok, "HRKU-") || len(res.Secrets) != 1 || res.Fingerprint != hk.NewSecret(tok).Fingerprint() || res.Compensate == nil {
		t.Fatalf("result %v", res)
	}
	w.write(res)
	rec := recordOf(t, res)
	r := heroku.Decode(rec)
	if r.Description != "handoff "+slug || r.App != herokusrv.DefaultAllowedApp || !same(r.Scope, "read-protected") ||
		r.Account != herokusrv.DefaultProvisionerEmail || !same(r.Reach, herokusrv.DefaultAllowedApp, herokusrv.DefaultViewOnlyApp) ||
		r.Secret != "HEROKU_API_KEY" || !r.ExpiresAt.Equal(testNow.Add(8*time.Hour)) || r.RefreshEarly {
		t.Errorf("record %+v", r)
	}
	if vars, err := w.tokenClient(tok).ConfigVars(ctx, herokusrv.DefaultAllowedApp); err != nil || vars["RAILS_ENV"] != "staging" {
		t.Fatalf("the token reads the app's config vars: %v", err)
	}
	if v := w.s.Verify(ctx, w.request(h, w.live()), rec); len(v) != 0 {
		t.Errorf("verify after create: %v", v)
	}

	// A refresh an hour later: the old token is refused, the new one works
	// until the handoff's expiry (not 8 hours from now).
	w.kit.Clock.Advance(time.Hour)
	w.steps = nil
	live := w.live()
	if got := names(w.s.Steps(surface.OpRefresh, w.request(h, live), rec)); !same(got, heroku.StepRevoke, heroku.StepCreate) {
		t.Errorf("refresh steps %v", got)
	}
	res2, err := w.s.Refresh(ctx, w.request(h, live), rec)
	if err != nil {
		t.Fatal(err)
	}
	if !same(w.steps, heroku.StepRevoke, heroku.StepCreate) {
		t.Errorf("announced %v", w.steps)
	}
	tok2 := res2.Secrets[heroku.SecretName]
	rec2 := recordOf(t, res2)
	r2 := heroku.Decode(rec2)
	if tok2 == tok || r2.AuthorizationID == r.AuthorizationID || !r2.ExpiresAt.Equal(testNow.Add(8*time.Hour)) {
		t.Errorf("refresh record %+v", r2)
	}
	if _, err := w.tokenClient(tok).App(ctx, herokusrv.DefaultAllowedApp); !hk.IsUnauthorized(err) {
		t.Errorf("the replaced token: %v", err)
	}
	if _, err := w.tokenClient(tok2).App(ctx, herokusrv.DefaultAllowedApp); err != nil {
		t.Errorf("the new token: %v", err)
	}
	w.write(res2)
	if v := w.s.Verify(ctx, w.request(h, w.live()), rec2); len(v) != 0 {
		t.Errorf("verify after refresh: %v", v)
	}

	// Revoke: the token is refused everywhere; a second revoke is fine.
	w.steps = nil
	live = w.live()
	if got := names(w.s.Steps(surface.OpRevoke, w.request(nil, live), rec2)); !same(got, heroku.StepRevoke) {
		t.Errorf("revoke steps %v", got)
	}
	if err := w.s.Revoke(ctx, w.request(nil, live), rec2); err != nil {
		t.Fatal(err)
	}
	if err := w.s.Revoke(ctx, w.request(nil, live), rec2); err != nil {
		t.Errorf("second revoke: %v", err)
	}
	if n := len(w.srv.Authorizations(herokusrv.DefaultProvisionerEmail)); n != 0 {
		t.Errorf("%d authorizations left", n)
	}
	if v := w.s.Verify(ctx, w.request(h, w.live()), rec2); len(v) != 1 || v[0].Scope || !strings.Contains(v[0].Message, "no longer exists") {
		t.Errorf("verify after revoke: %v", v)
	}
	if why, gone := w.s.Vanished(rec2, w.live()); !gone || !strings.Contains(why, "revoked out of band") {
		t.Errorf("Vanished = %q %v", why, gone)
	}
	if d := w.s.DescribeRevoke(rec2, false); !strings.Contains(d, r2.AuthorizationID) || strings.Contains(d, tok2) {
		t.Errorf("DescribeRevoke = %q", d)
	}
}

// TestShortTTLRefreshesEarly: a block ttl shorter than the handoff's bounds
// the token, which is marked for refresh ahead of expiry and then expires
// on the server's clock.
func TestShortTTLRefreshesEarly(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	h := parse(t, "8h", "    app   = \"moosequest-staging\"\n    scope = [\"read\"]\n    ttl   = \"30m\"")
	res, err := w.s.Create(ctx, w.request(h, w.live()))
	if err != nil {
		t.Fatal(err)
	}
	rec := recordOf(t, res)
	at, _, early := w.s.Expiry(rec)
	if !early || !at.Equal(testNow.Add(30*time.Minute)) {
		t.Fatalf("Expiry %s %v", at, early)
	}
	c := w.tokenClient(res.Secrets[heroku.SecretName])
	if _, err := c.App(ctx, herokusrv.DefaultAllowedApp); err != nil {
		t.Fatal(err)
	}
	w.kit.Clock.Advance(30 * time.Minute)
	if _, err := c.App(ctx, herokusrv.DefaultAllowedApp); !hk.IsUnauthorized(err) {
		t.Errorf("expired token: %v", err)
	}
	w.write(res)
	v := w.s.Verify(ctx, w.request(h, w.live()), rec)
	if len(v) != 1 || v[0].Scope || !strings.Contains(v[0].Message, "expired") {
		t.Errorf("verify after expiry: %v", v)
	}
	// A handoff that ends now gets no token.
	req := w.request(h, nil)
	req.ExpiresAt = req.Now.Add(500 * time.Millisecond)
	if _, err := w.s.Create(ctx, req); err == nil || !strings.Contains(err.Error(), "no token is minted") {
		t.Errorf("create at expiry: %v", err)
	}
}

// TestLeastPrivilege: the minted token does what its scope says and is
// refused one step beyond it, on the app and off it, and every request
// after revoke.
func TestLeastPrivilege(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	app := herokusrv.DefaultAllowedApp
	mint := func(scope string) (string, surface.Record) {
		t.Helper()
		res, err := w.s.Create(ctx, w.request(specOf(t, app, scope), w.live()))
		if err != nil {
			t.Fatal(err)
		}
		return res.Secrets[heroku.SecretName], recordOf(t, res)
	}
	val := "v"

	read, readRec := mint("read")
	rc := w.tokenClient(read)
	if a, err := rc.App(ctx, app); err != nil || a.Name != app {
		t.Errorf("read token reads the app: %v", err)
	}
	if _, err := rc.ConfigVars(ctx, app); !hk.IsForbidden(err) {
		t.Errorf("read token reads config vars: %v", err)
	}
	if _, err := rc.Account(ctx); !hk.IsForbidden(err) {
		t.Errorf("read token reads the account: %v", err)
	}
	if _, err := rc.CreateAuthorization(ctx, hk.AuthorizationRequest{Scope: []string{"global"}, ExpiresIn: time.Hour}); !hk.IsForbidden(err) {
		t.Errorf("read token mints a token: %v", err)
	}
	if _, err := rc.App(ctx, herokusrv.DefaultProductionApp); !hk.IsForbidden(err) {
		t.Errorf("read token reaches an app beyond the account: %v", err)
	}

	prot, protRec := mint("read-protected")
	pc := w.tokenClient(prot)
	if vars, err := pc.ConfigVars(ctx, app); err != nil || vars["RAILS_ENV"] != "staging" {
		t.Errorf("read-protected token reads config vars: %v", err)
	}
	if err := pc.SetConfigVars(ctx, app, map[string]*string{"HANDOFF_PROBE": &val}); !hk.IsForbidden(err) {
		t.Errorf("read-protected token sets config vars: %v", err)
	}
	if _, err := pc.ConfigVars(ctx, herokusrv.DefaultViewOnlyApp); !hk.IsForbidden(err) {
		t.Errorf("read-protected token reads config vars of a view-only app: %v", err)
	}

	wp, wpRec := mint("write-protected")
	if err := w.tokenClient(wp).SetConfigVars(ctx, app, map[string]*string{"HANDOFF_PROBE": &val}); err != nil {
		t.Errorf("write-protected token sets config vars: %v", err)
	}
	if vars, _ := w.srv.ConfigVars(app); vars["HANDOFF_PROBE"] != "v" {
		t.Error("the config var was not set")
	}

	// After revoke, every request of every token is refused.
	live := w.live()
	for _, rec := range []surface.Record{readRec, protRec, wpRec} {
		if err := w.s.Revoke(ctx, w.request(nil, live), rec); err != nil {
			t.Fatal(err)
		}
	}
	for _, tok := range []string{read, prot, wp} {
		c := w.tokenClient(tok)
		errs := []error{}
		_, err := c.App(ctx, app)
		errs = append(errs, err)
		_, err = c.Apps(ctx)
		errs = append(errs, err)
		_, err = c.ConfigVars(ctx, app)
		errs = append(errs, err)
		errs = append(errs, c.SetConfigVars(ctx, app, map[string]*string{"HANDOFF_PROBE": nil}))
		for i, err := range errs {
			if !hk.IsUnauthorized(err) {
				t.Errorf("revoked token, request %d: %v", i, err)
			}
		}
	}
}

// TestCrashBetweenMintAndVaultWrite: the process dies after Heroku minted
// the authorization and before apply wrote the token: the next plan's one
// listing finds it by its description, and revoke deletes it.
func TestCrashBetweenMintAndVaultWrite(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	h := specOf(t, herokusrv.DefaultAllowedApp, "read")
	res, err := w.s.Create(ctx, w.request(h, w.live()))
	if err != nil {
		t.Fatal(err)
	}
	tok := res.Secrets[heroku.SecretName]
	res = surface.Result{} // the crash: nothing reached the vault or the manifest

	w.kit.Stats.Reset()
	live := w.live()
	if n := w.srv.RequestCount("GET /oauth/authorizations"); n != 1 {
		t.Errorf("%d listings of authorizations for one plan", n)
	}
	found := w.s.Leftovers(slug, live)
	if len(found) != 1 || found[0].Kind != "OAuth authorization" || found[0].Name != `"handoff `+slug+`"` {
		t.Fatalf("Leftovers = %+v", found)
	}
	if got := w.s.Leftovers("deploy-2026112", live); len(got) != 0 {
		t.Errorf("a prefix of the slug finds %v", got)
	}
	req := w.request(nil, live)
	if got := names(w.s.Steps(surface.OpRevoke, req, nil)); !same(got, heroku.StepRevokeStray) {
		t.Errorf("revoke steps %v", got)
	}
	for _, s := range w.s.Steps(surface.OpCreate, nil, nil) {
		if s.Untraceable {
			t.Errorf("step %s is untraceable", s.Name)
		}
	}
	w.steps = nil
	if err := w.s.Revoke(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	if !same(w.steps, heroku.StepRevokeStray) {
		t.Errorf("announced %v", w.steps)
	}
	if _, err := w.tokenClient(tok).App(ctx, herokusrv.DefaultAllowedApp); !hk.IsUnauthorized(err) {
		t.Errorf("the leftover token: %v", err)
	}
	if got := w.s.Leftovers(slug, w.live()); len(got) != 0 {
		t.Errorf("after revoke: %v", got)
	}

	// Outside apply (no live state) revoke lists once and finds it too.
	if _, err := w.s.Create(ctx, w.request(h, nil)); err != nil {
		t.Fatal(err)
	}
	if err := w.s.Revoke(ctx, w.request(nil, nil), nil); err != nil {
		t.Fatal(err)
	}
	if n := len(w.srv.Authorizations("")); n != 0 {
		t.Errorf("%d authorizations left", n)
	}
}

// TestRefreshSweepsLeftovers: a refresh after a crashed refresh revokes the
// recorded authorization and the leftover one before minting.
func TestRefreshSweepsLeftovers(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	h := specOf(t, herokusrv.DefaultAllowedApp, "read")
	res, err := w.s.Create(ctx, w.request(h, w.live()))
	if err != nil {
		t.Fatal(err)
	}
	rec := recordOf(t, res)
	stray, err := w.s.Create(ctx, w.request(h, nil)) // minted, never recorded
	if err != nil {
		t.Fatal(err)
	}
	live := w.live()
	if got := names(w.s.Steps(surface.OpRefresh, w.request(h, live), rec)); !same(got, heroku.StepRevoke, heroku.StepRevokeStray, heroku.StepCreate) {
		t.Errorf("refresh steps %v", got)
	}
	v := w.s.Verify(ctx, w.request(h, live), rec)
	if !slices.ContainsFunc(v, func(x surface.Violation) bool {
		return x.Scope && strings.Contains(x.Message, "not recorded by its manifest")
	}) {
		t.Errorf("verify misses the leftover: %v", v)
	}
	res2, err := w.s.Refresh(ctx, w.request(h, live), rec)
	if err != nil {
		t.Fatal(err)
	}
	infos := w.srv.Authorizations("")
	if len(infos) != 1 || infos[0].ID != heroku.Decode(recordOf(t, res2)).AuthorizationID {
		t.Errorf("after refresh: %+v", infos)
	}
	if _, err := w.tokenClient(stray.Secrets[heroku.SecretName]).App(ctx, herokusrv.DefaultAllowedApp); !hk.IsUnauthorized(err) {
		t.Errorf("leftover token: %v", err)
	}

	// Without a record (the manifest lost it), a refresh sweeps by name too.
	live = w.live()
	if got := names(w.s.Steps(surface.OpRefresh, w.request(h, live), nil)); !same(got, heroku.StepRevokeStray, heroku.StepCreate) {
		t.Errorf("refresh steps without a record %v", got)
	}
	w.steps = nil
	res3, err := w.s.Refresh(ctx, w.request(h, live), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !same(w.steps, heroku.StepRevokeStray, heroku.StepCreate) {
		t.Errorf("announced %v", w.steps)
	}
	if infos := w.srv.Authorizations(""); len(infos) != 1 || infos[0].ID != heroku.Decode(recordOf(t, res3)).AuthorizationID {
		t.Errorf("after a refresh without a record: %+v", infos)
	}
}

// TestVerifyViolations: what can do more than recorded is a scope
// violation; what is missing or expired is drift.
func TestVerifyViolations(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	h := specOf(t, herokusrv.DefaultAllowedApp, "read-protected")
	res, err := w.s.Create(ctx, w.request(h, w.live()))
	if err != nil {
		t.Fatal(err)
	}
	w.write(res)
	base := *heroku.Decode(recordOf(t, res))
	tests := []struct {
		name   string
		edit   func(r *heroku.Record)
		spec   bool
		scope  bool
		substr string
	}{
		{"spec asks for less", func(r *heroku.Record) { r.Scope = []string{"read-protected", "write-protected"} }, true, true, "holds scope write-protected"},
		{"another app", func(r *heroku.Record) { r.App = herokusrv.DefaultViewOnlyApp }, true, true, "minted for app trademaster-api"},
		{"reach widened since", func(r *heroku.Record) { r.Reach = []string{herokusrv.DefaultAllowedApp} }, true, true, "now reaches trademaster-api"},
		{"outlives the handoff", func(r *heroku.Record) { r.ExpiresAt = testNow.Add(9 * time.Hour) }, true, true, "past the handoff's expiry"},
		{"lasts longer than recorded", func(r *heroku.Record) { r.ExpiresAt = testNow.Add(time.Hour) }, true, true, "past the recorded"},
		{"wider at Heroku than recorded", func(r *heroku.Record) { r.Scope = []string{"read"} }, false, true, "holds scope read-protected, the manifest records read"},
		{"another token in the vault", func(r *heroku.Record) { r.TokenFingerprint = "sha256:000000000000" }, true, false, "is not the one the manifest records"},
		{"the secret missing", func(r *heroku.Record) { r.Secret = "HEROKU_OTHER" }, true, false, "HEROKU_OTHER is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			r.Scope = slices.Clone(base.Scope)
			tt.edit(&r)
			rec := recordOf(t, surface.Result{Record: &r})
			spec := h
			if !tt.spec {
				spec = nil
			}
			v := w.s.Verify(ctx, w.request(spec, w.live()), rec)
			if !slices.ContainsFunc(v, func(x surface.Violation) bool {
				return x.Scope == tt.scope && strings.Contains(x.Message, tt.substr)
			}) {
				t.Errorf("verify = %v, want (scope %v) %q", v, tt.scope, tt.substr)
			}
		})
	}
	if v := heroku.New(nil).Verify(ctx, w.request(h, nil), nil); len(v) != 1 || !strings.Contains(v[0].Message, "no OAuth authorization recorded") {
		t.Errorf("verify of nothing: %v", v)
	}
}

// TestMintFailures: a failed create returns an error naming the fix and
// no value, with nothing to compensate; the client is required.
func TestMintFailures(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	h := specOf(t, herokusrv.DefaultAllowedApp, "read")
	id := w.kit.Faults.Add(devkit.Fault{Route: "POST /oauth/authorizations", Status: 500})
	res, err := w.s.Create(ctx, w.request(h, nil))
	w.kit.Faults.Remove(id)
	if err == nil || res.Compensate != nil || !strings.Contains(err.Error(), "create the OAuth authorization of handoff "+slug) {
		t.Errorf("create under a 500: %v", err)
	}
	assertHidden(t, "error", err.Error(), w.srv.ProvisionerAPIKey())
	if _, err := heroku.New(nil).Create(ctx, w.request(h, nil)); err == nil || !strings.Contains(err.Error(), "HEROKU_API_KEY") {
		t.Errorf("no client: %v", err)
	}
	stop := errors.New("stop")
	req := w.request(h, nil)
	req.Step = func(context.Context, string, map[string]string) error { return stop }
	if _, err := w.s.Create(ctx, req); !errors.Is(err, stop) {
		t.Errorf("Begin's error: %v", err)
	}
	if n := len(w.srv.Authorizations("")); n != 0 {
		t.Errorf("%d authorizations after failures", n)
	}
}
