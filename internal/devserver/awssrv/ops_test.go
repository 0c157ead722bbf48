package awssrv

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

func TestAssumeRoleRules(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	agent := e.srv.RoleARN(DefaultAgentRole)
	tag := func(k, v string) ststypes.Tag { return ststypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	cases := []struct {
		name string
		in   sts.AssumeRoleInput
		code string
		msg  string
	}{
		{"duration over the role's max", sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("mq"), DurationSeconds: aws.Int32(7200)},
			"ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"duplicate tag keys", sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("mq"), Tags: []ststypes.Tag{tag("Handoff", "a"), tag("handoff", "b")}},
			"InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive."},
		{"transitive key not among tags", sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("mq"), Tags: []ststypes.Tag{tag("handoff", "a")}, TransitiveTagKeys: []string{"team"}},
			"InvalidParameterValue", "The specified transitive tag key must be included in the requested tags."},
		{"session policy with a principal", sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("mq"),
			Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`)},
			"MalformedPolicyDocument", "Policy document should not specify a principal."},
		{"session policy over 2048", sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("mq"),
			Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2048) + `"}}`)},
			"ValidationError", "Member must have length less than or equal to 2048"},
		{"role that does not exist", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/handoff/ghost"), RoleSessionName: aws.String("mq")},
			"AccessDenied", "User: arn:aws:iam::123456789012:user/handoff-provisioner is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/handoff/ghost"},
		{"role outside the provisioner's policy", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::999999999999:role/handoff/x"), RoleSessionName: aws.String("mq")},
			"AccessDenied", "on resource: arn:aws:iam::999999999999:role/handoff/x"},
	}
	prov := e.provisioner()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			_, err := prov.sts.AssumeRole(ctx, &in)
			if apiCode(err) != c.code || !strings.Contains(apiMessage(err), c.msg) {
				t.Errorf("got %v; want %s containing %q", err, c.code, c.msg)
			}
		})
	}
	// Model constraints the SDK does not check itself come back in AWS's
	// words, all of them at once.
	id, secret := e.srv.ProvisionerCredentials()
	status, code, msg := e.send(rawReq{service: "sts", region: "us-east-1", id: id, secret: secret,
		body: "Action=AssumeRole&Version=2011-06-15&RoleArn=" + agent + "&RoleSessionName=a%20b&DurationSeconds=600"})
	if status != 400 || code != "ValidationError" || msg != "2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900" {
		t.Errorf("validation: %d %s %s", status, code, msg)
	}
	// The trust policy names the provisioner only: the admin, allowed
	// everything by its own policy, is still refused.
	if _, err := e.admin().sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(agent), RoleSessionName: aws.String("adm")}); apiCode(err) != "AccessDenied" {
		t.Errorf("admin assume: %v", err)
	}
	// Tags need sts:TagSession, a source identity sts:SetSourceIdentity:
	// a trust policy with AssumeRole alone refuses them.
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/handoff-provisioner"},"Action":"sts:AssumeRole"}}`
	if _, err := e.admin().iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("plain"), Path: aws.String("/handoff/"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	plain := e.srv.RoleARN("plain")
	if _, err := prov.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(plain), RoleSessionName: aws.String("mq")}); err != nil {
		t.Errorf("plain assume: %v", err)
	}
	_, err := prov.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(plain), RoleSessionName: aws.String("mq"), Tags: []ststypes.Tag{tag("handoff", "mq")}})
	if apiCode(err) != "AccessDenied" || !strings.Contains(apiMessage(err), "sts:TagSession") {
		t.Errorf("tags without TagSession: %v", err)
	}
	_, err = prov.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(plain), RoleSessionName: aws.String("mq"), SourceIdentity: aws.String("mq")})
	if apiCode(err) != "AccessDenied" || !strings.Contains(apiMessage(err), "sts:SetSourceIdentity") {
		t.Errorf("source identity without SetSourceIdentity: %v", err)
	}
	// Role chaining: at most an hour, and the source identity persists.
	chainTrust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + agent + `"},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}}`
	if _, err := e.admin().iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("chained"), AssumeRolePolicyDocument: aws.String(chainTrust), MaxSessionDuration: aws.Int32(7200)}); err != nil {
		t.Fatal(err)
	}
	sess, _ := e.assume(DefaultAgentRole, "mq", "")
	if _, err := sess.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(e.srv.RoleARN("chained")), RoleSessionName: aws.String("cc"), DurationSeconds: aws.Int32(7200)}); apiCode(err) != "ValidationError" {
		t.Errorf("chained 2h: %v", err)
	}
	out, err := sess.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(e.srv.RoleARN("chained")), RoleSessionName: aws.String("cc")})
	if err != nil || aws.ToString(out.SourceIdentity) != "mq" {
		t.Errorf("chained: %v %v", out, err)
	}
}

func TestIAMRoles(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	admin, prov := e.admin(), e.provisioner()
	role, err := prov.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("RAXX-HANDOFF-AGENT")})
	if err != nil {
		t.Fatal(err)
	}
	r := role.Role
	if *r.RoleName != DefaultAgentRole || *r.Path != "/handoff/" || *r.MaxSessionDuration != 3600 || !strings.HasPrefix(*r.RoleId, "AROA") ||
		!strings.HasPrefix(*r.AssumeRolePolicyDocument, "%7B%22Version%22%3A%222012-10-17%22") {
		t.Errorf("GetRole = %+v (names are case-insensitive; documents URL-encoded)", r)
	}
	// Aggregate inline size: 10,240 characters without white space.
	pad := func(n int) string {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`
		tail := `"}]}`
		return doc + strings.Repeat("b", n-len(doc)-len(tail)) + tail
	}
	existing := 0
	for _, d := range e.srv.RolePolicies(DefaultReaderRole) {
		existing += policySize(d)
	}
	put := func(name, doc string) error {
		_, err := prov.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(DefaultReaderRole), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
		return err
	}
	if err := put("fill", pad(10240-existing)); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	if err := put("one-more", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`); apiCode(err) != "LimitExceeded" ||
		apiMessage(err) != "Maximum policy size of 10240 bytes exceeded for role raxx-handoff-reader" {
		t.Errorf("over the limit: %v", err)
	}
	// White space is not counted; replacing a policy counts only the new one.
	if err := put("fill", "  \n"+pad(10240-existing)+"\n\n   "); err != nil {
		t.Errorf("white space counted: %v", err)
	}
	list, err := prov.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(DefaultReaderRole), MaxItems: aws.Int32(1)})
	if err != nil || len(list.PolicyNames) != 1 || !list.IsTruncated || list.Marker == nil {
		t.Fatalf("page 1: %+v %v", list, err)
	}
	list2, err := prov.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(DefaultReaderRole), Marker: list.Marker})
	if err != nil || len(list2.PolicyNames) != 1 || list2.IsTruncated {
		t.Fatalf("page 2: %+v %v", list2, err)
	}
	// The provisioner may not create, tag or delete roles.
	for _, err := range []error{
		func() error {
			_, err := prov.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(DefaultReaderRole)})
			return err
		}(),
		func() error {
			_, err := prov.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(DefaultReaderRole), Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
			return err
		}(),
	} {
		if apiCode(err) != "AccessDenied" {
			t.Errorf("provisioner IAM write: %v", err)
		}
	}
	if _, err := admin.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(DefaultReaderRole)}); apiCode(err) != "DeleteConflict" {
		t.Errorf("delete with policies: %v", err)
	}
}

func TestSSMReads(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	adm := e.admin().ssm
	p, err := adm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/STRIPE_TEST_SECRET_KEY")})
	if err != nil || !strings.HasPrefix(*p.Parameter.Value, "AQICAH") {
		t.Errorf("SecureString without decryption: %v %v", p, err)
	}
	ps, err := adm.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/shared/feature-flags", "/nope", "/shared/feature-flags"}})
	if err != nil || len(ps.Parameters) != 1 || len(ps.InvalidParameters) != 1 || *ps.Parameters[0].Value != "queue-v2,iap-sandbox" {
		t.Errorf("GetParameters: %+v %v", ps, err)
	}
	flat, err := adm.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/raxx/moosequest-queue/")})
	if err != nil || len(flat.Parameters) != 2 {
		t.Errorf("not recursive: %+v %v", flat, err)
	}
	var names []string
	in := &ssm.GetParametersByPathInput{Path: aws.String("/raxx"), Recursive: aws.Bool(true), MaxResults: aws.Int32(2)}
	for pg := ssm.NewGetParametersByPathPaginator(adm, in); pg.HasMorePages(); {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.Parameters {
			names = append(names, *p.Name)
		}
	}
	if strings.Join(names, ",") != "/raxx/moosequest-queue/APPLE_IAP_KEY_ID,/raxx/moosequest-queue/STRIPE_TEST_SECRET_KEY,/raxx/moosequest-queue/config/REGION,/raxx/trademaster-api/DATABASE_URL" {
		t.Errorf("paged names = %v", names)
	}
	// Parameters are regional.
	aid, asecret := e.srv.Credentials(DefaultAdminName)
	cfg := e.awsConfig(aid, asecret, "")
	cfg.Region = "eu-west-1"
	if _, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/shared/feature-flags")}); apiCode(err) != "ParameterNotFound" {
		t.Errorf("other region: %v", err)
	}
	// By path checks the path itself: a session granted only below it is
	// refused, as AWS does.
	narrow := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParametersByPath","Resource":"arn:aws:ssm:*:*:parameter/raxx/moosequest-queue/*"}}`
	sess, _ := e.assume(DefaultAgentRole, "narrow", narrow)
	if _, err := sess.ssm.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/raxx/moosequest-queue")}); apiCode(err) != "AccessDeniedException" {
		t.Errorf("by path on an ungranted path: %v", err)
	}
}

func TestThrottlingAtAccountRates(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	aid, asecret := e.srv.Credentials(DefaultAdminName)
	cfg := e.awsConfig(aid, asecret, "")
	cfg.RetryMaxAttempts = 1
	cfg.Retryer = nil
	client := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.RetryMaxAttempts = 1 })
	get := func() error {
		_, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/shared/feature-flags")})
		return err
	}
	for i := 0; i < 40; i++ {
		if err := get(); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := get(); apiCode(err) != "ThrottlingException" || apiMessage(err) != "Rate exceeded" {
		t.Fatalf("41st in one second: %v", err)
	}
	e.kit.Clock.Advance(100 * time.Millisecond) // refills 4 tokens
	for i := 0; i < 4; i++ {
		if err := get(); err != nil {
			t.Fatalf("after refill %d: %v", i, err)
		}
	}
	if err := get(); apiCode(err) != "ThrottlingException" {
		t.Fatalf("refill overspent: %v", err)
	}
	e.srv.SetThrottling(false)
	for i := 0; i < 100; i++ {
		if err := get(); err != nil {
			t.Fatalf("throttling off: %v", err)
		}
	}
}

func TestStateSurvivesARestart(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	sess, _ := e.assume(DefaultAgentRole, "persist", "")
	doc := `{"Version":"2012-10-17","Statement":[` + killStatement("K", "gone", e.kit.Clock.Now()) + `]}`
	if _, err := e.provisioner().iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(DefaultAgentRole), PolicyName: aws.String("k"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	b, err := e.srv.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := New(e.kit, DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.RestoreState(b); err != nil {
		t.Fatal(err)
	}
	e.srv = fresh
	e.ts.Config.Handler = fresh
	if _, err := sess.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/raxx/moosequest-queue/APPLE_IAP_KEY_ID")}); err != nil {
		t.Fatalf("session after restore: %v", err)
	}
	if fresh.RolePolicies(DefaultAgentRole)["k"] != doc {
		t.Error("role policy lost")
	}
	for _, bad := range []string{`{"format":2}`, `{"format":1,"state":{}}`, `not json`} {
		if err := fresh.RestoreState([]byte(bad)); err == nil {
			t.Errorf("RestoreState(%s) accepted", bad)
		}
	}
	if err := fresh.RestoreState(nil); err != nil {
		t.Error(err)
	}
}

func TestInjectedFaultsUseAWSBodies(t *testing.T) {
	e := newTestEnv(t)
	id, secret := e.srv.ProvisionerCredentials()
	e.kit.Faults.Add(devkit.Fault{Route: "POST /sts/*", Status: 503, Count: 1})
	status, code, _ := e.send(rawReq{service: "sts", region: "us-east-1", body: "Action=GetCallerIdentity&Version=2011-06-15", id: id, secret: secret})
	if status != 503 || code != "ServiceUnavailable" {
		t.Errorf("503 fault: %d %s", status, code)
	}
	e.kit.Faults.Add(devkit.Fault{Route: "POST /ssm/GetParameter", Status: 500, Count: 1})
	status, code, _ = e.send(rawReq{service: "ssm", region: "us-east-1", body: `{"Name":"/x"}`, target: "AmazonSSM.GetParameter", id: id, secret: secret})
	if status != 500 || code != "InternalServerError" {
		t.Errorf("500 fault: %d %s", status, code)
	}
	// The SDK retries an injected 503 and succeeds.
	e.kit.Faults.Add(devkit.Fault{Route: "POST /iam/GetRole", Status: 503, Count: 1})
	if _, err := e.provisioner().iam.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(DefaultAgentRole)}); err != nil {
		t.Errorf("retry after 503: %v", err)
	}
	if n := e.srv.RequestCount("iam", "GetRole"); n != 2 {
		t.Errorf("GetRole count = %d, want 2", n)
	}
	resp, err := http.Get(e.ts.URL + "/_dev/stats")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/_dev/stats: %v", err)
	}
	resp.Body.Close()
}
