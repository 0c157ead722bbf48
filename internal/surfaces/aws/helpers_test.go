package aws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/devserver/contracttest/botocore"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/manifest"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
	"github.com/raxx-app/handoff/internal/vault"
)

const (
	root    = "/MooseQuest/handoffs"
	envName = "staging"
)

// errCrash stands for apply stopping at a step.
var errCrash = errors.New("crash")

// env is the local AWS server (throttling off: the frozen clock never
// refills its buckets) with the provisioner's client, every request and
// answer checked against the botocore models of shared/contracts, and the
// credentials of every session STS answered with (read off the wire, so
// that a session minted by a run that stopped can still be tried).
type env struct {
	t       *testing.T
	kit     *devkit.Kit
	srv     *awssrv.Server
	ts      *httptest.Server
	checker *botocore.Checker
	client  *awsprov.Client

	mu      sync.Mutex
	wire    []awsprov.Credentials // sessions STS answered with, in order
	secrets []string              // every secret seen
	texts   []string              // every text a person or a log could see
	steps   []string              // the steps announced with Begin
	stopAt  string                // Begin of this step fails with errCrash
}

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// fastRetryer is the SDK's retryer with two attempts and no waits (the
// second attempt also corrects the SDK's clock to the server's after a
// "Signature expired" answer, as against AWS).
func fastRetryer() awssdk.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = noBackoff{}; o.MaxAttempts = 2 })
}

func newEnv(t *testing.T) *env {
	t.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(time.Now().UTC().Truncate(time.Second)), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	fx := awssrv.DefaultFixture()
	fx.Settings.NoThrottling = true
	srv, err := awssrv.New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{t: t, kit: kit, srv: srv, ts: ts, checker: botocore.NewChecker(t)}
	id, secret := srv.ProvisionerCredentials()
	e.secrets = append(e.secrets, secret)
	e.client, err = awsprov.New(context.Background(), awsprov.Config{Region: "us-east-1", Endpoint: ts.URL,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), Retryer: fastRetryer, Now: kit.Clock.Now, SigningClock: kit.Clock.Now,
		HTTPClient: &http.Client{Transport: &sniffer{e: e, next: e.checker.Transport(http.DefaultTransport)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.scan)
	return e
}

func (e *env) now() time.Time { return e.kit.Clock.Now() }

func (e *env) advance(d time.Duration) { e.kit.Clock.Advance(d) }

func (e *env) role() string { return e.srv.RoleARN(awssrv.DefaultAgentRole) }

// surface is the aws surface with the env's client.
func (e *env) surface() *awssurface.Surface {
	return awssurface.New(func() (*awsprov.Client, error) { return e.client, nil })
}

// handoff parses the spec of slug with an aws block of body.
func (e *env) handoff(slug, ttl, body string) *spec.Handoff {
	e.t.Helper()
	src := fmt.Sprintf("handoff %q {\n  card        = 1\n  ttl         = %q\n  approved_by = \"ops\"\n  aws {%s\n  }\n}\n", slug, ttl, body)
	h, diags := spec.ParseHandoffFile("specs/"+slug+".hcl", []byte(src))
	if diags.HasErrors() {
		e.t.Fatal(diags)
	}
	return h
}

// ssmHandoff is a handoff reading its own SSM path on the agent role.
func (e *env) ssmHandoff(slug string) *spec.Handoff {
	return e.handoff(slug, "8h", fmt.Sprintf(`
    role_arn = %q
    region   = "us-east-1"
    ssm_read = ["/raxx/%s/"]`, e.role(), slug))
}

func (e *env) handoffWithout(slug string) *spec.Handoff {
	e.t.Helper()
	h, diags := spec.ParseHandoffFile("specs/"+slug+".hcl", []byte(fmt.Sprintf("handoff %q {\n  card        = 1\n  ttl         = \"1h\"\n  approved_by = \"ops\"\n  mcp {\n    allow = [\"x\"]\n  }\n}\n", slug)))
	if diags.HasErrors() {
		e.t.Fatal(diags)
	}
	return h
}

// request is what apply would give the surface for h (nil: a deleted
// spec) at the env's now, its TTL ending 8 hours after start.
func (e *env) request(slug string, h *spec.Handoff) *surface.Request {
	return &surface.Request{Slug: slug, Spec: h, Folder: root + "/" + slug, Environment: envName,
		Now: e.now(), ExpiresAt: e.now().Add(8 * time.Hour), Step: e.step}
}

func (e *env) step(ctx context.Context, name string, ids map[string]string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.steps = append(e.steps, name)
	b, _ := json.Marshal(ids)
	e.texts = append(e.texts, string(b))
	if name == e.stopAt {
		return errCrash
	}
	return ctx.Err()
}

// takeSteps returns the steps announced since the last call.
func (e *env) takeSteps() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.steps
	e.steps = nil
	return s
}

// seen records what a person could see of a result or an error.
func (e *env) seen(res surface.Result, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.texts = append(e.texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	for _, v := range res.Secrets {
		e.secrets = append(e.secrets, v)
	}
	b, _ := json.Marshal(res.Record)
	e.texts = append(e.texts, res.Detail, res.Fingerprint, string(b), res.String(), fmt.Sprintf("%v|%+v|%#v|%s", res, res, res, res))
}

func (e *env) text(s ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.texts = append(e.texts, s...)
}

// create mints h's session and fails the test on error.
func (e *env) create(h *spec.Handoff) surface.Result {
	e.t.Helper()
	res, err := e.surface().Create(context.Background(), e.request(h.Slug.Value, h))
	e.seen(res, err)
	if err != nil {
		e.t.Fatalf("create %s: %v", h.Slug.Value, err)
	}
	return res
}

// scan fails the test when a secret access key or session token (or an
// access key id) of any session, or the provisioner's secret, appears in a
// text.
func (e *env) scan() {
	e.mu.Lock()
	defer e.mu.Unlock()
	values := append([]string(nil), e.secrets...)
	for _, c := range e.wire {
		values = append(values, c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	}
	for _, v := range values {
		if len(v) < 12 {
			continue
		}
		for _, t := range e.texts {
			if strings.Contains(t, v) {
				e.t.Errorf("secret scan: a secret appears in %.300q", strings.ReplaceAll(t, v, "[THE SECRET]"))
			}
		}
	}
}

// sniffer reads the credentials of every AssumeRole answer off the wire.
type sniffer struct {
	e    *env
	next http.RoundTripper
}

func (s *sniffer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err != nil || awsmiddleware.GetOperationName(r.Context()) != "AssumeRole" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var out struct {
		Result struct {
			Credentials struct {
				AccessKeyID     string `xml:"AccessKeyId"`
				SecretAccessKey string `xml:"SecretAccessKey"`
				SessionToken    string `xml:"SessionToken"`
			} `xml:"Credentials"`
		} `xml:"AssumeRoleResult"`
	}
	if xml.Unmarshal(body, &out) == nil {
		c := out.Result.Credentials
		s.e.mu.Lock()
		s.e.wire = append(s.e.wire, awsprov.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken})
		s.e.mu.Unlock()
	}
	return resp, nil
}

// lastWire is the last session STS answered with.
func (e *env) lastWire() awsprov.Credentials {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.wire) == 0 {
		e.t.Fatal("no session was minted")
	}
	return e.wire[len(e.wire)-1]
}

// credsOf are the credentials of a result.
func credsOf(res surface.Result) awsprov.Credentials {
	return awsprov.Credentials{AccessKeyID: res.Secrets["AWS_ACCESS_KEY_ID"], SecretAccessKey: res.Secrets["AWS_SECRET_ACCESS_KEY"],
		SessionToken: res.Secrets["AWS_SESSION_TOKEN"]}
}

// ssmAs is an SSM client (the SDK's) acting with session credentials c.
func (e *env) ssmAs(c awsprov.Credentials) *ssm.Client {
	return ssm.NewFromConfig(awssdk.Config{Region: "us-east-1", BaseEndpoint: awssdk.String(e.ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:  &http.Client{Transport: e.checker.Transport(http.DefaultTransport)}, Retryer: fastRetryer})
}

// read reads an SSM parameter (and, with byPath, the path) with c; nil
// when allowed.
func (e *env) read(c awsprov.Credentials, name string) error {
	_, err := e.ssmAs(c).GetParameter(context.Background(), &ssm.GetParameterInput{Name: awssdk.String(name), WithDecryption: awssdk.Bool(true)})
	if err != nil {
		e.text(err.Error())
	}
	return err
}

func (e *env) readPath(c awsprov.Credentials, path string) ([]string, error) {
	out, err := e.ssmAs(c).GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{Path: awssdk.String(path), Recursive: awssdk.Bool(true)})
	if err != nil {
		e.text(err.Error())
		return nil, err
	}
	var names []string
	for _, p := range out.Parameters {
		names = append(names, awssdk.ToString(p.Name))
	}
	return names, nil
}

// denied reports whether err is AWS's refusal.
func denied(err error) bool {
	return err != nil && strings.Contains(err.Error(), "AccessDeniedException")
}

func recordOf(t *testing.T, res surface.Result) surface.Record {
	t.Helper()
	b, err := json.Marshal(res.Record)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func targetOf(h *spec.Handoff, now, end time.Time) surface.Target {
	return surface.Target{Slug: h.Slug.Value, Spec: h, Root: root, Folder: root + "/" + h.Slug.Value, Environment: envName, Now: now, ExpiresAt: end}
}

// memVault is a vault holding one folder's secrets (GetSecret only).
type memVault struct {
	vault.Vault
	secrets map[string]string
}

func (v memVault) GetSecret(_ context.Context, _, folder, key string) (vault.Secret, error) {
	s, ok := v.secrets[key]
	if !ok {
		return vault.Secret{}, fmt.Errorf("%s/%s: %w", folder, key, vault.ErrNotFound)
	}
	return vault.Secret{Path: folder, Key: key, Value: s}, nil
}

// live is the live state of one handoff whose folder holds res's secrets,
// with manifest m (nil: none).
func live(slug string, res surface.Result, m *manifest.Manifest) *state.Live {
	h := &state.Handoff{Slug: slug, Folder: root + "/" + slug, Secrets: map[string]state.SecretMeta{}, Manifest: m}
	for k := range res.Secrets {
		h.Secrets[k] = state.SecretMeta{Version: 1}
	}
	return &state.Live{Root: root, Environment: envName, Handoffs: map[string]*state.Handoff{slug: h}}
}

// manifestOf is an active manifest of slug recording rec (killed: the aws
// surface killed; status: revoked when true).
func manifestOf(slug string, rec surface.Record, killed, revoked bool) *manifest.Manifest {
	m := &manifest.Manifest{Slug: slug, Status: manifest.Active, Surfaces: manifest.Surfaces{"aws": rec}}
	if killed {
		m.Revocation = &manifest.Revocation{Kind: manifest.RevokedManual, Surfaces: []string{"aws"}}
	}
	if revoked {
		m.Status = manifest.Revoked
		m.Revocation = &manifest.Revocation{Kind: manifest.RevokedManual}
	}
	return m
}

// devkitFault fails every request of route with a 500 until cleared.
func devkitFault(route string) devkit.Fault { return devkit.Fault{Route: route, Status: 500} }
