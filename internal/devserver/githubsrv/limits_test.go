package githubsrv

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPagination checks per_page, page and the Link header.
func TestPagination(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) {
		// Installation 1002 covers every moose-labs repository: make 5.
		for i := 3; i <= 5; i++ {
			fx.Repositories = append(fx.Repositories, Repository{ID: 812345700 + int64(i)*10, Owner: "moose-labs", Name: fmt.Sprintf("extra-%d", i), CreatedAt: testNow})
		}
	})
	tok := "token " + e.mint(DefaultSecondInstallationID, nil)
	page := func(query string) (int, []string, string) {
		t.Helper()
		r := e.do("GET", "/installation/repositories"+query, tok, nil)
		expect(t, r, http.StatusOK, "")
		var body struct {
			TotalCount   int `json:"total_count"`
			Repositories []struct {
				Name string `json:"name"`
			} `json:"repositories"`
		}
		r.json(t, &body)
		var names []string
		for _, rp := range body.Repositories {
			names = append(names, rp.Name)
		}
		return body.TotalCount, names, r.header.Get("Link")
	}
	base := e.ts.URL + "/installation/repositories"

	total, names, link := page("?per_page=2")
	if total != 5 || strings.Join(names, ",") != "sandbox,website" {
		t.Errorf("page 1: total %d, %v", total, names)
	}
	if want := `<` + base + `?page=2&per_page=2>; rel="next", <` + base + `?page=3&per_page=2>; rel="last"`; link != want {
		t.Errorf("page 1 Link\n got %s\nwant %s", link, want)
	}
	_, names, link = page("?per_page=2&page=2")
	if strings.Join(names, ",") != "extra-3,extra-4" {
		t.Errorf("page 2: %v", names)
	}
	if want := `<` + base + `?page=1&per_page=2>; rel="prev", <` + base + `?page=3&per_page=2>; rel="next", <` + base + `?page=3&per_page=2>; rel="last", <` + base + `?page=1&per_page=2>; rel="first"`; link != want {
		t.Errorf("page 2 Link\n got %s\nwant %s", link, want)
	}
	_, names, link = page("?per_page=2&page=3")
	if strings.Join(names, ",") != "extra-5" || strings.Contains(link, `rel="next"`) || !strings.Contains(link, `rel="first"`) {
		t.Errorf("page 3: %v, Link %s", names, link)
	}
	if _, names, _ = page("?per_page=2&page=9"); len(names) != 0 {
		t.Errorf("past the end: %v", names)
	}
	if _, names, link = page("?per_page=1000"); len(names) != 5 || link != "" {
		t.Errorf("per_page over 100 is capped, one page: %v, Link %q", names, link)
	}
	if _, names, _ = page("?per_page=abc&page=-1"); len(names) != 5 {
		t.Errorf("bad per_page and page fall back to the defaults: %v", names)
	}
	// Under the GHES prefix the links keep the prefix.
	r := e.do("GET", GHESPrefix+"/installation/repositories?per_page=2", tok, nil)
	if !strings.Contains(r.header.Get("Link"), e.ts.URL+GHESPrefix+"/installation/repositories?page=2") {
		t.Errorf("GHES Link %s", r.header.Get("Link"))
	}
}

// TestEveryAnswerHasGitHubHeaders: success, error and unknown route alike.
func TestEveryAnswerHasGitHubHeaders(t *testing.T) {
	e := newEnv(t, nil)
	tok := "token " + e.mint(DefaultInstallationID, nil)
	for _, tc := range []struct {
		method, path, auth string
		status             int
	}{
		{"GET", "/repos/raxx-app/TradeMasterAPI", tok, 200},
		{"GET", "/repos/raxx-app/Nope", tok, 404},
		{"GET", "/no/such/route", tok, 404},
		{"PUT", "/app", "", 404},
		{"GET", "/installation/repositories", "token bad", 401},
		{"DELETE", "/installation/token", tok, 204},
		{"GET", GHESPrefix + "/meta", "", 200},
	} {
		r := e.do(tc.method, tc.path, tc.auth, nil)
		expect(t, r, tc.status, "")
		for _, h := range []string{"X-Github-Request-Id", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Used", "X-Ratelimit-Reset", "X-Ratelimit-Resource"} {
			if r.header.Get(h) == "" {
				t.Errorf("%s %s: no %s", tc.method, tc.path, h)
			}
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
		}
		if tc.status >= 400 && !strings.Contains(string(r.body), `"documentation_url"`) {
			t.Errorf("%s %s: error body %s", tc.method, tc.path, r.body)
		}
	}
	r := e.do("GET", "/nope", "", nil)
	if string(r.body) != `{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}` {
		t.Errorf("unknown route body %s", r.body)
	}
}

// TestPrimaryRateLimit: each credential has its window; exhausted it is a
// 403 with remaining 0 until the clock reaches the reset.
func TestPrimaryRateLimit(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) {
		fx.RateLimits = RateLimits{InstallationPerHour: 3, AppPerHour: 100, UnauthenticatedPerHour: 2}
	})
	tok := "token " + e.mint(DefaultInstallationID, nil)
	other := "token " + e.mint(DefaultInstallationID, nil) // same installation, same window
	reset := strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10)
	for i, auth := range []string{tok, other, tok} {
		r := e.do("GET", "/repos/raxx-app/TradeMasterAPI", auth, nil)
		expect(t, r, 200, "")
		if got := r.header.Get("X-Ratelimit-Remaining"); got != strconv.Itoa(2-i) {
			t.Errorf("request %d: remaining %s", i+1, got)
		}
		if r.header.Get("X-Ratelimit-Used") != strconv.Itoa(i+1) || r.header.Get("X-Ratelimit-Reset") != reset || r.header.Get("X-Ratelimit-Resource") != "core" {
			t.Errorf("request %d: headers %v", i+1, r.header)
		}
	}
	// GET /rate_limit is free and tells the truth.
	rl := e.do("GET", "/rate_limit", tok, nil)
	expect(t, rl, 200, "")
	var body struct {
		Rate struct{ Limit, Used, Remaining int } `json:"rate"`
	}
	rl.json(t, &body)
	if body.Rate.Limit != 3 || body.Rate.Used != 3 || body.Rate.Remaining != 0 {
		t.Errorf("rate_limit %+v", body.Rate)
	}
	r := e.do("GET", "/installation/repositories", other, nil)
	expect(t, r, 403, "API rate limit exceeded for installation ID 1001.")
	if r.header.Get("X-Ratelimit-Remaining") != "0" || r.header.Get("X-Ratelimit-Reset") != reset {
		t.Errorf("exhausted headers %v", r.header)
	}
	if info := e.srv.InstallationRateLimit(DefaultInstallationID); info.Remaining != 0 || info.Used != 3 {
		t.Errorf("InstallationRateLimit %+v", info)
	}
	// The App's JWT has its own window.
	expect(t, e.do("GET", "/app", "Bearer "+e.jwt(), nil), 200, "")
	// Anonymous callers are limited per address.
	expect(t, e.do("GET", "/meta", "", nil), 200, "")
	expect(t, e.do("GET", "/meta", "", nil), 200, "")
	if r := e.do("GET", "/meta", "", nil); r.status != 403 || !strings.HasPrefix(r.message(), "API rate limit exceeded for 127.0.0.1.") {
		t.Errorf("anonymous over the limit: %d %s", r.status, r.body)
	}
	// The window resets with the clock (which also expired the tokens).
	e.kit.Clock.Advance(time.Hour)
	r = e.do("GET", "/repos/raxx-app/TradeMasterAPI", "token "+e.mint(DefaultInstallationID, nil), nil)
	expect(t, r, 200, "")
	if r.header.Get("X-Ratelimit-Remaining") != "2" {
		t.Errorf("after reset: remaining %s", r.header.Get("X-Ratelimit-Remaining"))
	}
}

// TestNotModifiedIsFree: a 304 does not count against the rate limit.
func TestNotModifiedIsFree(t *testing.T) {
	e := newEnv(t, nil)
	tok := "token " + e.mint(DefaultInstallationID, nil)
	first := e.do("GET", "/repos/raxx-app/TradeMasterAPI/pulls/42", tok, nil)
	expect(t, first, 200, "")
	second := e.do("GET", "/repos/raxx-app/TradeMasterAPI/pulls/42", tok, nil, "If-None-Match", first.header.Get("Etag"))
	expect(t, second, 304, "")
	if second.header.Get("X-Ratelimit-Used") != first.header.Get("X-Ratelimit-Used") {
		t.Errorf("304 counted: used %s then %s", first.header.Get("X-Ratelimit-Used"), second.header.Get("X-Ratelimit-Used"))
	}
	// A new comment changes the pull request (its comment count).
	expect(t, e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", tok, map[string]string{"body": "x"}), 201, "")
	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI/pulls/42", tok, nil, "If-None-Match", first.header.Get("Etag")), 200, "")
}

// TestSecondaryRateLimit: comment writes beyond the per-minute limit get 429
// with Retry-After.
func TestSecondaryRateLimit(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.RateLimits.SecondaryLimitPerMinute = 2 })
	tok := "token " + e.mint(DefaultInstallationID, nil)
	post := func() resp {
		return e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", tok, map[string]string{"body": "plan"})
	}
	expect(t, post(), 201, "")
	e.kit.Clock.Advance(20 * time.Second)
	expect(t, e.do("PATCH", "/repos/raxx-app/TradeMasterAPI/issues/comments/2400000001", tok, map[string]string{"body": "edited"}), 200, "")
	r := post()
	expect(t, r, 429, "")
	if r.header.Get("Retry-After") != "40" {
		t.Errorf("Retry-After %q, want 40", r.header.Get("Retry-After"))
	}
	if !strings.HasPrefix(r.message(), "You have exceeded a secondary rate limit.") || !strings.Contains(r.message(), r.header.Get("X-Github-Request-Id")) {
		t.Errorf("message %q", r.message())
	}
	if r.header.Get("X-Ratelimit-Remaining") == "0" {
		t.Error("a secondary limit does not exhaust the primary one")
	}
	if n := len(e.srv.Comments("raxx-app", "TradeMasterAPI", 42)); n != 2 {
		t.Errorf("%d comments, want 2 (the refused one is not written)", n)
	}
	e.kit.Clock.Advance(40 * time.Second)
	expect(t, post(), 201, "")
}

// TestDefaultLimitsAreGitHubs: zero takes GitHub's values, negative turns a
// limit off.
func TestDefaultLimitsAreGitHubs(t *testing.T) {
	got := resolveLimits(RateLimits{})
	want := RateLimits{InstallationPerHour: 5000, AppPerHour: 5000, ActionsPerHour: 1000, UnauthenticatedPerHour: 60,
		SecondaryLimitPerMinute: 80, ContentCreationPerHour: 500, EndpointPointsPerMinute: 900, ConcurrentRequests: 100}
	if got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	off := resolveLimits(NoRateLimits())
	for name, v := range map[string]int{"installation": off.InstallationPerHour, "app": off.AppPerHour, "actions": off.ActionsPerHour,
		"anonymous": off.UnauthenticatedPerHour, "content/min": off.SecondaryLimitPerMinute, "content/h": off.ContentCreationPerHour,
		"points": off.EndpointPointsPerMinute, "concurrency": off.ConcurrentRequests} {
		if v < 1<<30 {
			t.Errorf("NoRateLimits leaves %s at %d", name, v)
		}
	}
}

// secondaryRefusal checks GitHub's answer to a secondary limit: the status,
// the message with the request id, the credential's primary headers (not
// exhausted) and the Retry-After wanted ("" for none).
func secondaryRefusal(t *testing.T, r resp, status int, retryAfter string) {
	t.Helper()
	expect(t, r, status, "")
	if !strings.HasPrefix(r.message(), "You have exceeded a secondary rate limit.") || !strings.Contains(r.message(), r.header.Get("X-Github-Request-Id")) {
		t.Errorf("message %q", r.message())
	}
	if !strings.Contains(string(r.body), docSecondaryLimits) {
		t.Errorf("documentation_url: %s", r.body)
	}
	if r.header.Get("X-Ratelimit-Remaining") == "0" || r.header.Get("X-Ratelimit-Limit") == "" {
		t.Errorf("primary headers %v", r.header)
	}
	if got := r.header.Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After %q, want %q", got, retryAfter)
	}
}

// TestEndpointPoints: 900 points a minute per credential and endpoint by
// default; reads cost 1, writes 5; past it, 403 with Retry-After until the
// endpoint's window ends.
func TestEndpointPoints(t *testing.T) {
	t.Run("GitHub's 900, minting installation tokens", func(t *testing.T) {
		e := newEnv(t, nil)
		auth := "Bearer " + e.jwt()
		path := "/app/installations/" + strconv.FormatInt(DefaultInstallationID, 10) + "/access_tokens"
		for i := 0; i < 180; i++ { // 180 × 5 points
			expect(t, e.do("POST", path, auth, nil), 201, "")
		}
		e.kit.Clock.Advance(20 * time.Second)
		secondaryRefusal(t, e.do("POST", path, auth, nil), 403, "40")
		// Another endpoint of the same credential has its own points.
		expect(t, e.do("GET", "/app", auth, nil), 200, "")
		e.kit.Clock.Advance(40 * time.Second)
		expect(t, e.do("POST", path, auth, nil), 201, "")
	})
	t.Run("reads and writes", func(t *testing.T) {
		e := newEnv(t, func(fx *Fixture) { fx.RateLimits.EndpointPointsPerMinute = 12 })
		tok := "token " + e.mint(DefaultInstallationID, nil)
		repo := "/repos/raxx-app/TradeMasterAPI"
		for i := 0; i < 12; i++ {
			p := repo
			if i%2 == 1 {
				p = GHESPrefix + repo // the same endpoint under the GHES prefix
			}
			expect(t, e.do("GET", p, tok, nil), 200, "")
		}
		secondaryRefusal(t, e.do("GET", repo, tok, nil), 403, "60")
		// Tokens of one installation are one credential.
		other := "token " + e.mint(DefaultInstallationID, nil)
		secondaryRefusal(t, e.do("GET", repo, other, nil), 403, "60")
		comments := repo + "/issues/42/comments"
		expect(t, e.do("POST", comments, tok, map[string]string{"body": "a"}), 201, "")
		expect(t, e.do("POST", comments, tok, map[string]string{"body": "b"}), 201, "")
		secondaryRefusal(t, e.do("POST", comments, tok, map[string]string{"body": "c"}), 403, "60")
		if n := len(e.srv.Comments("raxx-app", "TradeMasterAPI", 42)); n != 3 {
			t.Errorf("%d comments, want 3 (the fixture's and two)", n)
		}
		expect(t, e.do("GET", comments, tok, nil), 200, "")
		// The windows survive a restart.
		state, err := e.srv.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		e2 := newEnv(t, nil)
		if err := e2.srv.RestoreState(state); err != nil {
			t.Fatal(err)
		}
		secondaryRefusal(t, e2.do("GET", repo, tok, nil), 403, "60")
		e2.kit.Clock.Advance(time.Minute)
		expect(t, e2.do("GET", repo, tok, nil), 200, "")
	})
}

// TestConcurrencyLimit: at most 100 requests in flight per credential;
// the 101st gets 403 with no Retry-After.
func TestConcurrencyLimit(t *testing.T) {
	e := newEnv(t, nil)
	tok := "token " + e.mint(DefaultInstallationID, nil)
	const key = "installation:1001"
	for i := 0; i < DefaultConcurrentRequests; i++ { // 100 requests held in flight
		if !e.srv.lim.acquire(key, DefaultConcurrentRequests) {
			t.Fatalf("slot %d refused", i)
		}
	}
	secondaryRefusal(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI", tok, nil), 403, "")
	// Another credential is not held up.
	expect(t, e.do("GET", "/app", "Bearer "+e.jwt(), nil), 200, "")
	e.srv.lim.release(key)
	expect(t, e.do("GET", "/repos/raxx-app/TradeMasterAPI", tok, nil), 200, "")
	e.srv.lim.mu.Lock()
	held := e.srv.lim.inflight[key]
	e.srv.lim.mu.Unlock()
	if held != DefaultConcurrentRequests-1 {
		t.Errorf("%d in flight after the request, want %d", held, DefaultConcurrentRequests-1)
	}
}

// TestContentCreationPerHour: 500 content-generating requests an hour by
// default; past the hourly limit, 429 with Retry-After to the hour's end.
func TestContentCreationPerHour(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.RateLimits.ContentCreationPerHour = 3 })
	tok := "token " + e.mint(DefaultInstallationID, nil)
	post := func() resp {
		return e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", tok, map[string]string{"body": "plan"})
	}
	for i := 0; i < 3; i++ {
		expect(t, post(), 201, "")
		e.kit.Clock.Advance(time.Minute) // below the per-minute limit
	}
	secondaryRefusal(t, post(), 429, strconv.Itoa(int(time.Hour/time.Second)-3*60))
	e.kit.Clock.Advance(57 * time.Minute)
	tok = "token " + e.mint(DefaultInstallationID, nil) // the first one lived an hour
	expect(t, post(), 201, "")
}
