// Package awssrv is a local AWS endpoint for the parts of STS, IAM and SSM
// that handoff uses: sts:AssumeRole and GetCallerIdentity; iam:CreateRole,
// GetRole, DeleteRole, TagRole and the role inline-policy calls
// (Put/Get/List/DeleteRolePolicy); ssm:GetParameter, GetParameters and
// GetParametersByPath. It answers with AWS's own protocols (Query with XML
// for STS and IAM, JSON 1.1 for SSM), error codes, statuses and messages,
// checked against the botocore models in shared/contracts.
//
// It owns:
//   - the state of one account: IAM users with long-term AKIA keys and
//     inline policies, roles with trust policies, inline policies and
//     MaxSessionDuration, STS role sessions (ASIA keys, session tokens,
//     session policies, tags, source identity, issue and expiry times) and
//     SSM parameters; its JSON form for `handoff dev -state`; read-only
//     inspection for tests (Sessions, RolePolicies, Decisions,
//     RequestCount);
//   - SigV4 verification of every request, recomputed with the AWS SDK's
//     own signer from the headers the client signed, with AWS's errors for
//     each failure (MissingAuthenticationToken, IncompleteSignature,
//     InvalidClientTokenId, ExpiredToken, SignatureDoesNotMatch with
//     "Signature expired" outside a 5-minute window; in SSM the
//     UnrecognizedClientException, InvalidSignatureException, … forms);
//   - authorization of every request by IAM policy evaluation at request
//     time (package iameval): a role session is allowed only when the
//     role's current policies and its session policy allow and nothing
//     denies, so a Deny added to a role cuts its live sessions at once;
//   - the per-account rate limits of each service (throttle.go) and the
//     service's error body for devkit's injected faults.
//
// Every operation is registered on a devkit router as
// "POST /<service>/<Operation>" (AWS serves everything at "/"), so the
// kit's counters, faults and latency apply per operation. Time comes from
// the devkit clock: sessions expire, and signatures age, by advancing it.
// Answers carry a Date header on that clock, from which the AWS SDKs
// correct their own clock after a "Signature expired" answer, as they do
// against AWS.
//
// Nothing here logs a secret. Secret keys, session tokens and parameter
// values are kept in memory and in MarshalState's output only, which the
// caller must store with mode 0600.
package awssrv
