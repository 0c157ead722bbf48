// Package heroku is handoff's client of the Heroku Platform API (version 3):
// the account a credential acts as, the apps it reaches (every page of GET
// /apps: the reach plan compares with the spec's app and the policy's
// allowlist, since a Heroku token cannot be scoped to one app), an app,
// its config vars (read and set, for the negative tests that prove a token
// is refused), and the OAuth authorizations handoff mints per handoff with
// the narrowest scope and an expires_in at the handoff's expiry, lists (to
// find them again by description) and revokes.
//
// # Why not github.com/heroku/heroku-go/v5
//
// Heroku's generated Go client is not served by the Go module proxy (it
// answers "403 Forbidden: This module version is not available" for
// github.com/heroku/heroku-go/v5), so it cannot be a dependency of a module
// that builds from the proxy. This package is a small client on net/http
// through internal/provider/httpx (shared retries, Retry-After, the
// APIError type and the pacer) covering exactly the calls handoff
// makes, each checked against Heroku's JSON hyper-schema
// (shared/contracts/heroku.schema.json) by the tests.
//
// # Behaviour worth knowing
//
//   - Every request sends Accept: application/vnd.heroku+json; version=3
//     and Authorization: Bearer with the API key or token.
//   - Apps pages with Range "id ..; max=1000", Authorizations with Heroku's
//     default page (its schema declares no range for that list); both follow
//     Next-Range until Heroku answers 200, spending as few of the account's
//     4,500 hourly requests as they can. RateLimitRemaining reports the last
//     RateLimit-Remaining seen.
//   - New registers Heroku's rate limit (RateLimitModel: a pool of 4,500
//     requests refilled at 75 a minute, adopted down to RateLimit-Remaining)
//     on the pacer of its HTTP configuration, so that clients sharing that
//     pacer wait for the pool to refill rather than be refused with 429.
//   - CreateAuthorization is a POST and is not repeated after an unclear
//     failure; its Token is the only copy (Heroku shows tokens once).
//   - DeleteAuthorization takes "already gone" (404) as success.
//   - Errors are *httpx.APIError values (Surface "heroku") whose Message is
//     Heroku's "id: message" and whose Remedy names the fix; IsNotFound,
//     IsForbidden, IsUnauthorized and IsRateLimited classify them. No
//     error, String or fmt rendering of a type of this package contains
//     the API key, a token or a config var value.
package heroku
