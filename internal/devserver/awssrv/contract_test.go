package awssrv

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// TestContract drives every operation, in success and in its modelled and
// common failures, through the vendor's SDK clients with every request and
// answer checked against the botocore models (the checker fails the test on
// any member, wrapper, status or error code the model does not allow). It
// then checks that every member the server read is in the operation's input
// shape, and that every operation served is in its model.
func TestContract(t *testing.T) {
	e := newTestEnv(t)
	var mu sync.Mutex
	reads := map[string]map[string]bool{}
	e.srv.readHook = func(svc, op, member string) {
		mu.Lock()
		defer mu.Unlock()
		k := svc + " " + op
		if reads[k] == nil {
			reads[k] = map[string]bool{}
		}
		reads[k][member] = true
	}
	ctx := context.Background()
	prov, admin := e.provisioner(), e.admin()
	agent := e.srv.RoleARN(DefaultAgentRole)

	// STS.
	_, _ = prov.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	sess, _ := e.assume(DefaultAgentRole, "contract", sessionPolicy("moosequest-queue"))
	_, _ = prov.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("ext"), ExternalId: aws.String("ext-1"),
		TransitiveTagKeys: []string{"handoff"}, Tags: []ststypes.Tag{{Key: aws.String("handoff"), Value: aws.String("x")}}})
	_, _ = prov.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("malformed"), Policy: aws.String(`{"Statement":`)})
	_, _ = prov.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("mfa"), SerialNumber: aws.String("arn:aws:iam::123456789012:mfa/x"), TokenCode: aws.String("123456")})
	_, _ = prov.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("arns"), PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}}})
	many := []ststypes.Tag{}
	for i := 0; i < 40; i++ {
		many = append(many, ststypes.Tag{Key: aws.String(strings.Repeat("k", 20) + string(rune('a'+i%26)) + string(rune('a'+i/26))), Value: aws.String(strings.Repeat("v", 40))})
	}
	_, _ = prov.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("packed"), Tags: many})
	_, _ = admin.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("admin")})
	_, _ = sess.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("chain")})

	// IAM.
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}`
	_, _ = admin.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("contract-role"), Path: aws.String("/handoff/"), AssumeRolePolicyDocument: aws.String(trust),
		Description: aws.String("d"), MaxSessionDuration: aws.Int32(7200), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("raxx")}}})
	_, _ = admin.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("contract-role"), AssumeRolePolicyDocument: aws.String(trust)})
	_, _ = admin.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad-trust"), AssumeRolePolicyDocument: aws.String(`{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`)})
	_, _ = prov.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("not-allowed"), AssumeRolePolicyDocument: aws.String(trust)})
	_, _ = prov.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("contract-role")})
	_, _ = admin.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("missing")})
	_, _ = admin.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("contract-role"), Tags: []iamtypes.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	_, _ = admin.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("contract-role"), Tags: []iamtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
	_, _ = admin.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("missing"), Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	_, _ = prov.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("p1"), PolicyDocument: aws.String(doc)})
	_, _ = prov.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("p2"), PolicyDocument: aws.String(doc)})
	_, _ = prov.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Statement":[]}`)})
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 10300) + `"}]}`
	_, _ = prov.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	_, _ = admin.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("missing"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
	_, _ = prov.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("p1")})
	_, _ = prov.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("nope")})
	e.kit.Clock.Advance(time.Second)
	page, _ := prov.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("contract-role"), MaxItems: aws.Int32(1)})
	if page != nil && page.Marker != nil {
		_, _ = prov.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("contract-role"), Marker: page.Marker})
	}
	e.kit.Clock.Advance(time.Second) // IAM's rate: 20 requests a second
	_, _ = admin.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("contract-role")})
	_, _ = prov.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("p1")})
	_, _ = prov.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("p1")})
	_, _ = prov.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("contract-role"), PolicyName: aws.String("p2")})
	_, _ = admin.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("contract-role")})
	_, _ = admin.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("contract-role")})

	// SSM.
	_, _ = sess.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/APPLE_IAP_KEY_ID:1")})
	_, _ = sess.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/APPLE_IAP_KEY_ID:7")})
	_, _ = sess.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/NOPE")})
	_, _ = sess.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/prod/payments/STRIPE_LIVE_KEY")})
	_, _ = sess.ssm.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/raxx/moosequest-queue/APPLE_IAP_KEY_ID", "/raxx/moosequest-queue/NOPE"}, WithDecryption: aws.Bool(true)})
	p1, _ := sess.ssm.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/raxx/moosequest-queue"), Recursive: aws.Bool(true), MaxResults: aws.Int32(1),
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Type"), Option: aws.String("Equals"), Values: []string{"String", "SecureString"}}}})
	if p1 != nil && p1.NextToken != nil {
		_, _ = sess.ssm.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/raxx/moosequest-queue"), Recursive: aws.Bool(true), MaxResults: aws.Int32(1), NextToken: p1.NextToken})
	}
	_, _ = sess.ssm.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/raxx/moosequest-queue"), NextToken: aws.String("garbage")})
	_, _ = sess.ssm.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/raxx/moosequest-queue"),
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}})
	// Throttling, in both protocols.
	for i := 0; i < 45; i++ {
		_, _ = sess.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/APPLE_IAP_KEY_ID")})
	}
	for i := 0; i < 25; i++ {
		_, _ = prov.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(DefaultAgentRole)})
	}
	e.kit.Clock.Advance(2 * time.Second)
	// Expired tokens in both protocols.
	e.kit.Clock.Advance(2 * time.Hour)
	_, _ = sess.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/APPLE_IAP_KEY_ID")})
	_, _ = sess.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})

	covered := e.checker.Covered()
	want := map[string][]string{
		"sts AssumeRole":          {"", "AccessDenied", "MalformedPolicyDocument", "PackedPolicyTooLarge", "InvalidParameterValue"},
		"sts GetCallerIdentity":   {"", "ExpiredToken"},
		"iam CreateRole":          {"", "EntityAlreadyExists", "MalformedPolicyDocument", "AccessDenied"},
		"iam GetRole":             {"", "NoSuchEntity", "Throttling"},
		"iam TagRole":             {"", "InvalidInput", "NoSuchEntity"},
		"iam PutRolePolicy":       {"", "MalformedPolicyDocument", "LimitExceeded", "NoSuchEntity"},
		"iam GetRolePolicy":       {"", "NoSuchEntity"},
		"iam ListRolePolicies":    {""},
		"iam DeleteRole":          {"", "DeleteConflict", "NoSuchEntity"},
		"iam DeleteRolePolicy":    {"", "NoSuchEntity"},
		"ssm GetParameter":        {"", "ParameterNotFound", "ParameterVersionNotFound", "AccessDeniedException", "ThrottlingException", "ExpiredTokenException"},
		"ssm GetParameters":       {""},
		"ssm GetParametersByPath": {"", "InvalidNextToken", "InvalidFilterKey"},
	}
	for op, codes := range want {
		seen := strings.Join(covered[op], ",")
		for _, c := range codes {
			if !contains(covered[op], c) {
				t.Errorf("%s: answer %q not exercised (seen %s)", op, c, seen)
			}
		}
	}
	for k, members := range reads {
		svc, op, _ := strings.Cut(k, " ")
		m := e.checker.Model(svc)
		if m.Ops[op] == nil {
			t.Errorf("%s: served but not in the %s model", k, svc)
			continue
		}
		for member := range members {
			if !m.InputMember(op, member) {
				t.Errorf("%s reads %s, which is not in its input shape", k, member)
			}
		}
	}
	for op := range stsOps {
		if e.checker.Model("sts").Ops[op] == nil {
			t.Errorf("sts %s is not in the model", op)
		}
	}
	for op := range iamOps {
		if e.checker.Model("iam").Ops[op] == nil {
			t.Errorf("iam %s is not in the model", op)
		}
	}
	for _, op := range []string{"GetParameter", "GetParameters", "GetParametersByPath"} {
		if e.checker.Model("ssm").Ops[op] == nil {
			t.Errorf("ssm %s is not in the model", op)
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
