// Package github is handoff's client for exactly what it needs from GitHub's
// REST API: the App and its installations, installation access tokens minted
// narrowed to one repository and a spec's permissions (and revoked), the
// reads that prove such a token is refused outside its scope, an
// organization's fine-grained personal access tokens (list and revoke: GitHub
// has no API that creates one, and neither has this package), and the pull
// request comment that carries a plan.
//
// It is built on google/go-github for requests, pagination, rate-limit
// headers and error bodies, over internal/provider/httpx for retries, and
// authenticates as the App with a JWT it signs itself with golang-jwt. We
// decided against bradleyfalzon/ghinstallation: it pulls a newer go-github
// than ours and mints installation tokens behind the caller's back, while
// handoff must narrow every token at mint time and record what it minted
// (expiry, fingerprint, repositories, permissions) in the manifest.
//
// Where go-github's typed structs would lose information handoff relies on
// (its InstallationPermissions has no field for
// organization_personal_access_tokens, v62 has no fine-grained PAT endpoints),
// requests go through go-github's NewRequest and Do with small wire structs of
// this package; the public API uses this package's own small types only.
//
// Rate limits: every request goes through the pacer of internal/provider/pace
// with the model of Config.RateLimits (for api.github.com: at most 100
// requests in flight, 900 points a minute per endpoint, a GET 1 and a write 5,
// and each credential's hourly limit as its x-ratelimit-* headers say). A 429
// or secondary-limit 403 is waited out and repeated, a write too (GitHub did
// not act). go-github's own guard, which refuses requests on the wall clock
// after an answer that exhausted a limit, is kept from seeing those headers,
// so that the pacer decides; the App's JWT is signed when a request goes out,
// after any wait.
//
// Secrets: the App's private key, its JWTs and every installation token stay
// out of errors, String and Format output and slog values. Token and Client
// print fingerprints (manifest.Fingerprint) at most.
package github
