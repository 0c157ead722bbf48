package herokusrv

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// TestStateRoundTrip: what a restart must keep (config vars, live
// authorizations, spent rate limit) survives MarshalState and RestoreState,
// and the saved state holds no access token.
func TestStateRoundTrip(t *testing.T) {
	e := defaultEnv(t)
	key := bearer(DefaultProvisionerAPIKey)
	id, tok := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": []string{"read-protected"}, "expires_in": 3600})
	delID, delTok := e.authorize(DefaultProvisionerAPIKey, map[string]any{"scope": []string{"read"}})
	expect(t, e.do("DELETE", "/oauth/authorizations/"+delID, key, nil), 200, "")
	expect(t, e.do("PATCH", "/apps/"+DefaultAllowedApp+"/config-vars", key, map[string]any{"ROTATED": "r1"}), 200, "")
	spent := e.srv.RateLimitRemaining(DefaultProvisionerEmail)

	raw, err := e.srv.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok, delTok} {
		if strings.Contains(string(raw), secret) {
			t.Fatal("MarshalState holds an access token")
		}
	}

	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	fx := DefaultFixture()
	fx.Accounts[0].APIKey = "" // the restored state brings the key back
	s2, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.RestoreState(raw); err != nil {
		t.Fatal(err)
	}
	if got := s2.ProvisionerAPIKey(); got != DefaultProvisionerAPIKey {
		t.Fatal("API key not restored")
	}
	if v, _ := s2.ConfigVars(DefaultAllowedApp); v["ROTATED"] != "r1" {
		t.Error("config var change lost")
	}
	if got := s2.RateLimitRemaining(DefaultProvisionerEmail); got != spent {
		t.Errorf("rate limit %d, want %d", got, spent)
	}
	if rec := serve(s2, "GET", "/apps/"+DefaultAllowedApp+"/config-vars", bearer(tok)); rec.Code != 200 {
		t.Errorf("restored token refused: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(s2, "GET", "/apps", bearer(delTok)); rec.Code != 401 {
		t.Errorf("deleted token accepted after restore: %d", rec.Code)
	}
	infos := s2.Authorizations("")
	if len(infos) != 1 || infos[0].ID != id {
		t.Fatalf("authorizations after restore: %+v", infos)
	}
	kit.Clock.Advance(time.Hour)
	if rec := serve(s2, "GET", "/apps", bearer(tok)); rec.Code != 401 {
		t.Errorf("restored token outlived its expiry: %d", rec.Code)
	}

	// Empty input changes nothing; bad input changes nothing and says why.
	if err := s2.RestoreState(nil); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{`{`, `{"version":9}`, `{"version":1,"fixture":{"accounts":[{"email":"x@y.z"}]}}`,
		`{"version":1,"fixture":{},"authorizations":[{"id":"a","account_id":"nobody","token_sha256":"` + strings.Repeat("0", 64) + `"}]}`} {
		if err := s2.RestoreState([]byte(bad)); err == nil {
			t.Errorf("RestoreState(%s) accepted", bad)
		}
	}
	if v, _ := s2.ConfigVars(DefaultAllowedApp); v["ROTATED"] != "r1" {
		t.Error("a failed restore changed the state")
	}
}

// TestFixtureValidation rejects fixtures whose references do not resolve.
func TestFixtureValidation(t *testing.T) {
	cases := map[string]func(*Fixture){
		"two provisioners":    func(fx *Fixture) { fx.Accounts[1].Provisioner = true },
		"duplicate email":     func(fx *Fixture) { fx.Accounts[1].Email = fx.Accounts[0].Email },
		"bad role":            func(fx *Fixture) { fx.Teams[0].Members[0].Role = "owner" },
		"unknown member":      func(fx *Fixture) { fx.Teams[0].Members[0].Email = "ghost@x.y" },
		"bad app name":        func(fx *Fixture) { fx.Apps[0].Name = "Bad_Name" },
		"team and owner":      func(fx *Fixture) { fx.Apps[0].Owner = DefaultOwnerEmail },
		"unknown team":        func(fx *Fixture) { fx.Apps[0].Team = "nope" },
		"bad permission":      func(fx *Fixture) { fx.Apps[0].Collaborators[0].Permissions = []string{"admin"} },
		"bad config var name": func(fx *Fixture) { fx.Apps[0].ConfigVars["A-B"] = "x" },
		"shared API key":      func(fx *Fixture) { fx.Accounts[1].APIKey = fx.Accounts[0].APIKey },
		"bad region":          func(fx *Fixture) { fx.Apps[0].Region = "mars" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			fx := DefaultFixture()
			mutate(&fx)
			if _, err := New(nil, fx); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	// A fixture round-trips through JSON (devserver loads it from a file).
	raw, err := json.Marshal(DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	var fx Fixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if _, err := New(nil, fx); err != nil {
		t.Fatal(err)
	}
}
