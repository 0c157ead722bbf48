package aws

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/devserver/contracttest/botocore"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// env is the local AWS server with a client acting as its provisioner;
// every request and answer is checked against the botocore models.
type env struct {
	t       *testing.T
	kit     *devkit.Kit
	srv     *awssrv.Server
	ts      *httptest.Server
	checker *botocore.Checker
	client  *Client
	secrets []string // every secret seen, for leak scans
}

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func fastRetryer() awssdk.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = noBackoff{}; o.MaxAttempts = 2 })
}

func newEnv(t *testing.T) *env {
	t.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(time.Now().UTC().Truncate(time.Second)), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := awssrv.New(kit, awssrv.DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{t: t, kit: kit, srv: srv, ts: ts, checker: botocore.NewChecker(t)}
	id, secret := srv.ProvisionerCredentials()
	e.secrets = append(e.secrets, secret)
	e.client = e.newClient(credentials.NewStaticCredentialsProvider(id, secret, ""))
	return e
}

func (e *env) newClient(creds awssdk.CredentialsProvider) *Client {
	e.t.Helper()
	c, err := New(context.Background(), Config{
		Region: "us-east-1", Endpoint: e.ts.URL, Credentials: creds, Retryer: fastRetryer, Now: e.kit.Clock.Now,
		HTTPClient: &http.Client{Transport: e.checker.Transport(http.DefaultTransport)},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// ssmAs is an SSM client (tests only) acting with session credentials.
func (e *env) ssmAs(c Credentials) *ssm.Client {
	e.secrets = append(e.secrets, c.SecretAccessKey, c.SessionToken)
	return ssm.NewFromConfig(awssdk.Config{Region: "us-east-1", BaseEndpoint: awssdk.String(e.ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:  &http.Client{Transport: e.checker.Transport(http.DefaultTransport)}, Retryer: fastRetryer})
}

// noSecrets fails when an error string holds a secret.
func (e *env) noSecrets(err error) {
	e.t.Helper()
	if err == nil {
		return
	}
	for _, s := range e.secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			e.t.Fatalf("error leaks a secret: %v", err)
		}
	}
	if strings.Contains(err.Error(), "ASIA") && strings.Contains(err.Error(), "ASIA…") == false {
		for _, w := range strings.Fields(err.Error()) {
			if strings.HasPrefix(w, "ASIA") && len(w) >= 20 {
				e.t.Fatalf("error holds an access key id: %v", err)
			}
		}
	}
}

func sessionPolicy(task string) []byte {
	b, _ := Document{Statement: []Statement{{Effect: Allow,
		Action:   Value{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"},
		Resource: Value{"arn:aws:ssm:*:*:parameter/raxx/" + task, "arn:aws:ssm:*:*:parameter/raxx/" + task + "/*"}}}}.JSON()
	return b
}

func (e *env) mint(slug string) Credentials {
	e.t.Helper()
	c, err := e.client.AssumeRole(context.Background(), AssumeInput{
		RoleARN: e.srv.RoleARN(awssrv.DefaultAgentRole), SessionName: slug, SourceIdentity: slug,
		Tags: map[string]string{"handoff": slug}, SessionPolicy: sessionPolicy(slug), Duration: time.Hour,
	})
	if err != nil {
		e.t.Fatalf("AssumeRole %s: %v", slug, err)
	}
	return c
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAssumeRevokeAndVerify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	roleARN := e.srv.RoleARN(awssrv.DefaultAgentRole)

	id, err := e.client.CallerIdentity(ctx)
	if err != nil || id.ARN != "arn:aws:iam::123456789012:user/handoff-provisioner" {
		t.Fatalf("CallerIdentity = %+v, %v", id, err)
	}
	mq := e.mint("moosequest-queue")
	tm := e.mint("trademaster-api")
	if !strings.HasPrefix(mq.AccessKeyID, "ASIA") || mq.AssumedRoleARN != "arn:aws:sts::123456789012:assumed-role/raxx-handoff-agent/moosequest-queue" ||
		!mq.Expiration.Equal(e.kit.Clock.Now().Add(time.Hour)) || mq.PackedPolicySize <= 0 {
		t.Errorf("credentials = %v (packed %d)", mq, mq.PackedPolicySize)
	}
	byKey := map[string]awssrv.SessionInfo{}
	for _, s := range e.srv.Sessions() {
		byKey[s.AccessKeyID] = s
	}
	if s := byKey[mq.AccessKeyID]; len(byKey) != 2 || s.SourceIdentity != "moosequest-queue" || s.Tags["handoff"] != "moosequest-queue" || s.SessionName != "moosequest-queue" {
		t.Errorf("server sessions = %+v", byKey)
	}
	mqSSM, tmSSM := e.ssmAs(mq), e.ssmAs(tm)
	read := func(c *ssm.Client, name string) error {
		_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: awssdk.String(name), WithDecryption: awssdk.Bool(true)})
		return err
	}
	if err := read(mqSSM, "/raxx/moosequest-queue/STRIPE_TEST_SECRET_KEY"); err != nil {
		t.Fatalf("own path: %v", err)
	}
	if err := read(mqSSM, "/raxx/trademaster-api/DATABASE_URL"); code(err) != "AccessDeniedException" {
		t.Fatalf("other path: %v", err)
	}

	// No entries before any revocation (the policy does not exist).
	if got, err := e.client.DenyEntries(ctx, roleARN, awssrv.DefaultDenyPolicyName); err != nil || len(got) != 0 {
		t.Fatalf("DenyEntries before = %v, %v", got, err)
	}
	e.kit.Clock.Advance(30 * time.Second)
	killAt := e.kit.Clock.Now().Add(300 * time.Millisecond) // rounded up to the next second
	if err := e.client.DenySessions(ctx, roleARN, awssrv.DefaultDenyPolicyName, "moosequest-queue", killAt); err != nil {
		t.Fatalf("DenySessions: %v", err)
	}
	if err := read(mqSSM, "/raxx/moosequest-queue/STRIPE_TEST_SECRET_KEY"); code(err) != "AccessDeniedException" {
		t.Fatalf("revoked session still reads: %v", err)
	}
	if err := read(tmSSM, "/raxx/trademaster-api/DATABASE_URL"); err != nil {
		t.Fatalf("other handoff after the kill: %v", err)
	}
	entries, err := e.client.DenyEntries(ctx, roleARN, awssrv.DefaultDenyPolicyName)
	if err != nil || len(entries) != 1 || entries[0].SourceIdentity != "moosequest-queue" ||
		!entries[0].Since.Equal(killAt.Truncate(time.Second).Add(time.Second)) {
		t.Fatalf("DenyEntries = %+v, %v", entries, err)
	}

	// Idempotent: the same call writes nothing.
	puts := e.srv.RequestCount("iam", "PutRolePolicy")
	if err := e.client.DenySessions(ctx, roleARN, awssrv.DefaultDenyPolicyName, "moosequest-queue", killAt); err != nil {
		t.Fatal(err)
	}
	if e.srv.RequestCount("iam", "PutRolePolicy") != puts {
		t.Error("a repeated DenySessions wrote the policy again")
	}
	// An earlier time never moves the revocation back.
	if err := e.client.DenySessions(ctx, roleARN, awssrv.DefaultDenyPolicyName, "moosequest-queue", killAt.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.client.DenyEntries(ctx, roleARN, awssrv.DefaultDenyPolicyName); !got[0].Since.Equal(entries[0].Since) {
		t.Errorf("revocation moved back to %v", got[0].Since)
	}

	// A re-mint after the revocation is a newer session: allowed.
	e.kit.Clock.Advance(2 * time.Second)
	again := e.mint("moosequest-queue")
	if err := read(e.ssmAs(again), "/raxx/moosequest-queue/APPLE_IAP_KEY_ID"); err != nil {
		t.Fatalf("re-minted session: %v", err)
	}
	for _, err := range []error{read(mqSSM, "/raxx/moosequest-queue/X")} {
		e.noSecrets(err)
	}
}

func TestRevocationsArePrunedAndForeignStatementsKept(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	roleARN := e.srv.RoleARN(awssrv.DefaultReaderRole)
	const pol = "revocations"
	// An operator's own statement in the same policy survives.
	admin := e.adminIAM()
	foreign := `{"Version":"2012-10-17","Statement":[{"Sid":"OperatorNoDelete","Effect":"Deny","Action":"ssm:DeleteParameter","Resource":"*"}]}`
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: awssdk.String(awssrv.DefaultReaderRole), PolicyName: awssdk.String(pol), PolicyDocument: awssdk.String(foreign)}); err != nil {
		t.Fatal(err)
	}
	if err := e.client.DenySessions(ctx, roleARN, pol, "old-task", e.kit.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	// 3600 s MaxSessionDuration + 15 min margin later, the old entry goes.
	e.kit.Clock.Advance(time.Hour + RevocationMargin + time.Minute)
	if err := e.client.DenySessions(ctx, roleARN, pol, "new-task", e.kit.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.DenyEntries(ctx, roleARN, pol)
	if err != nil || len(got) != 1 || got[0].SourceIdentity != "new-task" {
		t.Fatalf("entries after pruning = %+v, %v", got, err)
	}
	doc := e.srv.RolePolicies(awssrv.DefaultReaderRole)[pol]
	if !strings.Contains(doc, `"Sid":"OperatorNoDelete"`) {
		t.Errorf("foreign statement lost: %s", doc)
	}
}

func (e *env) adminIAM() *iam.Client {
	id, secret := e.srv.Credentials(awssrv.DefaultAdminName)
	return iam.NewFromConfig(awssdk.Config{Region: "us-east-1", BaseEndpoint: awssdk.String(e.ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:  &http.Client{Transport: e.checker.Transport(http.DefaultTransport)}, Retryer: fastRetryer})
}

func TestRevocationPolicySizeLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	roleARN := e.srv.RoleARN(awssrv.DefaultQueueRole)
	var err error
	n := 0
	for ; n < 200 && err == nil; n++ {
		// IAM's rate limit (three calls per revocation) holds on the
		// devkit clock: let a second pass between revocations.
		e.kit.Clock.Advance(time.Second)
		err = e.client.DenySessions(ctx, roleARN, awssrv.DefaultDenyPolicyName, "task-"+strings.Repeat("x", 20)+string(rune('a'+n%26))+string(rune('a'+n/26)), e.kit.Clock.Now())
	}
	if !errors.Is(err, ErrPolicyTooLarge) {
		t.Fatalf("after %d revocations: %v, want ErrPolicyTooLarge", n, err)
	}
	if !strings.Contains(err.Error(), "over IAM's 10240") && !strings.Contains(err.Error(), "10,240") {
		t.Errorf("error does not say which limit: %v", err)
	}
	// What was written stays within the aggregate limit.
	total := 0
	for _, d := range e.srv.RolePolicies(awssrv.DefaultQueueRole) {
		total += IAMSize([]byte(d))
	}
	if total > MaxRoleInlinePolicySize {
		t.Errorf("role holds %d characters of inline policy", total)
	}
}

func TestErrorsNameTheOperationAndRemedy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A role outside /handoff/: the provisioner may not assume it.
	admin := e.adminIAM()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: awssdk.String("outsider"), AssumeRolePolicyDocument: awssdk.String(trust)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.AssumeRole(ctx, AssumeInput{RoleARN: "arn:aws:iam::123456789012:role/outsider", SessionName: "mq", SourceIdentity: "mq"})
	var ae *Error
	if !errors.Is(err, ErrAccessDenied) || !errors.As(err, &ae) || ae.Code != "AccessDenied" || ae.Status != 403 || ae.Remedy == "" || ae.RequestID == "" {
		t.Fatalf("AssumeRole outsider = %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "aws: assume role: AccessDenied: User: arn:aws:iam::123456789012:user/handoff-provisioner is not authorized to perform: sts:AssumeRole") {
		t.Errorf("message: %v", err)
	}
	e.noSecrets(err)
	if err := e.client.DenySessions(ctx, "arn:aws:iam::123456789012:role/outsider", "p", "mq", time.Now()); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("DenySessions outsider = %v", err)
	}
	// IAM authorizes a missing role by the ARN it would have: the
	// provisioner may not even learn that it is missing; an admin may.
	if _, err := e.client.RoleMaxSession(ctx, "arn:aws:iam::123456789012:role/handoff/nope"); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("missing role as provisioner = %v", err)
	}
	adminID, adminSecret := e.srv.Credentials(awssrv.DefaultAdminName)
	e.secrets = append(e.secrets, adminSecret)
	asAdmin := e.newClient(credentials.NewStaticCredentialsProvider(adminID, adminSecret, ""))
	if _, err := asAdmin.RoleMaxSession(ctx, "arn:aws:iam::123456789012:role/handoff/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing role = %v", err)
	}
	// Bad credentials.
	bad := e.newClient(credentials.NewStaticCredentialsProvider("AKIAUNKNOWNUNKNOWN00", "wrong-secret-value", ""))
	_, err = bad.CallerIdentity(ctx)
	if !errors.Is(err, ErrCredentials) || strings.Contains(err.Error(), "wrong-secret-value") || strings.Contains(err.Error(), "AKIAUNKNOWNUNKNOWN00") {
		t.Errorf("unknown key = %v", err)
	}
	id, _ := e.srv.ProvisionerCredentials()
	wrong := e.newClient(credentials.NewStaticCredentialsProvider(id, "not-the-secret", ""))
	if _, err := wrong.CallerIdentity(ctx); !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("wrong secret = %v", err)
	}
	// Local checks before any request.
	long := Document{Statement: []Statement{{Effect: Allow, Action: Value{"s3:GetObject"}, Resource: Value{"arn:aws:s3:::" + strings.Repeat("b", 2100)}}}}
	body, _ := long.JSON()
	if _, err := e.client.AssumeRole(ctx, AssumeInput{RoleARN: e.srv.RoleARN(awssrv.DefaultAgentRole), SessionName: "mq", SessionPolicy: body}); !errors.Is(err, ErrPolicyTooLarge) {
		t.Errorf("long session policy = %v", err)
	}
	if _, err := e.client.AssumeRole(ctx, AssumeInput{RoleARN: e.srv.RoleARN(awssrv.DefaultAgentRole), SessionName: "mq", Duration: 2 * time.Hour}); err == nil {
		t.Error("a 2 h session was requested")
	}
	// Throttling surfaces as ErrThrottled once the SDK's retries are spent.
	e.kit.Faults.Add(devkit.Fault{Route: "POST /sts/GetCallerIdentity", Status: 400})
	if _, err := e.client.CallerIdentity(ctx); !errors.Is(err, ErrThrottled) {
		t.Errorf("throttled = %v", err)
	}
}

func TestConfigFromTheEnvironmentChain(t *testing.T) {
	e := newEnv(t)
	id, secret := e.srv.ProvisionerCredentials()
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := New(context.Background(), Config{Endpoint: e.ts.URL, Retryer: fastRetryer})
	if err != nil {
		t.Fatal(err)
	}
	who, err := c.CallerIdentity(context.Background())
	if err != nil || who.ARN != "arn:aws:iam::123456789012:user/handoff-provisioner" || c.Region() != "us-east-1" {
		t.Fatalf("environment credentials: %+v %v", who, err)
	}
	// Nothing in the chain: the error says where credentials come from.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	none, err := New(context.Background(), Config{Endpoint: e.ts.URL, Retryer: fastRetryer})
	if err != nil {
		t.Fatal(err)
	}
	_, err = none.CallerIdentity(context.Background())
	if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("no credentials = %v", err)
	}
}

func TestRevocationOverTheRoleAggregateLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Another inline policy already uses most of the role's 10,240.
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 9800) + `"}]}`
	if _, err := e.adminIAM().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: awssdk.String(awssrv.DefaultQueueRole), PolicyName: awssdk.String("big"), PolicyDocument: awssdk.String(big)}); err != nil {
		t.Fatal(err)
	}
	err := e.client.DenySessions(ctx, e.srv.RoleARN(awssrv.DefaultQueueRole), awssrv.DefaultDenyPolicyName, "mq", e.kit.Clock.Now())
	var ae *Error
	if !errors.Is(err, ErrPolicyTooLarge) || !errors.As(err, &ae) || ae.Code != "LimitExceeded" || !strings.Contains(ae.Remedy, "10,240") {
		t.Fatalf("DenySessions over the aggregate = %v", err)
	}
}

// TestSignatureMismatchNeverRepeatsTheSessionToken: AWS answers a
// signature mismatch with the canonical request it expected, whose signed
// headers include X-Amz-Security-Token; the local server does too. The
// client's error keeps AWS's first line and never the session token.
func TestSignatureMismatchNeverRepeatsTheSessionToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sess := e.mint("mq-20260621")
	e.secrets = append(e.secrets, sess.SecretAccessKey, sess.SessionToken)
	wrong := credentials.NewStaticCredentialsProvider(sess.AccessKeyID, "not-the-session-secret", sess.SessionToken)

	// What the server says, read with the SDK alone: the token is in it.
	_, raw := e.ssmAs(Credentials{AccessKeyID: sess.AccessKeyID, SecretAccessKey: "not-the-session-secret", SessionToken: sess.SessionToken}).
		GetParameter(ctx, &ssm.GetParameterInput{Name: awssdk.String("/raxx/mq-20260621/x")})
	if raw == nil || !strings.Contains(raw.Error(), "x-amz-security-token:"+sess.SessionToken) {
		t.Fatalf("the server's answer does not repeat the canonical request: %v", raw)
	}

	_, err := e.newClient(wrong).CallerIdentity(ctx)
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch: The request signature we calculated does not match") {
		t.Fatalf("CallerIdentity with a wrong session secret = %v", err)
	}
	e.noSecrets(err)
	if strings.Contains(err.Error(), "Canonical String") {
		t.Errorf("the error keeps AWS's canonical request: %v", err)
	}
}
