// Package aws is the aws surface: an STS session of a role an operator
// prepared for handoffs, narrowed by an inline session policy that handoff
// compiles from the spec, written to the handoff's folder as
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
// AWS_REGION, and revoked with a Deny on the role.
//
// # The block and the policy
//
// An aws block names the role (role_arn), typed grants a reviewer can read
// (ssm_read: SSM parameter paths; s3_read: S3 prefixes; sqs_send: SQS
// queues; region), a raw session_policy as an escape hatch, and the
// session's duration (15m to 1h). Policy lists the roles handoffs may
// assume (aws_role_arns, none by default) and bounds each typed grant
// (aws_ssm_read_roots, aws_s3_read_prefixes, aws_sqs_send_queues); the
// raw policy may hold no "*", "service:*" or NotAction allow (H1), and the
// compiled policy must fit STS's 2,048 characters and packed size. Compile
// turns a grant into one deterministic policy document, which the plan
// shows (compiled_policy, one statement per element, so that a new
// statement is an escalation) and the record keeps.
//
// # Minting
//
// sts:AssumeRole with RoleSessionName and SourceIdentity set to the slug
// (CloudTrail names the handoff; the revocation matches it), the session
// tag handoff=<slug>, DurationSeconds of the block's duration cut to what
// is left of the handoff (never under STS's 900 seconds), and the compiled
// session policy. The session expires within the hour, so the surface is
// Expiring: it is minted again ahead of expiry, like a GitHub token.
//
// # Checked before minting
//
// A plan that would mint a session (create, replace, refresh) reads each
// distinct role once with the provisioner's credentials (CheckPlanLive:
// iam:GetRole, which apply makes anyway), so that credentials AWS refuses
// or a role the provisioner cannot read fail the plan, not the apply. A
// plan with no AWS identity at all (a pull request's plan job) warns
// instead; apply reads the role again before anything of a handoff is made
// (CheckMint), once per role a run.
//
// # Revoking
//
// STS cannot end one session. Each role holds an inline policy,
// "handoff-revocations", with one statement per revoked handoff: Deny
// everything to sessions whose aws:SourceIdentity is the slug and whose
// aws:TokenIssueTime is before a date (package provider/aws writes it,
// pruning entries older than the longest session the role allows). It
// ends the handoff's live sessions at once and touches no other handoff.
//
//   - A create or refresh mints first, then dates the handoff's entry to
//     the new session's issue time, read from AWS's answer (its expiry
//     less its length): the session it replaces dies, and so does any
//     session a stopped run minted and lost, while the new one lives
//     whatever the skew between this clock and AWS's.
//   - A revocation (revoke, revoke -surface aws, the TTL's end, a deleted
//     spec, a replace) dates the entry to now, on the recorded role and on
//     the spec's.
//
// So nothing is untraceable: a session lost in a crash is found by its
// source identity, the slug, and the next create, refresh or revocation of
// the slug ends it. The one thing no name finds is the role of a session
// whose run stopped before its manifest was written and whose spec was
// then deleted: nothing records it; that session, whose secret never left
// AWS's answer, ends at its expiry.
//
// # Who writes the revocation policy
//
// It is a read-modify-write of one document (IAM has no conditional
// write). Within a process, a lock per role serializes it (apply works on
// many handoffs at once). Across processes, apply's lock (PROVISION_LOCK)
// serializes every apply and revoke of one repository. Each write is read
// back, and written again once if another writer removed the entry; two
// repositories sharing one role are not otherwise protected, so each
// repository must have roles of its own (docs/vendors/aws.md).
package aws
