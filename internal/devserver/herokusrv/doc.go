// Package herokusrv is a local Heroku Platform API (version 3) server: the
// parts of api.heroku.com that handoff uses, answered with Heroku's paths,
// status codes, error bodies, headers, list ranges and rate limit, so that
// the Heroku surface can be developed and tested with no Heroku account.
//
// It serves every link of shared/contracts/heroku.schema.json: OAuth
// authorizations (create, list, info, update, delete, regenerate-tokens),
// apps (info, list), config vars (info, update), the account, an app's
// collaborators, a team's members and the team app permissions.
//
// It owns:
//
//   - accounts with long-lived API keys (one marked as the provisioner),
//     teams with admin, member and collaborator roles, apps owned by a team
//     or an account, their config vars (secret values) and collaborators
//     with team app permissions (view, deploy, operate, manage);
//   - OAuth authorizations with Heroku's scopes (global, identity, read,
//     write, read-protected, write-protected), an expires_in counted on the
//     devkit clock, tokens shown in the answers to create and
//     regenerate-tokens only and refused the moment their authorization is
//     deleted or expires; a token acts as its account, limited by its scope
//     and by the account's app permissions (see auth.go);
//   - Heroku's rate limit: a pool of 4,500 request tokens per account,
//     refilled continuously at 4,500 an hour, RateLimit-Remaining on every
//     answer and 429 rate_limit when empty (SetRateLimiting turns it off);
//   - list ranges (Range, Content-Range, Next-Range, 206), ETags with
//     If-None-Match, Request-Id, and the API version check.
//
// Heroku's behaviour as implemented here, and where it comes from:
//
//   - Accept must name application/vnd.heroku+json with version=3; without
//     a version Heroku answers 400 {"id":"missing_version","error":...}
//     (with "error", not "message": quoted from real answers in public
//     issue reports). Another version gets 406 not_acceptable (Heroku's
//     error table; the exact message is ours).
//   - Authorization: Bearer TOKEN, or Basic with the token as password (the
//     user, an email for Heroku's CLI, is not checked). A bad, revoked or
//     expired credential is 401 {"id":"unauthorized","message":"Invalid
//     credentials provided."}.
//   - An app the caller cannot reach is 403 forbidden "You do not have
//     access to the app NAME." and an unknown one 404 not_found "Couldn't
//     find that app.".
//   - Ranges default to 200 items and are capped at 1000 (Platform API
//     reference); a start written "]x" is exclusive (Heroku's pagination
//     notes).
//
// Where Heroku's behaviour is not documented the server chooses, and says so
// in a comment: the wording of scope and permission refusals and of
// validation errors, the descriptions of /teams/permissions, that write
// scopes imply the matching read scopes, that deploy or manage (not view or
// operate) allow config vars, and that requests without a valid credential
// spend tokens from their client address's pool.
//
// A Server is built from a Fixture (DefaultFixture, WideReachFixture or a
// JSON file) and saves and restores its whole state as JSON (MarshalState,
// RestoreState). The server keeps SHA-256 fingerprints of OAuth tokens, never
// the tokens; API keys and config vars are configuration and are in
// MarshalState's output, which must be written with mode 0600. Nothing here
// logs.
package herokusrv
