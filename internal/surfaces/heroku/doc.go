// Package heroku is the heroku surface: an OAuth authorization of the
// dedicated Heroku account handoff runs as (its API key is the
// provisioner's credential), minted per handoff with the spec's scopes
// (never global) and an expires_in at the handoff's expiry (or the block's
// ttl when shorter, refreshed ahead of it), written to the handoff's folder
// as HEROKU_API_KEY; the session also gets the app's name as HEROKU_APP.
//
// Heroku cannot scope a token to one app: a token reaches every app its
// account reaches. So the dedicated account holds team permissions on the
// allowed apps only, the policy lists those apps (heroku_apps), and the plan
// reads the account's reach (GET /apps, every page, once per plan) and
// refuses to mint (a PlanChecker error, which stops apply) when the reach
// exceeds the spec's app and the allowlist, naming the extra apps. Verify
// recomputes the reach and compares the authorization Heroku holds (still
// present, its scope, its expiry) with the record.
//
// Every authorization is described "handoff <slug>": the plan lists the
// account's authorizations once (GET /oauth/authorizations) and finds by
// that description whatever a crash between the mint and the vault write
// left (Leftovers); Revoke and Refresh delete it with the recorded one.
// No step is Untraceable. Revoking deletes the authorization (DELETE
// /oauth/authorizations/{id}, already gone is success): its token is
// refused from then on.
//
// Everything about the surface lives here: its block in specs (app, scope,
// ttl), its policy attribute (heroku_apps), the account's reach and
// authorizations as live state, the plan-time reach check, the token's
// expiry, its leftovers and verification.
package heroku
