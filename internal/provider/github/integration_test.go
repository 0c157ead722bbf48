package github_test

// Tests against the local GitHub server (internal/devserver/githubsrv), with
// every exchange checked against GitHub's OpenAPI description by
// contracttest: our requests must be ones GitHub accepts, the server's
// answers ones GitHub gives. Nothing of our own client is mocked.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/githubsrv"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

const (
	org         = githubsrv.DefaultOrg
	instID      = githubsrv.DefaultInstallationID
	tradeMaster = "TradeMasterAPI"
	mooseQuest  = "MooseQuest"
	vault       = "PrivateVault"
	prNumber    = githubsrv.DefaultPullRequestNumber

	routeMint         = "POST /app/installations/{installation_id}/access_tokens"
	routeInstallation = "GET /app/installations"
	routeComments     = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
	routePATs         = "GET /orgs/{org}/personal-access-tokens"
)

var (
	fixtureKeyOnce sync.Once
	fixtureKey     string
)

// appKeyPEM is one App key for every test (generating one per server is slow
// under -race).
func appKeyPEM() string {
	fixtureKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		fixtureKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return fixtureKey
}

type options struct {
	// prefix is added to the server URL for APIURL ("/api/v3" for GHES).
	prefix string
	// fixture changes the default fixture.
	fixture func(*githubsrv.Fixture)
	// tolerate lists statuses the test provokes on purpose that GitHub's
	// OpenAPI description does not document for the operation (injected
	// 5xx and 429, 401 for a revoked token, …). Only "status is not
	// supported" is forgiven for them; any schema violation still fails.
	tolerate []int
	// config changes the client's configuration.
	config func(*github.Config)
}

// env is one local GitHub server and a client of it.
type env struct {
	t   *testing.T
	kit *devkit.Kit
	srv *githubsrv.Server
	url string
	v   *contracttest.Validator
	c   *github.Client
	cfg github.Config
	// waits are the pacer's waits, as the CLI would print them.
	waits []string

	mu      sync.Mutex
	secrets map[string]bool // every credential sent, every token minted
	paths   []string        // request paths, in order
	errs    []string        // every error a test saw
}

// recorder notes each request's path and credential. It observes; it
// answers nothing.
type recorder struct {
	e    *env
	base http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.e.mu.Lock()
	r.e.paths = append(r.e.paths, req.Method+" "+req.URL.Path)
	if _, cred, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && cred != "" {
		r.e.secrets[cred] = true
	}
	r.e.mu.Unlock()
	return r.base.RoundTrip(req)
}

// tolerantTB forwards contract violations to the test, except a missing
// status in the description for the statuses the test provokes.
type tolerantTB struct {
	testing.TB
	statuses []int
}

func (t tolerantTB) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, s := range t.statuses {
		// The only problem is the status: no request problem, and the one
		// response problem is "status is not supported".
		if strings.Contains(msg, fmt.Sprintf("\n  response %d: status is not supported\n  response body: ", s)) && !strings.Contains(msg, "\n  request: ") {
			return
		}
	}
	t.TB.Helper()
	t.TB.Errorf("%s", msg)
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	kit := devkit.NewKit()
	fx := githubsrv.DefaultFixture()
	fx.App.PrivateKeyPEM = appKeyPEM()
	if o.fixture != nil {
		o.fixture(&fx)
	}
	srv, err := githubsrv.New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{t: t, kit: kit, srv: srv, url: ts.URL, secrets: map[string]bool{}}
	e.v = contracttest.MustNew(t, contracttest.GitHub, ts.URL, ts.URL+"/api/v3")
	transport := &recorder{e: e, base: e.v.Transport(tolerantTB{TB: t, statuses: o.tolerate}, nil, "/_dev/")}
	cfg := github.Config{
		APIURL:        ts.URL + o.prefix,
		AppID:         srv.AppID(),
		PrivateKeyPEM: srv.AppPrivateKeyPEM(),
		Now:           kit.Clock.Now,
		HTTP:          httpx.Config{Transport: transport, MinWait: time.Millisecond, MaxWait: 2 * time.Second, Pacer: e.newPacer()},
	}
	if o.config != nil {
		o.config(&cfg)
	}
	e.cfg = cfg
	e.c = e.newClient()
	if tok, ok := srv.ActionsToken(githubsrv.DefaultActionsTokenRepository); ok {
		e.secrets[tok] = true
	}
	t.Cleanup(e.scanErrors)
	return e
}

// newPacer returns a pacer on a virtual clock that moves the server's clock
// along: a wait for a limit takes no time, and the server's windows move
// with it.
func (e *env) newPacer() *pace.Pacer {
	clock := pace.NewVirtualClockFollowing(e.kit.Clock.Now(), e.kit.Clock.Set)
	return pace.New(pace.Config{Clock: clock, OnWait: func(w pace.Wait) {
		e.mu.Lock()
		e.waits = append(e.waits, w.String())
		e.mu.Unlock()
	}})
}

// newClient returns another client of the server, with its own caches.
func (e *env) newClient() *github.Client {
	e.t.Helper()
	c, err := github.New(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// errOf records err for the final scan and returns it.
func (e *env) errOf(err error) error {
	if err != nil {
		e.mu.Lock()
		e.errs = append(e.errs, err.Error(), fmt.Sprintf("%+v", err))
		e.mu.Unlock()
	}
	return err
}

func (e *env) minted(tok github.Token) github.Token {
	e.mu.Lock()
	e.secrets[tok.Value] = true
	e.mu.Unlock()
	return tok
}

// scanErrors fails the test if any error it saw holds a token, a JWT or the
// App's key.
func (e *env) scanErrors() {
	e.mu.Lock()
	defer e.mu.Unlock()
	keyLines := strings.Split(appKeyPEM(), "\n")[1:4]
	for _, msg := range e.errs {
		for s := range e.secrets {
			if s != "" && strings.Contains(msg, s) {
				e.t.Errorf("an error holds a credential: %s", msg)
			}
			// Part of one is a leak as well (a JWT's signature, a token
			// without its prefix).
			if len(s) > 24 && strings.Contains(msg, s[len(s)-16:]) {
				e.t.Errorf("an error holds part of a credential: %s", msg)
			}
		}
		for _, l := range keyLines {
			if strings.Contains(msg, l) {
				e.t.Errorf("an error holds the private key: %s", msg)
			}
		}
	}
	if len(e.secrets) == 0 {
		e.t.Error("no credential was recorded: the scan proves nothing")
	}
}

func (e *env) actionsToken() string {
	tok, ok := e.srv.ActionsToken(githubsrv.DefaultActionsTokenRepository)
	if !ok {
		e.t.Fatal("the fixture has no Actions token")
	}
	return tok
}

func (e *env) mint(repos []string, perms map[string]string) github.Token {
	e.t.Helper()
	tok, err := e.c.MintToken(context.Background(), instID, repos, perms)
	if e.errOf(err) != nil {
		e.t.Fatal(err)
	}
	return e.minted(tok)
}

func apiError(t *testing.T, err error, status int) *httpx.APIError {
	t.Helper()
	var ae *httpx.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *httpx.APIError", err, err)
	}
	if ae.Surface != "github" || ae.Status != status || ae.Op == "" || ae.Method == "" || ae.Path == "" || ae.RequestID == "" {
		t.Errorf("APIError = %+v, want surface github, status %d, op, method, path and request id", *ae, status)
	}
	return ae
}

func TestAppAndInstallations(t *testing.T) {
	e := newEnv(t, options{})
	ctx := context.Background()

	app, err := e.c.App(ctx)
	if e.errOf(err) != nil {
		t.Fatal(err)
	}
	if app.ID != githubsrv.DefaultAppID || app.Slug != githubsrv.DefaultAppSlug || app.Owner != org ||
		app.ClientID != githubsrv.DefaultAppClientID || app.Permissions["contents"] != "write" {
		t.Errorf("App = %+v", app)
	}

	insts, err := e.c.Installations(ctx)
	if e.errOf(err) != nil {
		t.Fatal(err)
	}
	if len(insts) != 2 {
		t.Fatalf("%d installations, want 2", len(insts))
	}
	if n := e.kit.Stats.Count(routeInstallation); n != 1 {
		t.Errorf("%d requests for 2 installations, want 1", n)
	}
	var raxx github.Installation
	for _, in := range insts {
		if in.ID == instID {
			raxx = in
		}
	}
	want := github.Installation{ID: instID, Account: org, TargetType: "Organization", RepositorySelection: "selected"}
	if raxx.ID != want.ID || raxx.Account != want.Account || raxx.TargetType != want.TargetType ||
		raxx.RepositorySelection != want.RepositorySelection || raxx.Suspended() {
		t.Errorf("installation = %+v", raxx)
	}
	// A permission go-github's own struct does not know survives.
	if raxx.Permissions["organization_personal_access_tokens"] != "write" || raxx.Permissions["metadata"] != "read" {
		t.Errorf("permissions = %v", raxx.Permissions)
	}

	byRepo, err := e.c.InstallationForRepo(ctx, org, tradeMaster)
	if e.errOf(err) != nil || byRepo.ID != instID {
		t.Errorf("InstallationForRepo(TradeMasterAPI) = %+v, %v", byRepo, err)
	}
	byOrg, err := e.c.InstallationForOrg(ctx, org)
	if e.errOf(err) != nil || byOrg.ID != instID {
		t.Errorf("InstallationForOrg = %+v, %v", byOrg, err)
	}
	byID, err := e.c.InstallationByID(ctx, instID)
	if e.errOf(err) != nil || byID.Account != org {
		t.Errorf("InstallationByID = %+v, %v", byID, err)
	}

	// PrivateVault exists outside the installation.
	_, err = e.c.InstallationForRepo(ctx, org, vault)
	e.errOf(err)
	if !errors.Is(err, github.ErrNotFound) {
		t.Fatalf("InstallationForRepo(PrivateVault) = %v, want ErrNotFound", err)
	}
	ae := apiError(t, err, 404)
	if !strings.Contains(ae.Remedy, "install the App on raxx-app/PrivateVault") || ae.Message != "Not Found" {
		t.Errorf("remedy/message: %v", err)
	}

	// Plan-time check against the live installation.
	if got := github.CheckGrant(raxx, map[string]string{"contents": "write", "pull_requests": "write", "issues": "write"}); len(got) != 0 {
		t.Errorf("CheckGrant of a grantable spec = %q", got)
	}
	if got := github.CheckGrant(raxx, map[string]string{"administration": "write", "metadata": "write"}); !slices.Equal(got,
		[]string{"administration: write > installation's none", "metadata: write > installation's read"}) {
		t.Errorf("CheckGrant = %q", got)
	}

	rl, ok := e.c.RateLimit()
	if !ok || rl.Credential != "app" || rl.Limit != githubsrv.DefaultAppPerHour || rl.Remaining >= rl.Limit || rl.Reset.IsZero() || rl.Resource != "core" {
		t.Errorf("RateLimit = %+v, %v", rl, ok)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.c.Installations(ctx); err != nil {
				errs <- err
			}
			tok, err := e.c.MintToken(ctx, instID, []string{tradeMaster}, map[string]string{"contents": "read"})
			if err != nil {
				errs <- err
				return
			}
			e.minted(tok)
			if _, err := e.c.RepoWithToken(ctx, tok.Value, org, tradeMaster); err != nil {
				errs <- err
			}
			if err := e.c.RevokeToken(ctx, tok.Value); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(e.errOf(err))
	}
	if live := e.srv.LiveTokens(); len(live) != 0 {
		t.Errorf("%d tokens left live", len(live))
	}
	if n := len(e.jwts()); n != 1 {
		t.Errorf("%d JWTs signed for concurrent calls, want 1", n)
	}
}

func TestInstallationsPaginate(t *testing.T) {
	e := newEnv(t, options{fixture: func(fx *githubsrv.Fixture) {
		for i := range 150 {
			login := fmt.Sprintf("org-%03d", i)
			fx.Accounts = append(fx.Accounts, githubsrv.Account{Login: login, ID: int64(900000 + i), Type: "Organization"})
			fx.Installations = append(fx.Installations, githubsrv.Installation{ID: int64(5000 + i), Account: login,
				RepositorySelection: "all", Permissions: map[string]string{"metadata": "read"},
				CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		}
	}})
	insts, err := e.c.Installations(context.Background())
	if e.errOf(err) != nil {
		t.Fatal(err)
	}
	if len(insts) != 152 {
		t.Errorf("%d installations, want 152", len(insts))
	}
	seen := map[int64]bool{}
	for _, in := range insts {
		if seen[in.ID] {
			t.Errorf("installation %d listed twice", in.ID)
		}
		seen[in.ID] = true
	}
	if n := e.kit.Stats.Count(routeInstallation); n != 2 {
		t.Errorf("%d requests for 152 installations, want 2 (per_page=100)", n)
	}
}

func TestMintNarrowed(t *testing.T) {
	e := newEnv(t, options{})
	ctx := context.Background()
	before := e.kit.Clock.Now()
	tok := e.mint([]string{tradeMaster}, map[string]string{"contents": "write", "pull_requests": "write"})

	if !strings.HasPrefix(tok.Value, "ghs_") {
		t.Errorf("token does not look like an installation token")
	}
	if d := tok.ExpiresAt.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expires in %v, want 1h", d)
	}
	if !slices.Equal(tok.RepositoryNames, []string{tradeMaster}) || !slices.Equal(tok.RepositoryIDs, []int64{githubsrv.DefaultTradeMasterRepoID}) {
		t.Errorf("repositories = %v %v", tok.RepositoryNames, tok.RepositoryIDs)
	}
	if tok.Permissions["contents"] != "write" || tok.Permissions["pull_requests"] != "write" || tok.Permissions["issues"] != "" {
		t.Errorf("permissions = %v", tok.Permissions)
	}
	live := e.srv.LiveTokens()
	if len(live) != 1 || live[0].Fingerprint != githubsrv.Fingerprint(tok.Value) ||
		!slices.Equal(live[0].RepositoryIDs, []int64{githubsrv.DefaultTradeMasterRepoID}) {
		t.Errorf("server's live tokens = %+v", live)
	}
	if !strings.Contains(fmt.Sprintf("%v %+v", tok, tok), tok.Fingerprint()) || strings.Contains(fmt.Sprintf("%v %+v %#v", tok, tok, tok), tok.Value) {
		t.Errorf("Token formats wrongly: %v", tok)
	}

	// The token works on its repository ...
	repos, err := e.c.TokenRepositories(ctx, tok.Value)
	if e.errOf(err) != nil {
		t.Fatal(err)
	}
	if len(repos) != 1 || repos[0].FullName != org+"/"+tradeMaster || repos[0].ID != githubsrv.DefaultTradeMasterRepoID {
		t.Errorf("TokenRepositories = %+v", repos)
	}
	repo, err := e.c.RepoWithToken(ctx, tok.Value, org, tradeMaster)
	if e.errOf(err) != nil || repo.Name != tradeMaster || repo.Owner != org || !repo.Private || repo.DefaultBranch != "main" {
		t.Errorf("RepoWithToken(TradeMasterAPI) = %+v, %v", repo, err)
	}
	// ... and is refused everywhere else: the installation's other
	// repository and one outside the installation.
	for _, other := range []string{mooseQuest, vault} {
		_, err := e.c.RepoWithToken(ctx, tok.Value, org, other)
		e.errOf(err)
		if !errors.Is(err, github.ErrNotFound) {
			t.Errorf("RepoWithToken(%s) = %v, want ErrNotFound", other, err)
			continue
		}
		apiError(t, err, 404)
	}
	rl, _ := e.c.RateLimit()
	if !strings.HasPrefix(rl.Credential, "token sha256:") || rl.Limit != githubsrv.DefaultInstallationPerHour {
		t.Errorf("RateLimit after token calls = %+v", rl)
	}
}

func TestMint422Remedies(t *testing.T) {
	e := newEnv(t, options{})
	ctx := context.Background()

	_, err := e.c.MintToken(ctx, instID, []string{tradeMaster}, map[string]string{"contents": "write", "administration": "write"})
	e.errOf(err)
	ae := apiError(t, err, 422)
	if ae.Message != "The permissions requested are not granted to this installation." {
		t.Errorf("message = %q", ae.Message)
	}
	if !strings.Contains(ae.Remedy, "installation 1001 on raxx-app lacks permission administration: write > installation's none") ||
		!strings.Contains(ae.Remedy, "narrow the spec") {
		t.Errorf("remedy = %q", ae.Remedy)
	}
	if !strings.Contains(err.Error(), "github: mint a token from installation 1001: POST /app/installations/1001/access_tokens: 422") {
		t.Errorf("error = %v", err)
	}

	_, err = e.c.MintToken(ctx, instID, []string{tradeMaster, vault}, map[string]string{"contents": "read"})
	e.errOf(err)
	ae = apiError(t, err, 422)
	if !strings.Contains(ae.Message, "not accessible to the parent installation") ||
		!strings.Contains(ae.Remedy, "installation 1001 on raxx-app lacks repository PrivateVault: add it to the installation") {
		t.Errorf("repository 422: %v", err)
	}

	_, err = e.c.MintToken(ctx, 999999, []string{tradeMaster}, map[string]string{"contents": "read"})
	e.errOf(err)
	if !errors.Is(err, github.ErrNotFound) || !strings.Contains(apiError(t, err, 404).Remedy, "installation 999999 does not exist") {
		t.Errorf("unknown installation: %v", err)
	}
	if n := len(e.srv.Tokens()); n != 0 {
		t.Errorf("%d tokens minted by failed requests", n)
	}
}

func TestSuspendedInstallation(t *testing.T) {
	suspended := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, options{fixture: func(fx *githubsrv.Fixture) {
		fx.Installations[0].SuspendedAt = &suspended
	}})
	ctx := context.Background()
	inst, err := e.c.InstallationByID(ctx, instID)
	if e.errOf(err) != nil || !inst.SuspendedAt.Equal(suspended) {
		t.Fatalf("InstallationByID = %+v, %v", inst, err)
	}
	if got := github.CheckGrant(inst, map[string]string{"contents": "read"}); len(got) != 1 || !strings.Contains(got[0], "suspended") {
		t.Errorf("CheckGrant = %q", got)
	}
	_, err = e.c.MintToken(ctx, instID, []string{tradeMaster}, map[string]string{"contents": "read"})
	e.errOf(err)
	if ae := apiError(t, err, 403); !strings.Contains(ae.Remedy, "suspended") {
		t.Errorf("remedy = %q", ae.Remedy)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, options{tolerate: []int{401}})
	ctx := context.Background()
	tok := e.mint([]string{tradeMaster}, map[string]string{"contents": "read"})

	if err := e.errOf(e.c.RevokeToken(ctx, tok.Value)); err != nil {
		t.Fatalf("RevokeToken = %v", err)
	}
	if live := e.srv.LiveTokens(); len(live) != 0 {
		t.Errorf("live tokens after revoke: %+v", live)
	}
	// The revoked token is refused ...
	_, err := e.c.RepoWithToken(ctx, tok.Value, org, tradeMaster)
	e.errOf(err)
	if ae := apiError(t, err, 401); ae.Message != "Bad credentials" || !strings.Contains(ae.Remedy, "expired, revoked") {
		t.Errorf("revoked token: %v", err)
	}
	// ... and revoking it again is success-equivalent.
	err = e.c.RevokeToken(ctx, tok.Value)
	e.errOf(err)
	if !errors.Is(err, github.ErrTokenGone) {
		t.Errorf("second revoke = %v, want ErrTokenGone", err)
	}
	apiError(t, err, 401)
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, options{tolerate: []int{401}})
	ctx := context.Background()
	tok := e.mint([]string{tradeMaster}, map[string]string{"contents": "read"})
	e.kit.Clock.Advance(61 * time.Minute)
	if !tok.Expired(e.kit.Clock.Now()) {
		t.Error("Token.Expired false after an hour")
	}
	_, err := e.c.RepoWithToken(ctx, tok.Value, org, tradeMaster)
	e.errOf(err)
	apiError(t, err, 401)
	if err := e.errOf(e.c.RevokeToken(ctx, tok.Value)); !errors.Is(err, github.ErrTokenGone) {
		t.Errorf("revoke of an expired token = %v, want ErrTokenGone", err)
	}
	// The App's JWT follows the clock: minting again works.
	e.mint([]string{tradeMaster}, map[string]string{"contents": "read"})
}

func (e *env) jwts() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for s := range e.secrets {
		if strings.Count(s, ".") == 2 {
			out = append(out, s)
		}
	}
	return out
}

func TestJWTLifecycle(t *testing.T) {
	e := newEnv(t, options{tolerate: []int{401}})
	ctx := context.Background()
	for range 3 {
		if _, err := e.c.App(ctx); e.errOf(err) != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.jwts()); n != 1 {
		t.Errorf("%d JWTs for three calls in a row, want 1 (cached)", n)
	}
	// Past the reuse window (less than a minute left) a new JWT is signed,
	// and GitHub, on the same clock, accepts it.
	e.kit.Clock.Advance(8*time.Minute + 30*time.Second)
	if _, err := e.c.App(ctx); e.errOf(err) != nil {
		t.Fatalf("after 8m30s: %v", err)
	}
	if n := len(e.jwts()); n != 2 {
		t.Errorf("%d JWTs after the reuse window, want 2", n)
	}
	e.kit.Clock.Advance(2 * time.Hour)
	if _, err := e.c.Installations(ctx); e.errOf(err) != nil {
		t.Fatalf("after 2h: %v", err)
	}

	// This machine's clock 15 minutes behind GitHub's: the JWT is already
	// expired when it arrives.
	skewed := newEnv(t, options{tolerate: []int{401}, config: func(c *github.Config) {
		c.Now = func() time.Time { return time.Now().Add(-15 * time.Minute) }
	}})
	_, err := skewed.c.App(ctx)
	skewed.errOf(err)
	ae := apiError(t, err, 401)
	if !strings.Contains(ae.Message, "'exp'") || !strings.Contains(ae.Remedy, "clock") || !strings.Contains(ae.Remedy, "GITHUB_APP_PRIVATE_KEY") ||
		!strings.Contains(ae.Remedy, "app_id 424242") {
		t.Errorf("skewed clock: %v", err)
	}
	// A key that is not the App's.
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrongKey := newEnv(t, options{tolerate: []int{401}, config: func(c *github.Config) {
		c.PrivateKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}})
	_, err = wrongKey.c.Installations(ctx)
	wrongKey.errOf(err)
	if ae := apiError(t, err, 401); !strings.Contains(ae.Remedy, "GITHUB_APP_PRIVATE_KEY") {
		t.Errorf("wrong key: %v", err)
	}

	// An App id GitHub does not know: 404 "Integration not found".
	wrongID := newEnv(t, options{config: func(c *github.Config) { c.AppID = 7 }})
	_, err = wrongID.c.InstallationForRepo(ctx, org, tradeMaster)
	wrongID.errOf(err)
	if ae := apiError(t, err, 404); !strings.Contains(ae.Remedy, "App with id 7") {
		t.Errorf("wrong app id: %v", err)
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	for _, status := range []int{502, 503, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newEnv(t, options{tolerate: []int{status}})
			e.kit.Faults.Add(devkit.Fault{Route: "GET /app/installations", Status: status, Count: 1})
			insts, err := e.c.Installations(ctx)
			if e.errOf(err) != nil || len(insts) != 2 {
				t.Fatalf("Installations after one %d = %d, %v", status, len(insts), err)
			}
			if n := e.kit.Stats.Count(routeInstallation); n != 2 {
				t.Errorf("%d requests, want 2 (one retry)", n)
			}
			// A token read is a GET too.
			tok := e.mint([]string{tradeMaster}, map[string]string{"contents": "read"})
			e.kit.Faults.Add(devkit.Fault{Route: "GET /installation/repositories", Status: status, Count: 2})
			if _, err := e.c.TokenRepositories(ctx, tok.Value); e.errOf(err) != nil {
				t.Errorf("TokenRepositories after two %d = %v", status, err)
			}
		})
	}

	t.Run("persistent 503", func(t *testing.T) {
		e := newEnv(t, options{tolerate: []int{503}})
		e.kit.Faults.Add(devkit.Fault{Route: "GET /app", Status: 503})
		_, err := e.c.App(ctx)
		e.errOf(err)
		ae := apiError(t, err, 503)
		if !ae.Temporary() || !strings.Contains(ae.Remedy, "githubstatus") {
			t.Errorf("persistent 503: %v", err)
		}
		if n := e.kit.Stats.Count("GET /app"); n != 5 {
			t.Errorf("%d attempts, want 5 (4 retries)", n)
		}
	})

	t.Run("no retry of a mint after 502", func(t *testing.T) {
		e := newEnv(t, options{tolerate: []int{502}})
		e.kit.Faults.Add(devkit.Fault{Route: routeMint, Status: 502, Count: 1})
		_, err := e.c.MintToken(ctx, instID, []string{tradeMaster}, map[string]string{"contents": "read"})
		e.errOf(err)
		apiError(t, err, 502)
		if n := e.kit.Stats.Count(routeMint); n != 1 {
			t.Errorf("mint sent %d times after a 502, want 1", n)
		}
	})

	t.Run("no retry of a mint after a dropped connection", func(t *testing.T) {
		e := newEnv(t, options{})
		e.kit.Faults.Add(devkit.Fault{Route: routeMint, Drop: true, Count: 1})
		_, err := e.c.MintToken(ctx, instID, []string{tradeMaster}, map[string]string{"contents": "read"})
		if e.errOf(err) == nil || !strings.Contains(err.Error(), "github: mint a token from installation 1001") {
			t.Errorf("dropped mint = %v", err)
		}
		if n := e.kit.Stats.Count(routeMint); n != 1 {
			t.Errorf("mint sent %d times after a dropped connection, want 1", n)
		}
	})

	t.Run("mint retried after 503 with Retry-After", func(t *testing.T) {
		// The server says it did not act and when to come back.
		e := newEnv(t, options{tolerate: []int{503}})
		e.kit.Faults.Add(devkit.Fault{Route: routeMint, Status: 503, RetryAfter: time.Second, Count: 1})
		e.mint([]string{tradeMaster}, map[string]string{"contents": "read"})
		if n := e.kit.Stats.Count(routeMint); n != 2 {
			t.Errorf("mint sent %d times, want 2", n)
		}
	})
}

func TestDeadline(t *testing.T) {
	e := newEnv(t, options{config: func(c *github.Config) { c.Timeout = 150 * time.Millisecond }})
	e.kit.Faults.Add(devkit.Fault{Route: "GET /app", Delay: 3 * time.Second})
	// Without the deadline the call would wait the 3 s out and succeed.
	_, err := e.c.App(context.Background())
	e.errOf(err)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "github: read the App: no answer in time") {
		t.Errorf("slow App = %v", err)
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	e := newEnv(t, options{tolerate: []int{403}, fixture: func(fx *githubsrv.Fixture) { fx.RateLimits.AppPerHour = 2 }})
	ctx := context.Background()
	for range 2 {
		if _, err := e.c.App(ctx); e.errOf(err) != nil {
			t.Fatal(err)
		}
	}
	if rl, _ := e.c.RateLimit(); rl.Remaining != 0 || rl.Limit != 2 || rl.Used != 2 || rl.Reset.IsZero() {
		t.Errorf("RateLimit = %+v", rl)
	}
	// The client saw the limit exhausted: within a deadline shorter than
	// the reset, it sends nothing and says which limit and how long.
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := e.c.App(short)
	e.errOf(err)
	if !pace.IsDeadline(err) || !strings.HasPrefix(err.Error(), "github: read the App: GitHub's limit on requests an hour (2/h) needs a 1 h wait before GET /app, past the deadline of this run") {
		t.Errorf("within a short deadline: %v", err)
	}
	if n := e.kit.Stats.Count("GET /app"); n != 2 {
		t.Errorf("%d requests, want 2: the pacer knew", n)
	}
	// A client that has not seen it (its own pacer) meets GitHub's 403 and
	// stops there too.
	cfg := e.cfg
	cfg.HTTP.Pacer = e.newPacer()
	other, err := github.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.App(short)
	e.errOf(err)
	if !pace.IsDeadline(err) || !strings.Contains(err.Error(), "needs a 1 h wait") {
		t.Errorf("a fresh client: %v", err)
	}
	if n := e.kit.Stats.Count("GET /app"); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	// Without a deadline the client waits the hour out (a virtual one
	// here) and goes on, saying why it waits.
	if _, err := e.c.App(ctx); e.errOf(err) != nil {
		t.Fatal(err)
	}
	if len(e.waits) != 1 || !strings.HasPrefix(e.waits[0], "waiting 1 h for GitHub's limit on requests an hour, 2/h") {
		t.Errorf("waits %q", e.waits)
	}
	if st := e.cfg.HTTP.Pacer.Total("GitHub"); st.Requests != 3 || st.Waits != 1 || st.Waited < time.Hour {
		t.Errorf("counts %+v", st)
	}
}

func TestGHES(t *testing.T) {
	e := newEnv(t, options{prefix: "/api/v3", fixture: withComments(120, -1)})
	ctx := context.Background()
	if _, err := e.c.App(ctx); e.errOf(err) != nil {
		t.Fatal(err)
	}
	inst, err := e.c.InstallationForRepo(ctx, org, tradeMaster)
	if e.errOf(err) != nil {
		t.Fatal(err)
	}
	tok, err := e.c.MintToken(ctx, inst.ID, []string{tradeMaster}, map[string]string{"contents": "read"})
	if e.errOf(err) != nil {
		t.Fatal(err)
	}
	e.minted(tok)
	if _, err := e.c.RepoWithToken(ctx, tok.Value, org, tradeMaster); e.errOf(err) != nil {
		t.Fatal(err)
	}
	if _, found, err := e.c.FindComment(ctx, e.actionsToken(), org, tradeMaster, prNumber, "<!-- nowhere -->"); e.errOf(err) != nil || found {
		t.Fatalf("FindComment = %v, %v", found, err)
	}
	if n := e.kit.Stats.Count(routeComments); n != 2 {
		t.Errorf("%d comment pages under /api/v3, want 2 (Link header followed)", n)
	}
	if err := e.errOf(e.c.RevokeToken(ctx, tok.Value)); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.paths {
		if _, path, _ := strings.Cut(p, " "); !strings.HasPrefix(path, "/api/v3/") {
			t.Errorf("request outside the GHES prefix: %s", p)
		}
	}
	if len(e.paths) < 7 {
		t.Errorf("only %d requests recorded", len(e.paths))
	}
}

// withComments adds n comments by a person to TradeMasterAPI#42; the one at
// index marked (if any) carries the marker "<!-- handoff:plan -->".
func withComments(n, marked int) func(*githubsrv.Fixture) {
	return func(fx *githubsrv.Fixture) {
		start := time.Date(2026, 6, 21, 10, 0, 0, 0, time.UTC)
		for i := range n {
			body := fmt.Sprintf("comment %d", i)
			if i == marked {
				body = "<!-- handoff:plan -->\nPlan: 1 to create, 0 to refresh, 0 to revoke."
			}
			at := start.Add(time.Duration(i) * time.Minute)
			fx.Comments = append(fx.Comments, githubsrv.Comment{ID: int64(3000000000 + i), Repository: org + "/" + tradeMaster,
				IssueNumber: prNumber, User: "bob-raxx", Body: body, CreatedAt: at, UpdatedAt: at})
		}
	}
}

func TestComments(t *testing.T) {
	const marker = "<!-- handoff:plan -->"
	ctx := context.Background()

	t.Run("find across pages", func(t *testing.T) {
		e := newEnv(t, options{fixture: withComments(250, 230)})
		id, found, err := e.c.FindComment(ctx, e.actionsToken(), org, tradeMaster, prNumber, marker)
		if e.errOf(err) != nil || !found || id != 3000000230 {
			t.Errorf("FindComment = %d, %v, %v; want 3000000230", id, found, err)
		}
		if n := e.kit.Stats.Count(routeComments); n != 3 {
			t.Errorf("%d pages for 251 comments, want 3", n)
		}
	})

	t.Run("create then update in place", func(t *testing.T) {
		e := newEnv(t, options{})
		tok := e.actionsToken()
		_, found, err := e.c.FindComment(ctx, tok, org, tradeMaster, prNumber, marker)
		if e.errOf(err) != nil || found {
			t.Fatalf("FindComment before = %v, %v", found, err)
		}
		id, err := e.c.CreateComment(ctx, tok, org, tradeMaster, prNumber, marker+"\nPlan: 2 to create.")
		if e.errOf(err) != nil || id == 0 {
			t.Fatalf("CreateComment = %d, %v", id, err)
		}
		got, found, err := e.c.FindComment(ctx, tok, org, tradeMaster, prNumber, marker)
		if e.errOf(err) != nil || !found || got != id {
			t.Fatalf("FindComment after create = %d, %v, %v; want %d", got, found, err, id)
		}
		if err := e.errOf(e.c.UpdateComment(ctx, tok, org, tradeMaster, id, marker+"\nNo changes.")); err != nil {
			t.Fatal(err)
		}
		comments := e.srv.Comments(org, tradeMaster, prNumber)
		if len(comments) != 2 || comments[1].ID != id || comments[1].Body != marker+"\nNo changes." || comments[1].ViaApp != "github-actions" {
			t.Errorf("server comments = %+v", comments)
		}
		// Too long: refused before any request.
		n := e.kit.Stats.Total()
		err = e.errOf(e.c.UpdateComment(ctx, tok, org, tradeMaster, id, strings.Repeat("x", github.MaxCommentChars+1)))
		if !errors.Is(err, github.ErrCommentTooLong) || e.kit.Stats.Total() != n {
			t.Errorf("too long = %v (requests %d → %d)", err, n, e.kit.Stats.Total())
		}
		// Exactly the limit passes client and server.
		if err := e.errOf(e.c.UpdateComment(ctx, tok, org, tradeMaster, id, strings.Repeat("x", github.MaxCommentChars))); err != nil {
			t.Errorf("65,536 characters: %v", err)
		}
	})

	t.Run("pull request", func(t *testing.T) {
		e := newEnv(t, options{})
		pr, err := e.c.PullRequest(ctx, e.actionsToken(), org, tradeMaster, prNumber)
		if e.errOf(err) != nil {
			t.Fatal(err)
		}
		if pr.Number != prNumber || pr.State != "open" || pr.Merged || pr.HeadRef != "feat/iap-notif-handler" ||
			pr.HeadSHA != "6dcb09b5b57875f334f61aebed695e2e4193db5e" || pr.BaseRef != "main" || pr.Author != "alice-raxx" {
			t.Errorf("PullRequest = %+v", pr)
		}
		_, err = e.c.PullRequest(ctx, e.actionsToken(), org, tradeMaster, 41) // an issue, not a PR
		e.errOf(err)
		if !errors.Is(err, github.ErrNotFound) {
			t.Errorf("PullRequest(41) = %v, want ErrNotFound", err)
		}
	})

	t.Run("secondary rate limit", func(t *testing.T) {
		e := newEnv(t, options{tolerate: []int{429}, fixture: func(fx *githubsrv.Fixture) { fx.RateLimits.SecondaryLimitPerMinute = 2 }})
		tok := e.actionsToken()
		for i := range 2 {
			if _, err := e.c.CreateComment(ctx, tok, org, tradeMaster, prNumber, fmt.Sprintf("burst %d", i)); e.errOf(err) != nil {
				t.Fatal(err)
			}
		}
		// The third within the minute is refused with Retry-After: it is
		// repeated after the wait, a write or not (the server did not act).
		if _, err := e.c.CreateComment(ctx, tok, org, tradeMaster, prNumber, "burst 2"); e.errOf(err) != nil {
			t.Fatal(err)
		}
		if n := len(e.srv.Comments(org, tradeMaster, prNumber)); n != 4 {
			t.Errorf("%d comments, want 4 (the fixture's and three)", n)
		}
		if len(e.waits) != 1 || !strings.HasPrefix(e.waits[0], "waiting 1 min for GitHub, as it asked") {
			t.Errorf("waits %q", e.waits)
		}
		if st := e.cfg.HTTP.Pacer.Total("GitHub"); st.Limited != 1 {
			t.Errorf("counts %+v", st)
		}
		// Past the deadline, the refusal stands, with its remedy.
		e.kit.Faults.Add(devkit.Fault{Route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", Status: 429, RetryAfter: time.Hour, Count: 1})
		short, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := e.c.CreateComment(short, tok, org, tradeMaster, prNumber, "burst 3")
		e.errOf(err)
		if !pace.IsDeadline(err) || !strings.Contains(err.Error(), "GitHub asked for a 1 h wait before POST /repos/{owner}/{repo}/issues/{issue_number}/comments") {
			t.Errorf("secondary limit past the deadline: %v", err)
		}
	})

	t.Run("token without write", func(t *testing.T) {
		e := newEnv(t, options{})
		tok := e.mint([]string{tradeMaster}, map[string]string{"contents": "read"})
		_, err := e.c.CreateComment(ctx, tok.Value, org, tradeMaster, prNumber, marker)
		e.errOf(err)
		ae := apiError(t, err, 403)
		if !strings.Contains(ae.Remedy, "cannot comment on raxx-app/TradeMasterAPI") {
			t.Errorf("403 remedy: %v", err)
		}
	})
}

// withPATs adds n PAT grants on raxx-app.
func withPATs(n int) func(*githubsrv.Fixture) {
	return func(fx *githubsrv.Fixture) {
		for i := range n {
			fx.PersonalAccessTokens = append(fx.PersonalAccessTokens, githubsrv.PersonalAccessToken{
				ID: int64(40000 + i), Organization: org, Owner: "dave-moose", TokenID: int64(70000 + i),
				TokenName: fmt.Sprintf("bulk-%d", i), RepositorySelection: "subset", Repositories: []string{mooseQuest},
				Permissions:     githubsrv.PATPermissions{Repository: map[string]string{"metadata": "read"}},
				AccessGrantedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
			})
		}
	}
}

func TestPATs(t *testing.T) {
	ctx := context.Background()

	t.Run("list, filter, revoke", func(t *testing.T) {
		e := newEnv(t, options{})
		pats, err := e.c.ListPATs(ctx, org, github.PATFilter{})
		if e.errOf(err) != nil {
			t.Fatal(err)
		}
		if len(pats) != 4 {
			t.Fatalf("%d PATs, want 4", len(pats))
		}
		byID := map[int64]github.PAT{}
		for _, p := range pats {
			byID[p.ID] = p
		}
		alice := byID[25381]
		if alice.Owner != "alice-raxx" || alice.TokenName != "terraform-plan-alice" || alice.RepositorySelection != "subset" ||
			alice.Permissions.Repository["pull_requests"] != "write" || alice.TokenExpiresAt.IsZero() || alice.TokenExpired {
			t.Errorf("PAT 25381 = %+v", alice)
		}
		if old := byID[25384]; !old.TokenExpired {
			t.Errorf("PAT 25384 (expired 2026-09-01) = %+v", old)
		}
		if never := byID[25383]; !never.TokenExpiresAt.IsZero() {
			t.Errorf("PAT 25383 (no expiry) = %+v", never)
		}

		mine, err := e.c.ListPATs(ctx, org, github.PATFilter{Owners: []string{"alice-raxx"}})
		if e.errOf(err) != nil || len(mine) != 2 {
			t.Errorf("alice's PATs = %d, %v; want 2", len(mine), err)
		}

		if err := e.errOf(e.c.RevokePAT(ctx, org, 25383)); err != nil {
			t.Fatal(err)
		}
		for _, p := range e.srv.PersonalAccessTokens(org) {
			if p.ID == 25383 && !p.Revoked {
				t.Error("PAT 25383 not revoked on the server")
			}
		}
		after, err := e.c.ListPATs(ctx, org, github.PATFilter{})
		if e.errOf(err) != nil || len(after) != 3 {
			t.Errorf("after revoke: %d, %v; want 3", len(after), err)
		}

		err = e.c.RevokePAT(ctx, org, 999)
		e.errOf(err)
		if !errors.Is(err, github.ErrNotFound) {
			t.Errorf("RevokePAT(999) = %v, want ErrNotFound", err)
		}

		// Each call minted one helper token, narrowed to the PAT
		// permission, and revoked it.
		tokens := e.srv.Tokens()
		if len(tokens) != 5 {
			t.Errorf("%d helper tokens, want 5", len(tokens))
		}
		for _, ti := range tokens {
			if !ti.Revoked {
				t.Errorf("helper token %s… left live", ti.Fingerprint[:12])
			}
			if ti.Permissions["organization_personal_access_tokens"] == "" || ti.Permissions["contents"] != "" {
				t.Errorf("helper token permissions = %v", ti.Permissions)
			}
		}
	})

	t.Run("pagination", func(t *testing.T) {
		e := newEnv(t, options{fixture: withPATs(230)})
		pats, err := e.c.ListPATs(ctx, org, github.PATFilter{})
		if e.errOf(err) != nil || len(pats) != 234 {
			t.Fatalf("ListPATs = %d, %v; want 234", len(pats), err)
		}
		if n := e.kit.Stats.Count(routePATs); n != 3 {
			t.Errorf("%d pages for 234 PATs, want 3", n)
		}
	})

	t.Run("installation without the PAT permission", func(t *testing.T) {
		e := newEnv(t, options{})
		_, err := e.c.ListPATs(ctx, githubsrv.DefaultSecondOrg, github.PATFilter{})
		e.errOf(err)
		ae := apiError(t, err, 422)
		if !strings.Contains(ae.Remedy, "organization_personal_access_tokens: read > installation's none") {
			t.Errorf("remedy = %q", ae.Remedy)
		}
	})
}
