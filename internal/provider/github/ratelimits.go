package github

//go:generate go run ../pace/routegen -contract ../../devserver/contracttest/contracts/github.openapi.json -pkg github -var contractRoutes -out routes_gen.go

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Profile chooses which of GitHub's rate limits the client paces itself to.
type Profile string

const (
	// ProfileAuto is ProfileDotCom for api.github.com and ProfileEnterprise
	// for any other API URL (GitHub Enterprise Server, the local server).
	ProfileAuto Profile = ""
	// ProfileDotCom: GitHub.com's documented limits: at most 100 requests
	// in flight, 900 points a minute per REST endpoint (a GET costs 1, a
	// write 5: about 180 installation-token mints a minute), and the hourly
	// primary limit of each credential as its x-ratelimit-* headers say.
	ProfileDotCom Profile = "github.com"
	// ProfileEnterprise: no secondary limit of its own (GitHub Enterprise
	// Server has rate limiting off unless an administrator turns it on);
	// the concurrency cap, the x-ratelimit-* headers, refusals and
	// Retry-After are obeyed.
	ProfileEnterprise Profile = "enterprise"
)

// GitHub.com's secondary limits (reference github.md, "Rate limits").
const (
	DefaultConcurrency     = 100
	DefaultPointsPerMinute = 900
	// secondaryPause is how long GitHub asks a client to wait after a
	// secondary-limit refusal that names no wait ("at least one minute").
	secondaryPause = time.Minute
)

// RateLimits configures the client's model of GitHub's rate limits.
type RateLimits struct {
	// Profile chooses the model (default ProfileAuto).
	Profile Profile
	// PointsPerMinute overrides the points per endpoint per minute
	// (default 900; ProfileDotCom only).
	PointsPerMinute int
	// Concurrency overrides the cap on requests in flight (default 100).
	Concurrency int
}

// Model is the pacer's model of the API at apiURL.
func (r RateLimits) Model(apiURL string) pace.Model {
	dotcom := r.Profile == ProfileDotCom
	if r.Profile == ProfileAuto {
		if u, err := url.Parse(apiURL); err == nil && strings.EqualFold(u.Hostname(), "api.github.com") {
			dotcom = true
		}
	}
	routes := make([]pace.Route, 0, len(contractRoutes)+len(issueRoutes))
	for _, rt := range append(append([]pace.Route(nil), contractRoutes...), issueRoutes...) {
		rt.Words = rt.Class
		routes = append(routes, rt)
	}
	m := pace.Model{
		Vendor:      "GitHub",
		Routes:      pace.NewRoutes(routes),
		Default:     "requests",
		Concurrency: r.Concurrency,
		Limited:     limited,
		Pause:       secondaryPause,
		Limits: []pace.Limit{
			// The primary limit: per credential (pace.WithAccount), an hour,
			// known only from the headers.
			{Name: "requests an hour", Window: time.Hour, Kind: pace.Fixed, Scope: pace.PerVendor, Headers: true},
		},
	}
	if m.Concurrency <= 0 {
		m.Concurrency = DefaultConcurrency
	}
	if dotcom {
		points := r.PointsPerMinute
		if points <= 0 {
			points = DefaultPointsPerMinute
		}
		m.Limits = append(m.Limits, pace.Limit{Name: "points per endpoint", Max: points, Window: time.Minute,
			Kind: pace.Rolling, Scope: pace.PerRoute, Cost: points5})
	}
	return m
}

// points5 is a request's cost against the secondary limit: 1 for a read, 5
// for a write.
func points5(method string) int {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return 1
	}
	return 5
}

// limited recognises GitHub's refusals: a 429, or a 403 that is about the
// rate limit (exhausted primary limit, Retry-After, or a secondary-limit
// message) rather than a permission.
func limited(status int, h http.Header, body []byte) bool {
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusForbidden:
		return h.Get("X-RateLimit-Remaining") == "0" || h.Get("Retry-After") != "" ||
			strings.Contains(strings.ToLower(string(body)), "rate limit")
	}
	return false
}

// Headers go-github must not see: it refuses requests by itself, on the
// wall clock, after an answer that exhausted a limit, which would keep the
// pacer from waiting (or from saying why it cannot). The originals are kept
// under these names for RateLimit and the remedies.
const (
	hiddenReset      = "X-Handoff-Ratelimit-Reset"
	hiddenRetryAfter = "X-Handoff-Retry-After"
)

// shieldRate hides from go-github what would make it refuse requests on its
// own: the reset of an exhausted limit and a Retry-After.
func shieldRate(resp *http.Response) {
	if resp == nil {
		return
	}
	h := resp.Header
	if h.Get("X-RateLimit-Remaining") == "0" {
		if v := h.Get("X-RateLimit-Reset"); v != "" {
			h.Set(hiddenReset, v)
			h.Del("X-RateLimit-Reset")
		}
	}
	if v := h.Get("Retry-After"); v != "" && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) {
		h.Set(hiddenRetryAfter, v)
		h.Del("Retry-After")
	}
}

// headerValue reads a header go-github may have had hidden from it.
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	switch http.CanonicalHeaderKey(name) {
	case "X-Ratelimit-Reset":
		return h.Get(hiddenReset)
	case "Retry-After":
		return h.Get(hiddenRetryAfter)
	}
	return ""
}

// withAccount marks a request as made with one credential: each has its own
// hourly limit and points.
func withAccount(req *http.Request, account string) *http.Request {
	return req.Clone(pace.WithAccount(req.Context(), account))
}
