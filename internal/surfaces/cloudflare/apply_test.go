package cloudflare_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	cf "github.com/raxx-app/handoff/internal/provider/cloudflare"
	"github.com/raxx-app/handoff/internal/surface"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
)

var ctx = context.Background()

// violations renders Verify's answer, scanned for token values.
func (e *env) verify(req *surface.Request, rec surface.Record) []string {
	e.t.Helper()
	var out []string
	for _, v := range e.s.Verify(ctx, req, rec) {
		e.noValue("violation", v.String())
		out = append(out, v.String())
	}
	return out
}

func (e *env) mustCreate(req *surface.Request) (surface.Result, surface.Record) {
	e.t.Helper()
	res, err := e.s.Create(ctx, req)
	e.noValueErr(err)
	if err != nil {
		e.t.Fatal(err)
	}
	e.remember(res.Secrets[cfsurface.SecretName])
	return res, e.record(res)
}

// TestCreateRefreshRevokeVerify: the whole life of a handoff's token
// through the local server with the real client: minted narrowed (one
// allow policy, the spec's group on its zone, expiring at the end of the
// block's ttl, usable from its range only), verified, refreshed before it
// ends (the old one deleted), revoked, and revoked again harmlessly.
func TestCreateRefreshRevokeVerify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := parse(t, "dns-task", "8h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]\n    ttl = \"1h\"\n    request_ip = [\"127.0.0.0/8\"]")
	var steps []string
	req := e.request("dns-task", h, &steps)
	handoffExpires := req.ExpiresAt
	res, rec := e.mustCreate(req)
	if strings.Join(steps, ", ") != "create API token" {
		t.Errorf("create steps: %v", steps)
	}
	e.write(req, res)
	r := cfsurface.Decode(rec)
	tok, ok := e.srv.Token(r.TokenID)
	if !ok || tok.Name != "handoff-dns-task" || tok.Status != "active" || tok.ExpiresOn == nil || !tok.ExpiresOn.Equal(testNow.Add(time.Hour)) ||
		!slices.Equal(tok.RequestIPIn, []string{"127.0.0.0/8"}) || len(tok.Policies) != 1 {
		t.Fatalf("minted token %+v", tok)
	}
	if got := e.srv.ZonePermissions(r.TokenID, cloudflaresrv.DefaultZoneExampleID); !slices.Equal(got, []string{"DNS Write"}) {
		t.Errorf("permissions on example.com: %v", got)
	}
	if r.Secret != "CLOUDFLARE_API_TOKEN" || !slices.Equal(r.ZoneIDs, []string{cloudflaresrv.DefaultZoneExampleID}) ||
		!r.HandoffExpiresAt.Equal(handoffExpires) || r.TokenFingerprint != res.Fingerprint || !strings.HasPrefix(r.TokenFingerprint, "sha256:") {
		t.Errorf("record %+v", r)
	}
	if !strings.Contains(res.Detail, "API token handoff-dns-task") || !strings.Contains(res.Detail, "usable from 127.0.0.0/8") {
		t.Errorf("detail %q", res.Detail)
	}
	if v := e.verify(req, rec); len(v) != 0 {
		t.Errorf("Verify of a fresh token: %v", v)
	}
	if at, _, early := e.s.Expiry(rec); !early || !at.Equal(testNow.Add(time.Hour)) {
		t.Errorf("Expiry = %s %v, want refreshed early", at, early)
	}

	// 50 minutes on: refreshed, the old token deleted first.
	e.kit.Clock.Advance(50 * time.Minute)
	steps = nil
	req = e.request("dns-task", h, &steps)
	req.ExpiresAt = handoffExpires
	res2, err := e.s.Refresh(ctx, req, rec)
	e.noValueErr(err)
	if err != nil {
		t.Fatal(err)
	}
	e.remember(res2.Secrets[cfsurface.SecretName])
	rec2 := e.record(res2)
	if strings.Join(steps, ", ") != "delete API token, create API token" {
		t.Errorf("refresh steps: %v", steps)
	}
	if _, ok := e.srv.Token(r.TokenID); ok {
		t.Error("the refreshed token is still there")
	}
	e.write(req, res2)
	r2 := cfsurface.Decode(rec2)
	if !r2.TokenExpiresAt.Equal(testNow.Add(110*time.Minute)) || r2.TokenID == r.TokenID || res2.Fingerprint == res.Fingerprint {
		t.Errorf("refreshed record %+v", r2)
	}
	if v := e.verify(e.request("dns-task", h, nil), rec2); len(v) != 0 {
		t.Errorf("Verify of the refreshed token: %v", v)
	}
	old := res.Secrets[cfsurface.SecretName]
	if _, err := e.c.VerifyToken(ctx, cf.Secret(old)); !cf.IsInvalidToken(err) {
		t.Errorf("the replaced token still verifies: %v", err)
	}

	// Near the end of the handoff, the token ends with it.
	e.kit.Clock.Advance(7 * time.Hour)
	req = e.request("dns-task", h, nil)
	req.ExpiresAt = handoffExpires
	res3, err := e.s.Refresh(ctx, req, rec2)
	if err != nil {
		t.Fatal(err)
	}
	e.remember(res3.Secrets[cfsurface.SecretName])
	rec3 := e.record(res3)
	if at, _, early := e.s.Expiry(rec3); early || !at.Equal(handoffExpires) {
		t.Errorf("last token: Expiry = %s %v, want the handoff's expiry, not early", at, early)
	}

	// Revoke: the token is deleted at once; again, nothing fails.
	steps = nil
	req = e.request("dns-task", h, &steps)
	if err := e.s.Revoke(ctx, req, rec3); err != nil {
		t.Fatal(err)
	}
	if strings.Join(steps, ", ") != "delete API token" || len(e.srv.Tokens()) != 1 {
		t.Errorf("revoke steps %v; tokens left %d", steps, len(e.srv.Tokens()))
	}
	if err := e.s.Revoke(ctx, e.request("dns-task", h, nil), rec3); err != nil {
		t.Errorf("revoking again: %v", err)
	}
	if v := e.verify(e.request("dns-task", h, nil), rec3); len(v) != 1 || !strings.Contains(v[0], "no longer exists") {
		t.Errorf("Verify after revoke: %v", v)
	}
	if got := e.s.DescribeRevoke(rec3, false); !strings.Contains(got, "handoff-dns-task") || !strings.Contains(got, cfsurface.Decode(rec3).TokenFingerprint) {
		t.Errorf("DescribeRevoke = %q", got)
	}
	e.noValue("DescribeRevoke", e.s.DescribeRevoke(rec3, false))
}

// TestLeastPrivilege: the minted token acts on its zone with its group,
// and is refused another zone, another group (Zone Read, API tokens) and,
// once revoked, everything. A token with request_ip is refused from
// elsewhere.
func TestLeastPrivilege(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := parse(t, "least", "1h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]")
	req := e.request("least", h, nil)
	res, rec := e.mustCreate(req)
	value := res.Secrets[cfsurface.SecretName]
	record := map[string]any{"type": "TXT", "name": "_handoff", "content": "least privilege", "ttl": 120}
	type probe struct {
		what         string
		method, path string
		body         any
		status, code int
	}
	ex, other := cloudflaresrv.DefaultZoneExampleID, cloudflaresrv.DefaultZoneRaxxDevID
	for _, p := range []probe{
		{"write DNS of its zone", "POST", "/zones/" + ex + "/dns_records", record, 200, 0},
		{"read DNS of its zone (DNS Write reads)", "GET", "/zones/" + ex + "/dns_records", nil, 200, 0},
		{"write DNS of another zone", "POST", "/zones/" + other + "/dns_records", record, 403, 10000},
		{"read another zone's DNS", "GET", "/zones/" + other + "/dns_records", nil, 403, 10000},
		{"another group on its zone (Zone Read)", "GET", "/zones/" + ex, nil, 403, 10000},
		{"the user's API tokens", "GET", "/user/tokens", nil, 403, 9109},
		{"mint a token", "POST", "/user/tokens", map[string]any{"name": "escalate", "policies": []any{}}, 403, 9109},
		{"verify itself", "GET", "/user/tokens/verify", nil, 200, 0},
	} {
		if status, code := e.call(p.method, p.path, value, p.body); status != p.status || code != p.code {
			t.Errorf("%s: %d (code %d), want %d (code %d)", p.what, status, code, p.status, p.code)
		}
	}
	zones, err := e.as(value).Zones(ctx)
	if err != nil || len(zones) != 1 || zones[0].Name != "example.com" {
		t.Errorf("the token lists zones %v (%v)", zones, err)
	}

	if err := e.s.Revoke(ctx, e.request("least", h, nil), rec); err != nil {
		t.Fatal(err)
	}
	for _, p := range []probe{
		{"write DNS of its zone", "POST", "/zones/" + ex + "/dns_records", record, 403, 9109},
		{"read DNS of its zone", "GET", "/zones/" + ex + "/dns_records", nil, 403, 9109},
		{"list zones", "GET", "/zones", nil, 403, 9109},
		{"verify itself", "GET", "/user/tokens/verify", nil, 401, 1000},
	} {
		if status, code := e.call(p.method, p.path, value, p.body); status != p.status || code != p.code {
			t.Errorf("after revoke, %s: %d (code %d), want %d (code %d)", p.what, status, code, p.status, p.code)
		}
	}

	// request_ip: the token works only from its range (the test runs from
	// 127.0.0.1).
	for _, tt := range []struct {
		cidr   string
		status int
	}{{"127.0.0.0/8", 200}, {"192.0.2.0/24", 403}} {
		h := parse(t, "ip-bound", "1h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]\n    request_ip = [\""+tt.cidr+"\"]")
		res, _ := e.mustCreate(e.request("ip-bound", h, nil))
		if status, _ := e.call("GET", "/zones/"+ex+"/dns_records", res.Secrets[cfsurface.SecretName], nil); status != tt.status {
			t.Errorf("request_ip %s, from 127.0.0.1: %d, want %d", tt.cidr, status, tt.status)
		}
	}
}

// TestCrashBetweenMintAndVaultWrite: a run that dies after Cloudflare
// minted the token and before the value reached the vault leaves a token
// no manifest records; the next run finds it by name in one listing and
// deletes it (a revoke, or the refresh of a recorded token), and the
// token is refused from then on.
func TestCrashBetweenMintAndVaultWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := parse(t, "crashy", "1h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]")
	lost, _ := e.mustCreate(e.request("crashy", h, nil)) // then the process dies
	lostValue := lost.Secrets[cfsurface.SecretName]

	// The next run's plan reads the live state once and finds it.
	live := e.live()
	found := e.s.Leftovers("crashy", live)
	if len(found) != 1 || found[0].Name != "handoff-crashy" {
		t.Fatalf("Leftovers = %v", found)
	}
	var steps []string
	req := e.request("crashy", h, &steps)
	if got := e.s.Steps(surface.OpRevoke, req, nil); len(got) != 1 || got[0].Name != "delete leftover API token" {
		t.Errorf("planned steps %v", got)
	}
	if err := e.s.Revoke(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Join(steps, ", ") != "delete leftover API token" {
		t.Errorf("steps %v", steps)
	}
	if _, err := e.as(lostValue).Zones(ctx); !cf.IsInvalidToken(err) {
		t.Errorf("the lost token still works: %v", err)
	}
	if got := e.s.Leftovers("crashy", e.live()); len(got) != 0 {
		t.Errorf("after the sweep: %v", got)
	}

	// A refresh that crashed after its mint: the next refresh deletes the
	// recorded token and the lost one, then mints.
	res, rec := e.mustCreate(e.request("crashy", h, nil))
	e.write(e.request("crashy", h, nil), res)
	lost2, err := e.s.Refresh(ctx, e.request("crashy", h, nil), rec) // then the process dies
	if err != nil {
		t.Fatal(err)
	}
	e.remember(lost2.Secrets[cfsurface.SecretName])
	steps = nil
	req = e.request("crashy", h, &steps)
	res3, err := e.s.Refresh(ctx, req, rec)
	if err != nil {
		t.Fatal(err)
	}
	e.remember(res3.Secrets[cfsurface.SecretName])
	if strings.Join(steps, ", ") != "delete API token, delete leftover API token, create API token" {
		t.Errorf("steps %v", steps)
	}
	if _, err := e.as(lost2.Secrets[cfsurface.SecretName]).Zones(ctx); !cf.IsInvalidToken(err) {
		t.Errorf("the token of the crashed refresh still works: %v", err)
	}
	if got := e.s.Leftovers("crashy", e.live()); len(got) != 1 || got[0].ID != cfsurface.Decode(e.record(res3)).TokenID {
		t.Errorf("tokens named for the handoff: %v", got)
	}
}

// TestCompensate: a failed run that is not a crash undoes its mint in
// memory; a creation Cloudflare may have carried out before failing (a
// 5xx) is undone by name.
func TestCompensate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := parse(t, "undo", "1h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]")
	res, _ := e.mustCreate(e.request("undo", h, nil))
	if err := res.Compensate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.s.Leftovers("undo", e.live()); len(got) != 0 {
		t.Errorf("after Compensate: %v", got)
	}

	// Cloudflare made the token, then answered 500.
	groups, err := e.c.PermissionGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dns, _ := groups.ResolveInScope(cf.ScopeZone, "DNS Write")
	made, err := e.c.CreateToken(ctx, cf.TokenRequest{Name: "handoff-undo", ExpiresOn: testNow.Add(time.Hour),
		Policies: []cf.Policy{{PermissionGroups: dns, Resources: cf.ZoneResources(cloudflaresrv.DefaultZoneExampleID)}}})
	if err != nil {
		t.Fatal(err)
	}
	e.remember(made.Value.Reveal())
	e.kit.Faults.Add(devkit.Fault{Route: "POST " + cloudflaresrv.BasePath + "/user/tokens", Status: 500, Count: 1})
	res, err = e.s.Create(ctx, e.request("undo", h, nil))
	e.noValueErr(err)
	if err == nil || res.Compensate == nil || !strings.Contains(err.Error(), "mint the token of handoff undo") {
		t.Fatalf("Create on a 500: %v (compensate %v)", err, res.Compensate != nil)
	}
	if err := res.Compensate(ctx); err != nil {
		t.Errorf("Compensate after a 500: %v", err)
	}
	if _, ok := e.srv.Token(made.ID); ok {
		t.Error("the token Cloudflare made before its 500 is still there")
	}

	// A refusal (4xx) created nothing: nothing to undo.
	e.srv.SetTokenQuota(1)
	res, err = e.s.Create(ctx, e.request("undo", h, nil))
	e.noValueErr(err)
	if err == nil || res.Compensate != nil {
		t.Errorf("Create over the quota: %v (compensate %v)", err, res.Compensate != nil)
	}
}

// TestVerifyFindsScopeViolations: a token widened out of band (another
// zone, another group, no expiry), a token named for the handoff that no
// manifest records, and another token in the vault are scope violations;
// a disabled token and a missing secret are drift.
func TestVerifyFindsScopeViolations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := parse(t, "widened", "1h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]\n    request_ip = [\"127.0.0.0/8\"]")
	req := e.request("widened", h, nil)
	res, rec := e.mustCreate(req)
	e.write(req, res)
	r := cfsurface.Decode(rec)
	groups, err := e.c.PermissionGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := groups.ResolveInScope(cf.ScopeZone, "DNS Write", "Zone Read")
	if err != nil {
		t.Fatal(err)
	}
	widen := map[string]any{"name": "handoff-widened", "status": "active", "policies": []any{map[string]any{
		"effect":            "allow",
		"permission_groups": []any{map[string]any{"id": ids[0].ID}, map[string]any{"id": ids[1].ID}},
		"resources": map[string]any{
			cf.ScopeZone + "." + cloudflaresrv.DefaultZoneExampleID: "*",
			cf.ScopeZone + "." + cloudflaresrv.DefaultZoneRaxxDevID: "*",
		},
	}}}
	if status, code := e.call("PUT", "/user/tokens/"+r.TokenID, e.srv.ProvisionerToken(), widen); status != 200 {
		t.Fatalf("widen out of band: %d %d", status, code)
	}
	stray, _ := e.mustCreate(e.request("widened", h, nil))
	strayID := cfsurface.Decode(e.record(stray)).TokenID
	got := strings.Join(e.verify(e.request("widened", h, nil), rec), "\n")
	for _, want := range []string{
		"scope violation: API token handoff-widened (" + strayID + ") is named for the handoff but not recorded",
		`scope violation: API token handoff-widened (` + r.TokenID + `) is wider than the spec allows: it holds the permission group "Zone Read"`,
		"is wider than the spec allows: it reaches " + cf.ScopeZone + "." + cloudflaresrv.DefaultZoneRaxxDevID,
		"is wider than the spec allows: it never expires",
		"is wider than the spec allows: it is usable from any address, not only from 127.0.0.0/8",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Verify does not say %q:\n%s", want, got)
		}
	}

	// Without the live state, against the record.
	noLive := e.request("widened", h, nil)
	noLive.Live = nil
	if got := strings.Join(e.verify(noLive, rec), "\n"); !strings.Contains(got, "is wider than the manifest records: it reaches "+cf.ScopeZone+"."+cloudflaresrv.DefaultZoneRaxxDevID) {
		t.Errorf("without the live state:\n%s", got)
	}
	// A record changed by hand to vouch for the wider token: the spec,
	// resolved live, is the authority.
	forged := cfsurface.Decode(rec)
	forged.ZoneIDs = append(forged.ZoneIDs, cloudflaresrv.DefaultZoneRaxxDevID)
	forged.PermissionGroupIDs = append(forged.PermissionGroupIDs, ids[1].ID)
	forgedRec, _ := json.Marshal(forged)
	if got := strings.Join(e.verify(e.request("widened", h, nil), forgedRec), "\n"); !strings.Contains(got, "is wider than the spec allows: it reaches "+cf.ScopeZone+"."+cloudflaresrv.DefaultZoneRaxxDevID) ||
		!strings.Contains(got, `is wider than the spec allows: it holds the permission group "Zone Read"`) {
		t.Errorf("forged record:\n%s", got)
	}

	// The record against the spec: a zone and a group the spec dropped.
	h2 := parse(t, "widened", "1h", "    zones = [\"raxx.dev\"]\n    permission_groups = [\"DNS Read\"]")
	got = strings.Join(e.verify(e.request("widened", h2, nil), rec), "\n")
	for _, want := range []string{
		"scope violation: the token reaches zone example.com, which the spec does not list",
		`scope violation: the token holds the permission group "DNS Write", which the spec does not list`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Verify does not say %q:\n%s", want, got)
		}
	}

	// Another token in the vault; then a disabled one; then none.
	e.write(req, stray)
	got = strings.Join(e.verify(e.request("widened", h, nil), rec), "\n")
	if !strings.Contains(got, "drift: the token in the vault ("+stray.Fingerprint+") is not the one the manifest records") ||
		!strings.Contains(got, "scope violation: the token in the vault is Cloudflare token "+strayID) {
		t.Errorf("another token in the vault:\n%s", got)
	}
	e.write(req, res)
	if status, _ := e.call("PUT", "/user/tokens/"+r.TokenID, e.srv.ProvisionerToken(), map[string]any{
		"name": "handoff-widened", "status": "disabled", "policies": widen["policies"]}); status != 200 {
		t.Fatal("disable out of band")
	}
	got = strings.Join(e.verify(e.request("widened", h, nil), rec), "\n")
	if !strings.Contains(got, "drift: API token handoff-widened ("+r.TokenID+") was disabled in Cloudflare") ||
		!strings.Contains(got, "drift: the token in the vault is refused by Cloudflare") {
		t.Errorf("disabled:\n%s", got)
	}
	_ = e.vault.DeleteSecret(ctx, testEnv, req.Folder, cfsurface.SecretName)
	got = strings.Join(e.verify(e.request("widened", h, nil), rec), "\n")
	if !strings.Contains(got, "drift: CLOUDFLARE_API_TOKEN is missing from /MooseQuest/handoffs/widened") {
		t.Errorf("missing secret:\n%s", got)
	}
	if v := e.verify(e.request("widened", h, nil), nil); len(v) != 1 || !strings.Contains(v[0], "no token recorded") {
		t.Errorf("no record: %v", v)
	}
}

// TestWithoutLiveState: outside apply (no live state), a create resolves
// each distinct zone name once (GET /zones?name=) and the catalogue, takes
// zone ids as they are, and refuses what the account lacks before
// minting anything.
func TestWithoutLiveState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	t.Run("resolved", func(t *testing.T) {
		h := parse(t, "no-live", "1h", "    zones = [\"example.com\", \"raxx.dev\", \""+cloudflaresrv.DefaultZoneMooseQuestID+"\"]\n    permission_groups = [\"DNS Write\"]")
		req := e.request("no-live", h, nil)
		req.Live = nil
		before := e.kit.Stats.Count("GET /client/v4/zones")
		_, rec := e.mustCreate(req)
		if n := e.kit.Stats.Count("GET /client/v4/zones") - before; n != 2 {
			t.Errorf("%d zone look-ups for two zone names and an id, want 2", n)
		}
		want := []string{cloudflaresrv.DefaultZoneExampleID, cloudflaresrv.DefaultZoneRaxxDevID, cloudflaresrv.DefaultZoneMooseQuestID}
		if got := cfsurface.Decode(rec).ZoneIDs; !slices.Equal(got, want) {
			t.Errorf("zone ids %v, want %v", got, want)
		}
	})
	for _, tt := range []struct{ name, body, want string }{
		{"zone not seen", "    zones = [\"other-team.io\"]\n    permission_groups = [\"DNS Write\"]", `zone "other-team.io" does not exist or the token cannot see it`},
		{"account group", "    zones = [\"example.com\"]\n    permission_groups = [\"Workers Scripts Write\"]", "applies to whole accounts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := e.request("no-live", parse(t, "no-live", "1h", tt.body), nil)
			for _, live := range []bool{false, true} {
				if !live {
					req.Live = nil
				} else {
					req.Live = e.live()
				}
				before := len(e.srv.Tokens())
				_, err := e.s.Create(ctx, req)
				e.noValueErr(err)
				if err == nil || !strings.Contains(err.Error(), tt.want) && !strings.Contains(err.Error(), "cannot see it") {
					t.Errorf("live %v: %v, want %q", live, err, tt.want)
				}
				if len(e.srv.Tokens()) != before {
					t.Errorf("live %v: a token was minted", live)
				}
			}
		})
	}
}

// TestExpired: nothing is minted for a handoff past its expiry; the token
// never outlives the handoff nor 24 hours.
func TestExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := parse(t, "late", "24h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]")
	req := e.request("late", h, nil)
	req.ExpiresAt = req.Now
	if _, err := e.s.Create(ctx, req); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("Create past the expiry: %v", err)
	}
	req.ExpiresAt = req.Now.Add(48 * time.Hour)
	_, rec := e.mustCreate(req)
	if got := cfsurface.Decode(rec).TokenExpiresAt; !got.Equal(req.Now.Add(24 * time.Hour)) {
		t.Errorf("token expires at %s, want 24h on", got)
	}
}

// TestContractCoverage: every Cloudflare route the surface uses was
// exercised through the contract validator by a full life, and answered
// as Cloudflare's description says.
func TestContractCoverage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := parse(t, "covered", "1h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]")
	req := e.request("covered", h, nil)
	res, rec := e.mustCreate(req)
	e.write(req, res)
	_ = e.verify(e.request("covered", h, nil), rec)
	noLive := e.request("covered", h, nil)
	noLive.Live = nil
	_, rec2 := e.mustCreate(noLive)
	if err := e.s.Revoke(ctx, e.request("covered", h, nil), rec); err != nil {
		t.Fatal(err)
	}
	_ = rec2
	for _, op := range []string{
		"GET /user/tokens", "POST /user/tokens", "GET /user/tokens/verify", "GET /user/tokens/permission_groups",
		"GET /user/tokens/{token_id}", "DELETE /user/tokens/{token_id}", "GET /zones",
	} {
		if len(e.v.Statuses(op)) == 0 {
			t.Errorf("%s was not exercised through the contract", op)
		}
	}
}

// TestNoValueInRenderings: a Result renders without its secret with every
// verb; errors of every failing call name no value.
func TestNoValueInRenderings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := parse(t, "rendered", "1h", "    zones = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]")
	res, _ := e.mustCreate(e.request("rendered", h, nil))
	value := res.Secrets[cfsurface.SecretName]
	for _, s := range []string{fmt.Sprint(res), fmt.Sprintf("%#v", res), fmt.Sprintf("%+v", &res), res.String()} {
		if strings.Contains(s, value) {
			t.Errorf("rendering holds the value: %s", s)
		}
	}
	// A surface without a client, and failing calls, say so without values.
	bare := cfsurface.New(nil)
	_, err := bare.Create(ctx, e.request("rendered", h, nil))
	e.noValueErr(err)
	if err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_API_TOKEN") {
		t.Errorf("no client: %v", err)
	}
	_, rec := e.mustCreate(e.request("rendered", h, nil))
	e.kit.Faults.Add(devkit.Fault{Route: "DELETE " + cloudflaresrv.BasePath + "/user/tokens/{token_id}", Status: 503})
	err = e.s.Revoke(ctx, e.request("rendered", h, nil), rec)
	e.noValueErr(err)
	if err == nil || !strings.Contains(err.Error(), "delete API token handoff-rendered") {
		t.Errorf("Revoke on a 503: %v", err)
	}
}
