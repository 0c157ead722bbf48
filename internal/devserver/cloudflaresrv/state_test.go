package cloudflaresrv

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// TestStateSurvivesRestart: a second server restored from the first's
// state knows the same tokens (minted ones by fingerprint only), records,
// policies and rate-limit window.
func TestStateSurvivesRestart(t *testing.T) {
	e := newEnv(t, nil)
	body := e.tokenBody("kept", []string{GroupDNSWrite}, zoneRes(DefaultZoneRaxxDevID))
	body["expires_on"] = testNow.Add(2 * time.Hour).Format(time.RFC3339)
	body["condition"] = map[string]any{"request.ip": map[string]any{"in": []string{"127.0.0.1/32", "::1/128"}}}
	kept := e.mint(body)
	expect(t, e.do("POST", "/zones/"+DefaultZoneRaxxDevID+"/dns_records", kept.Value,
		map[string]any{"type": "TXT", "name": "_acme-challenge", "content": "abc"}), 200, 0)
	deleted := e.mint(e.tokenBody("deleted", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID)))
	expect(t, e.do("DELETE", "/user/tokens/"+deleted.ID, e.prov, nil), 200, 0)
	used := e.srv.RateLimitUsed()

	data, err := e.srv.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), kept.Value) || strings.Contains(string(data), deleted.Value) {
		t.Fatal("the state holds a minted token's value")
	}
	if !strings.Contains(string(data), e.prov) {
		t.Fatal("the state lacks the provisioner token's value (configuration)")
	}

	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	fresh, err := New(kit, DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.RestoreState(data); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(fresh)
	defer ts.Close()
	e2 := &env{t: t, srv: fresh, kit: kit, ts: ts, client: ts.Client(), base: ts.URL + BasePath, prov: fresh.ProvisionerToken()}
	if e2.prov != e.prov {
		t.Fatal("the provisioner token changed across the restart")
	}
	if fresh.RateLimitUsed() != used {
		t.Errorf("rate-limit window: %d used, want %d", fresh.RateLimitUsed(), used)
	}
	expect(t, e2.do("GET", "/user/tokens/verify", kept.Value, nil), 200, 0)
	expect(t, e2.do("GET", "/user/tokens/verify", deleted.Value, nil), 401, codeInvalidAPIToken)
	a := e2.do("GET", "/zones/"+DefaultZoneRaxxDevID+"/dns_records?type=TXT&name=_acme-challenge.raxx.dev", kept.Value, nil)
	expect(t, a, 200, 0)
	if a.env.ResultInfo == nil || a.env.ResultInfo.Count != 1 {
		t.Errorf("restored records: %s", a.raw)
	}
	expect(t, e2.do("POST", "/zones/"+DefaultZoneRaxxDevID+"/dns_records", kept.Value,
		map[string]any{"type": "TXT", "name": "_acme-challenge", "content": "abc"}), 400, codeDNSIdentical)
	info, ok := fresh.Token(kept.ID)
	if !ok || info.Uses != 4 || info.ExpiresOn == nil || len(info.RequestIPIn) != 2 || info.Policies[0].PermissionGroups[0] != GroupDNSWrite {
		t.Errorf("restored token %+v", info)
	}
	kit.Clock.Advance(2 * time.Hour)
	expect(t, e2.do("GET", "/user/tokens/verify", kept.Value, nil), 401, codeInvalidAPIToken)

	// Empty input changes nothing; a broken state changes nothing.
	if err := fresh.RestoreState(nil); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{`{`, `{"version":2}`, `{"version":1,"state":{"user":{"id":"x"}}}`,
		strings.Replace(string(data), `"fingerprint":"`, `"fingerprint":"00`, 1)} {
		if err := fresh.RestoreState([]byte(bad)); err == nil {
			t.Errorf("RestoreState accepted %.60s", bad)
		}
	}
	expect(t, e2.do("GET", "/user/tokens/verify", e2.prov, nil), 200, 0)
}

func TestFixtureValidation(t *testing.T) {
	cases := map[string]func(*Fixture){
		"bad user id":          func(fx *Fixture) { fx.User.ID = "me" },
		"duplicate zone":       func(fx *Fixture) { fx.Accounts[1].Zones = append(fx.Accounts[1].Zones, fx.Accounts[0].Zones[0]) },
		"bad zone name":        func(fx *Fixture) { fx.Accounts[0].Zones[0].Name = "localhost" },
		"bad zone status":      func(fx *Fixture) { fx.Accounts[0].Zones[0].Status = "asleep" },
		"two provisioners":     func(fx *Fixture) { fx.Tokens = append(fx.Tokens, fx.Tokens[0]); fx.Tokens[1].ID = "" },
		"short token value":    func(fx *Fixture) { fx.Tokens[0].Value = "short" },
		"unknown group":        func(fx *Fixture) { fx.Tokens[0].Policies[0].PermissionGroups = []string{"Root"} },
		"group on wrong scope": func(fx *Fixture) { fx.Tokens[0].Policies[0].PermissionGroups = []string{GroupDNSRead} },
		"bad record":           func(fx *Fixture) { fx.Accounts[0].Zones[0].DNSRecords[0].Content = "nope" },
		"bad CIDR":             func(fx *Fixture) { fx.Tokens[0].RequestIPIn = []string{"10.0.0.0/40"} },
		"group without scope":  func(fx *Fixture) { fx.PermissionGroups = []PermissionGroup{{ID: "x", Name: "X"}} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			fx := DefaultFixture()
			mutate(&fx)
			if _, err := New(nil, fx); err == nil {
				t.Error("New accepted the fixture")
			}
		})
	}
	if _, err := New(nil, DefaultFixture()); err != nil {
		t.Fatal(err)
	}
}
