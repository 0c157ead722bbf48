package cloudflaresrv

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// hit sends one in-process request (fast enough for 1,200 of them).
func hit(s *Server, path, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", BasePath+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// TestRateLimitDefault: Cloudflare's 1,200 requests per five minutes per
// user, shared by all the user's tokens, then five minutes of 429.
func TestRateLimitDefault(t *testing.T) {
	e := newEnv(t, nil)
	other := e.mint(e.tokenBody("other", []string{GroupZoneRead}, zoneRes(DefaultZoneExampleID))) // request 1
	for i := 2; i <= DefaultRateLimit; i++ {
		tok := e.prov
		if i%2 == 0 {
			tok = other.Value
		}
		if rec := hit(e.srv, "/user/tokens/verify", tok); rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if e.srv.RateLimitUsed() != DefaultRateLimit {
		t.Errorf("RateLimitUsed = %d", e.srv.RateLimitUsed())
	}
	rec := hit(e.srv, "/zones", other.Value)
	if rec.Code != 429 {
		t.Fatalf("request 1201: %d %s", rec.Code, rec.Body)
	}
	var body struct {
		Success bool        `json:"success"`
		Errors  []cfMessage `json:"errors"`
		Result  any         `json:"result"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Success || len(body.Errors) != 1 ||
		body.Errors[0].Code != codeRateLimited || body.Result != nil ||
		body.Errors[0].Message != "More than 1200 requests per 300 seconds reached. Please wait and consider throttling your request speed" {
		t.Errorf("429 body %s", rec.Body)
	}
	h := rec.Header()
	if h.Get("Retry-After") != "300" || h.Get("Ratelimit") != `"default";r=0;t=300` || h.Get("Ratelimit-Policy") != `"default";q=1200;w=300` {
		t.Errorf("429 headers: retry-after %q, Ratelimit %q, Ratelimit-Policy %q", h.Get("Retry-After"), h.Get("Ratelimit"), h.Get("Ratelimit-Policy"))
	}

	// Blocked for five minutes from the first refusal, every token of the
	// user alike; requests that do not authenticate are not the user's.
	e.kit.Clock.Advance(4*time.Minute + 59*time.Second)
	if rec := hit(e.srv, "/user/tokens/verify", e.prov); rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("at 4m59s: %d, retry-after %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := hit(e.srv, "/zones", ""); rec.Code != 400 {
		t.Errorf("anonymous during the block: %d", rec.Code)
	}
	e.kit.Clock.Advance(time.Second)
	rec = hit(e.srv, "/user/tokens/verify", e.prov)
	if rec.Code != 200 || rec.Header().Get("Ratelimit") != `"default";r=1199;t=300` || rec.Header().Get("Retry-After") != "" {
		t.Errorf("after the block: %d, Ratelimit %q, retry-after %q", rec.Code, rec.Header().Get("Ratelimit"), rec.Header().Get("Retry-After"))
	}
}

func TestRateLimitWindowRolls(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.Settings = Settings{RateLimit: 3, RateLimitWindowSeconds: 60} })
	for i := range 3 {
		rec := hit(e.srv, "/user/tokens/verify", e.prov)
		want := `"default";r=` + strconv.Itoa(2-i) + `;t=` + strconv.Itoa(60-10*i)
		if rec.Code != 200 || rec.Header().Get("Ratelimit") != want {
			t.Fatalf("request %d: %d %q, want %q", i+1, rec.Code, rec.Header().Get("Ratelimit"), want)
		}
		e.kit.Clock.Advance(10 * time.Second)
	}
	// The fourth request would be refused; once the window has passed, a
	// new one opens.
	e.kit.Clock.Advance(30 * time.Second)
	if rec := hit(e.srv, "/user/tokens/verify", e.prov); rec.Code != 200 {
		t.Errorf("new window: %d", rec.Code)
	}
}

func TestRateLimitSwitch(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.Settings.RateLimit = -1 })
	for i := range DefaultRateLimit + 10 {
		if rec := hit(e.srv, "/user/tokens/verify", e.prov); rec.Code != 200 || rec.Header().Get("Ratelimit") != "" {
			t.Fatalf("request %d with the limit off: %d %q", i+1, rec.Code, rec.Header().Get("Ratelimit"))
		}
	}
	e.srv.SetRateLimit(0, 0)
	if rec := hit(e.srv, "/user/tokens/verify", e.prov); rec.Header().Get("Ratelimit-Policy") != `"default";q=1200;w=300` {
		t.Errorf("default restored: %q", rec.Header().Get("Ratelimit-Policy"))
	}
}
