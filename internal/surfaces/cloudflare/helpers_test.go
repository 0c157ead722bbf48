package cloudflare_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/policy"
	cf "github.com/raxx-app/handoff/internal/provider/cloudflare"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	_ "github.com/raxx-app/handoff/internal/surfaces" // installs the registry and the language
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
	"github.com/raxx-app/handoff/internal/vault"
)

// testNow is where every test's frozen clock starts.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const (
	testRoot = "/MooseQuest/handoffs"
	testEnv  = "staging"
)

// env is the local Cloudflare server with the surface on the real client,
// every exchange of which is checked against Cloudflare's contract.
type env struct {
	t     *testing.T
	kit   *devkit.Kit
	srv   *cloudflaresrv.Server
	ts    *httptest.Server
	v     *contracttest.Validator
	c     *cf.Client
	s     *cfsurface.Surface
	vault *memVault

	mu      sync.Mutex
	secrets []string // every token value in play: no output may hold one
}

func newEnv(t *testing.T, mutate func(*cloudflaresrv.Fixture)) *env {
	t.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	fx := cloudflaresrv.DefaultFixture()
	if mutate != nil {
		mutate(&fx)
	}
	srv, err := cloudflaresrv.New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	base := ts.URL + cloudflaresrv.BasePath
	v := contracttest.MustNew(t, contracttest.Cloudflare, base)
	c, err := cf.New(cf.Config{BaseURL: base, Token: cf.Secret(srv.ProvisionerToken()),
		HTTP: httpx.Config{Transport: v.Transport(t, nil, "/_dev/"), MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond,
			Pacer: pace.New(pace.Config{Clock: pace.NewVirtualClock(testNow)})}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, kit: kit, srv: srv, ts: ts, v: v, c: c, vault: newMemVault()}
	e.s = cfsurface.New(func() (*cf.Client, error) { return c, nil })
	e.remember(srv.ProvisionerToken())
	return e
}

func (e *env) remember(values ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, values...)
}

// noValue fails when text holds a token value.
func (e *env) noValue(what, text string) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.secrets {
		if s != "" && strings.Contains(text, s) {
			e.t.Errorf("%s holds a token value: %s", what, text)
		}
	}
}

func (e *env) noValueErr(err error) {
	e.t.Helper()
	if err != nil {
		e.noValue("error", err.Error())
	}
}

// live reads the surface's live state as a plan would, into a state.Live.
func (e *env) live() *state.Live {
	e.t.Helper()
	sl, err := e.s.ReadLive(context.Background())
	e.noValueErr(err)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, line := range sl.FingerprintLines() {
		e.noValue("fingerprint line", line)
	}
	return &state.Live{Surfaces: map[string]state.SurfaceLive{cfsurface.Name: sl}}
}

// request is a request for slug's spec h at the server's clock, with the
// live state read now, recording the steps begun.
func (e *env) request(slug string, h *spec.Handoff, steps *[]string) *surface.Request {
	now := e.kit.Clock.Now().UTC()
	exp := now.Add(8 * time.Hour)
	if h != nil && h.TTL.Valid() {
		exp = now.Add(h.TTL.Value)
	}
	return &surface.Request{Slug: slug, Spec: h, Folder: testRoot + "/" + slug, Environment: testEnv,
		Now: now, ExpiresAt: exp, Live: e.live(), Vault: e.vault,
		Step: func(_ context.Context, name string, ids map[string]string) error {
			if steps != nil {
				*steps = append(*steps, name)
			}
			for k, v := range ids {
				e.noValue("step id "+k, v)
			}
			return nil
		}}
}

// write stores a result's secrets in the handoff's folder, as apply does.
func (e *env) write(req *surface.Request, res surface.Result) {
	for k, v := range res.Secrets {
		e.remember(v)
		if _, err := e.vault.UpsertSecret(context.Background(), req.Environment, req.Folder, k, v, "handoff "+req.Slug); err != nil {
			e.t.Fatal(err)
		}
	}
}

// record is a result's record as the manifest keeps it, scanned for values.
func (e *env) record(res surface.Result) surface.Record {
	e.t.Helper()
	raw, err := json.Marshal(res.Record)
	if err != nil {
		e.t.Fatal(err)
	}
	e.noValue("record", string(raw))
	e.noValue("detail", res.Detail)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		e.noValue("result "+verb, fmt.Sprintf(verb, res))
	}
	return raw
}

// as is a client acting with a handoff's token value.
func (e *env) as(value string) *cf.Client {
	e.t.Helper()
	c, err := e.c.WithToken(cf.Secret(value))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// call sends one request with token value to the server (outside the
// contract for the zone and DNS routes), returning the status and the
// first error code.
func (e *env) call(method, path, value string, body any) (int, int) {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, e.ts.URL+cloudflaresrv.BasePath+path, rd)
	req.Header.Set("Authorization", "Bearer "+value)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Errors []struct {
			Code int `json:"code"`
		} `json:"errors"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	code := 0
	if len(out.Errors) > 0 {
		code = out.Errors[0].Code
	}
	return resp.StatusCode, code
}

// repo is a GitOps directory: handoff.hcl (with policyBody inside its
// policy block) and the given specs, loaded and checked by the policy.
func repo(t *testing.T, policyBody string, specs map[string]string) (*spec.Repo, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"handoff.hcl": `infisical {
  environment  = "staging"
  handoff_root = "/MooseQuest/handoffs"
}

policy {
` + policyBody + `
}
`}
	for name, src := range specs {
		files[filepath.Join("specs", name+".hcl")] = src
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, diags := spec.LoadDir(dir)
	if diags.HasErrors() {
		return r, diags
	}
	diags = append(diags, policy.Check(r)...)
	// Report file names relative to the directory.
	for _, d := range diags {
		if d.Subject != nil {
			d.Subject.Filename = strings.TrimPrefix(strings.TrimPrefix(d.Subject.Filename, dir), string(filepath.Separator))
		}
	}
	return r, diags
}

// handoff is a spec with a cloudflare block of the given body.
func handoff(slug, ttl, body string) string {
	return `handoff "` + slug + `" {
  card        = 1
  ttl         = "` + ttl + `"
  approved_by = "ops"

  cloudflare {
` + body + `
  }
}
`
}

const allowAll = `  cloudflare_zones             = ["example.com", "raxx.dev", "moosequest.app", "other-team.io", "2ebc3b25e5b82662f032d2d540301afa", "c35dce0703353d8ec2f57322f0f50b01"]
  cloudflare_permission_groups = ["Zone Read", "DNS Read", "DNS Write", "Cache Purge", "Workers Scripts Write", "Page Rules Read"]`

// parse loads one valid spec under a policy allowing every fixture zone.
func parse(t *testing.T, slug, ttl, body string) *spec.Handoff {
	t.Helper()
	r, diags := repo(t, allowAll, map[string]string{slug: handoff(slug, ttl, body)})
	if diags.HasErrors() {
		t.Fatalf("spec does not pass: %v", diags)
	}
	return r.Handoff(slug)
}

// memVault is an in-memory vault.Vault.
type memVault struct {
	mu  sync.Mutex
	sec map[string]vault.Secret // env + folder + key
}

func newMemVault() *memVault { return &memVault{sec: map[string]vault.Secret{}} }

func vkey(env, folder, key string) string { return env + "\x00" + folder + "\x00" + key }

func (m *memVault) ListSecrets(_ context.Context, env, folder string, _ bool) ([]vault.Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []vault.Secret
	for k, s := range m.sec {
		if strings.HasPrefix(k, env+"\x00"+folder) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FullPath() < out[j].FullPath() })
	return out, nil
}

func (m *memVault) ListSecretNames(ctx context.Context, env, folder string, rec bool) ([]vault.Secret, error) {
	list, err := m.ListSecrets(ctx, env, folder, rec)
	for i := range list {
		list[i].Value = ""
	}
	return list, err
}

func (m *memVault) GetSecret(_ context.Context, env, folder, key string) (vault.Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sec[vkey(env, folder, key)]
	if !ok {
		return vault.Secret{}, vault.ErrNotFound
	}
	return s, nil
}

func (m *memVault) CreateSecret(ctx context.Context, env, folder, key, value, comment string) (vault.Secret, error) {
	if _, err := m.GetSecret(ctx, env, folder, key); err == nil {
		return vault.Secret{}, vault.ErrAlreadyExists
	}
	return m.UpsertSecret(ctx, env, folder, key, value, comment)
}

func (m *memVault) UpdateSecret(ctx context.Context, env, folder, key, value string) (vault.Secret, error) {
	if _, err := m.GetSecret(ctx, env, folder, key); err != nil {
		return vault.Secret{}, err
	}
	return m.UpsertSecret(ctx, env, folder, key, value, "")
}

func (m *memVault) UpsertSecret(_ context.Context, env, folder, key, value, comment string) (vault.Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.sec[vkey(env, folder, key)]
	s := vault.Secret{Path: folder, Key: key, Value: value, Comment: comment, Version: prev.Version + 1}
	m.sec[vkey(env, folder, key)] = s
	return s, nil
}

func (m *memVault) DeleteSecret(_ context.Context, env, folder, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sec, vkey(env, folder, key))
	return nil
}

func (m *memVault) EnsureFolder(context.Context, string, string) error { return nil }
