package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// DefaultTimeout bounds every call of a Client whose Config sets no Timeout.
const DefaultTimeout = 30 * time.Second

// DefaultRegion is used when neither the Config nor the environment or
// shared config names a region (STS and IAM are reachable from it).
const DefaultRegion = "us-east-1"

// Config says where and as whom to call AWS. The credentials come from the
// SDK's standard chain (environment, shared config and profiles, web
// identity as used by GitHub Actions OIDC, container and instance roles)
// unless Credentials replaces it.
type Config struct {
	// Region overrides the chain's region (AWS_REGION, the profile).
	Region string
	// Profile selects a shared config profile (default: AWS_PROFILE or
	// "default").
	Profile string
	// Endpoint, when set, sends every call there (the local AWS server of
	// `handoff dev`). Plain http is allowed only on a loopback address.
	Endpoint string
	// HTTPClient carries every request (the lead's pacer plugs in here);
	// nil uses the SDK's default client. An injected client keeps its own
	// TLS settings: AWS_CA_BUNDLE applies only to the SDK's client.
	HTTPClient *http.Client
	// Credentials replaces the default chain (tests, or a caller that
	// already holds credentials).
	Credentials awssdk.CredentialsProvider
	// MaxAttempts is the SDK retryer's attempt count (default 3).
	MaxAttempts int
	// Retryer replaces the SDK's standard retryer entirely.
	Retryer func() awssdk.Retryer
	// Timeout bounds each call (default 30 s).
	Timeout time.Duration
	// Now is the clock revocation pruning reads (default time.Now); `handoff
	// dev` passes the dev clock.
	Now func() time.Time
	// SigningClock, when set, is the clock requests are signed at, in
	// place of the SDK's wall clock corrected by the skew it learns from
	// AWS's answers: the local server of `handoff dev` checks signatures
	// on the dev clock, which tests and demos move by hours at a time.
	// Leave it nil against AWS.
	SigningClock func() time.Time
}

// Client calls STS and IAM as one principal (the provisioner). It is safe
// for concurrent use.
type Client struct {
	cfg     awssdk.Config
	sts     *sts.Client
	iam     *iam.Client
	timeout time.Duration
	now     func() time.Time

	roleMu    sync.Mutex
	roleLocks map[string]chan struct{} // role ARN → a lock of capacity 1
}

// LockRole waits for this client's lock on a role (or for ctx) and returns
// its release. The lock is a channel, not a mutex, so that a waiter gives
// up with its context and counts as blocked for testing/synctest.
func (c *Client) LockRole(ctx context.Context, role string) (unlock func(), err error) {
	c.roleMu.Lock()
	if c.roleLocks == nil {
		c.roleLocks = map[string]chan struct{}{}
	}
	ch := c.roleLocks[role]
	if ch == nil {
		ch = make(chan struct{}, 1)
		c.roleLocks[role] = ch
	}
	c.roleMu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// New loads the SDK configuration (the credential chain is resolved lazily,
// at the first call) and returns a client.
func New(ctx context.Context, c Config) (*Client, error) {
	var opts []func(*config.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	if c.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(c.MaxAttempts))
	}
	if c.Retryer != nil {
		opts = append(opts, config.WithRetryer(c.Retryer))
	}
	if c.Endpoint != "" {
		ep, err := checkEndpoint(c.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, config.WithBaseEndpoint(ep))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws: load configuration: %s", scrub(err.Error()))
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	// Set after loading: the SDK refuses to apply AWS_CA_BUNDLE to a client
	// it did not build, and an injected client brings its own TLS settings.
	if c.HTTPClient != nil {
		cfg.HTTPClient = c.HTTPClient
	}
	cl := &Client{cfg: cfg, timeout: c.Timeout, now: c.Now}
	if cl.timeout <= 0 {
		cl.timeout = DefaultTimeout
	}
	if cl.now == nil {
		cl.now = time.Now
	}
	cl.sts = sts.NewFromConfig(cfg, func(o *sts.Options) {
		if c.SigningClock != nil {
			o.HTTPSignerV4 = clockSigner{inner: v4.NewSigner(), now: c.SigningClock}
			o.DisableClockSkewCorrection = true
		}
	})
	// IAM is global: in the aws partition it is signed for us-east-1
	// whatever the client's region (AWS's endpoint rules do the same for
	// the real endpoint; a BaseEndpoint bypasses them).
	cl.iam = iam.NewFromConfig(cfg, func(o *iam.Options) {
		if c.SigningClock != nil {
			o.HTTPSignerV4 = clockSigner{inner: v4.NewSigner(), now: c.SigningClock}
			o.DisableClockSkewCorrection = true
		}
		if partitionOf(cfg.Region) == "aws" {
			o.Region = "us-east-1"
		}
	})
	return cl, nil
}

func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// checkEndpoint accepts an http(s) base URL; plain http only on loopback,
// since request signatures and session credentials travel to it.
func checkEndpoint(s string) (string, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(s), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("aws: endpoint %q is not an http(s) base URL", s)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", fmt.Errorf("aws: endpoint %q uses plain http: use https (http is allowed only on a loopback address)", s)
		}
	}
	return u.String(), nil
}

// Region is the region the client resolved.
func (c *Client) Region() string { return c.cfg.Region }

func (c *Client) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// Identity is who the client's credentials belong to.
type Identity struct {
	Account string
	ARN     string
	UserID  string
}

// CallerIdentity asks STS who the client is (it needs no permission).
func (c *Client) CallerIdentity(ctx context.Context) (Identity, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, translate(ctx, "get caller identity", err)
	}
	return Identity{Account: awssdk.ToString(out.Account), ARN: awssdk.ToString(out.Arn), UserID: awssdk.ToString(out.UserId)}, nil
}

// MaxHandoffDuration is the longest session handoff asks for.
const MaxHandoffDuration = time.Hour

// AssumeRole mints one handoff's session: sts:AssumeRole on in.RoleARN with
// the handoff's session name, source identity, tags and session policy.
// The session policy is checked against STS's plaintext limit first.
func (c *Client) AssumeRole(ctx context.Context, in AssumeInput) (Credentials, error) {
	const op = "assume role"
	if in.RoleARN == "" || in.SessionName == "" {
		return Credentials{}, errors.New("aws: assume role: a role ARN and a session name are required")
	}
	if in.Duration > MaxHandoffDuration {
		return Credentials{}, fmt.Errorf("aws: assume role: duration %s is over handoff's %s limit for AWS sessions", in.Duration, MaxHandoffDuration)
	}
	if in.Duration != 0 && in.Duration < 15*time.Minute {
		return Credentials{}, fmt.Errorf("aws: assume role: duration %s is under STS's 15-minute minimum", in.Duration)
	}
	if n := SessionPolicyLength(in.SessionPolicy); n > MaxSessionPolicyLength {
		return Credentials{}, &Error{APIError: newLocalError(op, fmt.Sprintf("session policy is %d characters, over STS's %d", n, MaxSessionPolicyLength),
			"narrow the handoff's aws grants (fewer resources, wider prefixes) or split the handoff"), sentinel: ErrPolicyTooLarge}
	}
	req := &sts.AssumeRoleInput{RoleArn: awssdk.String(in.RoleARN), RoleSessionName: awssdk.String(in.SessionName)}
	if in.SourceIdentity != "" {
		req.SourceIdentity = awssdk.String(in.SourceIdentity)
	}
	if in.Duration > 0 {
		req.DurationSeconds = awssdk.Int32(int32(in.Duration / time.Second))
	}
	if len(in.SessionPolicy) > 0 {
		req.Policy = awssdk.String(string(in.SessionPolicy))
	}
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		req.Tags = append(req.Tags, ststypes.Tag{Key: awssdk.String(k), Value: awssdk.String(in.Tags[k])})
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out, err := c.sts.AssumeRole(ctx, req)
	if err != nil {
		return Credentials{}, translate(ctx, op, err)
	}
	if out.Credentials == nil {
		return Credentials{}, fmt.Errorf("aws: %s: STS answered without credentials", op)
	}
	cr := Credentials{
		AccessKeyID:     awssdk.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: awssdk.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    awssdk.ToString(out.Credentials.SessionToken),
		Expiration:      awssdk.ToTime(out.Credentials.Expiration),
	}
	if out.AssumedRoleUser != nil {
		cr.AssumedRoleARN = awssdk.ToString(out.AssumedRoleUser.Arn)
	}
	switch {
	case out.SessionTokenUtilization != nil:
		cr.PackedPolicySize = int(*out.SessionTokenUtilization)
	case packedPolicySize(out) != nil:
		cr.PackedPolicySize = int(*packedPolicySize(out))
	}
	return cr, nil
}

// packedPolicySize reads the deprecated field.
//
//lint:ignore SA1019 the STS model handoff is checked against (botocore 1.43.67) has only PackedPolicySize
func packedPolicySize(out *sts.AssumeRoleOutput) *int32 { return out.PackedPolicySize }

// clockSigner signs requests at a clock of the caller's (Config.SigningClock).
type clockSigner struct {
	inner *v4.Signer
	now   func() time.Time
}

// SignHTTP signs r at the signer's clock, whatever time the SDK proposes.
func (s clockSigner) SignHTTP(ctx context.Context, creds awssdk.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.inner.SignHTTP(ctx, creds, r, payloadHash, service, region, s.now(), optFns...)
}

// EnvConfig is the part of Config read from an environment other than the
// process's (the workspace's, which tests and `handoff dev` inject): the
// region, the profile, the endpoint (AWS_ENDPOINT_URL) and static keys
// when both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set. The SDK's own chain reads the process
// environment only, so without this an injected environment would be
// ignored and the chain would go on to the instance metadata service.
func EnvConfig(getenv func(string) string) Config {
	var c Config
	c.Region = strings.TrimSpace(getenv("AWS_REGION"))
	c.Profile = strings.TrimSpace(getenv("AWS_PROFILE"))
	c.Endpoint = strings.TrimSpace(getenv("AWS_ENDPOINT_URL"))
	id, secret := strings.TrimSpace(getenv("AWS_ACCESS_KEY_ID")), strings.TrimSpace(getenv("AWS_SECRET_ACCESS_KEY"))
	if id != "" && secret != "" {
		c.Credentials = credentials.NewStaticCredentialsProvider(id, secret, strings.TrimSpace(getenv("AWS_SESSION_TOKEN")))
	}
	return c
}
