package heroku_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
)

// TestRoutesAgainstHerokusContract: every exchange of the surface's
// operations and of its least-privilege probes goes through a transport that
// validates it against Heroku's hyper-schema (shared/contracts/
// heroku.schema.json: paths, request bodies, answers, error bodies, strict
// properties). Each route the surface uses is seen with the statuses it
// relies on.
func TestRoutesAgainstHerokusContract(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	h := specOf(t, herokusrv.DefaultAllowedApp, "read-protected")
	res, err := w.s.Create(ctx, w.request(h, w.live()))
	if err != nil {
		t.Fatal(err)
	}
	w.write(res)
	rec := recordOf(t, res)
	tc := w.tokenClient(res.Secrets[heroku.SecretName])
	val := "v"
	_, _ = tc.App(ctx, herokusrv.DefaultAllowedApp)
	_, _ = tc.App(ctx, herokusrv.DefaultProductionApp)
	_, _ = tc.ConfigVars(ctx, herokusrv.DefaultAllowedApp)
	_, _ = tc.ConfigVars(ctx, herokusrv.DefaultViewOnlyApp)
	_ = tc.SetConfigVars(ctx, herokusrv.DefaultAllowedApp, map[string]*string{"X": &val})
	_ = w.c.SetConfigVars(ctx, herokusrv.DefaultAllowedApp, map[string]*string{"X": &val})
	if v := w.s.Verify(ctx, w.request(h, nil), rec); len(v) != 0 {
		t.Errorf("verify: %v", v)
	}
	if err := w.s.Revoke(ctx, w.request(nil, w.live()), rec); err != nil {
		t.Fatal(err)
	}
	if err := w.s.Revoke(ctx, w.request(nil, nil), rec); err != nil {
		t.Fatal(err)
	}
	_ = w.s.Verify(ctx, w.request(h, nil), rec)
	_, _ = tc.Apps(ctx)

	want := map[string][]int{
		"POST /oauth/authorizations":                                  {201},
		"GET /oauth/authorizations":                                   {200},
		"GET /oauth/authorizations/{oauth-authorization_identity}":    {200, 404},
		"DELETE /oauth/authorizations/{oauth-authorization_identity}": {200, 404},
		"GET /apps":                              {200, 401},
		"GET /apps/{app_identity}":               {200, 403},
		"GET /apps/{app_identity}/config-vars":   {200, 403},
		"PATCH /apps/{app_identity}/config-vars": {200, 403},
	}
	for link, statuses := range want {
		got := w.check.Statuses(link)
		for _, s := range statuses {
			if !slices.Contains(got, s) {
				t.Errorf("%s: statuses %v, want %d among them", link, got, s)
			}
		}
	}
}

// TestReachReadAcrossPages: an account reaching more apps than one page
// holds is read with Heroku's Range headers (206 and Next-Range, then 200),
// in one listing per plan.
func TestReachReadAcrossPages(t *testing.T) {
	fx := herokusrv.DefaultFixture()
	for i := range 1100 {
		fx.Apps = append(fx.Apps, herokusrv.FixtureApp{Name: fmt.Sprintf("bulk-%04d", i), Owner: herokusrv.DefaultProvisionerEmail})
	}
	w := newWorld(t, fx)
	l := heroku.LiveOf(w.live())
	if len(l.Reach) != 1102 || !l.Reaches(herokusrv.DefaultAllowedApp) || !l.Reaches("bulk-1099") {
		t.Fatalf("reach of %d apps", len(l.Reach))
	}
	if n := w.srv.RequestCount("GET /apps"); n != 2 {
		t.Errorf("%d pages, want 2", n)
	}
	if got := w.check.Statuses("GET /apps"); !slices.Equal(got, []int{200, 206}) {
		t.Errorf("statuses %v", got)
	}
}
