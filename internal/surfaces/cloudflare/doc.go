// Package cloudflare is the cloudflare surface: a Cloudflare user API token
// minted for each handoff, limited to the spec's zones and permission
// groups, expiring with the handoff (or sooner, at the end of the block's
// ttl), optionally usable only from the spec's request_ip ranges, written
// to the handoff's folder as CLOUDFLARE_API_TOKEN.
//
// The provisioner token (CLOUDFLARE_API_TOKEN in apply's environment)
// holds API Tokens Write on its user, to create, list, read and delete
// tokens, and Zone Read on the zones handoffs may use, so that the zones a
// spec names resolve to ids (Cloudflare lists a zone only to a token that
// holds a permission on it). See docs/vendors/cloudflare.md.
//
// What is minted, in one step: POST /user/tokens with one allow policy of
// the spec's permission groups (resolved by name in the catalogue, GET
// /user/tokens/permission_groups, zone-scoped ones only) on the spec's
// zones (resolved with GET /zones), expires_on at the token's end in whole
// seconds, and condition.request.ip.in when request_ip is set. What
// Cloudflare granted is compared with what was asked, and a wider token is
// deleted at once.
//
// Every token is named "handoff-<slug>": a run that crashed after the mint
// and before the vault write leaves a token the next run finds by name in
// the user's token list (read once per plan, with the zones and the
// catalogue: state.LiveReader) and deletes (Leftovers, Revoke's sweep).
// Nothing here is Untraceable. Deletion (DELETE /user/tokens/{id}) ends a
// token at once; already gone is success. The provisioner's own token is
// never swept, whatever its name.
//
// Everything about the surface lives here: its block in specs (zones,
// permission_groups, ttl, request_ip), its policy (the ceiling
// cloudflare_permission_groups, the allowlist cloudflare_zones, empty by
// default, and the permission groups no handoff may ever hold, H1), the
// plan-time checks against the live state (a zone the provisioner does not
// see, a group not in the catalogue or not of zones, the user's quota of 50
// tokens), the token's expiry as a reason to refresh (Expiring), a token
// deleted out of band (Vanishing), and verification with Cloudflare: the
// token's policies compared with the record, and the vault's token
// verified with itself.
package cloudflare
