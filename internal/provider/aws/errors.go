package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// Surface is the name errors of this package carry in httpx.APIError.Surface.
const Surface = "aws"

// Sentinel errors, matched with errors.Is. An error that matches one is also
// an *Error (errors.As) with the operation, the AWS code and the remedy.
var (
	// ErrAccessDenied: AWS refused the call (AccessDenied,
	// AccessDeniedException).
	ErrAccessDenied = errors.New("aws: access denied")
	// ErrNotFound: the role or policy does not exist (NoSuchEntity).
	ErrNotFound = errors.New("aws: not found")
	// ErrThrottled: AWS's rate limit (Throttling, ThrottlingException) held
	// after the SDK's retries.
	ErrThrottled = errors.New("aws: throttled")
	// ErrCredentials: the caller's credentials are missing, unknown,
	// expired or do not sign correctly.
	ErrCredentials = errors.New("aws: bad credentials")
	// ErrPolicyTooLarge: a document is over an IAM or STS size limit.
	ErrPolicyTooLarge = errors.New("aws: policy too large")
	// ErrMalformedPolicy: IAM or STS refused a policy document's syntax.
	ErrMalformedPolicy = errors.New("aws: malformed policy")
)

// Error is a failed AWS call: the operation, AWS's error code and message,
// the HTTP status and request id, and a remedy. It never holds a key, a
// secret or a token: access key ids in AWS's message are masked.
type Error struct {
	*httpx.APIError
	// Code is AWS's error code ("AccessDenied", "NoSuchEntity", ...).
	Code     string
	sentinel error
}

// Error reads "aws: OP: CODE: MESSAGE (HTTP 403, request ID); REMEDY".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Surface, e.Op)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	switch {
	case e.Status != 0 && e.RequestID != "":
		fmt.Fprintf(&b, " (HTTP %d, request %s)", e.Status, e.RequestID)
	case e.Status != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Remedy != "" {
		fmt.Fprintf(&b, "; %s", e.Remedy)
	}
	return b.String()
}

// Unwrap exposes the APIError and the sentinel the code maps to.
func (e *Error) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.APIError}
	}
	return []error{e.APIError, e.sentinel}
}

var keyIDRe = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{12,}\b`)

// scrub keeps the first line of a message from AWS and masks the access
// key ids in it. A SignatureDoesNotMatch of some services goes on with the
// canonical request AWS expected, whose signed headers include
// X-Amz-Security-Token: the session token, a secret. The first line says
// what went wrong.
func scrub(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " […]"
	}
	return keyIDRe.ReplaceAllString(s, "$1…")
}

// translate turns an SDK error into an *Error for a person. op is what
// handoff was doing ("assume role", "write revocation policy").
func translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return fmt.Errorf("aws: %s: no answer in time (%w): AWS is slow or unreachable; rerun, or raise the timeout", op, ctxErr)
		}
		return fmt.Errorf("aws: %s: %w", op, ctxErr)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		// Transport failures, credential-chain failures: the SDK's text
		// names files and endpoints, never secrets.
		e := &Error{APIError: &httpx.APIError{Surface: Surface, Op: op, Message: scrub(err.Error())}}
		if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found") {
			e.sentinel = ErrCredentials
			e.Remedy = "no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or web identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, as GitHub Actions OIDC does)"
		}
		return e
	}
	e := &Error{Code: ae.ErrorCode(), APIError: &httpx.APIError{Surface: Surface, Op: op, Method: http.MethodPost, Path: "/",
		Message: scrub(strings.TrimSpace(ae.ErrorCode() + ": " + ae.ErrorMessage()))}}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		e.Status = re.Response.StatusCode
		e.RequestID = re.Response.Header.Get("X-Amzn-Requestid")
		if e.RequestID == "" {
			e.RequestID = re.Response.Header.Get("X-Amz-Request-Id")
		}
	}
	switch e.Code {
	case "AccessDenied", "AccessDeniedException":
		e.sentinel = ErrAccessDenied
		e.Remedy = "the caller lacks a permission: check the provisioner's identity policy and the role's trust policy (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity; iam:GetRole, iam:GetRolePolicy, iam:PutRolePolicy on the handoff roles)"
	case "NoSuchEntity":
		e.sentinel = ErrNotFound
		e.Remedy = "the role or policy does not exist: check the role ARN in handoff.hcl"
	case "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded":
		e.sentinel = ErrThrottled
		e.Remedy = "AWS is rate-limiting this account: rerun in a minute, or spread the handoffs out"
	case "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidSignatureException",
		"IncompleteSignature", "MissingAuthenticationToken", "ExpiredToken", "ExpiredTokenException":
		e.sentinel = ErrCredentials
		e.Remedy = "the AWS credentials are unknown, expired or wrongly signed: refresh them (for OIDC, rerun the job) and check the system clock"
	case "PackedPolicyTooLarge", "LimitExceeded":
		e.sentinel = ErrPolicyTooLarge
		e.Remedy = "a policy is over AWS's size limit: narrow the session policy or its tags, or prune revocations"
	case "MalformedPolicyDocument":
		e.sentinel = ErrMalformedPolicy
		e.Remedy = "AWS refused the policy document: this is a bug in handoff's policy compiler; report it with the plan"
	case "ValidationError", "ValidationException":
		e.Remedy = "AWS refused a parameter: check the role ARN, the session duration (at most the role's MaxSessionDuration) and the slug"
	}
	return e
}
