package heroku_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/herokucontract"
	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	hk "github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	_ "github.com/raxx-app/handoff/internal/surfaces" // the language, with this surface
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
	"github.com/raxx-app/handoff/internal/vault"
)

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const (
	slug   = "deploy-20261123"
	folder = "/MooseQuest/handoffs/" + slug
	env    = "staging"
)

// world is a local Heroku, the handoff account's client on it (every
// exchange checked against Heroku's hyper-schema), the surface, and a vault
// folder in memory.
type world struct {
	t     *testing.T
	srv   *herokusrv.Server
	kit   *devkit.Kit
	url   string
	check *herokucontract.Validator
	c     *hk.Client
	s     *heroku.Surface
	vault *memVault
	// steps are the names announced with Begin, in order.
	steps []string
}

func newWorld(t *testing.T, fx herokusrv.Fixture) *world {
	t.Helper()
	return newWorldWrapped(t, fx, nil)
}

// newWorldWrapped is newWorld with wrap between the client and the server
// (a Heroku that misbehaves).
func newWorldWrapped(t *testing.T, fx herokusrv.Fixture, wrap func(http.Handler) http.Handler) *world {
	t.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := herokusrv.New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	w := &world{t: t, srv: srv, kit: kit, url: ts.URL, check: herokucontract.MustNew(t), vault: newMemVault()}
	w.c = w.client(srv.ProvisionerAPIKey())
	w.s = heroku.New(func() (*hk.Client, error) { return w.c, nil })
	return w
}

// client returns a client acting with key, paced on a virtual clock that
// moves the server's along.
func (w *world) client(key string) *hk.Client {
	w.t.Helper()
	c, err := hk.New(hk.Config{BaseURL: w.url, APIKey: key, Now: w.kit.Clock.Now, HTTP: httpx.Config{
		MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond, MaxRetries: 1,
		Transport: w.check.Transport(w.t, nil),
		Pacer:     pace.New(pace.Config{Clock: pace.NewVirtualClockFollowing(testNow, w.kit.Clock.Set)}),
	}})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// tokenClient is a client acting with a handoff's token.
func (w *world) tokenClient(token string) *hk.Client {
	w.t.Helper()
	c, err := w.c.WithToken(hk.NewSecret(token))
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// live reads the surface's live state as a plan does.
func (w *world) live() *state.Live {
	w.t.Helper()
	sl, err := w.s.ReadLive(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return &state.Live{Environment: env, Root: "/MooseQuest/handoffs", Handoffs: map[string]*state.Handoff{},
		Surfaces: map[string]state.SurfaceLive{heroku.Name: sl}}
}

// request is a request for the handoff h (nil: its spec is gone), expiring
// 8 hours after testNow.
func (w *world) request(h *spec.Handoff, live *state.Live) *surface.Request {
	return &surface.Request{
		Slug: slug, Spec: h, Folder: folder, Environment: env,
		Now: w.kit.Clock.Now(), ExpiresAt: testNow.Add(8 * time.Hour), Live: live, Vault: w.vault,
		Step: func(_ context.Context, name string, ids map[string]string) error {
			w.steps = append(w.steps, name)
			return nil
		},
	}
}

// write stores a result's secrets in the folder, as apply does.
func (w *world) write(res surface.Result) {
	for k, v := range res.Secrets {
		w.vault.put(folder, k, v)
	}
}

// parse parses a spec of slug with the given heroku block body and ttl.
func parse(t *testing.T, ttl, block string) *spec.Handoff {
	t.Helper()
	src := fmt.Sprintf("handoff %q {\n  card        = 7\n  ttl         = %q\n  approved_by = \"ops\"\n\n  heroku {\n%s\n  }\n}\n", slug, ttl, block)
	h, diags := spec.ParseHandoffFile("specs/"+slug+".hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("%s\n%v", src, diags)
	}
	return h
}

// specOf is a spec on app with scopes and the handoff's ttl of 8h.
func specOf(t *testing.T, app string, scope ...string) *spec.Handoff {
	q := make([]string, len(scope))
	for i, s := range scope {
		q[i] = fmt.Sprintf("%q", s)
	}
	return parse(t, "8h", fmt.Sprintf("    app   = %q\n    scope = [%s]", app, strings.Join(q, ", ")))
}

// writeRepo writes a repository (handoff.hcl and specs) in a temporary
// directory and loads it.
func writeRepo(t *testing.T, files map[string]string) *spec.Repo {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, diags := spec.LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return repo
}

// configSrc is a handoff.hcl whose policy block adds policy.
func configSrc(policy string) string {
	return `infisical {
  site_url        = "http://127.0.0.1:8200"
  organization_id = "org-raxx"
  project_id      = "proj-moosequest"
  environment     = "staging"
  handoff_root    = "/MooseQuest/handoffs"
}

policy {
` + policy + `
}
`
}

func recordOf(t *testing.T, res surface.Result) surface.Record {
	t.Helper()
	b, err := json.Marshal(res.Record)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renderings prints v every way a log line, an error or a report might.
func renderings(v any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	j, _ := json.Marshal(v)
	b.Write(j)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "v", v)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "v", v)
	b.Write(logs.Bytes())
	return b.String()
}

// assertHidden fails when a secret appears in s.
func assertHidden(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s shows a secret value: %s", what, s)
		}
	}
}

// memVault is a vault in memory: the folders of one environment.
type memVault struct {
	mu      sync.Mutex
	secrets map[string]string // folder/key → value
}

func newMemVault() *memVault { return &memVault{secrets: map[string]string{}} }

func (v *memVault) put(folder, key, value string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.secrets[folder+"/"+key] = value
}

func (v *memVault) list(folder string, values bool) []vault.Secret {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []vault.Secret
	for k, val := range v.secrets {
		if dir, key, _ := strings.Cut(strings.TrimPrefix(k, folder+"/"), "/"); strings.HasPrefix(k, folder+"/") && key == "" {
			s := vault.Secret{Path: folder, Key: dir}
			if values {
				s.Value = val
			}
			out = append(out, s)
		}
	}
	return out
}

func (v *memVault) ListSecrets(_ context.Context, _, folder string, _ bool) ([]vault.Secret, error) {
	return v.list(folder, true), nil
}

func (v *memVault) ListSecretNames(_ context.Context, _, folder string, _ bool) ([]vault.Secret, error) {
	return v.list(folder, false), nil
}

func (v *memVault) GetSecret(_ context.Context, _, folder, key string) (vault.Secret, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	val, ok := v.secrets[folder+"/"+key]
	if !ok {
		return vault.Secret{}, fmt.Errorf("%s/%s: %w", folder, key, vault.ErrNotFound)
	}
	return vault.Secret{Path: folder, Key: key, Value: val}, nil
}

func (v *memVault) CreateSecret(ctx context.Context, env, folder, key, value, _ string) (vault.Secret, error) {
	if _, err := v.GetSecret(ctx, env, folder, key); err == nil {
		return vault.Secret{}, vault.ErrAlreadyExists
	}
	v.put(folder, key, value)
	return vault.Secret{Path: folder, Key: key}, nil
}

func (v *memVault) UpdateSecret(ctx context.Context, env, folder, key, value string) (vault.Secret, error) {
	if _, err := v.GetSecret(ctx, env, folder, key); err != nil {
		return vault.Secret{}, err
	}
	v.put(folder, key, value)
	return vault.Secret{Path: folder, Key: key}, nil
}

func (v *memVault) UpsertSecret(_ context.Context, _, folder, key, value, _ string) (vault.Secret, error) {
	v.put(folder, key, value)
	return vault.Secret{Path: folder, Key: key}, nil
}

func (v *memVault) DeleteSecret(_ context.Context, _, folder, key string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.secrets, folder+"/"+key)
	return nil
}

func (v *memVault) EnsureFolder(context.Context, string, string) error { return nil }

var _ vault.Vault = (*memVault)(nil)
