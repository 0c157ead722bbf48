package githubsrv

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// TestStateSurvivesRestart: what a server did is there after RestoreState
// in a new one, and the state holds no minted token.
func TestStateSurvivesRestart(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.RateLimits.InstallationPerHour = 100 })
	tok := e.mint(DefaultInstallationID, map[string]any{"repositories": []string{"TradeMasterAPI"}})
	revoked := e.mint(DefaultInstallationID, nil)
	expect(t, e.do("DELETE", "/installation/token", "token "+revoked, nil), 204, "")
	expect(t, e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", "token "+tok, map[string]string{"body": "plan v1"}), 201, "")
	admin := "token " + e.mint(DefaultInstallationID, nil)
	expect(t, e.do("POST", "/orgs/raxx-app/personal-access-tokens/25382", admin, map[string]string{"action": "revoke"}), 204, "")
	expect(t, e.do("POST", "/orgs/raxx-app/personal-access-token-requests/7301", admin, map[string]string{"action": "approve"}), 204, "")
	actions, _ := e.srv.ActionsToken(DefaultActionsTokenRepository)

	state, err := e.srv.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok, revoked, strings.TrimPrefix(admin, "token ")} {
		if bytes.Contains(state, []byte(secret)) {
			t.Fatal("the state holds a minted installation token")
		}
	}

	// A new process: a new server on the default fixture (new key, new
	// Actions token), then the saved state.
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow.Add(10 * time.Minute)), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	fx := DefaultFixture()
	fx.App.PrivateKeyPEM = testKeyPEM(t)
	srv, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.RestoreState(state); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	e2 := &env{t: t, srv: srv, kit: kit, ts: ts, client: ts.Client(), key: e.key}

	if !bytes.Equal(srv.AppPrivateKeyPEM(), e.srv.AppPrivateKeyPEM()) {
		t.Error("the App key changed")
	}
	if got, _ := srv.ActionsToken(DefaultActionsTokenRepository); got != actions {
		t.Error("the Actions token changed")
	}
	r := e2.do("GET", "/repos/raxx-app/TradeMasterAPI", "token "+tok, nil)
	expect(t, r, 200, "")
	if used := r.header.Get("X-Ratelimit-Used"); used != "4" { // comment, revoke, approve, this
		t.Errorf("the rate-limit window was not kept: used %s", used)
	}
	expect(t, e2.do("GET", "/repos/raxx-app/MooseQuest", "token "+tok, nil), 404, "")
	expect(t, e2.do("GET", "/installation/repositories", "token "+revoked, nil), 401, msgBadCredentials)
	if c := srv.Comments("raxx-app", "TradeMasterAPI", 42); len(c) != 2 || c[1].Body != "plan v1" || c[1].User != "handoff-dev[bot]" {
		t.Errorf("comments %+v", c)
	}
	created := e2.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", "token "+tok, map[string]string{"body": "plan v2"})
	expect(t, created, 201, "")
	var cm struct{ ID int64 }
	created.json(t, &cm)
	if cm.ID != 2400000003 {
		t.Errorf("comment ids restart at %d", cm.ID)
	}
	var revokedPAT, approved bool
	for _, p := range srv.PersonalAccessTokens("raxx-app") {
		revokedPAT = revokedPAT || (p.ID == 25382 && p.Revoked)
		approved = approved || (p.TokenName == "hotfix-carol" && !p.Revoked)
	}
	if !revokedPAT || !approved {
		t.Errorf("PATs %+v", srv.PersonalAccessTokens("raxx-app"))
	}
	if n := len(srv.Tokens()); n != 3 {
		t.Errorf("%d tokens after restore, want 3", n)
	}
	// The token still expires an hour after it was minted.
	kit.Clock.Set(testNow.Add(time.Hour))
	expect(t, e2.do("GET", "/repos/raxx-app/TradeMasterAPI", "token "+tok, nil), 401, msgBadCredentials)

	// A broken state leaves the server as it was.
	for _, bad := range []string{`{`, `{"version": 99}`, strings.Replace(string(state), `"installation_id": 1001`, `"installation_id": 4`, 1)} {
		if err := srv.RestoreState([]byte(bad)); err == nil {
			t.Errorf("RestoreState accepted %.40q", bad)
		}
	}
	if len(srv.Tokens()) != 3 {
		t.Error("a failed restore changed the server")
	}
}

// TestFixtureFromJSON: the fixture round-trips through JSON, as the dev
// command loads it from a file, and New generates what it leaves out.
func TestFixtureFromJSON(t *testing.T) {
	raw, err := json.Marshal(DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	var fx Fixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	srv, err := New(nil, fx) // generates the App key and the Actions token
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(srv.AppPrivateKeyPEM(), []byte("-----BEGIN RSA PRIVATE KEY-----")) || srv.AppID() != DefaultAppID || srv.AppClientID() != DefaultAppClientID {
		t.Errorf("App %d %s", srv.AppID(), srv.AppClientID())
	}
	if tok, ok := srv.ActionsToken("RAXX-APP/trademasterapi"); !ok || len(tok) != 40 {
		t.Error("no Actions token generated")
	}
}

// TestFixtureValidation: New refuses fixtures whose references dangle.
func TestFixtureValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Fixture)
		want   string
	}{
		{"no app id", func(fx *Fixture) { fx.App.ID = 0 }, "positive id"},
		{"bad key", func(fx *Fixture) { fx.App.PrivateKeyPEM = "not a key" }, "private key"},
		{"unknown app permission", func(fx *Fixture) { fx.App.Permissions["x"] = "read" }, "unknown permission"},
		{"repository without owner", func(fx *Fixture) { fx.Repositories[0].Owner = "nobody" }, "owner is not an account"},
		{"installation repository missing", func(fx *Fixture) { fx.Installations[0].Repositories = []string{"Nope"} }, "does not exist"},
		{"installation above the app", func(fx *Fixture) { fx.Installations[0].Permissions["administration"] = "write" }, "more than the app"},
		{"duplicate issue", func(fx *Fixture) { fx.Issues = append(fx.Issues, fx.Issues[0]) }, "listed twice"},
		{"comment on nothing", func(fx *Fixture) { fx.Comments[0].IssueNumber = 999 }, "does not exist"},
		{"PAT of a user org", func(fx *Fixture) { fx.PersonalAccessTokens[0].Organization = "alice-raxx" }, "not an organization"},
		{"Actions token on no repo", func(fx *Fixture) { fx.ActionsTokens[0].Repository = "x/y" }, "does not exist"},
		{"account type", func(fx *Fixture) { fx.Accounts[0].Type = "Team" }, "not User, Organization or Bot"},
		{"issue state_reason", func(fx *Fixture) { fx.Issues[0].StateReason = "fixed" }, "state_reason"},
		{"issue closed_by", func(fx *Fixture) { fx.Issues[0].ClosedBy = "nobody" }, "closed_by"},
		{"issue via_app", func(fx *Fixture) { fx.Issues[0].ViaApp = "other-app" }, "via_app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := DefaultFixture()
			fx.App.PrivateKeyPEM = testKeyPEM(t)
			tc.mutate(&fx)
			_, err := New(nil, fx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// TestDefaultFixtureUnchanged: New copies the fixture; serving never
// changes the caller's.
func TestDefaultFixtureUnchanged(t *testing.T) {
	fx := DefaultFixture()
	fx.App.PrivateKeyPEM = testKeyPEM(t)
	before, _ := json.Marshal(fx)
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	e := &env{t: t, srv: srv, kit: kit, ts: ts, client: ts.Client()}
	tok, _ := srv.ActionsToken(DefaultActionsTokenRepository)
	expect(t, e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", "token "+tok, map[string]string{"body": "x"}), 201, "")
	after, _ := json.Marshal(fx)
	if !bytes.Equal(before, after) {
		t.Error("serving changed the caller's fixture")
	}
}
