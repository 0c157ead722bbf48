// Package cloudflaresrv is a local Cloudflare API server: the user API token
// routes and the zone listing that handoff uses, answered under /client/v4
// with Cloudflare's paths, envelope (success, errors, messages, result,
// result_info), status codes, error codes and rate limit, so that the
// Cloudflare client can be developed and tested with no account and no
// network.
//
// It owns:
//
//   - one user, member of the fixture's accounts, with their zones and a
//     catalogue of permission groups with stable ids and scopes
//     (com.cloudflare.api.account.zone, com.cloudflare.api.account,
//     com.cloudflare.api.user);
//   - user API tokens: created with a body validated as Cloudflare
//     validates it (name, policies of effect, resources and permission
//     groups, not_before and expires_on, condition.request.ip), whose value
//     is shown once; read, updated, rolled, deleted and verified. Every
//     route enforces the caller's token: unknown, deleted, disabled, expired
//     or not yet valid tokens (on the devkit clock) are refused, the token's
//     request.ip condition is checked against the peer address, and each
//     operation requires its permission group (API Tokens Read or Write on
//     the user, Zone Read, DNS Read, DNS Write on a zone) with deny policies
//     taking precedence over allow;
//   - GET /zones with its filters, ordering and pagination, listing only the
//     zones the caller's token reaches;
//   - Cloudflare's per-user rate limit (1,200 requests per five minutes,
//     shared by all of the user's tokens) with its 429 answer and the
//     Ratelimit, Ratelimit-Policy and retry-after headers;
//   - the state's JSON form (MarshalState, RestoreState) and read-only
//     inspection helpers for tests of other packages.
//
// The contract subset (shared/contracts/cloudflare.openapi.json) holds nine
// operations: the user token routes and GET /zones. So that least-privilege
// tests mean something for zone and DNS permission groups too, the server
// also answers GET /zones/{zone_id} (Zone Read) and GET and POST
// /zones/{zone_id}/dns_records (DNS Read, DNS Write). Those three are
// OUTSIDE the contract: they follow Cloudflare's documented shapes, but
// minimally (records of type A, AAAA, CNAME, TXT, MX and NS; no update or
// delete, no batch, no import).
//
// The client address that request.ip conditions see is the peer address of
// the connection (Cloudflare does not trust a client's X-Forwarded-For);
// tests that play other clients set httptest requests' RemoteAddr.
//
// Secrets: minted token values are returned once, by the create and roll
// answers, and otherwise kept only as SHA-256 fingerprints. The values of
// the fixture's tokens (the provisioner's) are configuration: returned by
// ProvisionerToken and kept in MarshalState's output, which must therefore
// be written with mode 0600. Nothing here logs a token.
//
// Where Cloudflare's behaviour could not be established from its
// documentation, its SDKs or answers quoted in public issue threads, the
// server makes a choice, marked "Chosen:" in a comment where it is made.
package cloudflaresrv
