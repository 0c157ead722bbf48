package infisicalsrv

import (
	"fmt"
	"testing"
	"time"
)

// bigFixture is the default fixture plus n handoff folders of 5 secrets.
func bigFixture(n int) Fixture {
	fx := DefaultFixture()
	for i := 0; i < n; i++ {
		for j := 0; j < 5; j++ {
			fx.Projects[0].Secrets = append(fx.Projects[0].Secrets, FixtureSecret{Environment: "staging",
				Path: fmt.Sprintf("%s/handoff-%04d", DefaultHandoffRoot, i), Key: fmt.Sprintf("SECRET_%d", j), Value: "v"})
		}
	}
	return fx
}

// TestRecursiveListAtScale: 1,000 handoff folders of 5 secrets come back in
// one request for the admin; a handoff identity gets its own 5. (How fast
// is BenchmarkRecursiveList's business, not a test's.)
func TestRecursiveListAtScale(t *testing.T) {
	e := newTestEnv(t, bigFixture(1000))
	adm := e.admin()
	h := e.provisionHandoff(adm, "extra", 86400, "24h", map[string]any{"subject": "secrets", "action": []string{"read"},
		"conditions": map[string]any{"environment": "staging", "secretPath": map[string]any{"$glob": DefaultHandoffRoot + "/handoff-0042/**"}}})
	path := q("/api/v4/secrets", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultHandoffRoot, "recursive", "true")
	start := time.Now()
	r := e.doRaw("GET", path, adm, nil)
	elapsed := time.Since(start)
	want(t, r, 200)
	if n := len(r.list("secrets")); n != 5000 {
		t.Fatalf("%d secrets", n)
	}
	t.Logf("admin recursive list of 5,000 secrets in 1,001 folders: %v, %d bytes", elapsed, len(r.raw))
	tok := e.login(h.clientID, h.clientSecret)
	start = time.Now()
	r = e.doRaw("GET", path, tok, nil)
	want(t, r, 200)
	if n := len(r.list("secrets")); n != 5 {
		t.Fatalf("handoff sees %d secrets", n)
	}
	t.Logf("handoff recursive list over the same tree: %v", time.Since(start))
}
