package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/session"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

// contributor is a surface that contributes sess; plain one that does
// not. Only Name and Session are called.
type contributor struct {
	surface.Surface
	name string
	sess surface.Session
}

func (c contributor) Name() string                                   { return c.name }
func (c contributor) Session(surface.Record, string) surface.Session { return c.sess }

type plain struct {
	surface.Surface
	name string
}

func (p plain) Name() string { return p.name }

const (
	folder       = "/Root/handoffs/task-20260621"
	idValue      = "client-id-of-the-handoff-0001"
	secretValue  = "client-secret-of-the-handoff-abcdef"
	tokenValue   = "ghs_handofftokenvalue0000000000000000"
	keyValue     = "apple-iap-key-value-000000000000"
	shadowValue  = "a-read-path-secret-named-GH_TOKEN-xyz"
	provisionerV = "never-read-by-the-provisioner-value"
)

var place = session.Place{SiteURL: "https://vault.example", ProjectID: "proj", Environment: "staging", Folder: folder}

func fixture() (*manifest.Manifest, *surface.Registry) {
	reg := surface.NewRegistry(
		contributor{name: "tokens", sess: surface.Session{Env: []surface.EnvVar{{Name: "GH_TOKEN", Secret: "GH_HANDOFF_TOKEN"}, {Name: "TOKENS_REGION", Value: "eu"}}}},
		contributor{name: "identity", sess: surface.Session{
			Env:  []surface.EnvVar{{Name: "INFISICAL_CLIENT_ID", Secret: "INFISICAL_CLIENT_ID"}, {Name: "INFISICAL_CLIENT_SECRET", Secret: "INFISICAL_CLIENT_SECRET"}},
			Read: []string{"/Root/queue/KEY_*", "/Root/deep/**"}, ReadEnvironment: "prod",
		}},
		plain{name: "quiet"},
		contributor{name: "tools", sess: surface.Session{Lists: map[string][]string{"mcp_tools": {"a", "b"}, "mcp_tools_excluded": nil}}},
	)
	m := &manifest.Manifest{Slug: "task-20260621", Card: 7, ExpiresAt: time.Date(2026, 6, 22, 9, 0, 0, 0, time.UTC),
		Secrets:  []string{"GH_HANDOFF_TOKEN", "INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET"},
		Surfaces: manifest.Surfaces{"tokens": json.RawMessage(`{}`), "identity": json.RawMessage(`{}`), "quiet": json.RawMessage(`{}`), "tools": json.RawMessage(`{}`)}}
	return m, reg
}

func TestNewReferencesOnly(t *testing.T) {
	m, reg := fixture()
	c := session.New(m, reg, place)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"format_version":1,"slug":"task-20260621","card":7,"env":{` +
		`"HANDOFF_TASK_SLUG":"task-20260621","HANDOFF_EXPIRES_AT":"2026-06-22T09:00:00Z",` +
		`"INFISICAL_SITE_URL":"https://vault.example","INFISICAL_PROJECT_ID":"proj","INFISICAL_ENVIRONMENT":"staging",` +
		`"INFISICAL_SECRET_PATH":"/Root/handoffs/task-20260621","TOKENS_REGION":"eu",` +
		`"GH_TOKEN":"infisical://proj/staging/Root/handoffs/task-20260621/GH_HANDOFF_TOKEN",` +
		`"INFISICAL_CLIENT_ID":"infisical://proj/staging/Root/handoffs/task-20260621/INFISICAL_CLIENT_ID",` +
		`"INFISICAL_CLIENT_SECRET":"infisical://proj/staging/Root/handoffs/task-20260621/INFISICAL_CLIENT_SECRET"},` +
		`"read":["/Root/queue/KEY_*","/Root/deep/**"],"mcp_tools":["a","b"],"mcp_tools_excluded":[],"revealed":false}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
}

// reader is a vault: secrets by env and full path; it records calls.
type reader struct {
	who     string
	secrets map[string]string // "env:/path/KEY" -> value
	calls   *[]string
	failOn  string
}

func (r reader) GetSecret(_ context.Context, env, folder, key string) (vault.Secret, error) {
	*r.calls = append(*r.calls, fmt.Sprintf("%s get %s:%s/%s", r.who, env, folder, key))
	v, ok := r.secrets[env+":"+path.Join(folder, key)]
	if !ok {
		return vault.Secret{}, vault.ErrNotFound
	}
	return vault.Secret{Path: folder, Key: key, Value: v}, nil
}

func (r reader) ListSecrets(_ context.Context, env, folder string, recursive bool) ([]vault.Secret, error) {
	*r.calls = append(*r.calls, fmt.Sprintf("%s list %s:%s recursive=%v", r.who, env, folder, recursive))
	if folder == r.failOn {
		return nil, errors.New("403 forbidden")
	}
	var out []vault.Secret
	for k, v := range r.secrets {
		e, p, _ := strings.Cut(k, ":")
		dir, key := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if e == env && (dir == folder || recursive && strings.HasPrefix(dir, folder+"/")) {
			out = append(out, vault.Secret{Path: dir, Key: key, Value: v})
		}
	}
	return out, nil
}

type harness struct {
	calls     []string
	logins    []string
	logouts   int
	own       reader
	loginErr  error
	logoutErr error
}

func newHarness(failOn string) *harness {
	h := &harness{}
	h.own = reader{who: "handoff", calls: &h.calls, failOn: failOn, secrets: map[string]string{
		"staging:" + folder + "/GH_HANDOFF_TOKEN":        tokenValue,
		"staging:" + folder + "/INFISICAL_CLIENT_ID":     idValue,
		"staging:" + folder + "/INFISICAL_CLIENT_SECRET": secretValue,
		"prod:/Root/queue/KEY_ONE":                       keyValue,
		"prod:/Root/queue/OTHER":                         provisionerV,
		"prod:/Root/deep/a/b/GH_TOKEN":                   shadowValue,
		"staging:/Root/queue/KEY_TWO":                    provisionerV, // another environment
	}}
	return h
}

func (h *harness) vault() session.Vault {
	prov := reader{who: "provisioner", calls: &h.calls, secrets: h.own.secrets}
	return session.Vault{Provisioner: prov, Login: func(_ context.Context, id, secret string) (session.Reader, func(context.Context) error, error) {
		h.logins = append(h.logins, id+"/"+secret)
		if h.loginErr != nil {
			return nil, nil, h.loginErr
		}
		return h.own, func(ctx context.Context) error {
			h.logouts++
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return h.logoutErr
		}, nil
	}}
}

func TestRevealReadsAsTheHandoffAndLogsOut(t *testing.T) {
	m, reg := fixture()
	c := session.New(m, reg, place)
	h := newHarness("")
	if err := c.Reveal(context.Background(), h.vault()); err != nil {
		t.Fatal(err)
	}
	wantCalls := []string{
		"provisioner get staging:" + folder + "/INFISICAL_CLIENT_ID",
		"provisioner get staging:" + folder + "/INFISICAL_CLIENT_SECRET",
		"handoff list staging:" + folder + " recursive=false",
		"handoff list prod:/Root/queue recursive=false",
		"handoff list prod:/Root/deep recursive=true",
	}
	if strings.Join(h.calls, "\n") != strings.Join(wantCalls, "\n") {
		t.Errorf("calls:\n%s\nwant (the provisioner reads the two login secrets, nothing else):\n%s", strings.Join(h.calls, "\n"), strings.Join(wantCalls, "\n"))
	}
	if len(h.logins) != 1 || h.logins[0] != idValue+"/"+secretValue || h.logouts != 1 {
		t.Errorf("logins %d, logouts %d", len(h.logins), h.logouts)
	}
	vars, notes := c.Environ()
	got := map[string]string{}
	var names []string
	for _, v := range vars {
		got[v.Name] = v.Value
		names = append(names, v.Name)
	}
	for name, want := range map[string]string{
		"GH_TOKEN": tokenValue, "INFISICAL_CLIENT_ID": idValue, "INFISICAL_CLIENT_SECRET": secretValue,
		"KEY_ONE": keyValue, "HANDOFF_READ_PATHS": "/Root/queue/KEY_*,/Root/deep/**",
		"HANDOFF_MCP_TOOLS": "a,b", "HANDOFF_MCP_TOOLS_EXCLUDED": "", "TOKENS_REGION": "eu",
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	if _, ok := got["OTHER"]; ok {
		t.Error("a secret outside the glob")
	}
	if _, ok := got["KEY_TWO"]; ok {
		t.Error("a secret of another environment")
	}
	// The read path's GH_TOKEN cannot shadow the handoff's own.
	if len(notes) != 1 || !strings.Contains(notes[0], "GH_TOKEN /Root/deep/a/b/GH_TOKEN is shadowed") {
		t.Errorf("notes %q", notes)
	}
	if strings.Count(strings.Join(names, " "), "GH_TOKEN") != 1 {
		t.Errorf("names %v", names)
	}
	for _, n := range notes {
		assertClean(t, n)
	}
	var dot strings.Builder
	if err := c.WriteDotenv(&dot); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dot.String(), `GH_TOKEN="`+tokenValue+`"`) || strings.Contains(dot.String(), shadowValue) {
		t.Errorf("dotenv:\n%s", dot.String())
	}
	// No fmt verb shows a value.
	assertClean(t, fmt.Sprintf("%v %+v %#v %s", vars, vars, vars[0], vars))
}

func TestRevealFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failOn    string
		missing   string
		loginErr  error
		logoutErr error
		noLogin   bool
		want      string
		logouts   int
	}{
		{name: "folder unreadable", failOn: folder, want: "reading " + folder + " as the handoff's identity: 403 forbidden", logouts: 1},
		{name: "read path unreadable", failOn: "/Root/deep", want: "reading /Root/deep/** as the handoff's identity", logouts: 1},
		{name: "secret missing", missing: "staging:" + folder + "/GH_HANDOFF_TOKEN", want: "GH_TOKEN is missing from " + folder + ": run handoff apply", logouts: 1},
		{name: "login refused", loginErr: errors.New("401 invalid credentials"), want: "401 invalid credentials"},
		{name: "logout fails", logoutErr: errors.New("503"), want: "logging out the access token of the handoff's identity: 503", logouts: 1},
		{name: "no identity", noLogin: true, want: "has no vault identity of its own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, reg := fixture()
			if tc.noLogin {
				reg = surface.NewRegistry(plain{name: "identity"})
			}
			c := session.New(m, reg, place)
			h := newHarness(tc.failOn)
			delete(h.own.secrets, tc.missing)
			h.loginErr, h.logoutErr = tc.loginErr, tc.logoutErr
			err := c.Reveal(context.Background(), h.vault())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Reveal: %v, want %q", err, tc.want)
			}
			assertClean(t, err.Error())
			if h.logouts != tc.logouts {
				t.Errorf("%d logouts, want %d", h.logouts, tc.logouts)
			}
			if c.Revealed {
				t.Error("revealed after an error")
			}
			for _, v := range c.Env {
				assertClean(t, v.Value)
			}
		})
	}
}

func TestRevealLogsOutWhenCancelled(t *testing.T) {
	m, reg := fixture()
	c := session.New(m, reg, place)
	h := newHarness("")
	ctx, cancel := context.WithCancel(context.Background())
	v := h.vault()
	login := v.Login
	v.Login = func(ctx context.Context, id, secret string) (session.Reader, func(context.Context) error, error) {
		r, out, err := login(ctx, id, secret)
		cancel() // the operator interrupts right after the login
		return r, out, err
	}
	if err := c.Reveal(ctx, v); err != nil {
		t.Fatal(err) // the fake reader ignores ctx
	}
	if h.logouts != 1 {
		t.Errorf("%d logouts", h.logouts)
	}
}

func TestEnvironLeavesOutInvalidNames(t *testing.T) {
	m, _ := fixture()
	reg := surface.NewRegistry(contributor{name: "tokens", sess: surface.Session{Env: []surface.EnvVar{{Name: "BAD=NAME", Value: "v"}, {Name: "GOOD", Value: "v"}}}})
	vars, notes := session.New(m, reg, place).Environ()
	for _, v := range vars {
		if v.Name == "BAD=NAME" {
			t.Error("an invalid name was kept")
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `"BAD=NAME" is not a valid variable name`) {
		t.Errorf("notes %q", notes)
	}
}

func assertClean(t *testing.T, s string) {
	t.Helper()
	for _, v := range []string{idValue, secretValue, tokenValue, keyValue, shadowValue, provisionerV} {
		if strings.Contains(s, v) {
			t.Errorf("a value leaked: %.40q…", s)
		}
	}
}
