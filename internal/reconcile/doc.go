// Package reconcile computes a plan: it diffs the specs of a repository
// against the live state read by package state and says, per handoff and
// per surface, what apply will do (create, refresh, replace, revoke, no-op)
// and why.
//
// Plan is pure: no I/O, no clock (the caller passes Now), so the same specs
// and state always give the same plan. Problems a user must fix before
// apply (a surface this build cannot provision, an App installation that is
// missing or cannot grant a permission: the 422 of apply caught at plan
// time) are hcl diagnostics pointing at the spec, never panics.
//
// The rules, in order of precedence for one slug:
//
//   - a tombstoned manifest (manual revoke) is never minted again: no-op;
//   - an untombstoned one (its revocation lifted by handoff untombstone)
//     whose spec exists: create (replace, revoking leftovers first, when a
//     journal or an identity named for the slug is there); apply writes a
//     new manifest that carries the old one's history;
//   - a revoked manifest: no-op (a journal left by the revocation is
//     revoked again);
//   - a corrupt manifest: replace (revoke what the deterministic names
//     find, create again), or revoke when the spec is gone;
//   - a journal without a manifest (a crashed apply): replace, or revoke
//     when the spec is gone;
//   - an active manifest past expires_at: revoke, even if the spec exists;
//   - an active manifest without a spec: revoke;
//   - an active manifest beside the journal of a revocation (operation
//     "revoke": one that stopped part-way): revoke, to finish it, never
//     refresh; for a kill of some surfaces (the journal's record names
//     them) only those, the rest kept as they are;
//   - an active manifest whose spec digest differs: replace, with the
//     privilege deltas marked as escalations;
//   - an active manifest whose spec digest differs while some of its
//     surfaces are killed (`handoff revoke -surface`): frozen. The changed
//     spec is not applied (that would mint under an operator's kill) and
//     nothing is minted under the old one either: no refresh, no repair,
//     no replace. The handoff keeps the spec digest and the expiry it was
//     applied with, the gate refuses it (the digests differ) and what it
//     holds runs out; only what narrows is planned: the recorded read
//     paths less those the kills withhold, and the revocation of what a
//     stopped run left of a killed surface (a journal is cleared, minting
//     nothing). A warning, "handoff X has killed surfaces; its spec
//     changed", says the way out: handoff untombstone (the next apply
//     replaces the whole handoff with the new spec, under a new TTL) or a
//     new slug;
//   - otherwise drift: a GitHub token that expires within RefreshWindow, a
//     secret missing from the folder (refresh), an identity deleted out of
//     band (replace of the infisical surface). A surface killed by hand
//     (`handoff revoke -surface`) is a no-op that says so, whatever its
//     expiry: it is never minted again until untombstoned; what a leftover
//     journal may have left of it is revoked. The identity's read paths
//     must be its folder and the spec's less the key paths of killed
//     surfaces read by reference (WithheldPaths): a difference is an
//     infisical refresh that changes the privilege in place and writes no
//     secret (a kill to finish narrowing, or a lifted one to widen back,
//     shown as an escalation);
//   - a spec with no folder: create.
//
// A new TTL starts, and a new spec digest is recorded, only when a handoff
// is minted whole: a create, or a replace of every surface of the spec
// (with those it dropped revoked). A refresh, a repair (a missing secret,
// an identity deleted out of band) or an in-place change of the privilege
// keeps the manifest's expires_at and spec digest, and what it mints ends
// by that expiry (H3); apply enforces the same rule on any plan it is
// given.
//
// Every plan carries the mass-revocation guard's account
// (plan.RevocationGuard, guard.go): the live handoffs it revokes before
// their TTL ends because their spec is gone, against the policy's
// max_revocations and max_revocation_share. A lost specs/ reads like every
// spec deleted; apply refuses a plan beyond the limits unless told
// otherwise. Expiries and the end of a revocation already under way never
// count.
//
// Besides the diagnostics of the rules, a GitHub App installation that a
// spec uses and that grants a permission no handoff may hold (forbidden by
// policy, or at the admin level) is a warning naming the installation, the
// account and the permissions (H1): tokens are narrowed per handoff
// anyway, but the App is their outer bound.
package reconcile
