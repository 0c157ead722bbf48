package cloudflare

import (
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Cloudflare's global limit on its client API: 1,200 requests per five
// minutes per user, every token of the user counted together (Cloudflare's
// "Rate limits" page; the 429 says "More than 1200 requests per 300
// seconds reached"). Once over it, every call of the user is refused for
// the next five minutes, so the client never goes over it.
const (
	DefaultRequestsPerWindow = 1200
	RateLimitWindow          = 5 * time.Minute
)

// RateLimits configures the client's model of Cloudflare's rate limit.
type RateLimits struct {
	// PerWindow overrides the requests a user may make per RateLimitWindow
	// (default DefaultRequestsPerWindow). Negative: no model; the client
	// then only obeys the 429s and retry-after the server sends.
	PerWindow int
}

// Model is the pacer's model of Cloudflare's API: one rolling count of
// every request to the server (PerVendor: the user's tokens share it; a
// rolling window never exceeds a fixed one, however Cloudflare's moves).
// Cloudflare's Ratelimit headers are in the IETF draft's structured form,
// which the pacer does not read; its 429 and retry-after are obeyed.
func (r RateLimits) Model() pace.Model {
	m := pace.Model{Vendor: "Cloudflare", Default: "requests"}
	n := r.PerWindow
	if n == 0 {
		n = DefaultRequestsPerWindow
	}
	if n > 0 {
		m.Limits = []pace.Limit{{Name: "requests per user", Max: n, Window: RateLimitWindow, Kind: pace.Rolling, Scope: pace.PerVendor}}
	}
	return m
}
