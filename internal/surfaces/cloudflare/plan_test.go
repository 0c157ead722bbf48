package cloudflare_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
)

const dnsWrite = "    zones             = [\"example.com\", \"raxx.dev\"]\n    permission_groups = [\"DNS Write\", \"Zone Read\"]"

// TestDesiredRecordedRoundTrip: the grant a spec asks for is the grant the
// record of the token minted for it gives back, attribute for attribute
// and to the second, with and without a ttl and an IP allowlist.
func TestDesiredRecordedRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ttl, body string
		attrs           map[string]string
		life            time.Duration
	}{
		{"ttl of the handoff", "8h", dnsWrite, map[string]string{
			"zones": "example.com, raxx.dev", "permission_groups": "DNS Write, Zone Read", "ttl": "8h", "request_ip": "any"}, 8 * time.Hour},
		{"shorter ttl and an allowlist", "8h", dnsWrite + "\n    ttl = \"90m\"\n    request_ip = [\"127.0.0.0/8\", \"::1/128\"]", map[string]string{
			"zones": "example.com, raxx.dev", "permission_groups": "DNS Write, Zone Read", "ttl": "1h30m", "request_ip": "127.0.0.0/8, ::1/128"}, 90 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			h := parse(t, "round-trip", tt.ttl, tt.body)
			req := e.request("round-trip", h, nil)
			req.Now = req.Now.Add(400 * time.Millisecond) // Cloudflare keeps whole seconds
			want := e.s.Desired(surface.Target{Slug: "round-trip", Spec: h, Now: req.Now, ExpiresAt: req.ExpiresAt})
			if !reflect.DeepEqual(want.Attributes, tt.attrs) || !want.ExpiresAt.Equal(testNow.Add(tt.life)) {
				t.Errorf("Desired = %+v %s, want %v %s", want.Attributes, want.ExpiresAt, tt.attrs, testNow.Add(tt.life))
			}
			res, err := e.s.Create(context.Background(), req)
			e.noValueErr(err)
			if err != nil {
				t.Fatal(err)
			}
			rec := e.record(res)
			got := e.s.Recorded(rec, &manifest.Manifest{ExpiresAt: req.ExpiresAt})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Recorded = %+v, Desired = %+v", got, want)
			}
			r := cfsurface.Decode(rec)
			if got := e.s.Resource("round-trip", got); got != "API token handoff-round-trip for example.com, raxx.dev" {
				t.Errorf("Resource = %q", got)
			}
			at, noun, early := e.s.Expiry(rec)
			if !at.Equal(r.TokenExpiresAt) || noun != "token" || early != (tt.life < 8*time.Hour) {
				t.Errorf("Expiry = %s %s %v", at, noun, early)
			}
		})
	}
}

// TestAttrs: a new zone or group is an escalation, a longer ttl too, and
// any change of the IP allowlist, which is written out ("any") so that
// dropping it shows.
func TestAttrs(t *testing.T) {
	t.Parallel()
	var s cfsurface.Surface
	want := map[string]surface.AttrKind{
		"zones":             {List: true, Noun: "zone"},
		"permission_groups": {List: true, Noun: "permission group"},
		"ttl":               {Duration: true},
		"request_ip":        {Opaque: true},
	}
	if got := s.Attrs(); !reflect.DeepEqual(got, want) {
		t.Errorf("Attrs = %v", got)
	}
	if got := s.Secrets(nil); len(got) != 1 || got[0] != "CLOUDFLARE_API_TOKEN" {
		t.Errorf("Secrets = %v", got)
	}
	sess := s.Session(nil, "/x")
	if len(sess.Env) != 1 || sess.Env[0] != (surface.EnvVar{Name: "CLOUDFLARE_API_TOKEN", Secret: "CLOUDFLARE_API_TOKEN"}) {
		t.Errorf("Session = %+v", sess)
	}
}

// TestCheckPlan: at plan time, against one read of the live account, a
// zone the provisioner does not see, a group Cloudflare does not have or
// that is not a zone group, and a plan past the user's token quota are
// refused (errors when minting, warnings for a kept token); one read of
// the zones serves every handoff, and the checks make no request.
func TestCheckPlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	typo := func(t *testing.T, groups string) *spec.Handoff {
		r, diags := repo(t, allowAll[:strings.Index(allowAll, "\n")]+"\n  cloudflare_permission_groups = ["+groups+"]",
			map[string]string{"typo": handoff("typo", "1h", "    zones = [\"example.com\"]\n    permission_groups = ["+groups+"]")})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return r.Handoff("typo")
	}
	tests := []struct {
		name   string
		h      *spec.Handoff
		action plan.Action
		active bool
		want   []string // "severity file:line:col: summary | detail fragment"
	}{
		{"zones and groups exist", parse(t, "good", "1h", dnsWrite), plan.Create, false, nil},
		{"zone by id", parse(t, "by-id", "1h", "    zones = [\""+cloudflaresrv.DefaultZoneExampleID+"\"]\n    permission_groups = [\"Page Rules Read\"]"), plan.Refresh, false, nil},
		{"zone the provisioner does not see", parse(t, "other", "1h", "    zones = [\"example.com\", \"other-team.io\"]\n    permission_groups = [\"DNS Write\"]"), plan.Create, false, []string{
			`error specs/other.hcl:7:29: Cloudflare zone other-team.io not found | sees example.com, moosequest.app, raxx.dev, not "other-team.io"`}},
		{"kept token whose zone went away", parse(t, "kept", "1h", "    zones = [\"other-team.io\"]\n    permission_groups = [\"DNS Write\"]"), plan.NoOp, true, []string{
			`warning specs/kept.hcl:7:14: Cloudflare zone other-team.io not found | Zone Read on other-team.io`}},
		{"revoked: nothing checked", parse(t, "gone", "1h", "    zones = [\"other-team.io\"]\n    permission_groups = [\"DNS Write\"]"), plan.Revoke, false, nil},
		{"account group", parse(t, "workers", "1h", "    zones = [\"example.com\"]\n    permission_groups = [\"Workers Scripts Write\"]"), plan.Create, false, []string{
			`error specs/workers.hcl:8:26: Cloudflare permission group "Workers Scripts Write" cannot be granted | applies to whole accounts, and a handoff's token reaches only its zones`}},
		{"unknown group", typo(t, `"DNS Writ"`), plan.Create, false, []string{
			`error specs/typo.hcl:8:26: Cloudflare permission group "DNS Writ" cannot be granted | no zone permission group named "DNS Writ". Did you mean "DNS Write"?`}},
		{"case differs", typo(t, `"Dns Write"`), plan.Replace, false, []string{
			`error specs/typo.hcl:8:26: Cloudflare permission group "Dns Write" cannot be granted | Did you mean "DNS Write"? Names are matched exactly`}},
	}
	live := e.live()
	before := e.kit.Stats.Snapshot()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := e.s.CheckPlan(surface.PlanInput{Specs: []*spec.Handoff{tt.h}, Live: live,
				Uses: []surface.Use{{Spec: tt.h, Change: plan.Change{Surface: "cloudflare", Action: tt.action}, Active: tt.active}}})
			checkDiags(t, diags, tt.want)
		})
	}
	if after := e.kit.Stats.Snapshot(); !reflect.DeepEqual(before, after) {
		t.Errorf("CheckPlan made requests: %v → %v", before, after)
	}
	for route, want := range map[string]int64{"GET /client/v4/zones": 1, "GET /client/v4/user/tokens": 1,
		"GET /client/v4/user/tokens/permission_groups": 1, "GET /client/v4/user/tokens/verify": 1} {
		if got := before[route]; got != want {
			t.Errorf("one read of the live state made %d requests %s, want %d", got, route, want)
		}
	}

	t.Run("live state not read", func(t *testing.T) {
		h := parse(t, "good", "1h", dnsWrite)
		diags := e.s.CheckPlan(surface.PlanInput{Uses: []surface.Use{{Spec: h, Change: plan.Change{Action: plan.Create}}, {Spec: h, Change: plan.Change{Action: plan.Create}}}})
		checkDiags(t, diags, []string{`warning specs/good.hcl:6:3: Cloudflare not read | Set CLOUDFLARE_API_TOKEN`})
	})
	t.Run("token quota", func(t *testing.T) {
		h := parse(t, "many", "1h", dnsWrite)
		var uses []surface.Use
		for range cfsurface.TokenQuota - 1 {
			uses = append(uses, surface.Use{Spec: h, Change: plan.Change{Action: plan.Create}})
		}
		// The provisioner's token and 49 new ones: the quota.
		checkDiags(t, e.s.CheckPlan(surface.PlanInput{Uses: uses, Live: live}), nil)
		uses = append(uses, uses[0])
		checkDiags(t, e.s.CheckPlan(surface.PlanInput{Uses: uses, Live: live}), []string{
			`error specs/many.hcl:6:3: Cloudflare's quota of API tokens would be exceeded | holds 1, and this plan creates 50 more`})
	})
}

func checkDiags(t *testing.T, diags hcl.Diagnostics, want []string) {
	t.Helper()
	if len(diags) != len(want) {
		var got []string
		for _, d := range diags {
			got = append(got, diagLine(d)+" | "+d.Detail)
		}
		t.Fatalf("got %d diagnostics, want %d:\n%s", len(diags), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		head, frag, _ := strings.Cut(w, " | ")
		sev := "error"
		if diags[i].Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if got := sev + " " + diagLine(diags[i]); got != head {
			t.Errorf("diagnostic %d: %s, want %s", i, got, head)
		}
		if !strings.Contains(diags[i].Detail, frag) {
			t.Errorf("diagnostic %d detail %q does not contain %q", i, diags[i].Detail, frag)
		}
	}
}

// TestSteps: what each operation announces, with and without a request;
// nothing is Untraceable (a token is found by its name).
func TestSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	names := func(steps []surface.Step) string {
		var out []string
		for _, s := range steps {
			if s.Untraceable {
				t.Errorf("step %q is Untraceable", s.Name)
			}
			out = append(out, s.Name)
		}
		return strings.Join(out, ", ")
	}
	if got := names(e.s.Steps(surface.OpCreate, nil, nil)); got != "create API token" {
		t.Errorf("create: %s", got)
	}
	if got := names(e.s.Steps(surface.OpRefresh, nil, nil)); got != "delete API token, delete leftover API token, create API token" {
		t.Errorf("refresh, every step: %s", got)
	}
	if got := names(e.s.Steps(surface.OpRevoke, nil, nil)); got != "delete API token, delete leftover API token" {
		t.Errorf("revoke, every step: %s", got)
	}
	h := parse(t, "steps", "1h", dnsWrite)
	req := e.request("steps", h, nil)
	if got := names(e.s.Steps(surface.OpRevoke, req, nil)); got != "" {
		t.Errorf("revoke of nothing: %q", got)
	}
	if got := names(e.s.Steps(surface.OpRefresh, req, nil)); got != "create API token" {
		t.Errorf("refresh of nothing: %q", got)
	}
	res, err := e.s.Create(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	rec := e.record(res)
	e.remember(res.Secrets["CLOUDFLARE_API_TOKEN"])
	if _, err := e.s.Create(context.Background(), e.request("steps", h, nil)); err != nil { // a second one, as a crashed run leaves
		t.Fatal(err)
	}
	req = e.request("steps", h, nil)
	if got := names(e.s.Steps(surface.OpRefresh, req, rec)); got != "delete API token, delete leftover API token, create API token" {
		t.Errorf("refresh with a leftover: %s", got)
	}
	if got := names(e.s.Steps(surface.OpRevoke, req, nil)); got != "delete leftover API token, delete leftover API token" {
		t.Errorf("revoke of what the names find: %s", got)
	}
	if got := names(e.s.Steps(surface.OpRevoke, req, rec)); got != "delete API token, delete leftover API token" {
		t.Errorf("revoke: %s", got)
	}
}

// TestLiveState: the read keeps the provisioner's own token out, whatever
// its name (here "handoff-provisioner", the name of a token of a handoff
// "provisioner"); Leftovers and Vanished read it.
func TestLiveState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	live := e.live()
	l := cfsurface.LiveOf(live)
	if l.SelfID != cloudflaresrv.DefaultProvisionerTokenID || l.Total != 1 || len(l.Tokens) != 0 || len(l.Zones) != 3 || len(l.Groups) == 0 {
		t.Fatalf("live = %+v", l)
	}
	if got := e.s.Leftovers("provisioner", live); len(got) != 0 {
		t.Errorf("the provisioner's own token is a leftover: %v", got)
	}
	if err := e.s.Revoke(context.Background(), e.request("provisioner", nil, nil), nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.Token(cloudflaresrv.DefaultProvisionerTokenID); !ok {
		t.Fatal("Revoke deleted the provisioner's token")
	}
	forged := []byte(`{"token_id":"` + cloudflaresrv.DefaultProvisionerTokenID + `","token_name":"handoff-provisioner"}`)
	if err := e.s.Revoke(context.Background(), e.request("provisioner", nil, nil), forged); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("Revoke of a record naming the provisioner's token: %v", err)
	}
	if _, ok := e.srv.Token(cloudflaresrv.DefaultProvisionerTokenID); !ok {
		t.Fatal("Revoke deleted the provisioner's token")
	}

	h := parse(t, "vanish", "1h", dnsWrite)
	res, err := e.s.Create(context.Background(), e.request("vanish", h, nil))
	if err != nil {
		t.Fatal(err)
	}
	e.remember(res.Secrets["CLOUDFLARE_API_TOKEN"])
	rec := e.record(res)
	live = e.live()
	if why, gone := e.s.Vanished(rec, live); gone {
		t.Errorf("a live token vanished: %s", why)
	}
	if _, gone := e.s.Vanished(rec, &state.Live{}); gone {
		t.Error("a token vanished from a state that did not read Cloudflare")
	}
	if got := e.s.Leftovers("vanish", live); len(got) != 1 || got[0].Name != "handoff-vanish" || got[0].Kind != "API token" {
		t.Errorf("Leftovers = %v", got)
	}
	if got := e.s.Leftovers("vanis", live); len(got) != 0 {
		t.Errorf("a slug's prefix finds %v", got)
	}
	if code, _ := e.call("DELETE", "/user/tokens/"+cfsurface.Decode(rec).TokenID, e.srv.ProvisionerToken(), map[string]any{}); code != 200 {
		t.Fatalf("delete out of band: %d", code)
	}
	if why, gone := e.s.Vanished(rec, e.live()); !gone || !strings.Contains(why, "handoff-vanish") || !strings.Contains(why, "deleted out of band") {
		t.Errorf("Vanished = %q %v", why, gone)
	}
}
