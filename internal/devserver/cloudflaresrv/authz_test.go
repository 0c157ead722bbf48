package cloudflaresrv

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

// zoneNames lists the names GET /zones returns to tok.
func (e *env) zoneNames(t testing.TB, tok string, query string) []string {
	t.Helper()
	a := e.do("GET", "/zones"+query, tok, nil)
	expect(t, a, 200, 0)
	var zs []struct {
		Name string `json:"name"`
	}
	a.result(t, &zs)
	var out []string
	for _, z := range zs {
		out = append(out, z.Name)
	}
	return out
}

// TestLeastPrivilege is the negative suite: a token narrowed to zone A with
// DNS Read sees A only, is refused on zone B, and cannot write DNS on A.
func TestLeastPrivilege(t *testing.T) {
	e := newEnv(t, nil)
	a := e.mint(e.tokenBody("zone-a-dns-read", []string{GroupZoneRead, GroupDNSRead}, zoneRes(DefaultZoneExampleID)))

	if got := e.zoneNames(t, a.Value, ""); strings.Join(got, ",") != "example.com" {
		t.Errorf("GET /zones with a token for example.com lists %v", got)
	}
	if got := e.zoneNames(t, a.Value, "?name=raxx.dev"); len(got) != 0 {
		t.Errorf("GET /zones?name=raxx.dev with a token for example.com lists %v", got)
	}
	cases := []struct {
		name         string
		method, path string
		body         any
		status, code int
	}{
		{"read zone A", "GET", "/zones/" + DefaultZoneExampleID, nil, 200, 0},
		{"read DNS of A", "GET", "/zones/" + DefaultZoneExampleID + "/dns_records", nil, 200, 0},
		{"read zone B", "GET", "/zones/" + DefaultZoneRaxxDevID, nil, 403, codeAuthError},
		{"read DNS of B", "GET", "/zones/" + DefaultZoneRaxxDevID + "/dns_records", nil, 403, codeAuthError},
		{"write DNS of A with DNS Read", "POST", "/zones/" + DefaultZoneExampleID + "/dns_records",
			map[string]any{"type": "TXT", "name": "_acme-challenge", "content": "x"}, 403, codeAuthError},
		{"write DNS of B", "POST", "/zones/" + DefaultZoneRaxxDevID + "/dns_records",
			map[string]any{"type": "TXT", "name": "_acme-challenge", "content": "x"}, 403, codeAuthError},
		{"unknown zone", "GET", "/zones/00000000000000000000000000000000", nil, 403, codeAuthError},
		{"mint a token", "POST", "/user/tokens", e.tokenBody("escalate", []string{GroupDNSWrite}, zoneRes(DefaultZoneExampleID)), 403, codeAccessToken},
		{"list tokens", "GET", "/user/tokens", nil, 403, codeAccessToken},
		{"delete a token", "DELETE", "/user/tokens/" + DefaultProvisionerTokenID, nil, 403, codeAccessToken},
		{"roll itself", "PUT", "/user/tokens/" + a.ID + "/value", map[string]any{}, 403, codeAccessToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.do(tc.method, tc.path, a.Value, tc.body), tc.status, tc.code)
		})
	}
	if n := len(e.srv.DNSRecords(DefaultZoneExampleID)); n != 2 {
		t.Errorf("example.com has %d records after refused writes, want 2", n)
	}

	// The same zone with DNS Write may write, still only there.
	w := e.mint(e.tokenBody("zone-a-dns-write", []string{GroupDNSWrite}, zoneRes(DefaultZoneExampleID)))
	expect(t, e.do("POST", "/zones/"+DefaultZoneExampleID+"/dns_records", w.Value,
		map[string]any{"type": "TXT", "name": "_acme-challenge", "content": "token", "ttl": 120}), 200, 0)
	expect(t, e.do("GET", "/zones/"+DefaultZoneExampleID, w.Value, nil), 403, codeAuthError) // DNS Write is not Zone Read
	if got := e.zoneNames(t, w.Value, ""); strings.Join(got, ",") != "example.com" {
		t.Errorf("a DNS Write token for example.com lists %v", got)
	}
	if got := e.srv.ZonePermissions(w.ID, DefaultZoneExampleID); strings.Join(got, ",") != GroupDNSWrite {
		t.Errorf("ZonePermissions = %v", got)
	}
}

// TestProvisionerReachesOnlyItsZoneRead pins what the default provisioner
// token reaches on zones: API Tokens Write grants nothing there, and its
// Zone Read on the three zones of Raxx lets it list and read those (to
// resolve their names), not other-team.io, and not their DNS records.
func TestProvisionerReachesOnlyItsZoneRead(t *testing.T) {
	e := newEnv(t, nil)
	if got := e.zoneNames(t, e.prov, ""); strings.Join(got, ",") != "example.com,moosequest.app,raxx.dev" {
		t.Errorf("the provisioner lists zones %v", got)
	}
	expect(t, e.do("GET", "/zones/"+DefaultZoneExampleID, e.prov, nil), 200, 0)
	expect(t, e.do("GET", "/zones/"+DefaultZoneOtherTeamID, e.prov, nil), 403, codeAuthError)
	expect(t, e.do("GET", "/zones/"+DefaultZoneExampleID+"/dns_records", e.prov, nil), 403, codeAuthError)

	// API Tokens Write alone reaches no zone.
	e = newEnv(t, func(fx *Fixture) { fx.Tokens[0].Policies = fx.Tokens[0].Policies[:1] })
	if got := e.zoneNames(t, e.prov, ""); len(got) != 0 {
		t.Errorf("API Tokens Write alone lists zones %v", got)
	}
	expect(t, e.do("GET", "/zones/"+DefaultZoneExampleID, e.prov, nil), 403, codeAuthError)
}

func TestResourceForms(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		name      string
		resources map[string]any
		want      []string
	}{
		{"all zones", map[string]any{ScopeZone + ".*": "*"}, []string{"example.com", "moosequest.app", "other-team.io", "raxx.dev"}},
		{"zones of an account", map[string]any{ScopeAccount + "." + DefaultOtherAccountID: map[string]any{ScopeZone + ".*": "*"}}, []string{"other-team.io"}},
		{"one zone under its account", map[string]any{ScopeAccount + "." + DefaultAccountID: map[string]any{ScopeZone + "." + DefaultZoneMooseQuestID: "*"}}, []string{"moosequest.app"}},
		{"two zones", map[string]any{ScopeZone + "." + DefaultZoneRaxxDevID: "*", ScopeZone + "." + DefaultZoneMooseQuestID: "*"}, []string{"moosequest.app", "raxx.dev"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := e.mint(e.tokenBody(tc.name, []string{GroupZoneRead}, tc.resources))
			got := e.zoneNames(t, m.Value, "")
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("lists %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDenyWins: a deny policy takes a group away whatever the order.
func TestDenyWins(t *testing.T) {
	e := newEnv(t, nil)
	zr, _ := e.srv.PermissionGroupByName(GroupZoneRead)
	dw, _ := e.srv.PermissionGroupByName(GroupDNSWrite)
	body := map[string]any{"name": "deny-one", "policies": []any{
		map[string]any{"effect": "deny", "permission_groups": []any{map[string]any{"id": dw.ID}}, "resources": zoneRes(DefaultZoneRaxxDevID)},
		map[string]any{"effect": "allow", "permission_groups": []any{map[string]any{"id": zr.ID}, map[string]any{"id": dw.ID}},
			"resources": map[string]any{ScopeZone + ".*": "*"}},
	}}
	m := e.mint(body)
	rec := map[string]any{"type": "A", "name": "x", "content": "192.0.2.1"}
	expect(t, e.do("POST", "/zones/"+DefaultZoneRaxxDevID+"/dns_records", m.Value, rec), 403, codeAuthError)
	expect(t, e.do("POST", "/zones/"+DefaultZoneExampleID+"/dns_records", m.Value, rec), 200, 0)
	expect(t, e.do("GET", "/zones/"+DefaultZoneRaxxDevID, m.Value, nil), 200, 0)
}

// TestTokenLifecycleRefusals: expired, not yet valid, disabled, deleted and
// rolled-away tokens are refused at once, on verify and elsewhere.
func TestTokenLifecycleRefusals(t *testing.T) {
	e := newEnv(t, nil)
	body := e.tokenBody("short", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
	body["expires_on"] = testNow.Add(time.Hour).Format(time.RFC3339)
	short := e.mint(body)
	later := e.tokenBody("later", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
	later["not_before"] = testNow.Add(30 * time.Minute).Format(time.RFC3339)
	notYet := e.mint(later)
	gone := e.mint(e.tokenBody("gone", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID)))

	expect(t, e.do("GET", "/user/tokens/verify", short.Value, nil), 200, 0)
	expect(t, e.do("GET", "/user/tokens/verify", notYet.Value, nil), 401, codeInvalidAPIToken)
	expect(t, e.do("GET", "/zones", notYet.Value, nil), 403, codeAccessToken)

	expect(t, e.do("DELETE", "/user/tokens/"+gone.ID, e.prov, nil), 200, 0)
	expect(t, e.do("GET", "/user/tokens/verify", gone.Value, nil), 401, codeInvalidAPIToken)
	expect(t, e.do("GET", "/zones", gone.Value, nil), 403, codeAccessToken)
	if _, ok := e.srv.Token(gone.ID); ok {
		t.Error("deleted token still listed by Token")
	}

	e.kit.Clock.Advance(59 * time.Minute)
	expect(t, e.do("GET", "/zones", short.Value, nil), 200, 0)
	expect(t, e.do("GET", "/zones", notYet.Value, nil), 200, 0)
	e.kit.Clock.Advance(time.Minute) // exactly expires_on: refused
	expect(t, e.do("GET", "/user/tokens/verify", short.Value, nil), 401, codeInvalidAPIToken)
	expect(t, e.do("GET", "/zones", short.Value, nil), 403, codeAccessToken)
	var tok struct {
		Status string `json:"status"`
	}
	a := e.do("GET", "/user/tokens/"+short.ID, e.prov, nil)
	expect(t, a, 200, 0)
	a.result(t, &tok)
	if tok.Status != "expired" {
		t.Errorf("expired token status %q", tok.Status)
	}
	if info, _ := e.srv.Token(short.ID); info.Status != "expired" {
		t.Errorf("TokenInfo status %q", info.Status)
	}
}

// TestRequestIPCondition: condition.request.ip is checked against the peer
// address, with not_in winning over in.
func TestRequestIPCondition(t *testing.T) {
	e := newEnv(t, nil)
	mk := func(in, notIn []string) minted {
		b := e.tokenBody("ip", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
		b["condition"] = map[string]any{"request.ip": map[string]any{"in": in, "not_in": notIn}}
		return e.mint(b)
	}
	office := mk([]string{"203.0.113.0/24"}, nil)
	notTheGateway := mk([]string{"203.0.113.0/24"}, []string{"203.0.113.1"})
	v6 := mk([]string{"2001:db8::/32"}, nil)
	cases := []struct {
		tok, peer    string
		status, code int
	}{
		{office.Value, "203.0.113.9:5000", 200, 0},
		{office.Value, "198.51.100.1:5000", 403, codeAccessToken},
		{notTheGateway.Value, "203.0.113.1:5000", 403, codeAccessToken},
		{notTheGateway.Value, "203.0.113.2:5000", 200, 0},
		{v6.Value, "[2001:db8::7]:5000", 200, 0},
		{v6.Value, "203.0.113.9:5000", 403, codeAccessToken},
	}
	for _, tc := range cases {
		req := httptest.NewRequest("GET", BasePath+"/zones", nil)
		req.RemoteAddr = tc.peer
		req.Header.Set("Authorization", "Bearer "+tc.tok)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("from %s: %d %s, want %d", tc.peer, rec.Code, rec.Body, tc.status)
			continue
		}
		if tc.status == 403 && !strings.Contains(rec.Body.String(), "Cannot use the access token from location: ") {
			t.Errorf("from %s: %s", tc.peer, rec.Body)
		}
	}
	// Verify says only that the token does not work.
	req := httptest.NewRequest("GET", BasePath+"/user/tokens/verify", nil)
	req.RemoteAddr = "198.51.100.1:5000"
	req.Header.Set("Authorization", "Bearer "+office.Value)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("verify from outside the allowlist: %d %s", rec.Code, rec.Body)
	}
}
