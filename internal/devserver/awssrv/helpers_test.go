package awssrv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/raxx-app/handoff/internal/devserver/contracttest/botocore"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// testEnv is a server on httptest whose clock is frozen at the wall clock's
// now (so the SDK's signatures fall in the server's window until a test
// advances it), with SDK clients for any credentials.
type testEnv struct {
	t   *testing.T
	kit *devkit.Kit
	srv *Server
	ts  *httptest.Server
	// checker validates every request and answer against the botocore
	// models.
	checker *botocore.Checker
}

func newTestEnv(t *testing.T, fx ...Fixture) *testEnv {
	t.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(time.Now().UTC().Truncate(time.Second)), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	f := DefaultFixture()
	if len(fx) > 0 {
		f = fx[0]
	}
	srv, err := New(kit, f)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testEnv{t: t, kit: kit, srv: srv, ts: ts, checker: botocore.NewChecker(t)}
}

// awsConfig is an SDK configuration for static credentials against the
// server, through the model checker, retrying at once (no backoff waits:
// tests never sleep).
func (e *testEnv) awsConfig(id, secret, token string) aws.Config {
	return aws.Config{
		Region:       DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, token),
		BaseEndpoint: aws.String(e.ts.URL),
		HTTPClient:   &http.Client{Transport: e.checker.Transport(http.DefaultTransport)},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = noBackoff{}
				o.RateLimiter = noRateLimit{}
			})
		},
	}
}

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

type clients struct {
	sts *sts.Client
	iam *iam.Client
	ssm *ssm.Client
}

func (e *testEnv) clients(id, secret, token string) clients {
	cfg := e.awsConfig(id, secret, token)
	return clients{sts: sts.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg)}
}

func (e *testEnv) provisioner() clients {
	id, secret := e.srv.ProvisionerCredentials()
	return e.clients(id, secret, "")
}

func (e *testEnv) admin() clients {
	id, secret := e.srv.Credentials(DefaultAdminName)
	return e.clients(id, secret, "")
}

// assume mints a session of role for slug with an optional session policy,
// as handoff does, and returns clients acting as it.
func (e *testEnv) assume(roleName, slug, policy string) (clients, *sts.AssumeRoleOutput) {
	e.t.Helper()
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(e.srv.RoleARN(roleName)),
		RoleSessionName: aws.String(slug),
		SourceIdentity:  aws.String(slug),
		DurationSeconds: aws.Int32(3600),
		Tags:            []ststypes.Tag{{Key: aws.String("handoff"), Value: aws.String(slug)}},
	}
	if policy != "" {
		in.Policy = aws.String(policy)
	}
	out, err := e.provisioner().sts.AssumeRole(context.Background(), in)
	if err != nil {
		e.t.Fatalf("AssumeRole %s: %v", slug, err)
	}
	c := out.Credentials
	return e.clients(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken), out
}
