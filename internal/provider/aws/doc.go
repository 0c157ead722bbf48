// Package aws is handoff's layer over the AWS SDK for Go v2 for the aws
// surface: it mints one STS session per handoff and revokes a handoff's
// sessions on its role.
//
//   - Config and New load the SDK's standard credential chain
//     (environment, shared config and profiles, web identity as GitHub
//     Actions OIDC provides it, container and instance roles), a region,
//     an optional endpoint (the local server of `handoff dev`, plain http
//     only on loopback) and an injectable *http.Client.
//   - AssumeRole calls sts:AssumeRole with the handoff's session name,
//     source identity (so CloudTrail names the handoff), session tags and
//     compiled session policy, at most one hour. Credentials never render
//     their secret key or token in any fmt verb, log or JSON.
//   - DenySessions and DenyEntries keep one inline policy on each role
//     with a Deny per revoked handoff ("aws:SourceIdentity" equals the
//     slug and "aws:TokenIssueTime" is before the revocation): AWS's
//     "revoke older sessions" pattern narrowed to one handoff. Entries
//     that can no longer match a live session are pruned, and the document
//     is kept within IAM's 10,240-character limit or the call says why not.
//   - policy.go holds the IAM policy document types (compact JSON) and the
//     size helpers the session-policy compiler uses.
//
// Errors are *Error values (also *httpx.APIError) naming the operation,
// AWS's error code and message, and a remedy; they match sentinels such as
// ErrAccessDenied with errors.Is. No error, String or %v output of this
// package ever holds a secret access key or a session token, and access key
// ids in AWS's messages are masked.
//
// The local AWS server (internal/devserver/awssrv) is the test oracle: its
// policy evaluator shares no code with this package.
package aws
