package heroku_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	"github.com/raxx-app/handoff/internal/plan"
	hk "github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces"
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
)

const allowBoth = `  heroku_apps = ["moosequest-staging", "trademaster-api"]`

func specFile(app string) string {
	return fmt.Sprintf(`handoff %q {
  card        = 7
  ttl         = "8h"
  approved_by = "ops"

  heroku {
    app   = %q
    scope = ["read-protected"]
  }
}
`, slug, app)
}

// planWith plans repo against what w's account reaches, as `handoff plan`
// does after reading the live state.
func (w *world) planWith(t *testing.T, repo *spec.Repo, live *state.Live) (*plan.Plan, hcl.Diagnostics) {
	t.Helper()
	reg := surfaces.New(surfaces.Clients{Heroku: func() (*hk.Client, error) { return w.c, nil }})
	p, diags := reconcile.Plan(context.Background(), repo, live, reconcile.Options{Now: testNow, Registry: reg})
	if p == nil {
		t.Fatal(diags)
	}
	return p, diags
}

// TestPlanRefusesWideReach: the handoff account is a member of its team,
// so it (and every token it mints) reaches moosequest-production, which
// neither the spec nor heroku_apps names: the plan errors, listing it, and
// nothing is minted.
func TestPlanRefusesWideReach(t *testing.T) {
	w := newWorld(t, herokusrv.WideReachFixture())
	repo := writeRepo(t, map[string]string{"handoff.hcl": configSrc(allowBoth), "specs/" + slug + ".hcl": specFile(herokusrv.DefaultAllowedApp)})
	w.kit.Stats.Reset()
	p, diags := w.planWith(t, repo, w.live())
	if !diags.HasErrors() || p.Policy.Passed {
		t.Fatalf("the plan passed: %v", diags)
	}
	var reach *hcl.Diagnostic
	for _, d := range diags {
		if strings.HasPrefix(d.Summary, "Heroku token of "+slug) {
			reach = d
		}
	}
	if reach == nil || reach.Severity != hcl.DiagError || reach.Summary != "Heroku token of "+slug+" would reach apps beyond the policy: "+herokusrv.DefaultProductionApp {
		t.Fatalf("diagnostics: %v", diags)
	}
	if reach.Subject == nil || reach.Subject.Start.Line != 7 || reach.Subject.Start.Column != 13 ||
		!strings.Contains(reach.Detail, "reaches moosequest-production, moosequest-staging, trademaster-api") ||
		!strings.Contains(reach.Detail, "Nothing is minted") || !strings.Contains(reach.Detail, "collaborator") {
		t.Errorf("reach diagnostic at %v: %s", reach.Subject, reach.Detail)
	}
	if n := w.srv.RequestCount("POST /oauth/authorizations"); n != 0 || len(w.srv.Authorizations("")) != 0 {
		t.Errorf("%d mints", n)
	}
	if n := w.srv.RequestCount("GET /apps"); n != 1 {
		t.Errorf("reach read with %d listings, want 1", n)
	}

	// Allowing the extra app through the policy lets the plan pass.
	repo = writeRepo(t, map[string]string{"handoff.hcl": configSrc(`  heroku_apps = ["moosequest-staging", "trademaster-api", "moosequest-production"]`),
		"specs/" + slug + ".hcl": specFile(herokusrv.DefaultAllowedApp)})
	if _, diags := w.planWith(t, repo, w.live()); diags.HasErrors() {
		t.Errorf("with the app allowed: %v", diags)
	}
}

// TestPlanShowsAppScopeReach: the plan shows the app, the scope and the
// reach; an app beyond the reach, or an unread reach, is refused.
func TestPlanShowsAppScopeReach(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	repo := writeRepo(t, map[string]string{"handoff.hcl": configSrc(allowBoth), "specs/" + slug + ".hcl": specFile(herokusrv.DefaultAllowedApp)})
	p, diags := w.planWith(t, repo, w.live())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c := p.Handoffs[0].Changes[0]
	if c.Surface != heroku.Name || c.Action != plan.Create || c.Resource != "OAuth authorization on moosequest-staging" ||
		c.After.Attributes["reach"] != "moosequest-staging, trademaster-api" || c.After.Attributes["scope"] != "read-protected" {
		t.Fatalf("change %+v %+v", c, c.After)
	}
	var out bytes.Buffer
	if err := plan.RenderText(&out, p, plan.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out.String())
	for _, want := range []string{"app", "moosequest-staging", "scope", "read-protected", "reach", "trademaster-api"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the plan does not show %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(strings.Join(p.Policy.Checks, "\n"), "reach") {
		t.Errorf("checks %v", p.Policy.Checks)
	}

	// The view-only app is in the policy and the reach: allowed.
	repo = writeRepo(t, map[string]string{"handoff.hcl": configSrc(allowBoth), "specs/" + slug + ".hcl": specFile(herokusrv.DefaultViewOnlyApp)})
	if _, diags := w.planWith(t, repo, w.live()); diags.HasErrors() {
		t.Errorf("view-only app: %v", diags)
	}
	// An allowed app the account cannot reach.
	repo = writeRepo(t, map[string]string{"handoff.hcl": configSrc(`  heroku_apps = ["moosequest-staging", "trademaster-api", "moosequest-production"]`),
		"specs/" + slug + ".hcl": specFile(herokusrv.DefaultProductionApp)})
	_, diags = w.planWith(t, repo, w.live())
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Heroku app moosequest-production is beyond the handoff account's reach") {
		t.Errorf("app beyond reach: %v", diags)
	}
	// No reach read: nothing is minted unchecked.
	repo = writeRepo(t, map[string]string{"handoff.hcl": configSrc(allowBoth), "specs/" + slug + ".hcl": specFile(herokusrv.DefaultAllowedApp)})
	empty := &state.Live{Environment: env, Root: "/MooseQuest/handoffs", Handoffs: map[string]*state.Handoff{}, Surfaces: map[string]state.SurfaceLive{}}
	_, diags = w.planWith(t, repo, empty)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Heroku reach not read") {
		t.Errorf("unread reach: %v", diags)
	}
	// A surface built without a client reads nothing, and says so.
	sl, err := heroku.New(nil).ReadLive(context.Background())
	if err != nil || len(sl.FingerprintLines()) != 0 {
		t.Errorf("ReadLive without client: %v %v", sl, err)
	}
	if heroku.LiveOf(&state.Live{Surfaces: map[string]state.SurfaceLive{heroku.Name: sl}}) != nil {
		t.Error("an unread state is read")
	}
}

// TestKeptTokenWideReachWarns: a live token kept as is (no change) whose
// account now reaches more is a warning, not a refusal of the whole apply.
func TestKeptTokenWideReachWarns(t *testing.T) {
	w := newWorld(t, herokusrv.WideReachFixture())
	repo := writeRepo(t, map[string]string{"handoff.hcl": configSrc(allowBoth), "specs/" + slug + ".hcl": specFile(herokusrv.DefaultAllowedApp)})
	diags := w.s.CheckPlan(surface.PlanInput{Specs: repo.Handoffs, Config: repo.Config, Live: w.live(), Uses: []surface.Use{
		{Spec: repo.Handoffs[0], Change: plan.Change{Surface: heroku.Name, Action: plan.NoOp}, Active: true},
	}})
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Summary, "reaches apps beyond the policy: moosequest-production") ||
		!strings.Contains(diags[0].Detail, "handoff revoke "+slug) {
		t.Errorf("diagnostics %v", diags)
	}
}
