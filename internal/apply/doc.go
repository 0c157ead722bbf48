// Package apply carries out a plan: it mints, writes, refreshes and revokes
// the credentials of handoffs, so that after a run the vault, Infisical and
// GitHub hold exactly what the specs ask for, and nothing outlives its spec
// or its TTL.
//
// # Order
//
// A create runs, each remote write announced on Progress (stderr) as
// "step i/n: <what> (<slug>)", never with a value:
//
//  1. ensure the folder <root>/<slug>/;
//  2. write the journal PROVISION_JOURNAL in it;
//  3. the handoff's Infisical identity: identity, universal auth, client
//     secret, project membership (no-access), temporary privilege;
//  4. record in the journal that a GitHub mint is in flight, then mint the
//     installation token narrowed to the spec's repository and permissions;
//  5. write GH_HANDOFF_TOKEN (first: it closes the mint's window),
//     INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET;
//  6. write PROVISION_MANIFEST, last: it is the dispatch gate's signal;
//  7. delete the journal.
//
// A refresh (a token within the refresh window while the handoff lives)
// reads the old token from the vault, revokes it with itself (already gone
// is fine), mints a new one, writes it and rewrites the manifest with the
// token's new expiry, fingerprint and a history event. A revocation (TTL passed,
// spec deleted, or `handoff revoke`) ends, in order, the GitHub token (with
// itself), the client secret, the privilege, the membership and the
// identity, deletes the secrets of the folder, then rewrites the manifest
// as `revoked` with a Revocation record.
//
// # The TTL and the spec digest stay until a replace
//
// A handoff never outlives the TTL it was applied with (H3), and its
// manifest never names a spec whose grants were not minted. So a run on an
// active handoff (a refresh, a repair of a missing secret or of an
// identity deleted out of band, an in-place change of the privilege, the
// revocation of what a stopped run left) keeps the manifest's expires_at
// and spec digest, and everything it mints is bounded by that expires_at
// (a client secret's TTL, a new privilege's window). Only a replace of the
// whole handoff with a changed spec (every surface of the spec minted
// again, those it dropped revoked, nothing killed) starts a new TTL and
// records the new digest. A handoff whose spec changed while some of its
// surfaces are killed is frozen (reconcile plans nothing that mints):
// apply refuses, before any write, a plan that would mint for it anyway
// (an older build's), and does only what mints nothing: the revocation of
// a killed surface's leftovers and the narrowing of the privilege from its
// record. handoff untombstone, then apply, replaces it whole with the new
// spec.
//
// # The revoked manifest is kept
//
// A revocation keeps PROVISION_MANIFEST (status revoked, with who, when and
// why) and therefore the folder: it is the audit record that outlives the
// credentials (ids, fingerprints, expiries, the history of every action),
// and it is how a revoked slug stays revoked: the planner never mints a slug
// whose manifest is revoked, so a revoked handoff cannot come back by
// accident (a new slug, or `handoff untombstone` after a manual revoke, is
// the way). It holds no secret, and the handoff's identity that could read
// the folder is gone.
//
// A manual revoke is a tombstone: apply never mints that slug again until
// Untombstone. It writes the tombstone first, before touching any
// credential, so that the gate closes at once and a crash in the middle
// cannot lead a scheduled apply to mint again what an operator was killing.
// It takes no lock (see "The kill switch and the fence").
// Its journal carries the revocation record (every revocation's does): an
// apply that finds it beside a manifest still active finishes that
// revocation (reconcile plans revoke for what it names, never refresh),
// and a surface killed on its own (`handoff revoke -surface`, recorded as
// Revocation.Surfaces on the active manifest) stays a no-op, never minted
// again, until untombstoned.
//
// # Killing a surface read by reference
//
// stripe, apple_iap and alpaca mint nothing: the task reads a
// pre-provisioned key through its own Infisical identity's read paths,
// which their manifest entry records as key_paths. Killing one of them on
// its own therefore narrows that identity's privilege, in place (the
// infisical surface's Regrant: a PATCH of its rules keeping its id, slug
// and temporary window), to its folder and the spec's read paths less the
// killed surfaces' key paths (reconcile.WithheldPaths, passed to every
// surface as Request.Withhold); the identity and its client secret are
// kept, so the task keeps what was not killed. The kill's run is: journal,
// tombstone (the kill recorded), "update privilege read paths in place",
// manifest (the infisical entry's read_paths shrink, with a history event),
// journal deleted; a stopped run is finished by the next apply like any
// kill, and the PATCH sets fixed values, so repeating it is harmless.
// While the kill holds, every grant apply makes leaves those paths out (a
// new identity after one was deleted out of band included), and a plan
// whose recorded read paths still reach them (a kill recorded by an older
// build) narrows them. After untombstone the plan shows an infisical
// refresh with the escalation ("wider vault path …") and apply widens the
// privilege back the same way, minting nothing. When the infisical surface
// itself is killed there is no identity left to narrow.
//
// # Untombstone keeps the record
//
// Untombstone never deletes a manifest. For a tombstone (status revoked,
// kind manual) it sets Revocation.UntombstonedAt and appends an
// untombstone event: the manifest stays revoked, so the gate stays closed
// and the record (who revoked, when, why, and who lifted it) is intact;
// reconcile plans a create for a lifted tombstone whose spec exists (a
// replace, revoking leftovers first, when a journal or anything named for
// the slug is there); apply then writes a new, active manifest whose
// history starts with the revoked one's. A lifted tombstone whose spec is
// gone stays a no-op; `handoff revoke` on it writes a tombstone again. For
// a kill of some surfaces of an active handoff, the kill record
// (Revocation) is removed and the untombstone event appended: the next
// apply mints the killed surfaces again. (A status of its own for a lifted
// tombstone was not needed: "revoked" stays true of what is live, and the
// one optional field keeps older manifests valid.)
//
// # Crash safety: the journal
//
// Before its first remote write for a handoff, apply writes a journal secret,
// PROVISION_JOURNAL, in the handoff's folder: the operation, the slug, the
// identity name, when it started and the steps it intends. Remote objects
// are found again by deterministic names: the identity is
// "infisical-handoff_<slug>[_<YYYYMMDD>]" and deleting it ends its client
// secrets, membership and privilege; a GitHub token whose value reached the
// vault is revoked with itself. So the journal is updated only before a step
// whose product could be found neither way (provider.Step.Untraceable: the
// GitHub mint), recording that it is in flight. The next apply that finds a
// journal without a matching, finished manifest revokes the leftovers (the
// identities named for the slug, the token in the folder, the folder's
// secrets) and proceeds; leftovers are revoked rather than adopted, because
// the values of what was minted may never have reached the vault.
//
// One window cannot be closed: a GitHub token minted by a process killed
// before the value reached the vault cannot be revoked by anyone (GitHub
// revokes a token only with the token itself, and lists none). It is
// narrowed to one repository and the spec's permissions, and GitHub ends it
// within the hour. The journal records that the mint was in flight; the next
// apply reports it in its Report and in the manifest's history, and
// PendingMints lets `handoff verify` report it until it expires.
//
// A run that fails for any other reason (an API error, an injected failure
// that is not ErrCrash) compensates in memory before returning: the token it
// just minted is revoked, the identity it just created deleted. The journal
// stays, and the next apply converges.
//
// # The lock
//
// A lease secret PROVISION_LOCK in <root>, {owner, acquired_at, expires_at},
// keeps two applies from minting at once (Revoke takes none). Creating it is
// atomic (Infisical answers 400 "already exists" to the second creator); a
// lease past its expiry is taken over with an update whose version number
// must be the one read plus one (a compare-and-swap on Infisical's secret
// versions); the holder renews it every TTL/3 and checks it is still its own
// (owner and version). A holder never acts on a lease that may have lapsed:
// when the lease is another's, or could not be renewed and the run's clock
// reaches its expiry minus a margin (TTL/6, at least 1 s, at most TTL/3),
// the run's context is cancelled with the reason ("apply: lost the lock: …;
// stopping; the next apply converges from the journals") and each handoff
// stops at its next step. Infisical has no conditional delete, so the
// release is safe by time: it reads the lease and deletes it only if it
// holds this run's owner and the version of its last write, and only while
// the lease has more than the margin left (nobody takes a lease over before
// its expiry); a lapsed lease, or one written since, is left to expire. A
// second apply fails at once ("another apply holds the lock: owner …, until
// …") or waits up to LockOptions.Wait. A plan with no changes takes no lock
// and sends no request at all.
//
// Under the lock, apply reads the live state again and refuses the plan
// when its fingerprint or the specs' digest differ from the plan's
// (ErrStalePlan): what was approved is exactly what is applied. With
// Deps.Replan (handoff apply without a plan file, whose plan went stale
// while it waited: another apply ran), it plans again from that state
// instead, has the new plan confirmed (Deps.Confirm) and applies it.
//
// # The kill switch and the fence
//
// Revoke takes no lock: an emergency revocation never waits for an apply,
// running or killed -9. It reads the live state, writes its journal (unless
// another run's journal is in the folder while a lease is valid: an apply
// may be working on the handoff, and its record of a mint in flight must
// stay) and the tombstone, then revokes; a slug with nothing yet but a spec,
// while an apply holds the lock, gets a tombstone built from the spec (the
// apply may be creating it). A kill's manifest writes (Revoke's, and an
// apply's finishing an operator's kill) read the manifest first and, when
// another run wrote it since, merge into it: a tombstone is never weakened,
// kills of some surfaces add up, history is kept.
//
// An apply fences each handoff's run: right before each step that mints or
// commits (the first step of each surface operation, the GitHub mint, the
// first secret written, the manifest), it checks that the handoff's
// manifest is still at the version the run read or last wrote (one listing
// of the root, names and versions only, serves every check waiting at that
// moment). A manifest written by someone else means a kill: the run stops
// (KilledError), mints nothing more, and undoes what it minted, since it
// holds those values and nobody else can revoke a token that never reached
// the vault. A grant it changed in place, which nothing undoes, it sets
// again from the manifest's records less what the kill withholds.
//
// Infisical has no conditional update, so every manifest write compares
// the version the vault returns with the version read plus one (as the
// lease's takeover does): a write that replaced one it could not see
// (ErrLostUpdate) fails closed: the handoff is revoked whole again, from a
// fresh read, with a record that says why. Only the writer that overwrote
// can tell; what it overwrote may have been a tombstone.
//
// # Audit
//
// Every write names the slug: the folder is the slug's; the identity's name
// and its metadata {handoff-slug: <slug>}, its client secret's description
// and its privilege's slug carry it; every secret apply writes in the
// folder has the comment "handoff <slug>: written by handoff apply" (or
// revoke); the lock and journal name it; and each action appends a history
// event to the manifest (what, which surface, fingerprints, never values).
package apply
