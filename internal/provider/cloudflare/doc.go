// Package cloudflare is handoff's client for exactly what it needs from
// Cloudflare's API v4: user API tokens (create narrowed to zones and
// permission groups with an expiry and an IP allowlist, read, list, verify,
// delete), the permission-group catalogue and a resolver from names to ids
// and scopes, and zone look-ups by exact name.
//
// It is a small client on net/http through internal/provider/httpx, so it
// shares the retries (429 with retry-after, 5xx on idempotent calls), the
// pacing and the *httpx.APIError of handoff's other clients. We decided
// against github.com/cloudflare/cloudflare-go: v4 (the maintained line) is
// not served by the module proxy, and v0.119.0 brings its own retry loop and
// client-side rate limiter (which would bypass httpx) and a JSON library of
// its own; handoff needs nine calls. The SDK is still used, in the tests of
// internal/devserver/cloudflaresrv, to prove the local server agrees with
// Cloudflare's own client; this package's tests check every request and
// answer against Cloudflare's contract (shared/contracts).
//
// # Behaviour worth knowing
//
//   - Every call runs under a deadline (Config.Timeout, 30 s by default, or
//     the caller's earlier one).
//   - A token's value is a Secret: it prints as [redacted] with every fmt
//     verb, in slog and in encoding/json. It is returned once, by
//     CreateToken; Cloudflare never shows it again.
//   - DeleteToken takes "already gone" (404) as success; IsNotFound tells a
//     404 apart for the other calls, IsInvalidToken a token Cloudflare
//     refuses (unknown, expired, disabled, deleted).
//   - Errors are *httpx.APIError values (Surface "cloudflare") whose message
//     carries Cloudflare's error codes and messages and whose RequestID is
//     the cf-ray; a remedy names what to change. No error, String or %v
//     output of this package ever contains a token value.
//   - ZonesByName makes one GET /zones?name= per name (an exact match; names
//     with ':' are refused, as Cloudflare would read an operator), Zones one
//     listing of every zone the token sees. A zone appears only to a token
//     holding some zone permission on it: API Tokens Write grants none, so
//     the provisioner token also holds Zone Read on the zones handoffs may
//     use (docs/vendors/cloudflare.md).
//   - Self verifies the client's own token, for its id.
//   - The client paces itself to Cloudflare's limit (RateLimits), on the
//     pacer of its httpx.Config.
//   - Cloudflare limits each user to 1,200 requests per five minutes, all of
//     the user's tokens together: the client registers that model on its
//     pacer (RateLimits), which waits rather than go over it; a 429 whose
//     retry-after would pass the deadline is returned with a remedy rather
//     than waited out.
//   - Only user-owned tokens (/user/tokens) are handled; account-owned
//     tokens are not in the contract subset.
package cloudflare
