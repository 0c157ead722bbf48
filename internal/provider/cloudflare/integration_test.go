package cloudflare

import (
	"context"
	"errors"
	"github.com/raxx-app/handoff/internal/provider/pace"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// harness is the local Cloudflare server behind httptest, with every
// exchange checked against Cloudflare's contract, and a provisioner client.
type harness struct {
	t   *testing.T
	kit *devkit.Kit
	srv *cloudflaresrv.Server
	v   *contracttest.Validator
	cfg Config
	c   *Client
	now time.Time

	mu      sync.Mutex
	secrets []string // every token value in play: no error may contain one
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(now), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := cloudflaresrv.New(kit, cloudflaresrv.DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	base := hs.URL + cloudflaresrv.BasePath
	v := contracttest.MustNew(t, contracttest.Cloudflare, base)
	cfg := Config{BaseURL: base, Token: Secret(srv.ProvisionerToken()),
		HTTP: httpx.Config{Transport: v.Transport(t, nil, "/_dev/"), MinWait: time.Millisecond, MaxWait: 2 * time.Second}}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, kit: kit, srv: srv, v: v, cfg: cfg, c: c, now: now}
	h.remember(srv.ProvisionerToken())
	return h
}

func (h *harness) remember(values ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, values...)
}

// noLeak fails the test when err's text holds a token value.
func (h *harness) noLeak(err error) {
	h.t.Helper()
	if err == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.secrets {
		if strings.Contains(err.Error(), s) {
			h.t.Errorf("error leaks a token value: %s", err)
		}
	}
}

func (h *harness) must(err error) {
	h.t.Helper()
	h.noLeak(err)
	if err != nil {
		h.t.Fatal(err)
	}
}

// apiErr asserts err is a Cloudflare APIError with the status and returns it.
func (h *harness) apiErr(err error, status int) *httpx.APIError {
	h.t.Helper()
	h.noLeak(err)
	var ae *httpx.APIError
	if !errors.As(err, &ae) || ae.Status != status || ae.Surface != Surface {
		h.t.Fatalf("error %v, want a cloudflare APIError with status %d", err, status)
	}
	return ae
}

// groups resolves permission-group names with the provisioner.
func (h *harness) groups(names ...string) []PermissionGroup {
	h.t.Helper()
	cat, err := h.c.PermissionGroups(context.Background())
	h.must(err)
	gs, err := cat.Resolve(names...)
	h.must(err)
	return gs
}

// mint creates a token with the provisioner.
func (h *harness) mint(name string, groups []string, resources map[string]any, mutate func(*TokenRequest)) Token {
	h.t.Helper()
	req := TokenRequest{Name: name, Policies: []Policy{{Effect: Allow, PermissionGroups: h.groups(groups...), Resources: resources}}}
	if mutate != nil {
		mutate(&req)
	}
	tok, err := h.c.CreateToken(context.Background(), req)
	h.must(err)
	h.remember(tok.Value.Reveal())
	return tok
}

func (h *harness) as(tok Token) *Client {
	h.t.Helper()
	c, err := h.c.WithToken(tok.Value)
	h.must(err)
	return c
}

// TestHandoffLifecycle is the flow handoff runs: resolve groups, look the
// spec's zones up with a short-lived Zone Read token (the provisioner holds
// API Tokens Write only), mint the handoff's narrowed token with an expiry
// and an IP allowlist, verify and read it, revoke it.
func TestHandoffLifecycle(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	lookup := h.mint("handoff-zone-lookup", []string{"Zone Read"}, map[string]any{ScopeZone + ".*": "*"},
		func(r *TokenRequest) { r.ExpiresOn = h.now.Add(5 * time.Minute) })
	zones, err := h.as(lookup).ZonesByName(ctx, []string{"moosequest.app", "Example.com."})
	h.must(err)
	if zones["moosequest.app"].ID != cloudflaresrv.DefaultZoneMooseQuestID || zones["Example.com."].ID != cloudflaresrv.DefaultZoneExampleID ||
		zones["moosequest.app"].AccountID != cloudflaresrv.DefaultAccountID || zones["moosequest.app"].Status != "active" {
		t.Fatalf("zones %+v", zones)
	}
	h.must(h.c.DeleteToken(ctx, lookup.ID))

	expires := h.now.Add(24 * time.Hour)
	tok := h.mint("handoff-iap-notif-20261123", []string{"DNS Write", "Zone Read"}, ZoneResources(zones["moosequest.app"].ID),
		func(r *TokenRequest) {
			r.NotBefore = h.now
			r.ExpiresOn = expires
			r.RequestIPIn = []string{"127.0.0.0/8", "::1"}
			r.RequestIPNotIn = []string{"127.0.0.2"}
		})
	if tok.ID == "" || len(tok.Value.Reveal()) < 40 || tok.Status != "active" || !tok.ExpiresOn.Equal(expires) ||
		tok.Policies[0].PermissionGroups[0].Name != "DNS Write" || len(tok.RequestIPIn) != 2 {
		t.Fatalf("created %+v", tok)
	}
	info, ok := h.srv.Token(tok.ID)
	if !ok || strings.Join(info.Policies[0].PermissionGroups, ",") != "DNS Write,Zone Read" || info.RequestIPNotIn[0] != "127.0.0.2" {
		t.Fatalf("server holds %+v", info)
	}

	v, err := h.c.VerifyToken(ctx, tok.Value)
	h.must(err)
	if v.ID != tok.ID || v.Status != "active" || !v.ExpiresOn.Equal(expires) || !v.NotBefore.Equal(h.now) {
		t.Errorf("verify %+v", v)
	}
	got, err := h.c.Token(ctx, tok.ID)
	h.must(err)
	if got.Value != "" || got.Status != "active" || !got.ExpiresOn.Equal(expires) || len(got.Policies) != 1 ||
		got.Policies[0].Resources[ScopeZone+"."+cloudflaresrv.DefaultZoneMooseQuestID] != "*" || got.LastUsedOn.IsZero() {
		t.Errorf("read back %+v", got)
	}
	all, err := h.c.Tokens(ctx)
	h.must(err)
	if len(all) != 2 {
		t.Errorf("%d tokens listed, want the provisioner and the handoff's", len(all))
	}

	h.must(h.c.DeleteToken(ctx, tok.ID))
	h.must(h.c.DeleteToken(ctx, tok.ID)) // already gone: still success
	_, err = h.c.VerifyToken(ctx, tok.Value)
	if !IsInvalidToken(err) {
		t.Fatalf("verify after delete: %v", err)
	}
	h.apiErr(err, 401)
	_, err = h.c.Token(ctx, tok.ID)
	if !IsNotFound(err) {
		t.Fatalf("read after delete: %v", err)
	}
	if u := h.v.Uncovered(); strings.Join(u, ",") != "PUT /user/tokens/{token_id},PUT /user/tokens/{token_id}/value" {
		t.Errorf("operations left out: %v", u)
	}
}

// TestLeastPrivilegeThroughTheClient: a token narrowed to one zone finds
// that zone only; the provisioner finds the zones of its Zone Read.
func TestLeastPrivilegeThroughTheClient(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tok := h.mint("narrow", []string{"DNS Read"}, ZoneResources(cloudflaresrv.DefaultZoneExampleID), nil)
	narrow := h.as(tok)
	if z, err := narrow.ZonesByName(ctx, []string{"example.com"}); err != nil || z["example.com"].ID != cloudflaresrv.DefaultZoneExampleID {
		t.Fatalf("own zone: %v %v", z, err)
	}
	_, err := narrow.ZonesByName(ctx, []string{"raxx.dev", "example.com", "nope.example", "raxx.dev"})
	h.noLeak(err)
	if err == nil || !strings.Contains(err.Error(), `zone "nope.example", "raxx.dev" does not exist or the token cannot see it`) {
		t.Errorf("other zones: %v", err)
	}
	// The provisioner's Zone Read covers the zones of Raxx only.
	if z, err := h.c.ZonesByName(ctx, []string{"example.com"}); err != nil || z["example.com"].ID != cloudflaresrv.DefaultZoneExampleID {
		t.Errorf("the provisioner does not see example.com: %v %v", z, err)
	}
	_, err = h.c.ZonesByName(ctx, []string{"other-team.io"})
	if err == nil || !strings.Contains(err.Error(), `"other-team.io"`) {
		t.Errorf("the provisioner sees other-team.io: %v", err)
	}
	for _, bad := range []string{"", "contains:example", "a b.com"} {
		if _, err := narrow.ZonesByName(ctx, []string{bad}); err == nil {
			t.Errorf("ZonesByName(%q) accepted", bad)
		}
	}
	_, err = narrow.CreateToken(ctx, TokenRequest{Name: "escalate", Policies: []Policy{{PermissionGroups: h.groups("DNS Write"),
		Resources: ZoneResources(cloudflaresrv.DefaultZoneExampleID)}}})
	ae := h.apiErr(err, 403)
	if !strings.Contains(ae.Remedy, "API Tokens Write") || Codes(err)[0] != codeAccessToken {
		t.Errorf("escalation refused with %v (codes %v)", err, Codes(err))
	}
}

// TestFailures walks the failures handoff must explain, each with its
// status, Cloudflare's code, a remedy and no token value.
func TestFailures(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	zr := h.groups("Zone Read")
	ipBound := h.mint("ip-bound", []string{"Zone Read"}, ZoneResources(cloudflaresrv.DefaultZoneExampleID),
		func(r *TokenRequest) { r.RequestIPIn = []string{"10.0.0.0/8"} })
	bogus, err := h.c.WithToken(Secret(strings.Repeat("Q", 40)))
	h.must(err)
	h.remember(strings.Repeat("Q", 40))

	cases := []struct {
		name    string
		call    func() error
		status  int
		code    int
		remedy  string
		invalid bool
	}{
		{"verify a bogus token", func() error { _, err := h.c.VerifyToken(ctx, Secret(strings.Repeat("Q", 40))); return err },
			401, codeInvalidAPIToken, "does not work", true},
		{"zones with a bogus token", func() error { _, err := bogus.ZonesByName(ctx, []string{"example.com"}); return err },
			403, codeAccessToken, EnvAPIToken, true},
		{"outside the IP allowlist", func() error { _, err := h.as(ipBound).ZonesByName(ctx, []string{"example.com"}); return err },
			403, codeAccessToken, "IP allowlist", true},
		{"expiry in the past", func() error {
			_, err := h.c.CreateToken(ctx, TokenRequest{Name: "late", ExpiresOn: h.now.Add(-time.Hour), Policies: []Policy{{PermissionGroups: zr, Resources: ZoneResources(cloudflaresrv.DefaultZoneExampleID)}}})
			return err
		}, 400, codeBadRequest, "definition", false},
		{"group on the wrong scope", func() error {
			_, err := h.c.CreateToken(ctx, TokenRequest{Name: "scope", Policies: []Policy{{PermissionGroups: zr, Resources: UserResources(cloudflaresrv.DefaultUserID)}}})
			return err
		}, 400, codeBadRequest, "definition", false},
		{"a token that never existed", func() error { _, err := h.c.Token(ctx, "00000000000000000000000000000000"); return err },
			404, 1003, "no longer exists", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			ae := h.apiErr(err, tc.status)
			if codes := Codes(err); len(codes) == 0 || codes[0] != tc.code {
				t.Errorf("codes %v, want %d first", codes, tc.code)
			}
			if !strings.Contains(ae.Remedy, tc.remedy) || ae.RequestID == "" || ae.Message == "" {
				t.Errorf("error %v: remedy %q, want it to mention %q", err, ae.Remedy, tc.remedy)
			}
			if IsInvalidToken(err) != tc.invalid {
				t.Errorf("IsInvalidToken = %v", !tc.invalid)
			}
		})
	}
}

// TestRateLimitAndServerErrors: a 429 whose retry-after is beyond MaxWait
// is returned with its wait; a 5xx on a read is retried; a 5xx on creation
// is not repeated.
func TestRateLimitAndServerErrors(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	zr := h.groups("Zone Read")

	id := h.kit.Faults.Add(devkit.Fault{Route: "GET " + cloudflaresrv.BasePath + "/user/tokens/permission_groups", Status: 502, Count: 2})
	before := h.c.HTTP().Attempts()
	_, err := h.c.PermissionGroups(ctx)
	h.must(err)
	if n := h.c.HTTP().Attempts() - before; n != 3 {
		t.Errorf("%d attempts for a read failing twice with 502, want 3", n)
	}
	h.kit.Faults.Remove(id)

	h.kit.Faults.Add(devkit.Fault{Route: "POST " + cloudflaresrv.BasePath + "/user/tokens", Status: 500, Count: 1})
	before = h.c.HTTP().Attempts()
	_, err = h.c.CreateToken(ctx, TokenRequest{Name: "once", Policies: []Policy{{PermissionGroups: zr, Resources: ZoneResources(cloudflaresrv.DefaultZoneExampleID)}}})
	ae := h.apiErr(err, 500)
	if n := h.c.HTTP().Attempts() - before; n != 1 || !strings.Contains(ae.Remedy, "cloudflarestatus") {
		t.Errorf("creation failing with 500: %d attempts, remedy %q", n, ae.Remedy)
	}

	h.srv.SetRateLimit(3, 0)
	for range 3 {
		_, err := h.c.VerifyToken(ctx, h.cfg.Token)
		h.must(err)
	}
	// The server's 429 names a 5-minute wait: the pacer waits it out unless
	// it passes the run's deadline, which it does here (30 s), and then
	// fails at once, naming the wait, without sending the request again.
	before = h.c.HTTP().Attempts()
	_, err = h.c.Tokens(ctx)
	if !pace.IsDeadline(err) || !strings.Contains(err.Error(), "5 min") || !strings.Contains(err.Error(), "past the deadline") {
		t.Errorf("rate limited: %v, want the pacer's refusal of a 5-minute wait past the deadline", err)
	}
	if n := h.c.HTTP().Attempts() - before; n != 1 {
		t.Errorf("%d attempts after a 429 whose wait passes the deadline, want 1", n)
	}
}

// TestNoTokenValueInOutput renders everything that holds a token with every
// fmt verb, in slog and as JSON, and finds no value.
func TestNoTokenValueInOutput(t *testing.T) {
	h := newHarness(t)
	tok := h.mint("rendered", []string{"Zone Read"}, ZoneResources(cloudflaresrv.DefaultZoneExampleID), nil)
	c := h.as(tok)
	things := []any{tok, &tok, tok.Value, h.cfg, &h.cfg, c, h.c, []Token{tok}, map[string]Secret{"v": tok.Value},
		struct{ T Token }{tok}, struct{ S Secret }{tok.Value}}
	assertNoValues(t, things, tok.Value.Reveal(), h.cfg.Token.Reveal())
}
