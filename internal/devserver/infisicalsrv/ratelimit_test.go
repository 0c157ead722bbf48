package infisicalsrv

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// contractLimits reads, independently of the server's own reading, each
// operation's class and the maximum it has on Cloud's default plan for a
// request with an organization's token.
func contractLimits(t *testing.T) (classes map[string]string, limit func(class string, withOrg bool) int) {
	t.Helper()
	raw, err := contracttest.Document(contracttest.Infisical)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Info struct {
			Defaults struct {
				Instance map[string]int             `json:"instance"`
				Global   struct{ Max int }          `json:"global"`
				Plan     map[string]json.RawMessage `json:"licensePlanDefault"`
			} `json:"x-rate-limit-defaults"`
		} `json:"info"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	params := regexp.MustCompile(`\{[^}]*\}`)
	classes = map[string]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				ID    string `json:"operationId"`
				Class string `json:"x-rate-limit-class"`
			}
			if json.Unmarshal(raw, &op) == nil && op.ID != "" {
				classes[strings.ToUpper(method)+" "+params.ReplaceAllString(path, "{}")] = op.Class
			}
		}
	}
	d := doc.Info.Defaults
	limit = func(class string, withOrg bool) int {
		if class == ClassGlobal {
			return d.Global.Max
		}
		if withOrg {
			if n, err := strconv.Atoi(string(d.Plan[class])); err == nil {
				return n
			}
		}
		return d.Instance[class]
	}
	return classes, limit
}

// TestRouteLimitsFollowTheContract compares the server's table with the
// contract's: every operation of the contract is served with its class and
// maximum; a route the contract does not describe falls under the global
// limiter.
func TestRouteLimitsFollowTheContract(t *testing.T) {
	classes, limit := contractLimits(t)
	srv, err := New(nil, DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	params := regexp.MustCompile(`\{[^}]*\}`)
	served := map[string]bool{}
	public := map[string]bool{"POST /api/v1/auth/universal-auth/login": true, "POST /api/v1/auth/token/renew": true, "POST /api/v1/auth/token/revoke": true}
	for _, rl := range srv.RouteRateLimits() {
		key := params.ReplaceAllString(rl.Route, "{}")
		served[key] = true
		class, inContract := classes[key]
		if !inContract {
			class = ClassGlobal
		}
		if want := limit(class, !public[rl.Route]); rl.Class != class || rl.Limit != want {
			t.Errorf("%s: class %s limit %d, the contract says %s %d", rl.Route, rl.Class, rl.Limit, class, want)
		}
	}
	for op := range classes {
		if !served[op] {
			t.Errorf("%s: in the contract, not served", op)
		}
	}
	// The numbers the reference gives for Cloud's default plan.
	for route, want := range map[string]int{
		"GET /api/v4/secrets/{secretName}":                         40,
		"POST /api/v4/secrets/batch":                               40,
		"POST /api/v2/folders":                                     40,
		"GET /api/v2/folders":                                      60,
		"POST /api/v1/identities":                                  30,
		"POST /api/v1/auth/universal-auth/login":                   200,
		"DELETE /api/v1/identities/{identityId}":                   200,
		"GET /api/v1/organization/audit-logs":                      60,
		"GET /api/v1/identities/{identityId}/identity-memberships": 600,
	} {
		found := false
		for _, rl := range srv.RouteRateLimits() {
			if rl.Route == route {
				found = true
				if rl.Limit != want {
					t.Errorf("%s: %d a minute, want %d", route, rl.Limit, want)
				}
			}
		}
		if !found {
			t.Errorf("%s: not served", route)
		}
	}
}

// TestCloudRateLimit: per client IP and per route, a fixed 60 s window from
// the route's first hit, the plugin's headers and Infisical's 429.
func TestCloudRateLimit(t *testing.T) {
	e := newTestEnv(t)
	adm := e.admin()
	list := q("/api/v4/secrets", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultQueuePath)
	for i := 1; i <= 40; i++ {
		r := e.do("GET", readKeyID, adm, nil)
		want(t, r, 200)
		if i == 1 || i == 40 {
			if r.header.Get("X-Ratelimit-Limit") != "40" || r.header.Get("X-Ratelimit-Remaining") != strconv.Itoa(40-i) || r.header.Get("X-Ratelimit-Reset") != "60" {
				t.Fatalf("request %d headers: %v", i, r.header)
			}
		}
	}
	e.kit.Clock.Advance(15500 * time.Millisecond)
	r := e.do("GET", readKeyID, adm, nil)
	want(t, r, 429, nameRateLimit)
	if r.str("message") != "Rate limit exceeded. Please try again in 45 seconds" {
		t.Fatalf("message %q", r.str("message"))
	}
	for h, v := range map[string]string{"X-Ratelimit-Limit": "40", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "45", "Retry-After": "45"} {
		if got := r.header.Get(h); got != v {
			t.Errorf("429 %s %q, want %q", h, got, v)
		}
	}
	// Another route has its own counter; another address its own windows.
	r = e.do("GET", list, adm, nil)
	want(t, r, 200)
	if r.header.Get("X-Ratelimit-Remaining") != "39" || r.header.Get("X-Ratelimit-Reset") != "60" {
		t.Fatalf("a second route: %v", r.header)
	}
	want(t, e.do("GET", readKeyID, adm, nil, "X-Forwarded-For", "192.0.2.7"), 200)
	// A request refused before the limiter (no token) is not counted.
	want(t, e.do("GET", list, "", nil), 401, nameUnauthorized)
	if r = e.do("GET", list, adm, nil); r.header.Get("X-Ratelimit-Remaining") != "38" {
		t.Fatalf("an unauthenticated request was counted: %v", r.header)
	}
	// The window ends 60 s after its first hit.
	e.kit.Clock.Advance(44500 * time.Millisecond)
	r = e.do("GET", readKeyID, adm, nil)
	want(t, r, 200)
	if r.header.Get("X-Ratelimit-Remaining") != "39" || r.header.Get("X-Ratelimit-Reset") != "60" {
		t.Fatalf("a new window: %v", r.header)
	}

	// Identity creation: 30 a minute.
	for i := 0; i < 30; i++ {
		want(t, e.do("POST", "/api/v1/identities", adm, map[string]any{"name": "id-" + strconv.Itoa(i), "organizationId": DefaultOrganizationID}), 200)
	}
	r = e.do("POST", "/api/v1/identities", adm, map[string]any{"name": "one-too-many", "organizationId": DefaultOrganizationID})
	want(t, r, 429, nameRateLimit)
	if _, ok := findIdentity(e.srv, "one-too-many"); ok {
		t.Fatal("a refused creation created the identity")
	}
	// The public login is a write route with the instance's value.
	id, secret := e.srv.ProvisionerCredentials()
	r = e.do("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": id, "clientSecret": secret})
	want(t, r, 200)
	if r.header.Get("X-Ratelimit-Limit") != "200" {
		t.Fatalf("login limit: %v", r.header)
	}
}

func findIdentity(s *Server, name string) (IdentityInfo, bool) {
	for _, id := range s.Identities() {
		if id.Name == name {
			return id, true
		}
	}
	return IdentityInfo{}, false
}

// TestGlobalLimiterIsShared: the routes without a class share one counter
// per client IP.
func TestGlobalLimiterIsShared(t *testing.T) {
	fx := DefaultFixture()
	fx.Settings.RateLimits.Classes = map[string]int{ClassGlobal: 3}
	e := newTestEnv(t, fx)
	adm := e.admin()
	pid := e.srv.ProvisionerIdentityID()
	memberships := "/api/v1/identities/" + pid + "/identity-memberships"
	r := e.doRaw("GET", memberships, adm, nil)
	want(t, r, 200)
	if r.header.Get("X-Ratelimit-Limit") != "3" || r.header.Get("X-Ratelimit-Remaining") != "2" {
		t.Fatalf("headers: %v", r.header)
	}
	want(t, e.doRaw("GET", q("/api/v1/projects/"+DefaultProjectID+"/memberships/identities"), adm, nil), 200)
	want(t, e.doRaw("GET", memberships, adm, nil), 200)
	want(t, e.doRaw("GET", q("/api/v1/projects/"+DefaultProjectID+"/memberships/identities"), adm, nil), 429, nameRateLimit)
	// A classed route is not affected.
	want(t, e.do("GET", readKeyID, adm, nil), 200)
}

// TestRateLimitProfiles: self-hosted has no limiter and no headers;
// overrides replace a class's maximum; the configuration reads back.
func TestRateLimitProfiles(t *testing.T) {
	fx := DefaultFixture()
	fx.Settings.RateLimits.Profile = ProfileSelfHosted
	e := newTestEnv(t, fx)
	adm := e.admin()
	for i := 0; i < 100; i++ {
		r := e.do("GET", readKeyID, adm, nil)
		want(t, r, 200)
		for _, h := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Retry-After"} {
			if r.header.Get(h) != "" {
				t.Fatalf("self-hosted sent %s", h)
			}
		}
	}
	if got := e.srv.RateLimits(); got.Profile != ProfileSelfHosted || got.Classes != nil {
		t.Fatalf("RateLimits %+v", got)
	}
	if rl := e.srv.RouteRateLimits(); rl != nil {
		t.Fatalf("self-hosted limits routes: %v", rl)
	}
	// An injected 429 on a self-hosted server has no x-ratelimit-* headers.
	e.kit.Faults.Add(devkit.Fault{Route: "GET /api/v4/secrets/{secretName}", Status: 429, Count: 1})
	r := e.doRaw("GET", readKeyID, adm, nil)
	want(t, r, 429, nameRateLimit)
	if r.header.Get("X-Ratelimit-Limit") != "" {
		t.Fatalf("injected 429 headers: %v", r.header)
	}

	// A higher plan.
	higher := RateLimits{Classes: map[string]int{"secretsLimit": 1000, "readLimit": 600}}
	if err := e.srv.SetRateLimits(higher); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.RateLimits(); got.Profile != ProfileCloud || got.Classes["secretsLimit"] != 1000 {
		t.Fatalf("RateLimits %+v", got)
	}
	r = e.do("GET", readKeyID, adm, nil)
	if r.header.Get("X-Ratelimit-Limit") != "1000" || r.header.Get("X-Ratelimit-Remaining") != "999" {
		t.Fatalf("override headers: %v", r.header)
	}
	// An injected 429 on Cloud carries the route's limit.
	e.kit.Faults.Add(devkit.Fault{Route: "GET /api/v4/secrets/{secretName}", Status: 429, Count: 1, RetryAfter: 7 * time.Second})
	r = e.doRaw("GET", readKeyID, adm, nil)
	want(t, r, 429, nameRateLimit, "Please try again in 7 seconds")
	if r.header.Get("X-Ratelimit-Limit") != "1000" || r.header.Get("Retry-After") != "7" {
		t.Fatalf("injected 429 headers: %v", r.header)
	}

	for _, bad := range []RateLimits{
		{Profile: "enterprise"},
		{Classes: map[string]int{"fastLimit": 5}},
		{Classes: map[string]int{"readLimit": 0}},
		{Classes: map[string]int{ClassGlobal: -1}},
	} {
		if err := e.srv.SetRateLimits(bad); err == nil {
			t.Errorf("SetRateLimits(%+v) accepted", bad)
		}
		fx := DefaultFixture()
		fx.Settings.RateLimits = bad
		if _, err := New(nil, fx); err == nil {
			t.Errorf("New with %+v accepted", bad)
		}
	}
	if got := e.srv.RateLimits(); got.Classes["secretsLimit"] != 1000 {
		t.Fatalf("a refused configuration replaced the good one: %+v", got)
	}
}
