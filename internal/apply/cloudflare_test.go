package apply_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/manifest"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
)

// cfSlug is the handoff of testdata/repo that holds a Cloudflare token
// (DNS Write on example.com, one hour at a time).
const cfSlug = "dns-rotate-20260621"

func init() {
	registerProbe(vendorProbe{
		surface: cfsurface.Name, errPrefix: "cloudflare:",
		secrets:      []string{cfsurface.SecretName},
		orphans:      cfOrphans,
		snapshot:     cfSnapshot,
		dispatchable: cfDispatchable,
		safeToRetry:  cfSafeToRetry,
	})
	registerCrashCase(crashCase{slug: cfSlug, scenarios: lifecycleScenarios(cfSlug, cfsurface.Name, 55*time.Minute)})
}

func cfRec(m *manifest.Manifest) *cfsurface.Record {
	return cfsurface.Decode(m.Surfaces[cfsurface.Name])
}

// cfOrphans are the active tokens of the Cloudflare user, the
// provisioner's aside, that no active manifest records, unkilled.
func cfOrphans(w *world, ms map[string]*manifest.Manifest) []string {
	recorded := map[string]bool{}
	for _, m := range ms {
		if r := cfRec(m); r != nil && m.Status == manifest.Active && !slices.Contains(m.KilledSurfaces(), cfsurface.Name) {
			recorded[r.TokenID] = true
		}
	}
	var out []string
	for _, t := range w.srv.Cloudflare.Tokens() {
		if t.ID == w.srv.Cloudflare.ProvisionerTokenID() || t.Status != "active" || recorded[t.ID] {
			continue
		}
		out = append(out, fmt.Sprintf("API token %s (%s) is live and no active manifest records it", t.Name, t.ID))
	}
	return out
}

// cfSnapshot is what the handoff holds at Cloudflare: its active tokens,
// each as its name and its permission groups by zone name.
func cfSnapshot(w *world, slug string, _ *manifest.Manifest) any {
	zoneName := map[string]string{}
	for _, z := range w.srv.Cloudflare.Zones() {
		zoneName[z.ID] = z.Name
	}
	var out []string
	for _, t := range w.srv.Cloudflare.Tokens() {
		if t.Name != cfsurface.TokenName(slug) || t.Status != "active" {
			continue
		}
		var grants []string
		for id, name := range zoneName {
			if g := w.srv.Cloudflare.ZonePermissions(t.ID, id); len(g) > 0 {
				grants = append(grants, name+": "+strings.Join(g, ", "))
			}
		}
		sort.Strings(grants)
		out = append(out, t.Name+" {"+strings.Join(grants, "; ")+"}")
	}
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	return out
}

// cfDispatchable: the token in the folder is the recorded one, and works.
func cfDispatchable(w *world, slug string, m *manifest.Manifest) []string {
	r := cfRec(m)
	if r == nil {
		return nil
	}
	sec, ok := w.srv.Infisical.Secret(env, root+"/"+slug, r.Secret)
	if !ok {
		return nil // the generic check reports a missing secret
	}
	t, ok := w.srv.Cloudflare.TokenByValue(sec.Value)
	switch {
	case !ok:
		return []string{"the token in " + r.Secret + " does not exist at Cloudflare"}
	case t.ID != r.TokenID:
		return []string{fmt.Sprintf("the token in %s is %s, the manifest records %s", r.Secret, t.ID, r.TokenID)}
	case t.Status != "active":
		return []string{"the token in " + r.Secret + " is " + t.Status}
	}
	return nil
}

// cfSafeToRetry: the Cloudflare client repeats reads and deletes, never a
// token's creation (whether it was made is then unknown: the next run finds
// it by name).
func cfSafeToRetry(route, _ string) (safe, known bool) {
	method, path, _ := strings.Cut(route, " ")
	if !strings.HasPrefix(path, cloudflaresrv.BasePath+"/") {
		return false, false
	}
	return method == "GET" || method == "DELETE", true
}
