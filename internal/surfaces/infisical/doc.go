// Package infisical is the infisical surface: the handoff's own machine
// identity, through which the agent reads its folder and the spec's read
// paths, and nothing else.
//
// What is created, in order (each a step):
//
//   - the identity "infisical-handoff_<slug>" (a slug that ends in a date),
//     else "infisical-handoff_<slug>_<YYYYMMDD>" (IdentityName), with
//     organization role no-access and the metadata {handoff-slug: <slug>};
//   - universal auth with 15-minute access tokens (TTL = max TTL = 900 s:
//     no renewal beyond one life);
//   - one client secret, described "handoff <slug>", whose ttl ends at the
//     handoff's expiry;
//   - project membership with role no-access (no standing read);
//   - ONE temporary additional privilege, slug "handoff-<slug>", from now
//     until the handoff's expiry, of read on its own folder
//     "<root>/<slug>/**" and on the spec's read paths (infisical.ReadRules).
//
// INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET are returned for the
// folder. Infisical itself ends the access at expiry (the client secret's
// ttl and the privilege's range are enforced by the server) even if no apply
// runs; apply still revokes explicitly.
//
// Everything is found again by the identity's deterministic name, and
// deleting the identity ends its client secrets, membership and privilege:
// nothing here is Untraceable.
//
// The privilege never grants the read paths of Request.Withhold: the key
// paths of surfaces read by reference (the financial keys) that an
// operator killed. Killing one of them narrows the privilege in place
// (Regrant: PATCH of its rules, same id, same temporary window; the
// identity and its client secret are kept), so that the identity is refused
// the key at once; once the kill is lifted (handoff untombstone), the next
// apply widens it again the same way.
//
// Everything about the surface lives here: its block in specs (environment,
// read), its policy (vault_read_roots, vault_read_environments and the
// rules of read paths: strictly below the handoff's own folder or an
// allowed root, never another handoff's folder, H2), the identities named
// for handoffs as live state (one listing per plan), an identity deleted
// out of band as drift, the in-place change of the privilege (Regranter),
// and verification of the identity, its privilege and its client secrets.
package infisical
