package infisicalsrv

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

func TestFaultInjection(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	list := q("/api/v4/secrets", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultQueuePath)

	// A status on a route, once.
	e.kit.Faults.Add(devkit.Fault{Route: "POST /api/v1/auth/universal-auth/login", Status: 503, Count: 1})
	id, secret := e.srv.ProvisionerCredentials()
	r := e.doRaw("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": id, "clientSecret": secret})
	want(t, r, 503, "ServiceUnavailable")
	e.login(id, secret)

	// The Nth request of a route fails with Infisical's 500.
	e.kit.Faults.Clear()
	e.kit.Faults.Add(devkit.Fault{Route: "GET /api/v4/secrets", Status: 500, Nth: 2})
	want(t, e.doRaw("GET", list, adm, nil), 200)
	r = e.doRaw("GET", list, adm, nil)
	want(t, r, 500, nameInternal, "Something went wrong")
	want(t, e.doRaw("GET", list, adm, nil), 200)

	// 429 with Retry-After: the header and the message agree.
	e.kit.Faults.Clear()
	e.kit.Faults.Add(devkit.Fault{Route: "GET /api/v4/secrets/*", Status: 429, RetryAfter: 3 * time.Second, Count: 1})
	r = e.do("GET", readKeyID, adm, nil)
	want(t, r, 429, nameRateLimit, "Please try again in 3 seconds")
	if r.header.Get("Retry-After") != "3" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	want(t, e.do("GET", readKeyID, adm, nil), 200)

	// A dropped connection.
	e.kit.Faults.Add(devkit.Fault{Route: "GET /api/v4/secrets", Drop: true, Count: 1})
	req, _ := http.NewRequest("GET", e.ts.URL+list, nil)
	req.Header.Set("Authorization", "Bearer "+adm)
	// A fresh connection: on a reused one net/http would retry the GET.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := fresh.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("dropped connection answered %d", res.StatusCode)
	}
	want(t, e.doRaw("GET", list, adm, nil), 200)

	// Latency.
	e.kit.Faults.SetLatency(30*time.Millisecond, 0)
	start := time.Now()
	want(t, e.doRaw("GET", list, adm, nil), 200)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
	e.kit.Faults.Clear()

	// Counters per route, readable from Go and /_dev/stats.
	if n := e.kit.Stats.Count("GET /api/v4/secrets"); n != 6 {
		t.Fatalf("GET /api/v4/secrets counted %d", n)
	}
	r = e.doRaw("GET", "/_dev/stats", "", nil)
	want(t, r, 200)
	if r.get("routes", "GET /api/v4/secrets") != 6.0 {
		t.Fatalf("/_dev/stats: %s", r.raw)
	}
}

func TestBadInput(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	create := "/api/v4/secrets/BAD"

	// Fastify's parser failures reach Infisical's catch-all: 500.
	for name, body := range map[string]string{
		"malformed": `{"projectId": "proj-moosequest",`,
		"trailing":  `{"projectId": "x"} {}`,
		"not JSON":  `projectId=x`,
	} {
		r := e.doRaw("POST", create, adm, body)
		if r.status != 500 || r.str("error") != nameInternal || r.str("message") != "Something went wrong" {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	r := e.doRaw("POST", create, adm, `{"a":1}`, "Content-Type", "text/plain")
	want(t, r, 500, nameInternal)
	big := `{"projectId":"` + strings.Repeat("x", devkit.DefaultMaxBodyBytes) + `"}`
	want(t, e.doRaw("POST", create, adm, big), 500, nameInternal)

	// Wrong types and missing fields: zod issues, all of them.
	r = e.do("POST", create, adm, map[string]any{"projectId": 5, "environment": true, "secretValue": []int{1}, "type": "weird"})
	want(t, r, 422, nameValidation)
	issues := r.list("message")
	if len(issues) != 4 {
		t.Fatalf("issues: %s", r.raw)
	}
	first := issues[0].(map[string]any)
	if first["code"] != "invalid_type" || first["expected"] != "string" || first["received"] != "number" ||
		first["message"] != "Expected string, received number" || first["path"].([]any)[0] != "projectId" {
		t.Fatalf("zod issue: %v", first)
	}
	r = e.do("POST", create, adm, nil)
	want(t, r, 422, nameValidation, "Required")
	r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+e.srv.ProvisionerIdentityID()+"/client-secrets", adm, map[string]any{"ttl": 1.5e9})
	want(t, r, 422, nameValidation, "Number must be less than or equal to 315360000")
	r = e.do("POST", "/api/v1/auth/universal-auth/identities/"+e.srv.ProvisionerIdentityID(), adm, map[string]any{"accessTokenTTL": 1.5})
	want(t, r, 422, nameValidation, "Expected integer, received float")
	r = e.do("GET", q("/api/v1/organization/audit-logs", "limit", "many"), adm, nil)
	want(t, r, 422, nameValidation, "Expected number, received nan")

	// Unknown ids.
	want(t, e.do("GET", "/api/v2/identity-project-additional-privilege/"+strings.Repeat("f", 36), adm, nil), 404, nameNotFound)
	want(t, e.do("GET", q("/api/v4/secrets", "projectId", "proj-none", "environment", "staging"), adm, nil), 404, nameNotFound)

	// Unknown routes and methods: Fastify's 404.
	r = e.doRaw("GET", "/api/v9/nothing?x=1", adm, nil)
	want(t, r, 404, "Not Found", "Route GET:/api/v9/nothing?x=1 not found")
	want(t, e.doRaw("PUT", "/api/v4/secrets/X", adm, nil), 404, "Not Found", "Route PUT:/api/v4/secrets/X not found")
	// A trailing slash is ignored, as with ignoreTrailingSlash.
	want(t, e.doRaw("GET", "/api/v1/identities/"+e.srv.ProvisionerIdentityID()+"/", adm, nil), 200)
}

// TestErrorBodiesAreJSON checks the shape of every error the fault
// injector can produce.
func TestErrorBodiesAreJSON(t *testing.T) {
	e := newTestEnv(t)
	for _, status := range []int{400, 401, 403, 404, 422, 429, 500, 502, 503, 504} {
		e.kit.Faults.Clear()
		e.kit.Faults.Add(devkit.Fault{Status: status})
		r := e.doRaw("GET", "/api/v1/identities", "", nil)
		var body errorBody
		if err := json.Unmarshal(r.raw, &body); err != nil || r.status != status || body.StatusCode != status || body.Error == "" || body.ReqID == "" {
			t.Errorf("%d: %d %s", status, r.status, r.raw)
		}
	}
}
