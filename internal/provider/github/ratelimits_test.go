package github

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// TestRouteTableMatchesTheContract fails when routes_gen.go and the
// contract disagree: run go generate ./internal/provider/github.
func TestRouteTableMatchesTheContract(t *testing.T) {
	doc, err := contracttest.Document(contracttest.GitHub)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pace.RoutesFromOpenAPI(doc, "", pace.ReadsWrites)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(want) != fmt.Sprint(contractRoutes) {
		t.Errorf("routes_gen.go is stale: run go generate ./internal/provider/github\n got %v\nwant %v", contractRoutes, want)
	}
}

func TestModel(t *testing.T) {
	cases := []struct {
		name        string
		limits      RateLimits
		api         string
		wantPoints  int // 0: no secondary limit of its own
		concurrency int
	}{
		{"github.com", RateLimits{}, "https://api.github.com/", 900, 100},
		{"enterprise", RateLimits{}, "https://ghe.example.com/api/v3/", 0, 100},
		{"local server", RateLimits{}, "http://127.0.0.1:9000/", 0, 100},
		{"forced github.com", RateLimits{Profile: ProfileDotCom, PointsPerMinute: 450, Concurrency: 10}, "http://127.0.0.1:9000/", 450, 10},
		{"forced enterprise", RateLimits{Profile: ProfileEnterprise}, "https://api.github.com/", 0, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.limits.Model(tc.api)
			if m.Concurrency != tc.concurrency || m.Pause != time.Minute || m.Vendor != "GitHub" {
				t.Errorf("model %+v", m)
			}
			points := 0
			for _, l := range m.Limits {
				if l.Name == "points per endpoint" {
					points = l.Max
					if l.Scope != pace.PerRoute || l.Kind != pace.Rolling || l.Cost("GET") != 1 || l.Cost("POST") != 5 {
						t.Errorf("points limit %+v", l)
					}
				}
			}
			if points != tc.wantPoints {
				t.Errorf("points %d, want %d", points, tc.wantPoints)
			}
			r, ok := m.Routes.Match("POST", "/app/installations/1001/access_tokens")
			if !ok || r.String() != "POST /app/installations/{installation_id}/access_tokens" || r.Class != "writes" {
				t.Errorf("mint route %+v", r)
			}
		})
	}
}

// TestMintsPacedTo180AMinute: GitHub.com's 900 points a minute per
// endpoint let about 180 mints (5 points each) through a minute; the rest
// wait, on a virtual clock here.
func TestMintsPacedTo180AMinute(t *testing.T) {
	clock := pace.NewVirtualClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	p := pace.New(pace.Config{Clock: clock})
	if err := p.Register("https://api.github.com/", RateLimits{}.Model("https://api.github.com/")); err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	var at []time.Duration
	for i := range 400 {
		req, _ := http.NewRequest("POST", fmt.Sprintf("https://api.github.com/app/installations/%d/access_tokens", 1000+i%3), nil)
		tk, err := p.Acquire(req.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		at = append(at, clock.Now().Sub(start))
		tk.Done(&http.Response{StatusCode: 201, Header: http.Header{}, Request: req}, nil)
	}
	if at[179] != 0 || at[180] != time.Minute+time.Second || at[360] != 2*(time.Minute+time.Second) {
		t.Errorf("mints 180, 181 and 361 at %s, %s, %s", at[179], at[180], at[360])
	}
}

func TestLimitedAndShield(t *testing.T) {
	cases := []struct {
		status int
		header http.Header
		body   string
		want   bool
	}{
		{429, http.Header{}, "", true},
		{403, http.Header{"X-Ratelimit-Remaining": {"0"}}, "", true},
		{403, http.Header{"Retry-After": {"60"}}, "", true},
		{403, http.Header{}, `{"message":"You have exceeded a secondary rate limit."}`, true},
		{403, http.Header{"X-Ratelimit-Remaining": {"4000"}}, `{"message":"Resource not accessible by integration"}`, false},
		{404, http.Header{}, "", false},
	}
	for _, tc := range cases {
		if got := limited(tc.status, tc.header, []byte(tc.body)); got != tc.want {
			t.Errorf("limited(%d, %v, %s) = %v", tc.status, tc.header, tc.body, got)
		}
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1780000000"}}}
	shieldRate(resp)
	if resp.Header.Get("X-RateLimit-Reset") != "" || headerValue(resp.Header, "X-RateLimit-Reset") != "1780000000" {
		t.Errorf("shielded headers %v", resp.Header)
	}
	resp = &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"60"}}}
	shieldRate(resp)
	if resp.Header.Get("Retry-After") != "" || headerValue(resp.Header, "Retry-After") != "60" {
		t.Errorf("shielded headers %v", resp.Header)
	}
}
