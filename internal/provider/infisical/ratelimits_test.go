package infisical

import (
	"fmt"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// TestRouteTableMatchesTheContract fails when routes_gen.go and the
// contract's x-rate-limit-class disagree: run go generate
// ./internal/provider/infisical.
func TestRouteTableMatchesTheContract(t *testing.T) {
	doc, err := contracttest.Document(contracttest.Infisical)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pace.RoutesFromOpenAPI(doc, "x-rate-limit-class", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(want) != fmt.Sprint(contractRoutes) {
		t.Errorf("routes_gen.go is stale: run go generate ./internal/provider/infisical\n got %v\nwant %v", contractRoutes, want)
	}
	for _, r := range contractRoutes {
		if _, ok := CloudPerMinute[r.Class]; !ok {
			t.Errorf("%s: class %q has no Cloud limit", r, r.Class)
		}
	}
}

func TestModel(t *testing.T) {
	cases := []struct {
		name      string
		limits    RateLimits
		base      string
		method    string
		path      string
		wantClass string
		wantWords string
		wantMax   int
	}{
		{"cloud batch write", RateLimits{}, "https://app.infisical.com", "POST", "/api/v4/secrets/batch", ClassSecrets, "secret writes", 40},
		{"cloud secret read", RateLimits{}, "https://eu.infisical.com", "GET", "/api/v4/secrets/API_KEY", ClassSecrets, "secret reads", 40},
		{"cloud folder", RateLimits{}, "https://app.infisical.com", "POST", "/api/v2/folders", ClassSecrets, "folder writes", 40},
		{"cloud identity", RateLimits{}, "https://app.infisical.com", "POST", "/api/v1/identities", ClassIdentityCreation, "identity creation", 30},
		{"cloud login", RateLimits{}, "https://app.infisical.com", "POST", "/api/v1/auth/universal-auth/login", ClassWrite, "logins", 200},
		{"cloud unknown route", RateLimits{}, "https://app.infisical.com", "GET", "/api/v1/workspace/x", ClassGlobal, "", 600},
		{"self-hosted", RateLimits{}, "https://vault.example.com", "POST", "/api/v4/secrets/batch", ClassSecrets, "secret writes", 0},
		{"loopback", RateLimits{}, "http://127.0.0.1:8080", "POST", "/api/v4/secrets/batch", ClassSecrets, "secret writes", 0},
		{"forced cloud", RateLimits{Profile: ProfileCloud}, "http://127.0.0.1:8080", "POST", "/api/v4/secrets/batch", ClassSecrets, "secret writes", 40},
		{"higher plan", RateLimits{PerMinute: map[string]int{ClassSecrets: 120}}, "https://app.infisical.com", "POST", "/api/v4/secrets/batch", ClassSecrets, "secret writes", 120},
		{"forced self-hosted", RateLimits{Profile: ProfileSelfHosted}, "https://app.infisical.com", "GET", "/api/v1/identities", ClassRead, "reads", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.limits.Model(tc.base)
			r, ok := m.Routes.Match(tc.method, tc.path)
			if !ok {
				r = pace.Route{Class: m.Default}
			}
			lims := m.Classes[r.Class]
			if r.Class != tc.wantClass || r.Words != tc.wantWords || len(lims) != 1 || lims[0].Max != tc.wantMax {
				t.Errorf("route %+v, limits %+v", r, lims)
			}
			if l := lims[0]; l.Window != time.Minute || l.Kind != pace.Fixed || l.Scope != pace.PerRoute || !l.Headers {
				t.Errorf("limit %+v", l)
			}
		})
	}
}
