// Package github is the github surface: a GitHub App installation token
// narrowed at mint time to the spec's one repository and its permissions,
// written to the handoff's folder as GH_HANDOFF_TOKEN.
//
// GitHub fixes a token's life at one hour and revokes one only when given
// the token itself (DELETE /installation/token): the vault copy is the only
// means of revocation. So the mint is the surface's one Untraceable step,
// and apply writes the value to the vault right after it. A process killed
// between the mint and that write leaves a token nobody can revoke; it
// reaches one repository with the spec's permissions and dies within the
// hour (see package apply).
//
// Everything about the surface lives here: its block in specs (repository,
// permissions), its block in handoff.hcl (the App: api_url, app_id), its
// policy (the github_permissions ceiling, the permissions no handoff may
// ever hold, H1; the github_owners whose repositories specs may name, with
// no default, and the github_repositories patterns within them), the App's
// installations as live state (one listing per plan) and the plan-time
// checks against them (the 422 of apply caught at plan time: permissions
// against the listing, and, one request per repository a change mints for,
// the installation's repository selection), the token's expiry as drift,
// its life fixed by GitHub for the dispatch gate, and verification with
// the token itself.
package github
