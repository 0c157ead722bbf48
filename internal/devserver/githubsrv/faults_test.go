package githubsrv

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// TestInjectedFaults: injected failures look like GitHub's own.
func TestInjectedFaults(t *testing.T) {
	e := newEnv(t, nil)
	tok := "token " + e.mint(DefaultInstallationID, nil)
	const pr = "/repos/raxx-app/TradeMasterAPI/pulls/42"

	t.Run("status on a route pattern", func(t *testing.T) {
		id := e.kit.Faults.Add(devkit.Fault{Route: "GET /repos/{owner}/{repo}/pulls/{pull_number}", Status: 503})
		defer e.kit.Faults.Remove(id)
		r := e.do("GET", pr, tok, nil)
		expect(t, r, 503, "Service Unavailable")
		if r.header.Get("X-Github-Request-Id") == "" || r.header.Get("X-Ratelimit-Limit") != "5000" || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("injected answer headers %v", r.header)
		}
		expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI", tok, nil), 200, "")
		if n := e.kit.Stats.Count("GET /repos/{owner}/{repo}/pulls/{pull_number}"); n != 1 {
			t.Errorf("stats count %d", n)
		}
	})

	t.Run("Nth request, CLI form", func(t *testing.T) {
		f, err := devkit.ParseFault("POST /app/installations/*/access_tokens=502,nth=2")
		if err != nil {
			t.Fatal(err)
		}
		id := e.kit.Faults.Add(f)
		defer e.kit.Faults.Remove(id)
		jwtAuth := "Bearer " + e.jwt()
		expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, nil), 201, "")
		expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, nil), 502, "Server Error")
		expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, nil), 201, "")
	})

	t.Run("429 with Retry-After", func(t *testing.T) {
		id := e.kit.Faults.Add(devkit.Fault{Route: "POST /repos/*/comments", Status: 429, RetryAfter: 3 * time.Second, Count: 1})
		defer e.kit.Faults.Remove(id)
		r := e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", tok, map[string]string{"body": "x"})
		expect(t, r, 429, "")
		if r.header.Get("Retry-After") != "3" || !strings.HasPrefix(r.message(), "You have exceeded a secondary rate limit") {
			t.Errorf("429: Retry-After %q, %s", r.header.Get("Retry-After"), r.body)
		}
		expect(t, e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", tok, map[string]string{"body": "x"}), 201, "")
	})

	t.Run("dropped connection", func(t *testing.T) {
		id := e.kit.Faults.Add(devkit.Fault{Route: "GET /meta", Drop: true})
		defer e.kit.Faults.Remove(id)
		req, _ := http.NewRequest("GET", e.ts.URL+"/meta", nil)
		res, err := e.client.Do(req)
		if err == nil {
			res.Body.Close()
			t.Fatalf("dropped request answered %d", res.StatusCode)
		}
	})

	t.Run("GHES prefix shares the routes and their faults", func(t *testing.T) {
		id := e.kit.Faults.Add(devkit.Fault{Route: "GET /rate_limit", Status: 500})
		defer e.kit.Faults.Remove(id)
		expect(t, e.do("GET", GHESPrefix+"/rate_limit", tok, nil), 500, "Server Error")
	})

	t.Run("the dev endpoints are not GitHub's", func(t *testing.T) {
		r := e.do("POST", "/_dev/clock", "", map[string]string{"advance": "61m"})
		expect(t, r, 200, "")
		expect(t, e.do("GET", "/installation/repositories", tok, nil), 401, msgBadCredentials)
	})
}
