package reconcile

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

const rotationHCL = `
rotation {
  path   = "/Platform/rotation/subscriptions"
  secret = "HANDOFF_SUBSCRIPTIONS"
}
`

var rotationLoc = rotation.Location{Environment: "staging", Folder: "/Platform/rotation/subscriptions", Secret: "HANDOFF_SUBSCRIPTIONS"}

// rotationRepo is loadRepo with the rotation block in handoff.hcl.
func rotationRepo(t *testing.T, specs map[string]string) *spec.Repo {
	t.Helper()
	repo := loadRepo(t, specs)
	src := configHCL + rotationHCL
	cfg, diags := spec.ParseConfig(filepath.Join(repoDir, spec.ConfigFile), []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	repo.Config = cfg
	return repo
}

// withDoc sets the live document to doc (nil: missing).
func withDoc(live *state.Live, doc []byte) *state.Live {
	live.Rotation = &rotation.Live{Location: rotationLoc, State: rotation.StateMissing}
	if doc != nil {
		live.Rotation.Classify(doc, 3, live.Environment, live.Root)
	}
	return live
}

func clientSecret(slug string, expires time.Time) rotation.Entry {
	return rotation.NewEntry(slug, "staging", root+"/"+slug+"/INFISICAL_CLIENT_SECRET", "client secret of its Infisical identity", expires)
}

func docOf(entries ...rotation.Entry) []byte {
	return rotation.New("staging", root, entries).Marshal()
}

func rotationPlan(t *testing.T, repo *spec.Repo, live *state.Live) *plan.Plan {
	t.Helper()
	p, diags := Plan(context.Background(), repo, live, Options{Now: now, Registry: allProviders})
	if diags.HasErrors() {
		t.Fatalf("plan: %v", diags)
	}
	return p
}

func handoffOf(p *plan.Plan, slug string) plan.Handoff {
	for _, h := range p.Handoffs {
		if h.Slug == slug {
			return h
		}
	}
	return plan.Handoff{}
}

func endpoints(es []rotation.Entry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.ConsumerID+" "+e.UpdateEndpoint+" "+e.AutoRevokeAfter.Format(time.RFC3339))
	}
	return strings.Join(out, "; ")
}

// TestPlanRotation: the plan says, per handoff, the entries its change adds
// and removes, and, for the document, whether apply writes it and what of
// the live one is a drift to repair.
func TestPlanRotation(t *testing.T) {
	iap := parseSpec(t, iapSlug, iapHCL)
	created := now.Add(-2 * time.Hour)
	iapEntry := clientSecret(iapSlug, created.Add(24*time.Hour))
	forged := rotation.NewEntry("payments-admin", "prod", "/Payments/live/STRIPE_SECRET_KEY", "Stripe key", now.Add(48*time.Hour))
	type check struct {
		write             bool
		live              rotation.State
		entries           int
		add, remove       string // the handoff's entries, by endpoints
		repairAdd, repRem string
		reason            string
	}
	cases := []struct {
		name  string
		specs map[string]string
		live  func(t *testing.T) *state.Live
		want  check
	}{
		{"create, no document yet", map[string]string{iapSlug: iapHCL},
			func(t *testing.T) *state.Live { return withDoc(emptyLive(), nil) },
			check{write: true, live: rotation.StateMissing, entries: 1, add: endpoints([]rotation.Entry{clientSecret(iapSlug, now.Add(24*time.Hour))}), reason: "does not exist yet"}},
		{"unchanged, document up to date", map[string]string{iapSlug: iapHCL},
			func(t *testing.T) *state.Live {
				live := emptyLive()
				put(live, applied(t, iap, created))
				return withDoc(live, docOf(iapEntry))
			},
			check{live: rotation.StateValid, entries: 1}},
		{"unchanged, an entry forged by hand", map[string]string{iapSlug: iapHCL},
			func(t *testing.T) *state.Live {
				live := emptyLive()
				put(live, applied(t, iap, created))
				return withDoc(live, docOf(iapEntry, forged))
			},
			check{write: true, live: rotation.StateValid, entries: 1, repRem: endpoints([]rotation.Entry{forged}), reason: "holds 1 entry no manifest says"}},
		{"unchanged, stale: the last apply stopped before writing", map[string]string{iapSlug: iapHCL},
			func(t *testing.T) *state.Live {
				live := emptyLive()
				put(live, applied(t, iap, created))
				return withDoc(live, docOf())
			},
			check{write: true, live: rotation.StateValid, entries: 1, repairAdd: endpoints([]rotation.Entry{iapEntry}), reason: "lacks 1 entry the manifests say"}},
		{"unchanged, same entries in another form", map[string]string{iapSlug: iapHCL},
			func(t *testing.T) *state.Live {
				live := emptyLive()
				put(live, applied(t, iap, created))
				return withDoc(live, []byte(strings.ReplaceAll(string(docOf(iapEntry)), "\n", "")))
			},
			check{write: true, live: rotation.StateValid, entries: 1, reason: "form or fields differ"}},
		{"spec deleted", map[string]string{},
			func(t *testing.T) *state.Live {
				live := emptyLive()
				put(live, applied(t, iap, created))
				return withDoc(live, docOf(iapEntry))
			},
			check{write: true, live: rotation.StateValid, remove: endpoints([]rotation.Entry{iapEntry}), reason: "the changes of " + iapSlug}},
		{"past its TTL", map[string]string{iapSlug: iapHCL},
			func(t *testing.T) *state.Live {
				live := emptyLive()
				old := applied(t, iap, now.Add(-25*time.Hour))
				put(live, old)
				return withDoc(live, docOf(clientSecret(iapSlug, old.ExpiresAt)))
			},
			check{write: true, live: rotation.StateValid, remove: endpoints([]rotation.Entry{clientSecret(iapSlug, now.Add(-time.Hour))})}},
		{"replaced: a new TTL moves the entry's expiry", map[string]string{iapSlug: iapWiderHCL},
			func(t *testing.T) *state.Live {
				live := emptyLive()
				put(live, applied(t, iap, created))
				return withDoc(live, docOf(iapEntry))
			},
			check{write: true, live: rotation.StateValid, entries: 1,
				add:    endpoints([]rotation.Entry{clientSecret(iapSlug, now.Add(12*time.Hour))}),
				remove: endpoints([]rotation.Entry{iapEntry})}},
		{"a document of another repository is not written", map[string]string{iapSlug: iapHCL},
			func(t *testing.T) *state.Live {
				live := withDoc(emptyLive(), rotation.New("staging", "/Other/handoffs", nil).Marshal())
				return live
			},
			check{live: rotation.StateForeign, entries: 1, add: endpoints([]rotation.Entry{clientSecret(iapSlug, now.Add(24*time.Hour))}), reason: "not written"}},
		{"a secret that is not a document is not written", map[string]string{},
			func(t *testing.T) *state.Live { return withDoc(emptyLive(), []byte("sk_live_not_a_document")) },
			check{live: rotation.StateInvalid, reason: "not written"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			live := tc.live(t)
			p := rotationPlan(t, rotationRepo(t, tc.specs), live)
			r := p.Rotation
			if r == nil {
				t.Fatal("no rotation plan")
			}
			w := tc.want
			if r.Write != w.write || r.Live != string(w.live) || r.Entries != w.entries {
				t.Errorf("write %t live %s entries %d, want %t %s %d (%s)", r.Write, r.Live, r.Entries, w.write, w.live, w.entries, r.Reason)
			}
			if p.HasChanges() != (w.write || changedAny(p)) {
				t.Errorf("has changes %t", p.HasChanges())
			}
			if !strings.Contains(r.Reason, w.reason) {
				t.Errorf("reason %q lacks %q", r.Reason, w.reason)
			}
			var add, remove string
			if c := handoffOf(p, iapSlug).Rotation; c != nil {
				add, remove = endpoints(c.Add), endpoints(c.Remove)
			}
			if add != w.add || remove != w.remove {
				t.Errorf("handoff's entries:\n add %q\nwant %q\n remove %q\nwant %q", add, w.add, remove, w.remove)
			}
			var radd, rrem string
			if c := r.Repair; c != nil {
				radd, rrem = endpoints(c.Add), endpoints(c.Remove)
			}
			if radd != w.repairAdd || rrem != w.repRem {
				t.Errorf("repair: add %q remove %q, want %q %q", radd, rrem, w.repairAdd, w.repRem)
			}
			if strings.Contains(r.Reason, "sk_live") {
				t.Errorf("the reason quotes the value: %s", r.Reason)
			}
		})
	}
}

func changedAny(p *plan.Plan) bool {
	for _, h := range p.Handoffs {
		if h.Action.IsChange() {
			return true
		}
	}
	return false
}

// TestPlanRotationOff: without a rotation block nothing is planned; with
// one, a live state read without the document is refused (the plan could
// not say what apply writes).
func TestPlanRotationOff(t *testing.T) {
	p := rotationPlan(t, loadRepo(t, map[string]string{iapSlug: iapHCL}), withDoc(emptyLive(), nil))
	if p.Rotation != nil || handoffOf(p, iapSlug).Rotation != nil {
		t.Errorf("enrollment off plans %+v", p.Rotation)
	}
	_, diags := Plan(context.Background(), rotationRepo(t, map[string]string{iapSlug: iapHCL}), emptyLive(), Options{Now: now, Registry: allProviders})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Rotation document not read") {
		t.Errorf("diags %v", diags)
	}
}

// TestEntriesBySurface: which credentials are enrolled, by life: the
// client secret for a TTL of an hour or more, a Cloudflare token whose ttl
// is an hour or more, a key read by reference at a path that names one
// secret; nothing of a killed surface, of a revoked handoff, of a short
// TTL.
func TestEntriesBySurface(t *testing.T) {
	exact := `handoff "checkout-keys-20260621" {
  card        = 1
  ttl         = "24h"
  approved_by = "ops"

  stripe {
    permissions = { checkout_sessions = "write" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/STRIPE_RESTRICTED_KEY", "/MooseQuest/queue/staging/STRIPE_WEBHOOK_*"]
  }
}
`
	h := parseSpec(t, "checkout-keys-20260621", exact)
	withStripe := func(t *testing.T, m *manifest.Manifest) *manifest.Manifest {
		if err := m.Surfaces.Put("stripe", &byref.Record{Mode: "test", KeyPaths: []string{"/MooseQuest/queue/staging/STRIPE_RESTRICTED_KEY", "/MooseQuest/queue/staging/STRIPE_WEBHOOK_*"}}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	cloudflare := func(ttl string) func(t *testing.T, m *manifest.Manifest) *manifest.Manifest {
		return func(t *testing.T, m *manifest.Manifest) *manifest.Manifest {
			if err := m.Surfaces.Put(cfsurface.Name, &cfsurface.Record{TokenID: "tok", TokenName: "handoff-x", Secret: cfsurface.SecretName, TTL: ttl}); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	cases := []struct {
		name   string
		change func(t *testing.T, m *manifest.Manifest) *manifest.Manifest
		want   []string
	}{
		{"identity and an exact key path", withStripe, []string{
			"staging " + root + "/checkout-keys-20260621/INFISICAL_CLIENT_SECRET",
			"staging /MooseQuest/queue/staging/STRIPE_RESTRICTED_KEY"}},
		{"a short TTL", func(t *testing.T, m *manifest.Manifest) *manifest.Manifest {
			m.ExpiresAt = m.CreatedAt.Add(30 * time.Minute)
			return m
		}, nil},
		{"the identity killed: nothing read through it", func(t *testing.T, m *manifest.Manifest) *manifest.Manifest {
			m = withStripe(t, m)
			m.Revocation = &manifest.Revocation{At: now, Kind: manifest.RevokedManual, Reason: "x", Surfaces: []string{infsurface.Name}}
			return m
		}, nil},
		{"stripe killed", func(t *testing.T, m *manifest.Manifest) *manifest.Manifest {
			m = withStripe(t, m)
			m.Revocation = &manifest.Revocation{At: now, Kind: manifest.RevokedManual, Reason: "x", Surfaces: []string{"stripe"}}
			return m
		}, []string{"staging " + root + "/checkout-keys-20260621/INFISICAL_CLIENT_SECRET"}},
		{"revoked", func(t *testing.T, m *manifest.Manifest) *manifest.Manifest {
			revoke(m, manifest.RevokedDeleted, now, "", "spec deleted")
			return m
		}, nil},
		{"a Cloudflare token of an hour", cloudflare("1h"), []string{
			"staging " + root + "/checkout-keys-20260621/CLOUDFLARE_API_TOKEN",
			"staging " + root + "/checkout-keys-20260621/INFISICAL_CLIENT_SECRET"}},
		{"a Cloudflare token of 30 minutes", cloudflare("30m"), []string{
			"staging " + root + "/checkout-keys-20260621/INFISICAL_CLIENT_SECRET"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.change(t, applied(t, h, now.Add(-time.Hour)))
			var got []string
			for _, e := range rotation.Sort(Entries(allProviders, m, root+"/"+m.Slug, "staging")) {
				got = append(got, e.Env+" "+e.UpdateEndpoint)
				if e.ConsumerID != "handoff-checkout-keys-20260621" || !e.AutoRevokeAfter.Equal(m.ExpiresAt) || !strings.HasPrefix(e.Description, "handoff checkout-keys-20260621: ") {
					t.Errorf("entry %+v", e)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("entries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
