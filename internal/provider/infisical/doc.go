// Package infisical is handoff's client of the Infisical HTTP API: it logs
// the provisioner in with universal auth, reads and writes secrets and
// folders under the handoff root, and manages the machine identity of each
// handoff (the identity, its universal auth and client secret, its project
// membership and the temporary additional privilege that scopes it to its
// own folder plus the read paths of its spec), and reads the audit log.
//
// # Why not github.com/infisical/go-sdk
//
// The official Go SDK (v0.8.0, the latest release) was evaluated and is not
// used:
//
//   - It calls deprecated routes: secrets through /api/v3/secrets/raw with
//     workspaceId, folders through /api/v1/folders. handoff targets the
//     current routes (v4 secrets, v2 folders) so that it keeps working when
//     the deprecated ones are removed.
//   - It has no machine-identity management at all: no identities, no
//     universal-auth attachment or client secrets, no project memberships,
//     no additional privileges, no audit logs. Those are most of what
//     handoff does; we would need our own client for them anyway.
//   - It brings its own HTTP stack (resty) and retry policy, which would
//     bypass internal/provider/httpx (safe retries of writes, Retry-After,
//     Cloudflare Access headers) and its errors carry no remedy.
//   - Its module pulls the AWS, Azure, GCP and OCI SDKs, gRPC and
//     OpenTelemetry into the build for auth methods handoff never uses.
//
// So this package is a small client on net/http (through httpx) covering
// exactly the calls handoff makes, each checked against the vendor contract
// (shared/contracts/infisical.openapi.json) by the integration tests.
//
// # Behaviour worth knowing
//
//   - Every call is paced to the server's rate limits (Config.RateLimits:
//     Infisical Cloud's per-route limits by class, from the contract's
//     x-rate-limit-class, for infisical.com; none of its own for a
//     self-hosted server, which enforces none) through the pacer of
//     internal/provider/pace, which also obeys the server's x-ratelimit-*
//     headers, 429 and Retry-After. Config.Timeout (30 s by default) bounds
//     each call's time on the network; waits for a limit are bounded only
//     by the caller's context deadline and the pacer's.
//   - CreateSecrets, UpdateSecrets (UpdateExisting, Upsert, IgnoreMissing)
//     and DeleteSecrets write many secrets of a folder in one request
//     (/api/v4/secrets/batch): a secrets route allows about 40 calls a
//     minute on Cloud. They are all or nothing, as the server is; an
//     existing name on create is IsAlreadyExists, a missing one on update
//     or delete IsNotFound, and nothing was written.
//   - UpdatePrivilege sends the privilege's slug, its permissions and its
//     type (with its temporary window), which a real server requires. A
//     422 names the fields the server wanted and is final: a retry would
//     send the same request.
//   - The access token is cached and reused until shortly before it expires
//     (60 s, or half the token's life when that is shorter). A call answered
//     401 or 403 TokenError logs in again once and is repeated.
//   - Deletes and revocations are idempotent: a 404 (already gone) is
//     success.
//   - Errors are *httpx.APIError values naming the operation, the status and
//     a remedy for the known failure modes. No error, String or %v output
//     of a type in this package ever contains a client secret, an access
//     token or a secret value.
//   - Privileges grant the legacy "read" action (describeSecret plus
//     readValue): it is the form observed to work on a running Infisical
//     server (reference "Observed on a running Infisical server") and the
//     one every server version accepts. A handoff's own folder is granted as
//     secretPath {$glob: "<folder>/**"}, which matches the folder itself and
//     everything below it; a spec read path ".../DIR/NAME_*" becomes
//     secretPath {$eq: DIR} plus secretName {$glob: "NAME_*"} (see
//     ReadRules). Listing DIR as the handoff then shows the granted names
//     only.
//   - ListSecrets reads a whole tree (recursive=true) in one request: the
//     planner's way of reading every manifest at once.
//   - EnsureFolder creates the leaf directly (one request when its parent
//     exists; on a 404 it creates the parent first) and takes "already
//     exists" as success; DeleteFolder uses forceDelete, since a handoff's
//     folder holds its secrets.
//   - ListIdentities is one request: GET /api/v1/identities?orgId= has no
//     paging parameters in the contract. It fails rather than return a
//     partial list when the server's totalCount exceeds what it returned.
package infisical
