package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// TestRevocationGuard: the plan counts the live handoffs it revokes
// before their TTL ends because their spec is gone, and trips the guard
// beyond the policy's limits; expiries and revocations already under way
// never count.
func TestRevocationGuard(t *testing.T) {
	const fleet = 12
	slug := func(i int) string { return fmt.Sprintf("task-%02d-20260620", i) }
	src := func(i int) string { return strings.Replace(ghReadHCL, docsSlug, slug(i), 1) }
	// Every handoff of the fleet is live; keep lists those whose spec is
	// still in the repository.
	type fleetOpts struct {
		keep    int           // specs 0..keep-1 stay
		age     time.Duration // since each handoff was created (TTL 8h)
		journal bool          // an apply stopped part-way through revoking each
	}
	tests := []struct {
		name     string
		policy   string
		fleet    fleetOpts
		counted  int
		expired  int
		exceeded []string
	}{
		{"specs/ lost", "", fleetOpts{keep: 0, age: time.Hour}, fleet, 0, []string{plan.LimitMaxRevocations, plan.LimitMaxRevocationShare}},
		{"a routine clean-up", "", fleetOpts{keep: 9, age: time.Hour}, 3, 0, nil},
		{"most of a small fleet", "", fleetOpts{keep: 5, age: time.Hour}, 7, 0, []string{plan.LimitMaxRevocationShare}},
		{"every TTL ends together", "", fleetOpts{keep: 0, age: 9 * time.Hour}, 0, fleet, nil},
		{"every TTL ends, specs kept", "", fleetOpts{keep: fleet, age: 9 * time.Hour}, 0, fleet, nil},
		{"finishing revocations already under way", "", fleetOpts{keep: 0, age: time.Hour, journal: true}, 0, 0, nil},
		{"max_revocations = 0 confirms every one", "max_revocations = 0", fleetOpts{keep: fleet - 1, age: time.Hour}, 1, 0, []string{plan.LimitMaxRevocations}},
		{"limits raised", "max_revocations = 100\n  max_revocation_share = \"100%\"", fleetOpts{keep: 0, age: time.Hour}, fleet, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			specs := map[string]string{}
			for i := range tc.fleet.keep {
				specs[slug(i)] = src(i)
			}
			repo := loadRepo(t, specs)
			if tc.policy != "" {
				cfgSrc := strings.Replace(configHCL, "policy {\n", "policy {\n  "+tc.policy+"\n", 1)
				cfg, diags := spec.ParseConfig(filepath.Join(repoDir, spec.ConfigFile), []byte(cfgSrc))
				if diags.HasErrors() {
					t.Fatal(diags)
				}
				repo.Config = cfg
			}
			live := emptyLive()
			for i := range fleet {
				lh := put(live, applied(t, parseSpec(t, slug(i), src(i)), now.Add(-tc.fleet.age)))
				if tc.fleet.journal {
					delete(lh.Secrets, SecretGitHubToken)
					journal(lh, &state.Journal{Slug: slug(i), Operation: state.JournalOpRevoke,
						Entries: []state.JournalEntry{{Step: "revoke", Surface: "github", At: now.Add(-time.Minute)}}})
				}
			}
			p, diags := Plan(context.Background(), repo, live, Options{Now: now, Version: "test", Registry: allProviders})
			if diags.HasErrors() || p == nil {
				t.Fatalf("plan: %v", diags)
			}
			if s := p.Summary(); s.Revoke != fleet-tc.fleet.keep && tc.fleet.age < 8*time.Hour {
				t.Fatalf("the plan revokes %d handoffs, want %d", s.Revoke, fleet-tc.fleet.keep)
			}
			g := p.RevocationGuard
			if g == nil {
				t.Fatal("the plan has no revocation guard")
			}
			if g.Live != fleet || g.Revocations != tc.counted || len(g.Slugs) != tc.counted || g.Expired != tc.expired {
				t.Errorf("guard: %d live, %d counted (%v), %d expired; want %d, %d, %d", g.Live, g.Revocations, g.Slugs, g.Expired, fleet, tc.counted, tc.expired)
			}
			if !slices.Equal(g.Exceeded, tc.exceeded) || g.Tripped != (len(tc.exceeded) > 0) {
				t.Errorf("exceeded %q (tripped %v), want %q", g.Exceeded, g.Tripped, tc.exceeded)
			}
			if !slices.IsSorted(g.Slugs) {
				t.Errorf("slugs not sorted: %v", g.Slugs)
			}
		})
	}
}
