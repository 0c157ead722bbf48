package awssrv

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// sessionPolicy is what handoff compiles for "ssm:GetParameter* under
// /raxx/<task>/".
func sessionPolicy(task string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters","ssm:GetParametersByPath"],` +
		`"Resource":["arn:aws:ssm:*:*:parameter/raxx/` + task + `","arn:aws:ssm:*:*:parameter/raxx/` + task + `/*"]}]}`
}

// killStatement is handoff's per-handoff revocation.
func killStatement(sid, slug string, before time.Time) string {
	return `{"Sid":"` + sid + `","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceIdentity":"` + slug +
		`"},"DateLessThan":{"aws:TokenIssueTime":"` + before.UTC().Format(time.RFC3339) + `"}}}`
}

// TestStoryWithTheVendorSDK runs handoff's whole AWS story with the
// aws-sdk-go-v2 clients: mint two sessions with session policies, read
// inside and outside the allowed path, revoke one handoff with a Deny on the
// role, and let the other session's expiry pass on the devkit clock.
func TestStoryWithTheVendorSDK(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	prov := e.provisioner()

	who, err := prov.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *who.Account != DefaultAccountID || *who.Arn != "arn:aws:iam::123456789012:user/handoff-provisioner" || !strings.HasPrefix(*who.UserId, "AIDA") {
		t.Errorf("provisioner identity = %s %s %s", *who.Account, *who.Arn, *who.UserId)
	}

	mq, out := e.assume(DefaultAgentRole, "moosequest-queue", sessionPolicy("moosequest-queue"))
	if !strings.HasPrefix(*out.Credentials.AccessKeyId, "ASIA") || *out.SourceIdentity != "moosequest-queue" ||
		*out.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/raxx-handoff-agent/moosequest-queue" ||
		packed(out) == nil || *packed(out) <= 0 || *packed(out) > 100 {
		t.Errorf("AssumeRole answer: %+v %+v %v", out.AssumedRoleUser, out.SourceIdentity, packed(out))
	}
	if want := e.kit.Clock.Now().Add(time.Hour); !out.Credentials.Expiration.Equal(want) {
		t.Errorf("expiration %v, want %v on the devkit clock", out.Credentials.Expiration, want)
	}
	tm, _ := e.assume(DefaultAgentRole, "trademaster-api", sessionPolicy("trademaster-api"))

	me, err := mq.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *me.Arn != *out.AssumedRoleUser.Arn || !strings.HasSuffix(*me.UserId, ":moosequest-queue") {
		t.Fatalf("session identity: %v %v", me, err)
	}

	// Inside the path: allowed, decrypted.
	p, err := mq.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/STRIPE_TEST_SECRET_KEY"), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("own parameter: %v", err)
	}
	if *p.Parameter.Value != "sk_test_dev_0000000000000000" || p.Parameter.Type != "SecureString" ||
		*p.Parameter.ARN != "arn:aws:ssm:us-east-1:123456789012:parameter/raxx/moosequest-queue/STRIPE_TEST_SECRET_KEY" {
		t.Errorf("parameter = %+v", p.Parameter)
	}
	byPath, err := mq.ssm.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/raxx/moosequest-queue"), Recursive: aws.Bool(true)})
	if err != nil || len(byPath.Parameters) != 3 {
		t.Fatalf("by path: %v %v", byPath, err)
	}
	// Outside: another handoff's path, a path the role does not cover.
	for _, name := range []string{"/raxx/trademaster-api/DATABASE_URL", "/prod/payments/STRIPE_LIVE_KEY"} {
		_, err := mq.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if apiCode(err) != "AccessDeniedException" {
			t.Fatalf("GetParameter %s: %v, want AccessDeniedException", name, err)
		}
	}
	_, err = mq.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/trademaster-api/DATABASE_URL")})
	want := "User: arn:aws:sts::123456789012:assumed-role/raxx-handoff-agent/moosequest-queue is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter/raxx/trademaster-api/DATABASE_URL because no session policy allows the ssm:GetParameter action"
	if apiMessage(err) != want {
		t.Errorf("message:\n got %s\nwant %s", apiMessage(err), want)
	}
	_, err = mq.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/prod/payments/STRIPE_LIVE_KEY")})
	if !strings.HasSuffix(apiMessage(err), "because no identity-based policy allows the ssm:GetParameter action") {
		t.Errorf("role-level refusal: %s", apiMessage(err))
	}
	// The session cannot touch IAM either.
	if _, err := mq.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(DefaultAgentRole)}); apiCode(err) != "AccessDenied" {
		t.Errorf("session GetRole: %v", err)
	}

	// Revoke moosequest-queue: a Deny for its source identity, older tokens.
	e.kit.Clock.Advance(10 * time.Second)
	doc := `{"Version":"2012-10-17","Statement":[` + killStatement("HandoffDenymoosequestZ2Dqueue", "moosequest-queue", e.kit.Clock.Now()) + `]}`
	if _, err := prov.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(DefaultAgentRole),
		PolicyName: aws.String(DefaultDenyPolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}
	_, err = mq.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/APPLE_IAP_KEY_ID")})
	if apiCode(err) != "AccessDeniedException" || !strings.HasSuffix(apiMessage(err), "with an explicit deny in an identity-based policy") {
		t.Fatalf("revoked session: %v", err)
	}
	if _, err := tm.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/trademaster-api/DATABASE_URL"), WithDecryption: aws.Bool(true)}); err != nil {
		t.Fatalf("other handoff after the kill: %v", err)
	}
	// A re-mint after the kill (same slug) is a newer token: allowed.
	e.kit.Clock.Advance(time.Second)
	again, _ := e.assume(DefaultAgentRole, "moosequest-queue", sessionPolicy("moosequest-queue"))
	if _, err := again.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/APPLE_IAP_KEY_ID")}); err != nil {
		t.Fatalf("re-minted session: %v", err)
	}
	got, err := prov.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(DefaultAgentRole), PolicyName: aws.String(DefaultDenyPolicyName)})
	if err != nil || *got.PolicyDocument != iamURLEncode(doc) {
		t.Errorf("GetRolePolicy: %v %v", got, err)
	}

	// Past the expiry on the devkit clock: ExpiredToken, even though the
	// SDK signs with the wall clock (it corrects its clock from our Date
	// header only on a signature-time error, which must not come first).
	e.kit.Clock.Advance(time.Hour)
	_, err = tm.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/trademaster-api/DATABASE_URL")})
	if apiCode(err) != "ExpiredTokenException" {
		t.Fatalf("expired session (SSM): %v", err)
	}
	if _, err := tm.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(err) != "ExpiredToken" {
		t.Fatalf("expired session (STS): %v", err)
	}
	// The provisioner's long-term key still works an hour on: the SDK
	// corrects its clock from the Date header of "Signature expired".
	if _, err := prov.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(DefaultAgentRole)}); err != nil {
		t.Fatalf("provisioner after the clock moved: %v", err)
	}
	if n := len(e.srv.Sessions()); n != 3 {
		t.Errorf("%d sessions recorded, want 3", n)
	}
}

// packed reads AssumeRole's PackedPolicySize, which the served model
// (botocore 1.43.67) still has.
//
//lint:ignore SA1019 the contract model has no SessionTokenUtilization
func packed(out *sts.AssumeRoleOutput) *int32 { return out.PackedPolicySize }
