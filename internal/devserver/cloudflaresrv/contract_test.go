package cloudflaresrv

import (
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// TestContractTour walks every operation of Cloudflare's contract, its
// successes and the failures a Cloudflare server gives, through a client
// that validates each request and answer against the OpenAPI document. An
// answer the schema rejects fails the test, and so does an operation left
// unvisited or a request outside the contract.
func TestContractTour(t *testing.T) {
	e := newEnv(t, nil)
	v := e.contract()
	prov := e.prov
	userRes := map[string]any{ScopeUser + "." + DefaultUserID: "*"}

	// Verify: the provisioner, a bad token, no token.
	expect(t, e.do("GET", "/user/tokens/verify", prov, nil), 200, 0)
	expect(t, e.do("GET", "/user/tokens/verify", strings.Repeat("x", 40), nil), 401, codeInvalidAPIToken)
	expect(t, e.do("GET", "/user/tokens/verify", "", nil), 400, codeMissingAuth)

	// Permission groups.
	groups := e.do("GET", "/user/tokens/permission_groups", prov, nil)
	expect(t, groups, 200, 0)
	expect(t, e.do("GET", "/user/tokens/permission_groups", "", nil, "Authorization", "Basic abc"), 400, codeInvalidHeaders)

	// Create: narrowed to one zone, with a validity window and an IP
	// condition; then the failures of a bad body.
	exp := testNow.Add(24 * time.Hour).Format(time.RFC3339)
	body := e.tokenBody("handoff-iap-notif-20261123", []string{GroupZoneRead, GroupDNSRead}, zoneRes(DefaultZoneExampleID))
	body["not_before"] = testNow.Format(time.RFC3339)
	body["expires_on"] = exp
	body["condition"] = map[string]any{"request.ip": map[string]any{"in": []string{"127.0.0.0/8", "::1/128"}, "not_in": []string{"127.0.0.2/32"}}}
	created := e.mint(body)
	dnsOnly := e.mint(e.tokenBody("dns-reader", []string{GroupDNSRead}, zoneRes(DefaultZoneRaxxDevID)))
	reader := e.mint(e.tokenBody("token-reader", []string{GroupAPITokensRead}, userRes))

	bad := e.tokenBody("x", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
	bad["policies"].([]any)[0].(map[string]any)["id"] = "f267e341f3dd4697bd3b9f71dd96247f"
	expect(t, e.do("POST", "/user/tokens", prov, bad), 400, codeTokenValidation)
	expect(t, e.do("POST", "/user/tokens", prov, map[string]any{"name": "no policies", "policies": []any{}}), 400, codeTokenValidation)
	expect(t, e.do("POST", "/user/tokens", prov, `{"name":`), 400, codeMalformedJSON)
	expect(t, e.do("POST", "/user/tokens", reader.Value, e.tokenBody("y", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))), 403, codeAccessToken)

	// List, with pagination and direction.
	list := e.do("GET", "/user/tokens?page=1&per_page=5&direction=desc", prov, nil)
	expect(t, list, 200, 0)
	if ri := list.env.ResultInfo; ri == nil || ri.TotalCount != 4 || ri.Count != 4 || ri.TotalPages != 1 {
		t.Errorf("token list result_info = %+v, want 4 tokens on 1 page", list.env.ResultInfo)
	}
	expect(t, e.do("GET", "/user/tokens", reader.Value, nil), 200, 0)
	expect(t, e.do("GET", "/user/tokens", dnsOnly.Value, nil), 403, codeAccessToken)

	// Read.
	got := e.do("GET", "/user/tokens/"+created.ID, prov, nil)
	expect(t, got, 200, 0)
	if strings.Contains(string(got.raw), created.Value) || strings.Contains(string(got.raw), `"value"`) {
		t.Errorf("GET token shows its value: %s", got.raw)
	}
	expect(t, e.do("GET", "/user/tokens/00000000000000000000000000000000", prov, nil), 404, codeTokenNotFound)
	expect(t, e.do("GET", "/user/tokens/not-an-id", prov, nil), 400, codeBadIdentifier)

	// Update: disable, then enable again.
	upd := e.tokenBody("handoff-iap-notif-20261123", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
	upd["status"] = "disabled"
	upd["expires_on"] = exp
	expect(t, e.do("PUT", "/user/tokens/"+created.ID, prov, upd), 200, 0)
	expect(t, e.do("GET", "/user/tokens/verify", created.Value, nil), 401, codeInvalidAPIToken)
	upd["status"] = "active"
	expect(t, e.do("PUT", "/user/tokens/"+created.ID, prov, upd), 200, 0)
	expect(t, e.do("GET", "/user/tokens/verify", created.Value, nil), 200, 0)
	upd["status"] = "sleeping"
	expect(t, e.do("PUT", "/user/tokens/"+created.ID, prov, upd), 400, codeTokenValidation)
	expect(t, e.do("PUT", "/user/tokens/00000000000000000000000000000000", prov, upd), 404, codeTokenNotFound)

	// Roll: the new value works, the old one no longer does.
	roll := e.do("PUT", "/user/tokens/"+dnsOnly.ID+"/value", prov, map[string]any{})
	expect(t, roll, 200, 0)
	var newValue string
	roll.result(t, &newValue)
	expect(t, e.do("GET", "/user/tokens/verify", dnsOnly.Value, nil), 401, codeInvalidAPIToken)
	expect(t, e.do("GET", "/user/tokens/verify", newValue, nil), 200, 0)
	expect(t, e.do("PUT", "/user/tokens/00000000000000000000000000000000/value", prov, map[string]any{}), 404, codeTokenNotFound)

	// Zones: the provisioner reaches none, the narrowed token one.
	zones := e.do("GET", "/zones", created.Value, nil)
	expect(t, zones, 200, 0)
	expect(t, e.do("GET", "/zones?name=example.com&status=active&account.id="+DefaultAccountID+"&account.name=contains:rax&page=1&per_page=5&order=name&direction=asc&match=all", created.Value, nil), 200, 0)
	expect(t, e.do("GET", "/zones?per_page=500", created.Value, nil), 400, codeTokenValidation)
	expect(t, e.do("GET", "/zones", "", nil), 400, codeMissingAuth)
	expect(t, e.do("GET", "/zones", prov, nil), 200, 0)

	// Delete, then the token is refused at once.
	del := map[string]any{}
	expect(t, e.do("DELETE", "/user/tokens/"+created.ID, prov, del), 200, 0)
	expect(t, e.do("DELETE", "/user/tokens/"+created.ID, prov, del), 404, codeTokenNotFound)
	expect(t, e.do("GET", "/zones", created.Value, nil), 403, codeAccessToken)

	// Rate limit: the 429 answer satisfies the contract too.
	e.srv.SetRateLimit(2, time.Minute)
	expect(t, e.do("GET", "/user/tokens/verify", prov, nil), 200, 0)
	expect(t, e.do("GET", "/user/tokens", prov, nil), 200, 0)
	expect(t, e.do("GET", "/user/tokens", prov, nil), 429, codeRateLimited)
	expect(t, e.do("GET", "/zones", reader.Value, nil), 429, codeRateLimited)
	e.srv.SetRateLimit(0, 0)

	// Injected failures keep Cloudflare's envelope.
	for _, f := range []struct {
		method, path string
		status       int
	}{{"GET", "/user/tokens", 500}, {"POST", "/user/tokens", 503}, {"GET", "/zones", 502}, {"GET", "/user/tokens/verify", 429}} {
		id := e.kit.Faults.Add(devkit.Fault{Route: f.method + " " + BasePath + f.path, Status: f.status})
		var b any
		if f.method == "POST" {
			b = e.tokenBody("z", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))
		}
		a := e.do(f.method, f.path, prov, b)
		if a.status != f.status || a.env.Success {
			t.Errorf("injected %d on %s %s: got %d %s", f.status, f.method, f.path, a.status, a.raw)
		}
		e.kit.Faults.Remove(id)
	}

	if u := v.Uncovered(); len(u) > 0 {
		t.Errorf("operations no exchange covered: %v", u)
	}
	for _, op := range v.Operations() {
		t.Logf("%-45s %v", op, v.Statuses(op))
	}
}
