package heroku

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/herokucontract"
	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// env is a local Heroku behind a transport that checks every exchange
// against Heroku's hyper-schema.
type env struct {
	t   *testing.T
	srv *herokusrv.Server
	kit *devkit.Kit
	url string
	val *herokucontract.Validator
}

func newEnv(t *testing.T, fx herokusrv.Fixture) *env {
	t.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := herokusrv.New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, kit: kit, url: ts.URL, val: herokucontract.MustNew(t)}
}

// client returns a client with key whose traffic the contract checks.
func (e *env) client(key string) *Client {
	e.t.Helper()
	c, err := New(Config{BaseURL: e.url, APIKey: key, Now: e.kit.Clock.Now,
		HTTP: httpx.Config{MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond, MaxRetries: 2, Transport: e.val.Transport(e.t, nil),
			// Waits for Heroku's rate limit pass on a virtual clock.
			Pacer: pace.New(pace.Config{Clock: pace.NewVirtualClock(testNow)})}})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// assertHidden fails when any secret appears in s.
func assertHidden(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("%s shows a secret: %s", what, s)
		}
	}
}

// renderings prints v every way a log line or error might.
func renderings(v any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T", "%d"} {
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

func TestProvisionerFlow(t *testing.T) {
	e := newEnv(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	c := e.client(herokusrv.DefaultProvisionerAPIKey)

	acc, err := c.Account(ctx)
	if err != nil || acc.Email != herokusrv.DefaultProvisionerEmail || acc.Name != "handoff provisioner" {
		t.Fatalf("Account = %+v, %v", acc, err)
	}
	if n, ok := c.RateLimitRemaining(); !ok || n != herokusrv.DefaultRateLimitPerHour-1 {
		t.Errorf("RateLimitRemaining = %d %v", n, ok)
	}

	apps, err := c.Apps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range apps {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != herokusrv.DefaultAllowedApp+","+herokusrv.DefaultViewOnlyApp {
		t.Fatalf("reach %v", names)
	}
	app, err := c.App(ctx, herokusrv.DefaultAllowedApp)
	if err != nil || app.Team != herokusrv.DefaultTeam || app.OwnerEmail != "raxx@herokumanager.com" || !strings.HasPrefix(app.WebURL, "https://moosequest-staging-") {
		t.Fatalf("App = %+v, %v", app, err)
	}
	if _, err := c.App(ctx, herokusrv.DefaultProductionApp); !IsForbidden(err) {
		t.Errorf("production app: %v, want forbidden", err)
	} else if e, _ := APIError(err); !strings.Contains(e.Remedy, "deploy permission") || e.RequestID == "" {
		t.Errorf("remedy %q request %q", e.Remedy, e.RequestID)
	}
	if _, err := c.App(ctx, "no-such-app"); !IsNotFound(err) {
		t.Errorf("unknown app: %v", err)
	}

	// Mint the narrowest authorization of a handoff.
	auth, err := c.CreateAuthorization(ctx, AuthorizationRequest{Scope: []string{"read-protected"}, Description: "handoff iap-notif-handler", ExpiresIn: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.Token.Reveal()
	if !strings.HasPrefix(tok, "HRKU-") || auth.ExpiresIn != 2*time.Hour || !auth.ExpiresAt.Equal(testNow.Add(2*time.Hour)) ||
		auth.UserEmail != herokusrv.DefaultProvisionerEmail || auth.TokenID == "" {
		t.Fatalf("authorization %s", auth)
	}
	for _, v := range []any{auth, &auth, auth.Token, c, Config{APIKey: herokusrv.DefaultProvisionerAPIKey}, []Authorization{auth}, map[string]any{"a": auth}} {
		assertHidden(t, fmt.Sprintf("rendering of %T", v), renderings(v), tok, herokusrv.DefaultProvisionerAPIKey)
	}
	if infos := e.srv.Authorizations(herokusrv.DefaultProvisionerEmail); len(infos) != 1 || infos[0].TokenFingerprint != herokusrv.TokenFingerprint(tok) {
		t.Fatalf("server sees %+v", infos)
	}

	info, err := c.Authorization(ctx, auth.ID)
	if err != nil || !info.Token.IsZero() || info.ExpiresIn != 2*time.Hour || info.Description != "handoff iap-notif-handler" {
		t.Fatalf("Authorization = %s, %v", info, err)
	}

	// The handoff's token: reads config vars of its app, nothing more.
	h, err := c.WithToken(auth.Token)
	if err != nil {
		t.Fatal(err)
	}
	assertHidden(t, "token client", renderings(h), tok, herokusrv.DefaultProvisionerAPIKey)
	vars, err := h.ConfigVars(ctx, herokusrv.DefaultAllowedApp)
	if err != nil || !strings.HasPrefix(vars["DATABASE_URL"], "postgres://") {
		t.Fatalf("ConfigVars: %v %v", vars, err)
	}
	assertHidden(t, "ConfigVars rendering", renderings(vars), vars["DATABASE_URL"], vars["STRIPE_API_KEY"])
	if got := fmt.Sprint(vars); !strings.Contains(got, "DATABASE_URL=[redacted]") {
		t.Errorf("ConfigVars renders %s", got)
	}
	if _, err := h.ConfigVars(ctx, herokusrv.DefaultViewOnlyApp); !IsForbidden(err) {
		t.Errorf("view-only app: %v", err)
	}
	if _, err := h.Account(ctx); !IsForbidden(err) {
		t.Errorf("read-protected token read the account: %v", err)
	} else if e, _ := APIError(err); !strings.Contains(e.Remedy, "scope") {
		t.Errorf("scope remedy %q", e.Remedy)
	}
	if _, err := h.CreateAuthorization(ctx, AuthorizationRequest{Scope: []string{"global"}}); !IsForbidden(err) {
		t.Errorf("a token minted a token: %v", err)
	}
	if n, ok := h.RateLimitRemaining(); !ok || n <= 0 {
		t.Errorf("token client rate %d %v", n, ok)
	}

	// Revoke: the token is refused at once; deleting again is fine.
	if err := c.DeleteAuthorization(ctx, auth.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.ConfigVars(ctx, herokusrv.DefaultAllowedApp)
	if !IsUnauthorized(err) {
		t.Fatalf("revoked token: %v", err)
	}
	assertHidden(t, "error", err.Error(), tok)
	if e, _ := APIError(err); !strings.Contains(e.Remedy, "revoked or has expired") {
		t.Errorf("remedy %q", e.Remedy)
	}
	if err := c.DeleteAuthorization(ctx, auth.ID); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.Authorization(ctx, auth.ID); !IsNotFound(err) {
		t.Errorf("deleted authorization: %v", err)
	}

	t.Logf("links this client does not use: %v", e.val.Uncovered())
}

// TestNegativeProbes are the probes a handoff's least-privilege checks run.
func TestNegativeProbes(t *testing.T) {
	e := newEnv(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	c := e.client(herokusrv.DefaultProvisionerAPIKey)
	mint := func(scope string, life time.Duration) *Client {
		a, err := c.CreateAuthorization(ctx, AuthorizationRequest{Scope: []string{scope}, ExpiresIn: life})
		if err != nil {
			t.Fatal(err)
		}
		h, err := c.WithToken(a.Token)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	read := mint("read", time.Hour)
	if _, err := read.ConfigVars(ctx, herokusrv.DefaultAllowedApp); !IsForbidden(err) {
		t.Errorf("read token read config vars: %v", err)
	}
	if apps, err := read.Apps(ctx); err != nil || len(apps) != 2 {
		t.Errorf("read token reach: %v %v", apps, err)
	}
	short := mint("read-protected", time.Minute)
	if _, err := short.ConfigVars(ctx, herokusrv.DefaultAllowedApp); err != nil {
		t.Fatal(err)
	}
	e.kit.Clock.Advance(time.Minute)
	if _, err := short.ConfigVars(ctx, herokusrv.DefaultAllowedApp); !IsUnauthorized(err) {
		t.Errorf("expired token: %v", err)
	}
	// The owner's other apps stay out of the handoff account's reach.
	for _, app := range []string{herokusrv.DefaultProductionApp, herokusrv.DefaultOwnerPersonalApp, herokusrv.DefaultSecondTeamApp} {
		if _, err := c.ConfigVars(ctx, app); !IsForbidden(err) {
			t.Errorf("%s: %v", app, err)
		}
	}
}

// TestAppsPaging follows Next-Range across pages of 1,000.
func TestAppsPaging(t *testing.T) {
	fx := herokusrv.DefaultFixture()
	for i := range 1000 {
		fx.Apps = append(fx.Apps, herokusrv.FixtureApp{Name: fmt.Sprintf("bulk-%04d", i), Owner: herokusrv.DefaultOwnerEmail})
	}
	e := newEnv(t, fx)
	c := e.client(herokusrv.DefaultOwnerAPIKey)
	apps, err := c.Apps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1004 {
		t.Fatalf("%d apps", len(apps))
	}
	if n := e.srv.RequestCount("GET /apps"); n != 2 {
		t.Errorf("%d requests, want 2 (pages of 1000)", n)
	}
	for i := 1; i < len(apps); i++ {
		if apps[i-1].Name >= apps[i].Name {
			t.Fatalf("not sorted at %d", i)
		}
	}
	if statuses := e.val.Statuses("GET /apps"); len(statuses) != 2 {
		t.Errorf("statuses %v, want 200 and 206", statuses)
	}
}

// TestErrorsAndRetries: rate limit, server errors and transport failures
// come back as errors that name the fix and hold no credential.
func TestErrorsAndRetries(t *testing.T) {
	fx := herokusrv.DefaultFixture()
	fx.RateLimit.PerHour = 2
	e := newEnv(t, fx)
	ctx := context.Background()
	c := e.client(herokusrv.DefaultProvisionerAPIKey)
	if _, err := c.Account(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := c.Apps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Account(ctx) // the pool is empty on a frozen clock: retried, then given up
	if !IsRateLimited(err) {
		t.Fatalf("want rate limited, got %v", err)
	}
	ae, _ := APIError(err)
	if !ae.Temporary() || !strings.Contains(ae.Remedy, "4,500") || !strings.Contains(ae.Message, "rate_limit: ") {
		t.Errorf("rate-limit error %q remedy %q", ae.Message, ae.Remedy)
	}
	if n, ok := c.RateLimitRemaining(); !ok || n != 0 {
		t.Errorf("RateLimitRemaining %d", n)
	}
	e.srv.SetRateLimiting(false)

	// A 500 on a POST is not repeated; on a GET it is.
	e.kit.Stats.Reset()
	id := e.kit.Faults.Add(devkit.Fault{Route: "POST /oauth/authorizations", Status: 500})
	if _, err := c.CreateAuthorization(ctx, AuthorizationRequest{Scope: []string{"read"}, ExpiresIn: time.Hour}); err == nil {
		t.Fatal("want an error")
	}
	e.kit.Faults.Remove(id)
	if n := e.srv.RequestCount("POST /oauth/authorizations"); n != 1 {
		t.Errorf("POST sent %d times", n)
	}
	e.kit.Faults.Add(devkit.Fault{Route: "GET /account", Status: 503, Count: 1})
	if _, err := c.Account(ctx); err != nil {
		t.Errorf("GET after one 503: %v", err)
	}

	// A bad key: 401 with the remedy, the key nowhere.
	bad := e.client("HRKU-wrong-key-0000")
	_, err = bad.Account(ctx)
	if !IsUnauthorized(err) || !strings.Contains(err.Error(), EnvAPIKey) {
		t.Fatalf("bad key: %v", err)
	}
	assertHidden(t, "error", err.Error(), "HRKU-wrong-key-0000")

	// A dead server: a transport error without the key.
	dead, err := New(Config{BaseURL: "http://127.0.0.1:1", APIKey: herokusrv.DefaultProvisionerAPIKey, HTTP: httpx.Config{MaxRetries: 1, MinWait: time.Millisecond, MaxWait: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dead.Account(ctx)
	if err == nil {
		t.Fatal("want a transport error")
	}
	assertHidden(t, "transport error", err.Error(), herokusrv.DefaultProvisionerAPIKey)
}

func TestConfigAndValidation(t *testing.T) {
	key := "HRKU-secret-api-key-1234"
	bad := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no key", Config{}, EnvAPIKey},
		{"whitespace", Config{APIKey: "a b"}, "whitespace"},
		{"plain http", Config{APIKey: key, BaseURL: "http://api.example.com"}, "plain http"},
		{"not a URL", Config{APIKey: key, BaseURL: "ftp://x"}, "not an http(s) URL"},
		{"credentials in URL", Config{APIKey: key, BaseURL: "https://user:" + key + "@api.heroku.com"}, "not an http(s) URL"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			assertHidden(t, "error", err.Error(), key)
		})
	}
	c, err := New(Config{APIKey: key})
	if err != nil || c.base.String() != DefaultBaseURL {
		t.Fatalf("default base: %v %v", c, err)
	}
	assertHidden(t, "client", renderings(c), key)
	if _, err := c.WithToken(Secret{}); err == nil {
		t.Error("WithToken accepted an empty token")
	}
	ctx := context.Background()
	for _, id := range []string{"", "..", "a/b", "x?y", "a%2f"} {
		if _, err := c.App(ctx, id); err == nil {
			t.Errorf("App(%q) accepted", id)
		}
		if err := c.DeleteAuthorization(ctx, id); err == nil {
			t.Errorf("DeleteAuthorization(%q) accepted", id)
		}
	}
	if _, err := c.CreateAuthorization(ctx, AuthorizationRequest{}); err == nil {
		t.Error("no scope accepted")
	}
	if _, err := c.CreateAuthorization(ctx, AuthorizationRequest{Scope: []string{"read"}, ExpiresIn: 1500 * time.Millisecond}); err == nil {
		t.Error("fractional expires_in accepted")
	}
	s := NewSecret(key)
	if s.Reveal() != key || s.Fingerprint() == "" || NewSecret("").String() != "" {
		t.Error("Secret basics")
	}
	assertHidden(t, "Secret", renderings(s)+renderings(&s)+renderings(struct{ S Secret }{s}), key)
	if _, ok := APIError(fmt.Errorf("x")); ok {
		t.Error("APIError of a plain error")
	}
	var _ http.RoundTripper = herokucontract.MustNew(t).Transport(t, nil)
}

// TestAuthorizationsPaging: the account's authorizations, every page of
// Heroku's default size, oldest first, without tokens; and config vars set
// and removed.
func TestAuthorizationsPaging(t *testing.T) {
	e := newEnv(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	c := e.client(herokusrv.DefaultProvisionerAPIKey)
	var tokens []string
	for i := range 205 {
		a, err := c.CreateAuthorization(ctx, AuthorizationRequest{Scope: []string{"read"}, Description: fmt.Sprintf("handoff n-%03d", i), ExpiresIn: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, a.Token.Reveal())
		e.kit.Clock.Advance(time.Second)
	}
	e.kit.Stats.Reset()
	list, err := c.Authorizations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 205 || list[0].Description != "handoff n-000" || list[204].Description != "handoff n-204" {
		t.Fatalf("%d authorizations, first %s", len(list), list[0])
	}
	if n := e.srv.RequestCount("GET /oauth/authorizations"); n != 2 {
		t.Errorf("%d pages, want 2 (Heroku's default of 200)", n)
	}
	for _, a := range list {
		if !a.Token.IsZero() || a.ExpiresIn <= 0 || a.UserEmail != herokusrv.DefaultProvisionerEmail {
			t.Fatalf("listed %s", a)
		}
	}
	assertHidden(t, "listing", renderings(list), append(tokens, herokusrv.DefaultProvisionerAPIKey)...)
	h, err := c.WithToken(NewSecret(tokens[0]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Authorizations(ctx); !IsForbidden(err) {
		t.Errorf("a read token lists authorizations: %v", err)
	}

	v := "on"
	if err := c.SetConfigVars(ctx, herokusrv.DefaultAllowedApp, map[string]*string{"HANDOFF_PROBE": &v, "RAILS_ENV": nil}); err != nil {
		t.Fatal(err)
	}
	vars, _ := e.srv.ConfigVars(herokusrv.DefaultAllowedApp)
	if vars["HANDOFF_PROBE"] != "on" || vars["RAILS_ENV"] != "" {
		t.Errorf("config vars after PATCH: %v", vars)
	}
	if err := c.SetConfigVars(ctx, "bad/app", nil); err == nil {
		t.Error("a malformed app name was sent")
	}
}
