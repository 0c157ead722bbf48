// Package iameval parses and evaluates AWS IAM policy documents the way the
// local AWS server (awssrv) authorizes every request: identity-based policies
// (a user's or a role's inline policies), session policies passed to
// sts:AssumeRole, and role trust policies (the resource-based policy of
// sts:AssumeRole).
//
// It owns:
//   - validation with IAM's MalformedPolicyDocument messages (syntax, Effect,
//     Action/NotAction, Resource/NotResource, Principal rules per kind of
//     policy, Sid format and uniqueness, condition operators);
//   - matching: case-insensitive actions with '*' and '?', ARNs matched
//     component by component, policy variables such as ${aws:username};
//   - conditions: the String, Numeric, Date, Bool, Arn, IpAddress and Null
//     operator families, their IfExists forms and the ForAnyValue and
//     ForAllValues set qualifiers, over a request context whose keys
//     (aws:SourceIdentity, aws:TokenIssueTime, aws:PrincipalTag/<k>, ...)
//     are case-insensitive;
//   - the same-account decision: an explicit Deny anywhere wins; otherwise
//     the identity-based policies must allow, and so must the session policy
//     when there is one; a trust policy that names the caller directly allows
//     on its own.
//
// It is the test oracle for handoff's own policy documents
// (internal/provider/aws), so it shares no code with them.
package iameval
