package heroku

import (
	"net/http"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// RequestsPerHour is Heroku's rate limit: a pool of 4,500 request tokens per
// account, one spent by every API call, refilled continuously at 4,500 an
// hour (75 a minute). The API key and every OAuth token of the account
// share it, and Heroku reports what is left in RateLimit-Remaining on every
// answer (Platform API reference, "Rate Limits").
const RequestsPerHour = 4500

// RateLimitModel is the pacer's model of Heroku's rate limit: one refilled
// bucket of RequestsPerHour for the whole API, adopted down to what
// RateLimit-Remaining says when Heroku counts more than the model (other
// clients of the same account), and a 429 rate_limit as the only refusal.
// Heroku names no reset and sends no Retry-After: after a refusal the pacer
// waits for the bucket to refill by one token (0.8 s).
//
// Every request of a Client is counted against one account (the pacer's
// default one): the handoff account's API key and the tokens minted from
// it spend the same pool at Heroku.
func RateLimitModel() pace.Model {
	return pace.Model{
		Vendor:  "Heroku",
		Default: "requests",
		Headers: pace.HeaderNames{Remaining: "RateLimit-Remaining"},
		Limited: func(status int, _ http.Header, _ []byte) bool { return status == http.StatusTooManyRequests },
		Limits: []pace.Limit{{
			Name: "requests per account", Max: RequestsPerHour, Window: time.Hour,
			Kind: pace.Refill, Scope: pace.PerVendor, Headers: true,
		}},
	}
}
