package cloudflaresrv

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAuthenticationAnswers(t *testing.T) {
	e := newEnv(t, nil)
	bogus := strings.Repeat("A", 40)
	cases := []struct {
		name         string
		path         string
		headers      []string
		status, code int
	}{
		{"no credentials", "/zones", nil, 400, codeMissingAuth},
		{"basic scheme", "/zones", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 400, codeInvalidHeaders},
		{"global key as bearer (37 chars)", "/zones", []string{"Authorization", "Bearer " + strings.Repeat("a", 37)}, 400, codeInvalidHeaders},
		{"bearer with spaces", "/zones", []string{"Authorization", "Bearer a b"}, 400, codeInvalidHeaders},
		{"unknown token", "/zones", []string{"Authorization", "Bearer " + bogus}, 403, codeAccessToken},
		{"unknown token on verify", "/user/tokens/verify", []string{"Authorization", "Bearer " + bogus}, 401, codeInvalidAPIToken},
		{"global key", "/zones", []string{"X-Auth-Email", "dev@raxx.app", "X-Auth-Key", strings.Repeat("f", 37)}, 403, codeUnknownAPIKey},
		{"global key on verify", "/user/tokens/verify", []string{"X-Auth-Email", "dev@raxx.app", "X-Auth-Key", strings.Repeat("f", 37)}, 400, codeTokenValidation},
		{"lowercase bearer", "/user/tokens/verify", []string{"Authorization", "bearer " + e.prov}, 200, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.do("GET", tc.path, "", nil, tc.headers...), tc.status, tc.code)
		})
	}
}

func TestVerifyAnswer(t *testing.T) {
	e := newEnv(t, nil)
	body := e.tokenBody("bounded", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
	body["not_before"] = testNow.Add(-time.Minute).Format(time.RFC3339)
	body["expires_on"] = testNow.Add(24 * time.Hour).Format(time.RFC3339)
	m := e.mint(body)
	a := e.do("GET", "/user/tokens/verify", m.Value, nil)
	expect(t, a, 200, 0)
	var res map[string]string
	a.result(t, &res)
	want := map[string]string{"id": m.ID, "status": "active",
		"not_before": "2026-11-23T11:59:00Z", "expires_on": "2026-11-24T12:00:00Z"}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("verify result %s = %q, want %q", k, res[k], v)
		}
	}
	if len(a.env.Messages) != 1 || a.env.Messages[0].Code != 10000 || a.env.Messages[0].Message != msgTokenValid {
		t.Errorf("verify messages = %+v", a.env.Messages)
	}
}

// TestTokenBodyValidation walks the refusals of a token body.
func TestTokenBodyValidation(t *testing.T) {
	e := newEnv(t, nil)
	zr, _ := e.srv.PermissionGroupByName(GroupZoneRead)
	acct, _ := e.srv.PermissionGroupByName("Account Settings Read")
	tw, _ := e.srv.PermissionGroupByName(GroupAPITokensWrite)
	pol := func(effect string, groups []any, resources any) map[string]any {
		return map[string]any{"effect": effect, "permission_groups": groups, "resources": resources}
	}
	zoneA := zoneRes(DefaultZoneExampleID)
	zrRef := []any{map[string]any{"id": zr.ID}}
	ok := func(mut func(b map[string]any)) map[string]any {
		b := map[string]any{"name": "t", "policies": []any{pol("allow", zrRef, zoneA)}}
		if mut != nil {
			mut(b)
		}
		return b
	}
	cases := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"valid", ok(nil), 200, ""},
		{"not an object", `[1,2]`, 400, "Malformed JSON"},
		{"trailing garbage", `{"name":"t"} x`, 400, "Malformed JSON"},
		{"no name", ok(func(b map[string]any) { delete(b, "name") }), 400, "name must be present"},
		{"name too long", ok(func(b map[string]any) { b["name"] = strings.Repeat("n", 121) }), 400, "at most 120"},
		{"no policies", ok(func(b map[string]any) { delete(b, "policies") }), 400, "policies"},
		{"policy id on create", ok(func(b map[string]any) {
			b["policies"].([]any)[0].(map[string]any)["id"] = "f267e341f3dd4697bd3b9f71dd96247f"
		}), 400, "Reusing existing policies"},
		{"bad effect", ok(func(b map[string]any) { b["policies"] = []any{pol("maybe", zrRef, zoneA)} }), 400, "effect"},
		{"group without id", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", []any{map[string]any{"name": "Zone Read"}}, zoneA)}
		}), 400, "id must be present"},
		{"unknown group", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", []any{map[string]any{"id": "00000000000000000000000000000000"}}, zoneA)}
		}), 400, "does not exist"},
		{"mixed scopes", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", []any{map[string]any{"id": zr.ID}, map[string]any{"id": acct.ID}}, zoneA)}
		}), 400, "different scopes"},
		{"zone group on the user", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", zrRef, map[string]any{ScopeUser + "." + DefaultUserID: "*"})}
		}), 400, "cannot be applied"},
		{"user group on a zone", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", []any{map[string]any{"id": tw.ID}}, zoneA)}
		}), 400, "cannot be applied"},
		{"unknown zone", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", zrRef, zoneRes("00000000000000000000000000000000"))}
		}), 400, "not accessible"},
		{"another user", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", []any{map[string]any{"id": tw.ID}}, map[string]any{ScopeUser + ".00000000000000000000000000000000": "*"})}
		}), 400, "not accessible"},
		{"zone not in the account", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", zrRef, map[string]any{ScopeAccount + "." + DefaultOtherAccountID: zoneA})}
		}), 400, "is not in account"},
		{"bad resource value", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", zrRef, map[string]any{ScopeZone + "." + DefaultZoneExampleID: "read"})}
		}), 400, "Invalid resource"},
		{"unknown resource kind", ok(func(b map[string]any) {
			b["policies"] = []any{pol("allow", zrRef, map[string]any{"com.example.zone": "*"})}
		}), 400, "Invalid resource"},
		{"empty resources", ok(func(b map[string]any) { b["policies"] = []any{pol("allow", zrRef, map[string]any{})} }), 400, "resources"},
		{"bad expiry", ok(func(b map[string]any) { b["expires_on"] = "tomorrow" }), 400, "date-time"},
		{"expiry in the past", ok(func(b map[string]any) { b["expires_on"] = testNow.Add(-time.Second).Format(time.RFC3339) }), 400, "in the future"},
		{"not_before after expiry", ok(func(b map[string]any) {
			b["expires_on"] = testNow.Add(time.Hour).Format(time.RFC3339)
			b["not_before"] = testNow.Add(2 * time.Hour).Format(time.RFC3339)
		}), 400, "before expires_on"},
		{"bad CIDR", ok(func(b map[string]any) {
			b["condition"] = map[string]any{"request.ip": map[string]any{"in": []any{"10.0.0.0/33"}}}
		}), 400, "CIDR"},
		{"CIDR not a string", ok(func(b map[string]any) {
			b["condition"] = map[string]any{"request.ip": map[string]any{"not_in": []any{7}}}
		}), 400, "CIDR"},
		{"newer request_ip spelling", ok(func(b map[string]any) {
			b["condition"] = map[string]any{"request_ip": map[string]any{"in": []any{"10.0.0.0/8"}}}
		}), 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do("POST", "/user/tokens", e.prov, tc.body)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.raw)
			}
			if tc.msg != "" && (len(a.env.Errors) == 0 || !strings.Contains(a.env.Errors[0].Message, tc.msg)) {
				t.Errorf("errors %+v, want a message containing %q", a.env.Errors, tc.msg)
			}
		})
	}
	if info, _ := e.srv.Token(e.srv.Tokens()[len(e.srv.Tokens())-1].ID); len(info.RequestIPIn) != 1 {
		t.Errorf("request_ip spelling not kept: %+v", info)
	}
}

func TestTokenQuota(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.Settings.TokenQuota = 3 })
	body := e.tokenBody("q", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
	e.mint(body)
	e.mint(body)
	expect(t, e.do("POST", "/user/tokens", e.prov, body), 400, codeTokenValidation)
	e.srv.SetTokenQuota(0)
	if len(e.srv.Tokens()) != 3 {
		t.Fatalf("%d tokens", len(e.srv.Tokens()))
	}
	for range DefaultTokenQuota - 3 {
		e.mint(body)
	}
	expect(t, e.do("POST", "/user/tokens", e.prov, body), 400, codeTokenValidation)
}

func TestListTokensPagination(t *testing.T) {
	e := newEnv(t, nil)
	body := e.tokenBody("p", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
	var ids []string
	for i := range 7 {
		e.kit.Clock.Advance(time.Minute)
		body["name"] = "p" + string(rune('a'+i))
		ids = append(ids, e.mint(body).ID)
	}
	cases := []struct {
		query      string
		status     int
		count      int
		first      string
		totalPages int
	}{
		{"?per_page=5", 200, 5, DefaultProvisionerTokenID, 2},
		{"?per_page=5&page=2", 200, 3, ids[4], 2},
		{"?per_page=5&page=3", 200, 0, "", 2},
		{"?per_page=5&direction=desc", 200, 5, ids[6], 2},
		{"?per_page=4", 400, 0, "", 0},
		{"?per_page=51", 400, 0, "", 0},
		{"?page=0", 400, 0, "", 0},
		{"?direction=up", 400, 0, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			a := e.do("GET", "/user/tokens"+tc.query, e.prov, nil)
			if a.status != tc.status {
				t.Fatalf("status %d: %s", a.status, a.raw)
			}
			if tc.status != 200 {
				return
			}
			var toks []struct {
				ID string `json:"id"`
			}
			a.result(t, &toks)
			if len(toks) != tc.count || a.env.ResultInfo.Count != tc.count || a.env.ResultInfo.TotalCount != 8 || a.env.ResultInfo.TotalPages != tc.totalPages {
				t.Errorf("%d tokens, result_info %+v", len(toks), a.env.ResultInfo)
			}
			if tc.first != "" && toks[0].ID != tc.first {
				t.Errorf("first %s, want %s", toks[0].ID, tc.first)
			}
		})
	}
}

func TestZoneFiltersAndOrder(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) {
		fx.Accounts[1].Zones = append(fx.Accounts[1].Zones, FixtureZone{ID: "0123456789abcdef0123456789abcdef", Name: "staging.example.org", Status: "pending"})
	})
	all := e.mint(e.tokenBody("all", []string{GroupZoneRead}, map[string]any{ScopeZone + ".*": "*"}))
	cases := []struct {
		query string
		want  string
	}{
		{"", "example.com,moosequest.app,other-team.io,raxx.dev,staging.example.org"},
		{"?name=EXAMPLE.COM", "example.com"},
		{"?name=contains:example", "example.com,staging.example.org"},
		{"?name=starts_with:raxx", "raxx.dev"},
		{"?name=ends_with:.app", "moosequest.app"},
		{"?name=not_equal:example.com&account.id=" + DefaultAccountID, "moosequest.app,raxx.dev"},
		{"?name=contains_case_sensitive:EXAMPLE", ""},
		{"?status=pending", "staging.example.org"},
		{"?account.name=Other%20Team", "other-team.io,staging.example.org"},
		{"?account.name=starts_with:other", "other-team.io,staging.example.org"},
		{"?name=raxx.dev&status=pending&match=any", "raxx.dev,staging.example.org"},
		{"?name=raxx.dev&status=pending&match=all", ""},
		{"?direction=desc", "staging.example.org,raxx.dev,other-team.io,moosequest.app,example.com"},
		{"?order=status&direction=desc", "staging.example.org,example.com,moosequest.app,other-team.io,raxx.dev"},
		{"?order=account.name", "other-team.io,staging.example.org,example.com,moosequest.app,raxx.dev"},
		{"?per_page=5&page=2", ""},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			if got := strings.Join(e.zoneNames(t, all.Value, tc.query), ","); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	for _, q := range []string{"?order=size", "?match=some", "?status=gone", "?per_page=4", "?page=x", "?name=" + strings.Repeat("a", 254)} {
		expect(t, e.do("GET", "/zones"+q, all.Value, nil), 400, codeTokenValidation)
	}
	a := e.do("GET", "/zones?per_page=5", all.Value, nil)
	if ri := a.env.ResultInfo; ri.Page != 1 || ri.PerPage != 5 || ri.Count != 5 || ri.TotalCount != 5 || ri.TotalPages != 1 {
		t.Errorf("result_info %+v", ri)
	}
}

func TestDNSRecords(t *testing.T) {
	e := newEnv(t, nil)
	w := e.mint(e.tokenBody("dns", []string{GroupDNSWrite}, zoneRes(DefaultZoneMooseQuestID)))
	path := "/zones/" + DefaultZoneMooseQuestID + "/dns_records"
	cases := []struct {
		name         string
		body         map[string]any
		status, code int
	}{
		{"A", map[string]any{"type": "A", "name": "app", "content": "192.0.2.40", "proxied": true}, 200, 0},
		{"identical", map[string]any{"type": "A", "name": "app.moosequest.app", "content": "192.0.2.40"}, 400, codeDNSIdentical},
		{"CNAME over A", map[string]any{"type": "CNAME", "name": "app", "content": "elsewhere.example.com"}, 400, codeDNSConflict},
		{"TXT beside A", map[string]any{"type": "TXT", "name": "app", "content": "hello", "ttl": 300}, 200, 0},
		{"MX", map[string]any{"type": "MX", "name": "@", "content": "mx.example.com", "priority": 5}, 200, 0},
		{"bad type", map[string]any{"type": "SPF", "name": "x", "content": "y"}, 400, codeDNSType},
		{"bad A", map[string]any{"type": "A", "name": "x", "content": "2001:db8::1"}, 400, codeDNSContentA},
		{"bad AAAA", map[string]any{"type": "AAAA", "name": "x", "content": "192.0.2.1"}, 400, codeDNSContent6},
		{"bad name", map[string]any{"type": "A", "name": "bad name", "content": "192.0.2.1"}, 400, codeDNSName},
		{"bad TTL", map[string]any{"type": "A", "name": "x", "content": "192.0.2.1", "ttl": 30}, 400, codeDNSTTL},
		{"proxied TXT", map[string]any{"type": "TXT", "name": "x", "content": "y", "proxied": true}, 400, codeDNSContent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.do("POST", path, w.Value, tc.body), tc.status, tc.code)
		})
	}
	a := e.do("GET", path+"?type=A&name=app.moosequest.app", w.Value, nil)
	expect(t, a, 200, 0)
	var recs []struct {
		Name    string `json:"name"`
		Proxied bool   `json:"proxied"`
	}
	a.result(t, &recs)
	if len(recs) != 1 || recs[0].Name != "app.moosequest.app" || !recs[0].Proxied {
		t.Errorf("records %s", a.raw)
	}
	if n := len(e.srv.DNSRecords(DefaultZoneMooseQuestID)); n != 5 {
		t.Errorf("%d records, want 5", n)
	}
}

func TestRoutingAnswers(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		method, path string
		status, code int
	}{
		{"GET", "/nowhere", 400, codeNoRoute},
		{"PATCH", "/user/tokens", 405, codeMethodNotAllow},
		{"POST", "/user/tokens/" + DefaultProvisionerTokenID, 405, codeMethodNotAllow},
		{"GET", "/zones/example.com", 400, codeBadIdentifier},
		{"DELETE", "/user/tokens/" + strings.ToUpper(DefaultProvisionerTokenID), 400, codeBadIdentifier},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			expect(t, e.do(tc.method, tc.path, e.prov, nil), tc.status, tc.code)
		})
	}
	// Outside /client/v4 there is no API either.
	req := httptest.NewRequest("GET", "/user/tokens/verify", nil)
	req.Header.Set("Authorization", "Bearer "+e.prov)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "No route for that URI") {
		t.Errorf("root path: %d %s", rec.Code, rec.Body)
	}
	if n := e.srv.RequestCount("unmatched"); n != 4 {
		t.Errorf("unmatched count %d, want 4", n)
	}
}

func TestCommonHeaders(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do("GET", "/user/tokens/verify", e.prov, nil)
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if ray := a.header.Get("Cf-Ray"); len(ray) != 20 || !strings.HasSuffix(ray, "-DEV") {
		t.Errorf("cf-ray %q", ray)
	}
}

func TestRollKeepsProvisionerValueCurrent(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do("PUT", "/user/tokens/"+DefaultProvisionerTokenID+"/value", e.prov, map[string]any{})
	expect(t, a, 200, 0)
	var v string
	a.result(t, &v)
	if e.srv.ProvisionerToken() != v {
		t.Error("ProvisionerToken does not return the rolled value")
	}
	expect(t, e.do("GET", "/user/tokens/verify", e.prov, nil), 401, codeInvalidAPIToken)
	expect(t, e.do("GET", "/user/tokens/verify", v, nil), 200, 0)
}
