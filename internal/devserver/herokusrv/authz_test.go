package herokusrv

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestScopes holds each OAuth scope against the routes: what it may do and
// what Heroku refuses it.
func TestScopes(t *testing.T) {
	e := defaultEnv(t)
	staging := "/apps/" + DefaultAllowedApp
	type probe struct {
		method, path string
		body         any
	}
	const (
		account   = "account"
		apps      = "apps"
		app       = "app"
		readVars  = "readVars"
		writeVars = "writeVars"
		collabs   = "collabs"
		perms     = "perms"
		auths     = "auths"
		mint      = "mint"
	)
	probes := map[string]probe{
		account:   {"GET", "/account", nil},
		apps:      {"GET", "/apps", nil},
		app:       {"GET", staging, nil},
		readVars:  {"GET", staging + "/config-vars", nil},
		writeVars: {"PATCH", staging + "/config-vars", map[string]any{"ROTATED": "x"}},
		collabs:   {"GET", staging + "/collaborators", nil},
		perms:     {"GET", "/teams/permissions", nil},
		auths:     {"GET", "/oauth/authorizations", nil},
		mint:      {"POST", "/oauth/authorizations", map[string]any{"scope": []string{"global"}}},
	}
	all := []string{account, apps, app, readVars, writeVars, collabs, perms, auths, mint}
	cases := []struct {
		scope   []string
		allowed []string
	}{
		{[]string{"global"}, all},
		{[]string{"identity"}, []string{account}},
		{[]string{"read"}, []string{apps, app, collabs, perms}},
		{[]string{"write"}, []string{apps, app, collabs, perms}},
		{[]string{"read-protected"}, []string{apps, app, readVars, collabs, perms}},
		{[]string{"write-protected"}, []string{apps, app, readVars, writeVars, collabs, perms}},
		{[]string{"identity", "read-protected"}, []string{account, apps, app, readVars, collabs, perms}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.scope, "+"), func(t *testing.T) {
			tok := e.scoped(tc.scope...)
			for _, name := range all {
				p := probes[name]
				r := e.do(p.method, p.path, bearer(tok), p.body)
				want := slices.Contains(tc.allowed, name)
				if want && r.status >= 300 {
					t.Errorf("%s %s: %d %s, want success", p.method, p.path, r.status, r.body)
				}
				if !want && (r.status != http.StatusForbidden || r.errID() != "forbidden") {
					t.Errorf("%s %s: %d %s, want 403 forbidden", p.method, p.path, r.status, r.body)
				}
			}
		})
	}
}

// TestConfigVarNegatives are the refusals handoff relies on: a read token
// cannot read config vars, a read-protected token reads but cannot write.
func TestConfigVarNegatives(t *testing.T) {
	e := defaultEnv(t)
	vars := "/apps/" + DefaultAllowedApp + "/config-vars"

	read := e.scoped("read")
	r := e.do("GET", vars, bearer(read), nil)
	expect(t, r, 403, "forbidden")
	if strings.Contains(string(r.body), "postgres://") {
		t.Fatalf("a refused read leaked a value: %s", r.body)
	}

	rp := e.scoped("read-protected")
	r = e.do("GET", vars, bearer(rp), nil)
	expect(t, r, 200, "")
	var got map[string]string
	r.json(t, &got)
	if !strings.HasPrefix(got["DATABASE_URL"], "postgres://") {
		t.Errorf("read-protected read %v", len(got))
	}
	expect(t, e.do("PATCH", vars, bearer(rp), map[string]any{"DATABASE_URL": "postgres://evil"}), 403, "forbidden")
	if v, _ := e.srv.ConfigVars(DefaultAllowedApp); v["DATABASE_URL"] == "postgres://evil" {
		t.Fatal("a refused write changed the config var")
	}

	wp := e.scoped("write-protected")
	expect(t, e.do("PATCH", vars, bearer(wp), map[string]any{"IAP_NOTIF_SECRET": "rotated"}), 200, "")
	if v, _ := e.srv.ConfigVars(DefaultAllowedApp); v["IAP_NOTIF_SECRET"] != "rotated" {
		t.Error("write-protected write did not land")
	}
	// Scope never widens the account's app permissions.
	expect(t, e.do("GET", "/apps/"+DefaultViewOnlyApp+"/config-vars", bearer(wp), nil), 403, "forbidden")
	expect(t, e.do("PATCH", "/apps/"+DefaultProductionApp+"/config-vars", bearer(wp), map[string]any{"A": "b"}), 403, "forbidden")
}

// TestTokenLifecycle: a token is shown once, works until its authorization
// is deleted or expires, and is refused at once after either.
func TestTokenLifecycle(t *testing.T) {
	e := defaultEnv(t)
	key := bearer(DefaultProvisionerAPIKey)

	id, tok := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": []string{"read"}, "expires_in": 600, "description": "handoff iap-notif"})
	expect(t, e.do("GET", "/apps", bearer(tok), nil), 200, "")
	for _, path := range []string{"/oauth/authorizations", "/oauth/authorizations/" + id} {
		r := e.do("GET", path, key, nil)
		expect(t, r, 200, "")
		if strings.Contains(string(r.body), tok) {
			t.Errorf("GET %s shows the token after creation", path)
		}
		if !strings.Contains(string(r.body), `"expires_in":600`) {
			t.Errorf("GET %s: %s lacks the remaining expires_in", path, r.body)
		}
	}
	infos := e.srv.Authorizations(DefaultProvisionerEmail)
	if len(infos) != 1 || infos[0].TokenFingerprint != TokenFingerprint(tok) || infos[0].ExpiresAt == nil || !infos[0].ExpiresAt.Equal(testNow.Add(10*time.Minute)) {
		t.Fatalf("Authorizations() = %+v", infos)
	}

	// Expiry on the server clock: one second before, the token works;
	// at the expiry it is refused.
	e.kit.Clock.Advance(599 * time.Second)
	expect(t, e.do("GET", "/apps", bearer(tok), nil), 200, "")
	e.kit.Clock.Advance(time.Second)
	expect(t, e.do("GET", "/apps", bearer(tok), nil), 401, "unauthorized")
	if !e.srv.Authorizations(DefaultProvisionerEmail)[0].Expired {
		t.Error("the expired authorization is not reported expired")
	}

	// Deletion: refused from the next request on; deleting again is 404.
	id2, tok2 := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": []string{"read"}})
	expect(t, e.do("GET", "/apps", bearer(tok2), nil), 200, "")
	del := e.do("DELETE", "/oauth/authorizations/"+id2, key, nil)
	expect(t, del, 200, "")
	if strings.Contains(string(del.body), tok2) {
		t.Error("DELETE shows the token")
	}
	expect(t, e.do("GET", "/apps", bearer(tok2), nil), 401, "unauthorized")
	expect(t, e.do("DELETE", "/oauth/authorizations/"+id2, key, nil), 404, "not_found")

	// Regeneration: a new token, the old one refused.
	id3, tok3 := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": []string{"read"}, "expires_in": 60})
	e.kit.Clock.Advance(30 * time.Second)
	r := e.do("POST", "/oauth/authorizations/"+id3+"/actions/regenerate-tokens", key, nil)
	expect(t, r, 200, "")
	var regen struct {
		AccessToken struct {
			Token     string `json:"token"`
			ExpiresIn int    `json:"expires_in"`
		} `json:"access_token"`
	}
	r.json(t, &regen)
	if regen.AccessToken.Token == "" || regen.AccessToken.Token == tok3 || regen.AccessToken.ExpiresIn != 60 {
		t.Fatalf("regenerate: %s", r.body)
	}
	expect(t, e.do("GET", "/apps", bearer(tok3), nil), 401, "unauthorized")
	expect(t, e.do("GET", "/apps", bearer(regen.AccessToken.Token), nil), 200, "")

	// A token cannot manage authorizations, even its own account's.
	expect(t, e.do("DELETE", "/oauth/authorizations/"+id3, bearer(regen.AccessToken.Token), nil), 403, "forbidden")
}

// TestReach: the handoff account reaches only its allowed apps; the wide
// fixture shows a reach plan must refuse.
func TestReach(t *testing.T) {
	e := defaultEnv(t)
	want := []string{DefaultAllowedApp, DefaultViewOnlyApp}
	if got := e.srv.Reach(DefaultProvisionerEmail); !slices.Equal(got, want) {
		t.Fatalf("Reach = %v, want %v", got, want)
	}
	var apps []struct {
		Name string `json:"name"`
	}
	e.do("GET", "/apps", bearer(DefaultProvisionerAPIKey), nil).json(t, &apps)
	var names []string
	for _, a := range apps {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("GET /apps = %v, want %v", names, want)
	}
	// The owner's other apps stay out of reach of the handoff account,
	// whatever the token's scope.
	global := e.scoped("global")
	for _, a := range []string{DefaultProductionApp, DefaultOwnerPersonalApp, DefaultSecondTeamApp} {
		for _, cred := range []string{DefaultProvisionerAPIKey, global} {
			expect(t, e.do("GET", "/apps/"+a, bearer(cred), nil), 403, "forbidden")
			expect(t, e.do("GET", "/apps/"+a+"/config-vars", bearer(cred), nil), 403, "forbidden")
		}
	}
	if got := e.srv.AppPermissions(DefaultProvisionerEmail, DefaultAllowedApp); !slices.Equal(got, []string{"view", "deploy"}) {
		t.Errorf("AppPermissions = %v", got)
	}

	wide := newEnv(t, WideReachFixture())
	got := wide.srv.Reach(DefaultProvisionerEmail)
	if !slices.Contains(got, DefaultProductionApp) {
		t.Fatalf("WideReachFixture reach %v lacks %s", got, DefaultProductionApp)
	}
	expect(t, wide.do("GET", "/apps/"+DefaultProductionApp, bearer(DefaultProvisionerAPIKey), nil), 200, "")
	// Viewing is all a member gets: no config vars.
	expect(t, wide.do("GET", "/apps/"+DefaultProductionApp+"/config-vars", bearer(DefaultProvisionerAPIKey), nil), 403, "forbidden")
}
