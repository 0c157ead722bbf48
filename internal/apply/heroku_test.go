package apply_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	"github.com/raxx-app/handoff/internal/manifest"
	herokusurface "github.com/raxx-app/handoff/internal/surfaces/heroku"
)

// herokuSlug is the fixture handoff of the Heroku surface: an
// authorization with read-protected on moosequest-staging whose 1-hour ttl
// is refreshed ahead of expiry.
const herokuSlug = "moosequest-deploy-20260621"

func init() {
	registerProbe(vendorProbe{
		surface: herokusurface.Name, errPrefix: "heroku:",
		secrets:      []string{herokusurface.SecretName},
		orphans:      herokuOrphans,
		snapshot:     herokuSnapshot,
		dispatchable: herokuDispatchable,
		safeToRetry:  herokuSafeToRetry,
	})
	registerCrashCase(crashCase{slug: herokuSlug, scenarios: lifecycleScenarios(herokuSlug, herokusurface.Name, 55*time.Minute)})
}

// herokuRecord is the Heroku record of m, nil when it has none.
func herokuRecord(m *manifest.Manifest) *herokusurface.Record {
	if m == nil {
		return nil
	}
	return herokusurface.Decode(m.Surfaces[herokusurface.Name])
}

// herokuOrphans are the authorizations of the handoff account, expired or
// not, that no active manifest names for an unkilled Heroku surface.
func herokuOrphans(w *world, ms map[string]*manifest.Manifest) []string {
	named := map[string]bool{}
	for _, m := range ms {
		if r := herokuRecord(m); r != nil && m.Status == manifest.Active && !slices.Contains(m.KilledSurfaces(), herokusurface.Name) {
			named[r.AuthorizationID] = true
		}
	}
	var out []string
	for _, a := range w.srv.Heroku.Authorizations(herokusrv.DefaultProvisionerEmail) {
		if !named[a.ID] {
			out = append(out, fmt.Sprintf("OAuth authorization %s (%q, scope %s, expired %t)", a.ID, a.Description, strings.Join(a.Scope, ","), a.Expired))
		}
	}
	return out
}

// herokuSnapshot is what Heroku holds for slug, free of ids and times.
func herokuSnapshot(w *world, slug string, _ *manifest.Manifest) any {
	var out []string
	for _, a := range w.srv.Heroku.Authorizations(herokusrv.DefaultProvisionerEmail) {
		if a.Description == herokusurface.Description(slug) {
			out = append(out, fmt.Sprintf("%s expired=%t", strings.Join(a.Scope, ","), a.Expired))
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	return out
}

// herokuDispatchable: the token in the folder is the one the manifest
// records, of a live authorization that reaches the app.
func herokuDispatchable(w *world, slug string, m *manifest.Manifest) []string {
	r := herokuRecord(m)
	if r == nil {
		return nil
	}
	sec, ok := w.srv.Infisical.Secret(env, root+"/"+slug, r.Secret)
	if !ok {
		return []string{r.Secret + " is missing"}
	}
	fp := herokusrv.TokenFingerprint(sec.Value)
	for _, a := range w.srv.Heroku.Authorizations(herokusrv.DefaultProvisionerEmail) {
		if a.TokenFingerprint != fp {
			continue
		}
		if a.Expired || a.ID != r.AuthorizationID {
			return []string{fmt.Sprintf("the token in %s is of authorization %s (expired %t), the manifest records %s", r.Secret, a.ID, a.Expired, r.AuthorizationID)}
		}
		return nil
	}
	return []string{"the token in " + r.Secret + " is of no live authorization"}
}

// herokuSafeToRetry: the heroku client repeats reads and deletes, never a
// create (Heroku would mint a second authorization).
func herokuSafeToRetry(route, _ string) (safe, known bool) {
	switch route {
	case "POST /oauth/authorizations":
		return false, true
	case "DELETE /oauth/authorizations/{id}", "GET /oauth/authorizations", "GET /oauth/authorizations/{id}", "GET /apps":
		return true, true
	}
	return false, false
}
