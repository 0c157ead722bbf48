package infisical

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Routes as the local server counts them.
const (
	routeLogin       = "POST /api/v1/auth/universal-auth/login"
	routeListSecrets = "GET /api/v4/secrets"
)

const (
	stagingEnv  = "staging"
	handoffRoot = infisicalsrv.DefaultHandoffRoot
	queuePath   = infisicalsrv.DefaultQueuePath
)

// harness is the local Infisical server behind httptest, with every
// exchange checked against the vendor contract, and a provisioner client.
type harness struct {
	t   *testing.T
	kit *devkit.Kit
	srv *infisicalsrv.Server
	url string
	v   *contracttest.Validator
	cfg Config
	c   *Client

	mu      sync.Mutex
	secrets []string // every secret value in play: no error may contain one
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessTB(t, t)
}

// newHarnessTB reports contract violations to tb (see injectedFaults).
func newHarnessTB(t *testing.T, tb testing.TB) *harness {
	t.Helper()
	kit := devkit.NewKit()
	srv, err := infisicalsrv.New(kit, infisicalsrv.DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	v := contracttest.MustNew(t, contracttest.Infisical, hs.URL)
	id, secret := srv.ProvisionerCredentials()
	cfg := Config{
		SiteURL: hs.URL, ClientID: id, ClientSecret: secret,
		OrganizationID: infisicalsrv.DefaultOrganizationID, ProjectID: infisicalsrv.DefaultProjectID,
		// A virtual clock: a Retry-After or a backoff takes no time.
		HTTP: httpx.Config{Transport: v.Transport(tb, nil, "/_dev/"), MinWait: time.Millisecond, MaxWait: 2 * time.Second,
			Pacer: pace.New(pace.Config{Clock: pace.NewVirtualClock(time.Now())})},
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, kit: kit, srv: srv, url: hs.URL, v: v, cfg: cfg, c: c}
	h.remember(secret)
	for _, s := range infisicalsrv.DefaultFixture().Projects[0].Secrets {
		h.remember(s.Value)
	}
	return h
}

func (h *harness) remember(secrets ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, secrets...)
}

// noLeak fails the test when err's text (or its remedy) holds a secret.
func (h *harness) noLeak(err error) {
	h.t.Helper()
	if err == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	msg := err.Error()
	for _, s := range h.secrets {
		if len(s) >= 4 && strings.Contains(msg, s) {
			h.t.Errorf("error leaks a secret value: %s", msg)
		}
		// The PEM fixture value contains lines that must not leak either.
		for _, line := range strings.Split(s, "\n") {
			if len(line) >= 12 && strings.Contains(msg, line) {
				h.t.Errorf("error leaks part of a secret value: %s", msg)
			}
		}
	}
}

// must fails the test on err.
func (h *harness) must(err error) {
	h.t.Helper()
	h.noLeak(err)
	if err != nil {
		h.t.Fatal(err)
	}
}

// apiErr asserts err is an Infisical APIError with the status and returns it.
func (h *harness) apiErr(err error, status int) *httpx.APIError {
	h.t.Helper()
	h.noLeak(err)
	e, ok := APIError(err)
	if !ok {
		h.t.Fatalf("want an Infisical API error %d, got %v", status, err)
	}
	if e.Status != status {
		h.t.Fatalf("status %d, want %d: %v", e.Status, status, err)
	}
	return e
}

var ctx = context.Background()

// injectedFaults reports contract violations to the test, except the one
// an injected proxy failure is bound to cause: the contract declares no 5xx
// answers, so a 500/502/503/504 the devkit injects is "not supported" by it.
// Any other problem in the same exchange is still reported.
type injectedFaults struct{ testing.TB }

var onlyInjectedStatus = regexp.MustCompile(`(?s)^[A-Z]+ \S+ violates the infisical contract:\n  response 50[0234]: status is not supported\n  response body: .*$`)

func (f injectedFaults) Errorf(format string, args ...any) {
	f.TB.Helper()
	if msg := fmt.Sprintf(format, args...); !onlyInjectedStatus.MatchString(msg) {
		f.TB.Errorf("%s", msg)
	}
}

func TestLoginAndTokenReuse(t *testing.T) {
	h := newHarness(t)
	h.must(h.c.Login(ctx))
	for range 5 {
		_, err := h.c.ListSecrets(ctx, stagingEnv, queuePath, false)
		h.must(err)
	}
	if n := h.kit.Stats.Count(routeLogin); n != 1 {
		t.Errorf("%d logins for 5 calls, want 1", n)
	}
	if exp := h.c.TokenExpiry(); time.Until(exp) < 29*24*time.Hour {
		t.Errorf("token expiry %s, want the fixture's 30 days", exp)
	}

	// Concurrent first calls on a fresh client share one login.
	c2, err := New(h.cfg)
	h.must(err)
	h.kit.Stats.Reset()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c2.ListSecrets(ctx, stagingEnv, queuePath, false)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.must(err)
	}
	if n := h.kit.Stats.Count(routeLogin); n != 1 {
		t.Errorf("%d logins for 20 concurrent calls, want 1", n)
	}
}

func TestReloginAfterTokenExpires(t *testing.T) {
	h := newHarness(t)
	h.must(h.c.Login(ctx))
	// The server's clock passes the token's 30-day TTL; the client's does
	// not: the call gets 403 TokenError, logs in again once and succeeds.
	h.kit.Clock.Advance(31 * 24 * time.Hour)
	h.kit.Stats.Reset()
	secrets, err := h.c.ListSecrets(ctx, stagingEnv, queuePath, false)
	h.must(err)
	if len(secrets) != 5 {
		t.Errorf("%d secrets", len(secrets))
	}
	if n, calls := h.kit.Stats.Count(routeLogin), h.kit.Stats.Count(routeListSecrets); n != 1 || calls != 2 {
		t.Errorf("logins %d, list calls %d; want 1 and 2 (the 403, then the retry)", n, calls)
	}

	// With the client on the same clock, the token is renewed before it
	// expires, without a refused call.
	h.c.now = h.kit.Clock.Now
	h.kit.Clock.Advance(30*24*time.Hour - 30*time.Second) // within the 60 s margin
	h.kit.Stats.Reset()
	_, err = h.c.ListSecrets(ctx, stagingEnv, queuePath, false)
	h.must(err)
	if n, calls := h.kit.Stats.Count(routeLogin), h.kit.Stats.Count(routeListSecrets); n != 1 || calls != 1 {
		t.Errorf("logins %d, list calls %d; want 1 and 1", n, calls)
	}
}

func TestBadCredentials(t *testing.T) {
	h := newHarness(t)
	cfg := h.cfg
	cfg.ClientSecret = "wrong-secret-value-0001"
	h.remember(cfg.ClientSecret)
	c, err := New(cfg)
	h.must(err)
	_, err = c.ListSecrets(ctx, stagingEnv, queuePath, false)
	e := h.apiErr(err, 401)
	if !strings.Contains(e.Remedy, EnvClientSecret) || !strings.Contains(e.Remedy, "expired") || e.Op != "log in (universal auth)" {
		t.Errorf("error: %v", err)
	}
	if !IsUnauthorized(err) {
		t.Error("IsUnauthorized is false")
	}
}

func TestLeastPrivilegeFlow(t *testing.T) {
	h := newHarness(t)
	h.c.now = h.kit.Clock.Now
	own := handoffRoot + "/iap-notif-handler"
	other := handoffRoot + "/other-handoff"
	// The same folder and secret in prod, so that reading it answers 403
	// (a missing one answers 404 before any permission check).
	h.must(h.c.EnsureFolder(ctx, "prod", own))
	_, err := h.c.CreateSecret(ctx, "prod", own, "GH_HANDOFF_TOKEN", "prod-value-of-own")
	h.must(err)
	h.remember("prod-value-of-own")
	for _, f := range []string{own, other} {
		h.must(h.c.EnsureFolder(ctx, stagingEnv, f))
		_, err := h.c.CreateSecret(ctx, stagingEnv, f, "GH_HANDOFF_TOKEN", "ghs_value_of_"+strings.TrimPrefix(f, handoffRoot+"/"))
		h.must(err)
		h.remember("ghs_value_of_" + strings.TrimPrefix(f, handoffRoot+"/"))
	}

	// Step 0 of a handoff: its identity, with nothing but a temporary
	// privilege on its folder and its spec's read path.
	name := "infisical-handoff-iap-notif-handler-20260621"
	id, err := h.c.CreateIdentity(ctx, name, "no-access")
	h.must(err)
	if id.ID == "" || id.Name != name || id.OrgRole != "no-access" {
		t.Fatalf("identity %+v", id)
	}
	ua, err := h.c.AttachUniversalAuth(ctx, id.ID, UAConfig{AccessTokenTTL: 900 * time.Second})
	h.must(err)
	if ua.ClientID == "" || ua.ID == "" || ua.AccessTokenTTL != 900 || ua.AccessTokenMaxTTL != 900 {
		t.Fatalf("universal auth %+v", ua)
	}
	cs, err := h.c.CreateClientSecret(ctx, id.ID, "handoff iap-notif-handler", 24*time.Hour, 0)
	h.must(err)
	h.remember(cs.Value)
	if cs.ID == "" || cs.Value == "" || cs.ExpiresAt.Sub(h.kit.Clock.Now()) < 23*time.Hour {
		t.Fatalf("client secret %s", cs)
	}
	if _, err := h.c.AddProjectMembership(ctx, id.ID, "no-access"); err != nil {
		h.must(err)
	}
	rules := ReadRules(stagingEnv, own, []string{queuePath + "/APPLE_IAP_*"})
	start := h.kit.Clock.Now()
	priv, err := h.c.CreatePrivilege(ctx, id.ID, PrivilegeSlug("iap-notif-handler"), rules, &Temporary{Start: start, Range: 2 * time.Hour})
	h.must(err)
	if priv.ID == "" || !priv.Temporary || priv.End.Sub(start) < 2*time.Hour-time.Second || priv.End.Sub(start) > 2*time.Hour+time.Second {
		t.Fatalf("privilege %+v", priv)
	}

	// The provisioner sees what it made.
	got, err := h.c.GetPrivilege(ctx, priv.ID)
	h.must(err)
	if len(got.Rules) != 2 || got.Rules[0].String() != rules[0].String() || got.Rules[1].String() != rules[1].String() || got.Range != 2*time.Hour {
		t.Errorf("GetPrivilege rules %v range %s", got.Rules, got.Range)
	}
	privs, err := h.c.ListPrivileges(ctx, id.ID)
	h.must(err)
	if len(privs) != 1 || privs[0].ID != priv.ID || privs[0].Slug != "handoff-iap-notif-handler" {
		t.Errorf("ListPrivileges %+v", privs)
	}
	ids, err := h.c.ListIdentities(ctx)
	h.must(err)
	if i := slices.IndexFunc(ids, func(x Identity) bool { return x.ID == id.ID }); i < 0 || ids[i].OrgRole != "no-access" || ids[i].Name != name {
		t.Errorf("ListIdentities %+v", ids)
	}
	gi, err := h.c.GetIdentity(ctx, id.ID)
	h.must(err)
	if gi.Name != name || !slices.Contains(gi.AuthMethods, "universal-auth") {
		t.Errorf("GetIdentity %+v", gi)
	}

	// Log in as the handoff.
	hc, err := h.c.AsIdentity(ctx, ua.ClientID, cs.Value)
	h.must(err)
	if s := hc.String(); strings.Contains(s, cs.Value) {
		t.Errorf("client string leaks: %s", s)
	}
	mine, err := hc.ListSecrets(ctx, stagingEnv, own, false)
	h.must(err)
	if len(mine) != 1 || mine[0].Key != "GH_HANDOFF_TOKEN" || mine[0].Value != "ghs_value_of_iap-notif-handler" || mine[0].Path != own {
		t.Errorf("own folder: %v", mine)
	}
	sec, err := hc.GetSecret(ctx, stagingEnv, queuePath, "APPLE_IAP_KEY_ID")
	h.must(err)
	if sec.Value != "DEVKEY1234" {
		t.Errorf("granted read: %s", sec)
	}

	// Listing the read root shows only the granted names.
	queue, err := hc.ListSecrets(ctx, stagingEnv, queuePath, false)
	h.must(err)
	var keys []string
	for _, q := range queue {
		keys = append(keys, q.Key)
	}
	if len(keys) != 3 || slices.ContainsFunc(keys, func(k string) bool { return !strings.HasPrefix(k, "APPLE_IAP_") }) {
		t.Errorf("listing %s as the handoff: %v, want the 3 APPLE_IAP_* only", queuePath, keys)
	}

	// Everything else is refused.
	denied := map[string]error{}
	_, denied["read STRIPE_*"] = hc.GetSecret(ctx, stagingEnv, queuePath, "STRIPE_TEST_SECRET_KEY")
	_, denied["list other handoff"] = hc.ListSecrets(ctx, stagingEnv, other, false)
	_, denied["read other handoff"] = hc.GetSecret(ctx, stagingEnv, other, "GH_HANDOFF_TOKEN")
	_, denied["read own in prod"] = hc.GetSecret(ctx, "prod", own, "GH_HANDOFF_TOKEN")
	_, denied["create in own"] = hc.CreateSecret(ctx, stagingEnv, own, "NEW", "new-secret-value-1")
	_, denied["update own"] = hc.UpdateSecret(ctx, stagingEnv, own, "GH_HANDOFF_TOKEN", "overwritten-value-1")
	denied["delete own"] = hc.DeleteSecret(ctx, stagingEnv, own, "GH_HANDOFF_TOKEN")
	_, denied["list identities"] = hc.ListIdentities(ctx)
	_, denied["create identity"] = hc.CreateIdentity(ctx, "escalate", "admin")
	h.remember("new-secret-value-1", "overwritten-value-1")
	for what, err := range denied {
		e := h.apiErr(err, 403)
		if !strings.Contains(e.Message, "not allowed") || !strings.Contains(e.Remedy, "this handoff's identity may not") {
			t.Errorf("%s: %v", what, err)
		}
	}

	// After the privilege's range the server stops honouring it (the token
	// expired too: the client logs in again, then is refused).
	h.kit.Clock.Advance(2*time.Hour + time.Second)
	_, err = hc.GetSecret(ctx, stagingEnv, own, "GH_HANDOFF_TOKEN")
	if e := h.apiErr(err, 403); !strings.Contains(e.Message, "describeSecret") && !strings.Contains(e.Message, "readValue") {
		t.Errorf("after expiry: %v", err)
	}

	list, err := h.c.ListClientSecrets(ctx, id.ID)
	h.must(err)
	if len(list) != 1 || list[0].ID != cs.ID || list[0].Revoked || list[0].Value != "" || !list[0].ExpiresAt.Equal(cs.ExpiresAt) {
		t.Errorf("ListClientSecrets %v, want %v without its value", list, cs)
	}

	// Revoking the client secret ends logins.
	h.must(h.c.RevokeClientSecret(ctx, id.ID, cs.ID))
	err = hc.Login(ctx)
	if e := h.apiErr(err, 401); !strings.Contains(e.Remedy, "handoff's client secret") {
		t.Errorf("login after revoke: %v", err)
	}
	if _, err := h.c.AsIdentity(ctx, ua.ClientID, cs.Value); !IsUnauthorized(err) {
		t.Errorf("AsIdentity after revoke: %v", err)
	}
	list, err = h.c.ListClientSecrets(ctx, id.ID)
	h.must(err)
	if len(list) != 0 {
		t.Errorf("ListClientSecrets after revoke: %v (the server lists live secrets only)", list)
	}

	// A client secret's own TTL is enforced too.
	short, err := h.c.CreateClientSecret(ctx, id.ID, "short", 40*time.Second, 0)
	h.must(err)
	h.remember(short.Value)
	_, err = h.c.AsIdentity(ctx, ua.ClientID, short.Value)
	h.must(err)
	h.kit.Clock.Advance(41 * time.Second)
	_, err = h.c.AsIdentity(ctx, ua.ClientID, short.Value)
	h.apiErr(err, 401)

	// Teardown is idempotent.
	for range 2 {
		h.must(h.c.RevokeClientSecret(ctx, id.ID, short.ID))
		h.must(h.c.DeletePrivilege(ctx, priv.ID))
		h.must(h.c.RemoveProjectMembership(ctx, id.ID))
		h.must(h.c.DeleteIdentity(ctx, id.ID))
	}
	_, err = h.c.GetIdentity(ctx, id.ID)
	if !IsNotFound(err) {
		t.Errorf("GetIdentity after delete: %v", err)
	}
	h.noLeak(err)
}

func TestProvisionerWithoutRights(t *testing.T) {
	h := newHarness(t)
	// A provisioner configured with an identity that may not create
	// identities gets a remedy that says what to grant.
	id, err := h.c.CreateIdentity(ctx, "weak-provisioner", "no-access")
	h.must(err)
	ua, err := h.c.AttachUniversalAuth(ctx, id.ID, UAConfig{AccessTokenTTL: time.Hour})
	h.must(err)
	cs, err := h.c.CreateClientSecret(ctx, id.ID, "", time.Hour, 0)
	h.must(err)
	h.remember(cs.Value)
	cfg := h.cfg
	cfg.ClientID, cfg.ClientSecret = ua.ClientID, cs.Value
	weak, err := New(cfg)
	h.must(err)
	_, err = weak.CreateIdentity(ctx, "child", "no-access")
	e := h.apiErr(err, 403)
	if !strings.Contains(e.Remedy, "provisioner identity") || !strings.Contains(e.Remedy, "lacks create on identity") || !strings.Contains(e.Remedy, "project admin") {
		t.Errorf("remedy: %v", err)
	}
}

func TestLogoutRevokesTheToken(t *testing.T) {
	h := newHarness(t)
	h.must(h.c.Login(ctx))
	before := len(h.srv.LiveAccessTokens())
	h.must(h.c.Logout(ctx))
	if after := len(h.srv.LiveAccessTokens()); after != before-1 {
		t.Errorf("live tokens %d → %d, want one fewer", before, after)
	}
	h.must(h.c.Logout(ctx)) // nothing to revoke
	h.kit.Stats.Reset()
	_, err := h.c.ListSecrets(ctx, stagingEnv, queuePath, false)
	h.must(err)
	if n := h.kit.Stats.Count(routeLogin); n != 1 {
		t.Errorf("%d logins after logout, want 1", n)
	}
}

func TestRecursiveListIsOneRequest(t *testing.T) {
	h := newHarness(t)
	slugs := []string{"alpha", "beta", "gamma"}
	for _, s := range slugs {
		f := handoffRoot + "/" + s
		h.must(h.c.EnsureFolder(ctx, stagingEnv, f))
		for _, k := range []string{"PROVISION_MANIFEST", "GH_HANDOFF_TOKEN"} {
			_, err := h.c.CreateSecret(ctx, stagingEnv, f, k, k+"-of-"+s)
			h.must(err)
		}
	}
	h.kit.Stats.Reset()
	all, err := h.c.ListSecrets(ctx, stagingEnv, handoffRoot, true)
	h.must(err)
	if n := h.kit.Stats.Total(); n != 1 {
		t.Errorf("recursive list took %d requests, want 1", n)
	}
	if len(all) != 6 {
		t.Fatalf("%d secrets: %v", len(all), all)
	}
	for _, s := range all {
		slug := strings.TrimPrefix(s.Path, handoffRoot+"/")
		if !slices.Contains(slugs, slug) || s.Value != s.Key+"-of-"+slug || s.Version < 1 || s.ID == "" || s.UpdatedAt.IsZero() {
			t.Errorf("secret %s (path %q, value ok %t)", s, s.Path, s.Value == s.Key+"-of-"+slug)
		}
	}
	names, err := h.c.ListSecretNames(ctx, stagingEnv, handoffRoot, true)
	h.must(err)
	if len(names) != 6 || slices.ContainsFunc(names, func(s Secret) bool { return s.Value != "" }) {
		t.Errorf("names: %d, with values", len(names))
	}
	folders, err := h.c.ListFolders(ctx, stagingEnv, handoffRoot, false)
	h.must(err)
	var paths []string
	for _, f := range folders {
		paths = append(paths, f.Path)
	}
	slices.Sort(paths)
	if strings.Join(paths, ",") != handoffRoot+"/alpha,"+handoffRoot+"/beta,"+handoffRoot+"/gamma" {
		t.Errorf("folders %v", paths)
	}
}

func TestEnsureFolderCreatesParentsAndTolerateExisting(t *testing.T) {
	h := newHarness(t)
	h.must(h.c.Login(ctx))
	deep := "/MooseQuest/handoffs/a/b/c"
	h.must(h.c.EnsureFolder(ctx, stagingEnv, deep))
	h.must(h.c.EnsureFolder(ctx, "dev", "/fresh/tree")) // from the root in another env
	folders, err := h.c.ListFolders(ctx, stagingEnv, "/MooseQuest/handoffs", true)
	h.must(err)
	var paths []string
	for _, f := range folders {
		paths = append(paths, f.Path)
	}
	for _, want := range []string{"/MooseQuest/handoffs/a", "/MooseQuest/handoffs/a/b", deep} {
		if !slices.Contains(paths, want) {
			t.Errorf("recursive folder list %v lacks %s", paths, want)
		}
	}
	h.kit.Stats.Reset()
	h.must(h.c.EnsureFolder(ctx, stagingEnv, deep))
	if n := h.kit.Stats.Total(); n != 1 {
		t.Errorf("EnsureFolder of an existing folder took %d requests, want 1", n)
	}
	// Concurrent callers race on the same folders without failing.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { h.must(h.c.EnsureFolder(ctx, stagingEnv, "/race/x/y")) })
	}
	wg.Wait()
	h.must(h.c.DeleteFolder(ctx, stagingEnv, "/MooseQuest/handoffs/a"))
	h.must(h.c.DeleteFolder(ctx, stagingEnv, "/MooseQuest/handoffs/a"))
	if err := h.c.DeleteFolder(ctx, stagingEnv, "/"); err == nil {
		t.Error("deleting the root was accepted")
	}
}

func TestUpsertAndCollision(t *testing.T) {
	h := newHarness(t)
	f := handoffRoot + "/collide"
	h.must(h.c.EnsureFolder(ctx, stagingEnv, f))
	first, err := h.c.CreateSecret(ctx, stagingEnv, f, "KEY", "first-value-0001")
	h.must(err)
	_, err = h.c.CreateSecret(ctx, stagingEnv, f, "KEY", "second-value-0002")
	h.remember("first-value-0001", "second-value-0002", "third-value-0003")
	e := h.apiErr(err, 400)
	if !IsAlreadyExists(err) || !strings.Contains(e.Remedy, "name collision") || !strings.Contains(e.Remedy, "KEY") {
		t.Errorf("collision: %v", err)
	}
	up, err := h.c.UpsertSecret(ctx, stagingEnv, f, "KEY", "third-value-0003")
	h.must(err)
	if up.Version <= first.Version {
		t.Errorf("versions %d → %d", first.Version, up.Version)
	}
	got, err := h.c.GetSecret(ctx, stagingEnv, f, "KEY")
	h.must(err)
	if got.Value != "third-value-0003" || got.Path != f {
		t.Errorf("after upsert: %s", got)
	}
	created, err := h.c.UpsertSecret(ctx, stagingEnv, f, "OTHER", "third-value-0003")
	h.must(err)
	if created.Key != "OTHER" {
		t.Errorf("upsert create: %s", created)
	}
}

func TestDeleteIsIdempotentAndMissingFolderExplained(t *testing.T) {
	h := newHarness(t)
	f := handoffRoot + "/gone"
	h.must(h.c.EnsureFolder(ctx, stagingEnv, f))
	_, err := h.c.CreateSecret(ctx, stagingEnv, f, "KEY", "some-value-0004")
	h.must(err)
	h.must(h.c.DeleteSecret(ctx, stagingEnv, f, "KEY"))
	h.must(h.c.DeleteSecret(ctx, stagingEnv, f, "KEY"))
	_, err = h.c.GetSecret(ctx, stagingEnv, f, "KEY")
	if !IsNotFound(err) {
		t.Errorf("get deleted: %v", err)
	}

	_, err = h.c.CreateSecret(ctx, stagingEnv, handoffRoot+"/missing", "KEY", "some-value-0004")
	h.remember("some-value-0004")
	e := h.apiErr(err, 404)
	want := "the folder " + handoffRoot + "/missing does not exist in environment staging: apply creates it; check handoff_root"
	if !strings.Contains(e.Remedy, want) {
		t.Errorf("missing folder: %v\nwant remedy containing %q", err, want)
	}
}

func TestRetries(t *testing.T) {
	h := newHarnessTB(t, injectedFaults{t})
	h.must(h.c.Login(ctx))

	h.kit.Faults.Add(devkit.Fault{Route: routeListSecrets, Status: 503, Count: 1})
	h.kit.Stats.Reset()
	_, err := h.c.ListSecrets(ctx, stagingEnv, queuePath, false)
	h.must(err)
	if n := h.kit.Stats.Count(routeListSecrets); n != 2 {
		t.Errorf("after one 503: %d requests, want 2", n)
	}

	h.kit.Faults.Add(devkit.Fault{Route: routeListSecrets, Status: 429, RetryAfter: time.Second, Count: 1})
	h.kit.Stats.Reset()
	_, err = h.c.ListSecrets(ctx, stagingEnv, queuePath, false)
	h.must(err)
	if n := h.kit.Stats.Count(routeListSecrets); n != 2 {
		t.Errorf("after one 429: %d requests, want 2", n)
	}

	// Login is safe to repeat.
	h.kit.Faults.Add(devkit.Fault{Route: routeLogin, Status: 500, Count: 1})
	h.kit.Stats.Reset()
	h.must(h.c.Login(ctx))
	if n := h.kit.Stats.Count(routeLogin); n != 2 {
		t.Errorf("login after a 500: %d requests, want 2", n)
	}

	// A create is not repeated after an ambiguous failure.
	h.kit.Faults.Add(devkit.Fault{Route: "POST /api/v4/secrets/*", Status: 502, Count: 1})
	h.kit.Stats.Reset()
	_, err = h.c.CreateSecret(ctx, stagingEnv, queuePath, "NEW_ONE", "created-value-0005")
	h.remember("created-value-0005")
	e := h.apiErr(err, 502)
	if !e.Temporary() || !strings.Contains(e.Remedy, "rerun") {
		t.Errorf("502: %v", err)
	}
	if n := h.kit.Stats.Total(); n != 1 {
		t.Errorf("create after a 502: %d requests, want 1 (no retry)", n)
	}
	h.kit.Faults.Add(devkit.Fault{Route: "POST /api/v1/identities", Status: 502, Count: 1})
	h.kit.Stats.Reset()
	_, err = h.c.CreateIdentity(ctx, "once", "no-access")
	h.apiErr(err, 502)
	if n := h.kit.Stats.Total(); n != 1 {
		t.Errorf("create identity after a 502: %d requests, want 1", n)
	}
}

func TestDeadline(t *testing.T) {
	h := newHarness(t)
	cfg := h.cfg
	cfg.Timeout = 100 * time.Millisecond
	c, err := New(cfg)
	h.must(err)
	h.kit.Faults.Add(devkit.Fault{Route: routeLogin, Delay: 500 * time.Millisecond})
	// Without the deadline the call would wait the delay out and succeed.
	_, err = c.ListSecrets(ctx, stagingEnv, queuePath, false)
	h.noLeak(err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
}

func TestAuditLogs(t *testing.T) {
	h := newHarness(t)
	_, err := h.c.GetSecret(ctx, stagingEnv, queuePath, "APPLE_IAP_KEY_ID")
	h.must(err)
	entries, err := h.c.AuditLogs(ctx, AuditFilter{EventTypes: []string{"get-secret"}, ProjectID: infisicalsrv.DefaultProjectID, Limit: 50})
	h.must(err)
	// An unlicensed server may keep no log; the local one keeps it.
	for _, e := range entries {
		if e.EventType != "get-secret" || e.ActorType != "identity" || e.ActorID == "" || e.CreatedAt.IsZero() {
			t.Errorf("entry %+v", e)
		}
		if strings.Contains(string(e.EventMetadata), "DEVKEY1234") {
			t.Errorf("audit metadata holds a value: %s", e.EventMetadata)
		}
	}
	t.Logf("%d audit entries", len(entries))
}

// TestAuditMetadataAndComments: an identity carries metadata and a secret a
// comment, as Infisical stores them (checked against the contract), so
// that every object handoff makes names its handoff.
func TestAuditMetadataAndComments(t *testing.T) {
	h := newHarness(t)
	id, err := h.c.CreateIdentityWithMetadata(ctx, "infisical-handoff-audit-me-20260621", "no-access", map[string]string{"handoff-slug": "audit-me"})
	h.must(err)
	if id.Metadata["handoff-slug"] != "audit-me" {
		t.Errorf("created identity metadata %v", id.Metadata)
	}
	got, err := h.c.GetIdentity(ctx, id.ID)
	h.must(err)
	if got.Metadata["handoff-slug"] != "audit-me" || len(got.Metadata) != 1 {
		t.Errorf("identity metadata %v", got.Metadata)
	}
	plain, err := h.c.CreateIdentity(ctx, "no-metadata", "no-access")
	h.must(err)
	if got, err := h.c.GetIdentity(ctx, plain.ID); err != nil || len(got.Metadata) != 0 {
		t.Errorf("identity without metadata: %v %v", got.Metadata, err)
	}

	f := handoffRoot + "/audit-me"
	h.must(h.c.EnsureFolder(ctx, stagingEnv, f))
	h.remember("audited-value-0001", "audited-value-0002", "audited-value-0003")
	_, err = h.c.UpsertSecretWithComment(ctx, stagingEnv, f, "KEY", "audited-value-0001", "handoff audit-me: written by handoff apply")
	h.must(err)
	sec, err := h.c.GetSecret(ctx, stagingEnv, f, "KEY")
	h.must(err)
	if sec.Comment != "handoff audit-me: written by handoff apply" {
		t.Errorf("comment after create: %q", sec.Comment)
	}
	_, err = h.c.UpsertSecretWithComment(ctx, stagingEnv, f, "KEY", "audited-value-0002", "handoff audit-me: rewritten")
	h.must(err)
	if s, _ := h.srv.Secret(stagingEnv, f, "KEY"); s.Comment != "handoff audit-me: rewritten" || s.Value != "audited-value-0002" {
		t.Errorf("comment after update: %q", s.Comment)
	}
	// A value set without a comment keeps the comment.
	_, err = h.c.UpdateSecret(ctx, stagingEnv, f, "KEY", "audited-value-0003")
	h.must(err)
	if s, _ := h.srv.Secret(stagingEnv, f, "KEY"); s.Comment != "handoff audit-me: rewritten" {
		t.Errorf("comment after an update without one: %q", s.Comment)
	}
}

// An upsert whose update finds the secret gone (deleted between the create
// that collided and the update, as by a second kill at once) creates it
// again rather than fail.
func TestUpsertWhenTheSecretGoesInBetween(t *testing.T) {
	h := newHarness(t)
	f := handoffRoot + "/between"
	h.must(h.c.EnsureFolder(ctx, stagingEnv, f))
	_, err := h.c.CreateSecret(ctx, stagingEnv, f, "KEY", "first-value-0005")
	h.must(err)
	h.remember("first-value-0005", "second-value-0006")
	h.kit.Faults.Add(devkit.Fault{Route: "PATCH /api/v4/secrets/*", Status: 404, Nth: 1, Count: 1})
	if _, err := h.c.UpsertSecret(ctx, stagingEnv, f, "KEY", "second-value-0006"); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	got, err := h.c.GetSecret(ctx, stagingEnv, f, "KEY")
	h.must(err)
	if got.Value != "second-value-0006" {
		t.Errorf("after upsert: %s", got)
	}
}
