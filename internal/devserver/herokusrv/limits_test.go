package herokusrv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// serve answers one request in-process (no sockets: the rate-limit tests
// send thousands).
func serve(s *Server, method, path, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Accept", accept3)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func remainingOf(t *testing.T, rec *httptest.ResponseRecorder) int {
	t.Helper()
	n, err := strconv.Atoi(rec.Header().Get("RateLimit-Remaining"))
	if err != nil {
		t.Fatalf("RateLimit-Remaining %q", rec.Header().Get("RateLimit-Remaining"))
	}
	return n
}

// TestRateLimit: 4,500 requests per account, refilled continuously at
// 4,500 an hour, shared by the API key and every token of the account.
func TestRateLimit(t *testing.T) {
	e := defaultEnv(t)
	s := e.srv
	key := bearer(DefaultProvisionerAPIKey)
	tok := e.scoped("read") // one request spent
	for i := 1; i < DefaultRateLimitPerHour; i++ {
		auth := key
		if i%2 == 0 {
			auth = bearer(tok)
		}
		rec := serve(s, "GET", "/apps", auth)
		if rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
		if got, want := remainingOf(t, rec), DefaultRateLimitPerHour-1-i; got != want {
			t.Fatalf("request %d: RateLimit-Remaining %d, want %d", i, got, want)
		}
	}
	rec := serve(s, "GET", "/apps", key)
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), `"id":"rate_limit"`) || remainingOf(t, rec) != 0 {
		t.Fatalf("over the limit: %d %s", rec.Code, rec.Body)
	}
	// Another account has its own pool.
	if rec := serve(s, "GET", "/apps", bearer(DefaultOwnerAPIKey)); rec.Code != 200 || remainingOf(t, rec) != DefaultRateLimitPerHour-1 {
		t.Fatalf("owner: %d remaining %s", rec.Code, rec.Header().Get("RateLimit-Remaining"))
	}
	// 75 tokens a minute: after 0.8 s one request fits, not two.
	e.kit.Clock.Advance(800 * time.Millisecond)
	if rec := serve(s, "GET", "/apps", key); rec.Code != 200 || remainingOf(t, rec) != 0 {
		t.Fatalf("after 0.8s: %d remaining %s", rec.Code, rec.Header().Get("RateLimit-Remaining"))
	}
	if rec := serve(s, "GET", "/apps", key); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("second request after 0.8s: %d", rec.Code)
	}
	e.kit.Clock.Advance(time.Minute)
	if got := s.RateLimitRemaining(DefaultProvisionerEmail); got != 75 {
		t.Errorf("after a minute: %d, want 75", got)
	}
	// The pool never holds more than 4,500.
	e.kit.Clock.Advance(3 * time.Hour)
	if rec := serve(s, "GET", "/apps", key); remainingOf(t, rec) != DefaultRateLimitPerHour-1 {
		t.Errorf("after 3h: %s", rec.Header().Get("RateLimit-Remaining"))
	}

	// The switch.
	s.SetRateLimiting(false)
	if rec := serve(s, "GET", "/apps", key); rec.Code != 200 || remainingOf(t, rec) != DefaultRateLimitPerHour {
		t.Errorf("disabled: %d %s", rec.Code, rec.Header().Get("RateLimit-Remaining"))
	}
	s.SetRateLimiting(true)
}

// TestRateLimitSettings: a small pool from the fixture, anonymous requests
// on their address's pool, and 429 through httpx-style retries in order.
func TestRateLimitSettings(t *testing.T) {
	fx := DefaultFixture()
	fx.RateLimit.PerHour = 3
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	s, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for range 4 {
		rec := serve(s, "GET", "/account", "")
		codes = append(codes, fmt.Sprintf("%d/%s", rec.Code, rec.Header().Get("RateLimit-Remaining")))
	}
	if got := strings.Join(codes, " "); got != "401/2 401/1 401/0 429/0" {
		t.Errorf("anonymous: %s", got)
	}
	if rec := serve(s, "GET", "/account", bearer(DefaultOwnerAPIKey)); rec.Code != 200 || remainingOf(t, rec) != 2 {
		t.Errorf("owner: %d %s", rec.Code, rec.Header().Get("RateLimit-Remaining"))
	}

	fx.RateLimit = RateLimitSettings{Disabled: true}
	s2, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if rec := serve(s2, "GET", "/account", bearer(DefaultOwnerAPIKey)); rec.Code != 200 {
			t.Fatalf("disabled limit refused: %d", rec.Code)
		}
	}
}

// TestInjectedFaults: an injected status gets Heroku's body and headers.
func TestInjectedFaults(t *testing.T) {
	e := defaultEnv(t)
	for _, status := range []int{429, 500, 503, 404, 422} {
		id := e.kit.Faults.Add(devkit.Fault{Route: "GET /apps/{app}", Status: status})
		r := e.do("GET", "/apps/"+DefaultAllowedApp, bearer(DefaultProvisionerAPIKey), nil)
		e.kit.Faults.Remove(id)
		if r.status != status || r.errID() == "" || r.header.Get("Request-Id") == "" || r.header.Get("RateLimit-Remaining") == "" {
			t.Errorf("fault %d: %d %s %v", status, r.status, r.body, r.header)
		}
	}
	if e.srv.RequestCount("GET /apps/{app}") != 5 {
		t.Errorf("count %d", e.srv.RequestCount("GET /apps/{app}"))
	}
}
