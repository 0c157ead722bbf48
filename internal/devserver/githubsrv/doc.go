// Package githubsrv is a local GitHub REST API server: the parts of
// api.github.com that handoff uses, answered with GitHub's own paths, status
// codes, error bodies, headers, pagination and rate limits, so that clients
// can be developed and tested with no GitHub account and no network.
//
// It owns:
//
//   - one GitHub App (id, client id, RSA key pair) authenticated with JWTs
//     checked as GitHub checks them: RS256 only, `iss` the App id or client id,
//     `iat` and `exp` required, at most ten minutes of life, 60 s of skew;
//   - the App's installations on organizations, with their repositories
//     (repository_selection "all", or "selected": only those an owner
//     picked, which SetRepositorySelection changes as an owner would, with
//     effect at once) and permissions, and the installation access tokens
//     minted from them
//     (`ghs_` tokens narrowed to repositories and permissions, one hour of
//     life, revocable with DELETE /installation/token);
//   - static "Actions" tokens that behave like a workflow's GITHUB_TOKEN;
//   - repositories, issues (opened, listed by label, state and creator,
//     edited, closed and reopened with a state_reason, their labels created
//     on first use), pull requests and issue comments; the issue routes are
//     in no contract file and follow GitHub's REST documentation;
//   - an organization's fine-grained personal access tokens "made by hand"
//     and the requests to approve them (GitHub has no API that creates a
//     fine-grained PAT, and neither does this server);
//   - primary rate limits per credential (installation, App, Actions token,
//     client address) on a window reset by the server clock, and GitHub's
//     secondary limits on every route: requests in flight per credential,
//     points per minute per credential and endpoint (reads 1, writes 5),
//     content creation per minute and per hour; all at GitHub's values
//     unless the fixture's RateLimits say otherwise.
//
// A Server is built from a Fixture (DefaultFixture or a JSON file), serves
// HTTP both at the root, as api.github.com does, and under the GitHub
// Enterprise Server prefix /api/v3, and saves and restores its whole state as
// JSON (MarshalState, RestoreState). Time always comes from the devkit clock,
// so tests expire tokens by advancing it.
//
// Nothing in this package logs or returns a minted installation token after
// the response that created it: the server keeps SHA-256 fingerprints only.
// The App's private key and the Actions tokens are configuration, returned by
// AppPrivateKeyPEM and ActionsToken and kept in MarshalState's output, which
// must therefore be written with mode 0600.
package githubsrv
