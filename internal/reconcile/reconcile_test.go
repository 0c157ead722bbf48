package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/surfaces/mcp"
)

const (
	SecretGitHubToken           = ghsurface.SecretName
	SecretInfisicalClientID     = infsurface.SecretClientID
	SecretInfisicalClientSecret = infsurface.SecretClientSecret
)

func ownFolderGlob(root, slug string) string { return root + "/" + slug + "/**" }

// installs is the App's installations in l.
func installs(l *state.Live) *ghsurface.Installations { return ghsurface.LiveOf(l) }

// identities is the identities named for handoffs in l.
func identities(l *state.Live) *infsurface.Identities { return infsurface.LiveOf(l) }

// addIdentity puts an identity in l.
func addIdentity(l *state.Live, name, id string) {
	identities(l).ByName[name] = infisical.Identity{ID: id, Name: name}
}

// githubRecord decodes m's token record, changes it and puts it back.
func githubRecord(t *testing.T, m *manifest.Manifest, change func(r *ghsurface.Record)) {
	t.Helper()
	r := ghsurface.Decode(m.Surfaces[ghsurface.Name])
	change(r)
	if err := m.Surfaces.Put(ghsurface.Name, r); err != nil {
		t.Fatal(err)
	}
}

// infisicalRecord decodes m's identity record, changes it and puts it back.
func infisicalRecord(t *testing.T, m *manifest.Manifest, change func(r *infsurface.Record)) {
	t.Helper()
	r := infsurface.Decode(m.Surfaces[infsurface.Name])
	change(r)
	if err := m.Surfaces.Put(infsurface.Name, r); err != nil {
		t.Fatal(err)
	}
}

// noProvider is a surface this build cannot provision.
type noProvider struct{ surface.Surface }

func (noProvider) Unprovisionable() string { return "no provider" }

// without returns the default registry with the named surfaces
// unprovisionable.
func without(names ...string) *surface.Registry {
	var list []surface.Surface
	for _, s := range surfaces.All(surfaces.Clients{}) {
		if slices.Contains(names, s.Name()) {
			s = noProvider{s}
		}
		list = append(list, s)
	}
	return surface.NewRegistry(list...)
}

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// now is the fixed instant every test plans for.
var now = time.Date(2026, 6, 21, 12, 0, 0, 0, time.UTC)

const (
	root    = "/MooseQuest/handoffs"
	repoDir = "/repo"
)

const configHCL = `
infisical {
  organization_id = "org-raxx"
  project_id      = "proj-moosequest"
  environment     = "staging"
  handoff_root    = "/MooseQuest/handoffs"
}

github {
  app_id = 424242
}

policy {
  max_ttl            = "24h"
  github_permissions = { contents = "write", pull_requests = "write", issues = "write", metadata = "read" }
  vault_read_roots   = ["/MooseQuest/queue/staging"]
  github_owners      = ["raxx-app", "raxx-labs", "someone-else"]
}
`

// iapHCL is the example spec of the contract, with every common surface.
const iapHCL = `handoff "iap-notif-handler-20260621" {
  card        = 3629
  description = "StoreKit 2 server notification handler"
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write", issues = "write" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/APPLE_IAP_*"]
  }

  apple_iap {
    environment = "sandbox"
    bundle_id   = "com.raxx.trademaster"
  }

  mcp {
    allow   = ["github_pr_create", "github_pr_comment", "infisical_get_secret"]
    exclude = ["filesystem_write_outside_worktree", "stripe_charge"]
  }
}
`

// iapWiderHCL is iapHCL after a pull request widened it: a new permission
// (metadata), a wider vault path, a new MCP tool and one exclusion fewer
// (escalations), issues dropped and a shorter TTL (not escalations).
const iapWiderHCL = `handoff "iap-notif-handler-20260621" {
  card        = 3629
  description = "StoreKit 2 server notification handler"
  ttl         = "12h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write", metadata = "read" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/APPLE_IAP_*", "/MooseQuest/queue/staging/STRIPE_*"]
  }

  apple_iap {
    environment = "sandbox"
    bundle_id   = "com.raxx.trademaster"
  }

  mcp {
    allow   = ["github_pr_create", "github_pr_comment", "infisical_get_secret", "github_merge"]
    exclude = ["filesystem_write_outside_worktree"]
  }
}
`

// ghReadHCL asks contents: read only; the escalation case raises it.
const ghReadHCL = `handoff "docs-fixer-20260620" {
  card        = 3700
  ttl         = "8h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/Docs"
    permissions = { contents = "read" }
  }
}
`

const ghWriteOtherRepoHCL = `handoff "docs-fixer-20260620" {
  card        = 3700
  ttl         = "8h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/Website"
    permissions = { contents = "write", pull_requests = "write" }
  }
}
`

const stripeHCL = `handoff "founders-checkout-20260621" {
  card        = 3206
  description = "Founders' plan checkout on a restricted Stripe test key"
  ttl         = "24h"
  approved_by = "ops"

  stripe {
    mode        = "test"
    permissions = { checkout_sessions = "write", subscriptions = "read" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/STRIPE_*"]
  }
}
`

const otherOrgHCL = `handoff "fork-sync-20260621" {
  card        = 3800
  ttl         = "4h"
  approved_by = "ops"

  github {
    repository  = "someone-else/fork"
    permissions = { contents = "write" }
  }
}
`

const issuesWriteHCL = `handoff "triage-bot-20260621" {
  card        = 3801
  ttl         = "4h"
  approved_by = "ops"

  github {
    repository  = "raxx-labs/triage"
    permissions = { issues = "write", contents = "read" }
  }
}
`

const (
	iapSlug    = "iap-notif-handler-20260621"
	docsSlug   = "docs-fixer-20260620"
	stripeSlug = "founders-checkout-20260621"
)

// loadRepo parses handoff.hcl and the given spec sources (keyed by slug)
// as LoadDir would from /repo.
func loadRepo(t *testing.T, specs map[string]string) *spec.Repo {
	t.Helper()
	cfgName := filepath.Join(repoDir, spec.ConfigFile)
	cfg, diags := spec.ParseConfig(cfgName, []byte(configHCL))
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	repo := &spec.Repo{Dir: repoDir, Config: cfg, Sources: map[string][]byte{cfgName: []byte(configHCL)}}
	for slug, src := range specs {
		name := filepath.Join(repoDir, spec.SpecsDir, slug+".hcl")
		h, diags := spec.ParseHandoffFile(name, []byte(src))
		if diags.HasErrors() {
			t.Fatalf("spec %s: %v", slug, diags)
		}
		repo.Handoffs = append(repo.Handoffs, h)
		repo.Sources[name] = []byte(src)
	}
	return repo
}

func parseSpec(t *testing.T, slug, src string) *spec.Handoff {
	t.Helper()
	h, diags := spec.ParseHandoffFile(filepath.Join(repoDir, spec.SpecsDir, slug+".hcl"), []byte(src))
	if diags.HasErrors() {
		t.Fatalf("spec %s: %v", slug, diags)
	}
	return h
}

// installations is what the App is installed on in every test.
func installations() []github.Installation {
	return []github.Installation{{
		ID: 1001, Account: "raxx-app", TargetType: "Organization", RepositorySelection: "all",
		Permissions: map[string]string{"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"},
	}, {
		ID: 1002, Account: "Raxx-Labs", TargetType: "Organization", RepositorySelection: "selected",
		Permissions: map[string]string{"contents": "read", "issues": "read", "metadata": "read"},
	}}
}

func emptyLive() *state.Live {
	return &state.Live{
		ReadAt: now, Environment: "staging", Root: root,
		Handoffs: map[string]*state.Handoff{},
		Surfaces: map[string]state.SurfaceLive{
			infsurface.Name: infsurface.NewIdentities(nil),
			ghsurface.Name:  ghsurface.NewInstallations(installations()),
		},
	}
}

// applied returns the manifest apply would have written for h at created,
// checked against the schema, as the state reader would parse it.
func applied(t *testing.T, h *spec.Handoff, created time.Time) *manifest.Manifest {
	t.Helper()
	slug := h.Slug.Value
	m := &manifest.Manifest{
		SchemaVersion: manifest.SchemaVersion,
		Slug:          slug,
		Card:          int(h.Card.Value),
		SpecFile:      "specs/" + slug + ".hcl",
		SpecDigest:    h.Digest(),
		ApprovedBy:    h.ApprovedBy.Value,
		CreatedAt:     created,
		UpdatedAt:     created,
		ExpiresAt:     created.Add(h.TTL.Value),
		Status:        manifest.Active,
		Secrets:       []string{},
	}
	put := func(name string, v any) {
		if err := m.Surfaces.Put(name, v); err != nil {
			t.Fatal(err)
		}
	}
	if g := ghsurface.Of(h); g != nil {
		m.Secrets = append(m.Secrets, SecretGitHubToken)
		// Refreshed by the scheduled apply: the token was minted 10 minutes ago.
		put(ghsurface.Name, &ghsurface.Record{
			InstallationID: 1001, Repository: g.Repository.Value, Permissions: g.Permissions.Map(),
			Secret: SecretGitHubToken, TokenExpiresAt: now.Add(50 * time.Minute),
			TokenFingerprint: "sha256:9f31e9044fb9", MintedAt: now.Add(-10 * time.Minute),
		})
	}
	if in := infsurface.Of(h); in != nil {
		m.Secrets = append(m.Secrets, SecretInfisicalClientID, SecretInfisicalClientSecret)
		put(infsurface.Name, &infsurface.Record{
			IdentityID: "id-" + slug, IdentityName: infsurface.IdentityName(slug, created),
			ClientSecretID: "cs-" + slug, PrivilegeID: "priv-" + slug, Environment: in.Environment.Value,
			ReadPaths:             append([]string{ownFolderGlob(root, slug)}, in.Read.Strings()...),
			ClientSecretExpiresAt: m.ExpiresAt,
			ClientIDSecret:        SecretInfisicalClientID, ClientSecretSecret: SecretInfisicalClientSecret,
		})
	}
	if x := mcp.Of(h); x != nil {
		put(mcp.Name, &mcp.Record{Allow: x.Allow.Strings(), Exclude: x.Exclude.Strings()})
	}
	if a := byref.AppleIAP().Of(h); a != nil {
		m.Secrets = append(m.Secrets, "APPLE_IAP_KEY")
		put("apple_iap", json.RawMessage(fmt.Sprintf(`{"environment":%q,"bundle_id":%q,"key_id":"KEY123","secret":"APPLE_IAP_KEY"}`, a.Mode.Value, a.BundleID.Value)))
	}
	b, err := manifest.Marshal(m)
	if err != nil {
		t.Fatalf("manifest for %s: %v", slug, err)
	}
	parsed, err := manifest.Parse(b)
	if err != nil {
		t.Fatalf("manifest for %s: %v", slug, err)
	}
	return parsed
}

// killedStripe is the manifest of the stripe handoff applied at created,
// whose stripe surface (read by reference through its identity's read
// paths) was killed by hand an hour ago.
func killedStripe(t *testing.T, created time.Time) *manifest.Manifest {
	t.Helper()
	m := applied(t, parseSpec(t, stripeSlug, stripeHCL), created)
	if err := m.Surfaces.Put("stripe", &byref.Record{
		Mode: "test", Source: "pre-provisioned key, read through the handoff identity's vault read paths",
		KeyPaths: []string{"/MooseQuest/queue/staging/STRIPE_*"},
	}); err != nil {
		t.Fatal(err)
	}
	m.Revocation = &manifest.Revocation{At: now.Add(-time.Hour), Kind: manifest.RevokedManual, By: "sec", Reason: "key leaked", Surfaces: []string{"stripe"}}
	return m
}

// put adds to live the folder of a handoff with manifest m (its secrets
// all present) and its identity.
func put(live *state.Live, m *manifest.Manifest) *state.Handoff {
	lh := &state.Handoff{
		Slug: m.Slug, Folder: root + "/" + m.Slug, Manifest: m,
		ManifestDigest: "sha256:" + strings.Repeat("ab", 32),
		Secrets:        map[string]state.SecretMeta{manifest.SecretName: {Version: 1}},
	}
	for _, s := range m.Secrets {
		lh.Secrets[s] = state.SecretMeta{Version: 1}
	}
	live.Handoffs[m.Slug] = lh
	if in := infsurface.Decode(m.Surfaces[infsurface.Name]); in != nil && m.Status == manifest.Active && identities(live) != nil {
		addIdentity(live, in.IdentityName, in.IdentityID)
	}
	return lh
}

// journal puts j in lh's folder, as apply leaves it when a run stops.
func journal(lh *state.Handoff, j *state.Journal) {
	lh.JournalRaw, _ = j.Marshal()
	lh.Journal = j
	lh.Secrets[state.JournalSecretName] = state.SecretMeta{Version: 1}
}

func revoke(m *manifest.Manifest, kind manifest.RevocationKind, at time.Time, by, reason string) {
	m.Status = manifest.Revoked
	m.Revocation = &manifest.Revocation{At: at, Kind: kind, By: by, Reason: reason}
}

var allProviders = surfaces.Default

type want struct {
	action plan.Action
	reason string // substring of the handoff's reason
	// changes maps surface → action (and, after "|", a reason substring).
	changes map[string]string
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name     string
		specs    map[string]string
		live     func(t *testing.T, l *state.Live)
		registry *surface.Registry
		want     map[string]want
		// diags are "severity|summary|subject" of every diagnostic expected.
		diags []string
	}{
		{
			name:  "create",
			specs: map[string]string{iapSlug: iapHCL},
			want: map[string]want{iapSlug: {action: plan.Create, reason: "new spec", changes: map[string]string{
				"github": "create", "infisical": "create", "mcp": "create", "apple_iap": "create",
			}}},
		},
		{
			name:     "create without a provider",
			specs:    map[string]string{stripeSlug: stripeHCL},
			registry: without("stripe"),
			want: map[string]want{stripeSlug: {action: plan.Create, changes: map[string]string{
				"stripe": "create", "infisical": "create",
			}}},
			diags: []string{"error|No provider for surface stripe|/repo/specs/founders-checkout-20260621.hcl:7:3"},
		},
		{
			name:  "up to date",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				put(l, applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-2*time.Hour)))
			},
			want: map[string]want{iapSlug: {action: plan.NoOp, reason: "up to date (expires 2026-06-22T10:00:00Z)", changes: map[string]string{
				"github": "no-op|token expires in 50m", "infisical": "no-op", "mcp": "no-op", "apple_iap": "no-op",
			}}},
		},
		{
			name:  "past its TTL with the spec still present",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				put(l, applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-25*time.Hour)))
			},
			want: map[string]want{iapSlug: {action: plan.Revoke, reason: "past its TTL (expired 2026-06-21T11:00:00Z)", changes: map[string]string{
				"github": "revoke", "infisical": "revoke", "mcp": "revoke", "apple_iap": "revoke",
			}}},
		},
		{
			name:  "spec deleted",
			specs: map[string]string{},
			live: func(t *testing.T, l *state.Live) {
				put(l, applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-time.Hour)))
			},
			want: map[string]want{iapSlug: {action: plan.Revoke, reason: "spec deleted", changes: map[string]string{
				"github": "revoke|spec deleted", "infisical": "revoke", "mcp": "revoke", "apple_iap": "revoke",
			}}},
		},
		{
			name:  "spec changed: escalations",
			specs: map[string]string{docsSlug: ghWriteOtherRepoHCL, iapSlug: iapWiderHCL},
			live: func(t *testing.T, l *state.Live) {
				put(l, applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-time.Hour)))
				put(l, applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-time.Hour)))
			},
			want: map[string]want{
				docsSlug: {action: plan.Replace, reason: "spec changed since the last apply", changes: map[string]string{
					"github": "replace|new repository raxx-app/Website",
				}},
				iapSlug: {action: plan.Replace, changes: map[string]string{
					"github":    "replace|metadata: none → read",
					"infisical": "replace|wider vault path /MooseQuest/queue/staging/STRIPE_*",
					"mcp":       "replace|new MCP tool github_merge",
					"apple_iap": "replace|same grant",
				}},
			},
		},
		{
			name:  "token expires within the refresh window",
			specs: map[string]string{docsSlug: ghReadHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-time.Hour))
				githubRecord(t, m, func(r *ghsurface.Record) { r.TokenExpiresAt = now.Add(8 * time.Minute) })
				put(l, m)
			},
			want: map[string]want{docsSlug: {action: plan.Refresh, reason: "token expires in 8m", changes: map[string]string{
				"github": "refresh|token expires in 8m",
			}}},
		},
		{
			name:  "token expired",
			specs: map[string]string{docsSlug: ghReadHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-time.Hour))
				githubRecord(t, m, func(r *ghsurface.Record) { r.TokenExpiresAt = now.Add(-3 * time.Minute) })
				put(l, m)
			},
			want: map[string]want{docsSlug: {action: plan.Refresh, reason: "token expired 3m ago", changes: map[string]string{
				"github": "refresh|token expired 3m ago",
			}}},
		},
		{
			name:  "secret missing from the vault",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				lh := put(l, applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-time.Hour)))
				delete(lh.Secrets, SecretGitHubToken)
				delete(lh.Secrets, "APPLE_IAP_KEY")
			},
			want: map[string]want{iapSlug: {action: plan.Refresh, changes: map[string]string{
				"github":    "refresh|secret GH_HANDOFF_TOKEN missing from the vault",
				"infisical": "no-op",
				"apple_iap": "refresh|secret APPLE_IAP_KEY missing from the vault",
			}}},
		},
		{
			name:  "identity deleted out of band",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				put(l, applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-time.Hour)))
				clear(identities(l).ByName)
			},
			want: map[string]want{iapSlug: {action: plan.Replace, changes: map[string]string{
				"github":    "no-op",
				"infisical": "replace|identity infisical-handoff_iap-notif-handler-20260621 (id-iap-notif-handler-20260621) deleted out of band",
			}}},
		},
		{
			name:  "identities not read: no conclusion",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				put(l, applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-time.Hour)))
				delete(l.Surfaces, infsurface.Name)
			},
			want: map[string]want{iapSlug: {action: plan.NoOp}},
		},
		{
			name:  "revoked manifests",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-30*time.Hour))
				revoke(m, manifest.RevokedExpired, now.Add(-6*time.Hour), "", "past its TTL")
				put(l, m)
				d := applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-5*time.Hour))
				revoke(d, manifest.RevokedDeleted, now.Add(-2*time.Hour), "", "spec deleted")
				put(l, d)
			},
			want: map[string]want{
				iapSlug:  {action: plan.NoOp, reason: "revoked (expired) at 2026-06-21T06:00:00Z"},
				docsSlug: {action: plan.NoOp, reason: "revoked (deleted) at 2026-06-21T10:00:00Z"},
			},
		},
		{
			name:  "tombstoned with the spec present",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-time.Hour), "alice", "token pasted in a log")
				put(l, m)
			},
			want: map[string]want{iapSlug: {action: plan.NoOp,
				reason: "tombstoned by alice at 2026-06-21T11:00:00Z: token pasted in a log; run handoff untombstone or use a new slug"}},
		},
		{
			name:  "untombstoned",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-2*time.Hour), "alice", "token pasted in a log")
				m.Revocation.UntombstonedAt = now.Add(-time.Hour)
				m.Secrets = []string{}
				lh := put(l, m)
				lh.Secrets = map[string]state.SecretMeta{manifest.SecretName: {Version: 3}}
				// Another slug, untombstoned, whose spec is gone: nothing.
				d := applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-5*time.Hour))
				revoke(d, manifest.RevokedManual, now.Add(-4*time.Hour), "bob", "drill")
				d.Revocation.UntombstonedAt = now.Add(-time.Hour)
				put(l, d)
			},
			want: map[string]want{
				iapSlug: {action: plan.Create,
					reason:  "untombstoned at 2026-06-21T11:00:00Z (revoked by alice at 2026-06-21T10:00:00Z: token pasted in a log): mint again",
					changes: map[string]string{"github": "create", "infisical": "create", "mcp": "create", "apple_iap": "create"}},
				docsSlug: {action: plan.NoOp, reason: "revoked (manual) at 2026-06-21T08:00:00Z by bob: drill; untombstoned at 2026-06-21T11:00:00Z"},
			},
		},
		{
			name:  "untombstoned, then an apply stopped",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-2*time.Hour), "alice", "drill")
				m.Revocation.UntombstonedAt = now.Add(-time.Hour)
				m.Secrets = []string{}
				lh := put(l, m)
				lh.Secrets = map[string]state.SecretMeta{manifest.SecretName: {Version: 3}, SecretInfisicalClientID: {Version: 1}}
				journal(lh, &state.Journal{Slug: iapSlug, Operation: "create",
					Entries: []state.JournalEntry{{Step: "create", Surface: "infisical"}, {Step: "create", Surface: "github"}}})
				name := infsurface.IdentityName(iapSlug, now)
				addIdentity(l, name, "id-half")
			},
			want: map[string]want{iapSlug: {action: plan.Replace,
				reason:  "untombstoned at 2026-06-21T11:00:00Z; incomplete apply found (journal): revoke its leftovers and create again",
				changes: map[string]string{"github": "replace", "infisical": "replace|revoke its leftovers", "apple_iap": "replace"}}},
		},
		{
			name:  "untombstoned, then revoked again before an apply",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				// `handoff revoke` stopped before it wrote its tombstone
				// over the lifted one: nothing is minted.
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-2*time.Hour), "alice", "drill")
				m.Revocation.UntombstonedAt = now.Add(-time.Hour)
				m.Secrets = []string{}
				lh := put(l, m)
				lh.Secrets = map[string]state.SecretMeta{manifest.SecretName: {Version: 3}}
				journal(lh, &state.Journal{Slug: iapSlug, Operation: "revoke",
					Revocation: &manifest.Revocation{At: now.Add(-time.Minute), Kind: manifest.RevokedManual, By: "alice", Reason: "again"}})
			},
			want: map[string]want{iapSlug: {action: plan.Revoke, reason: "then revoked again (journal): not minted",
				changes: map[string]string{"vault": "revoke"}}},
		},
		{
			name:  "kill switch on one surface",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-time.Hour), "alice", "token leaked")
				m.Revocation.Surfaces = []string{"github"}
				m.Secrets = []string{SecretInfisicalClientID, SecretInfisicalClientSecret, "APPLE_IAP_KEY"}
				lh := put(l, m)
				delete(lh.Secrets, SecretGitHubToken)
				rec := infsurface.Decode(m.Surfaces[infsurface.Name])
				addIdentity(l, rec.IdentityName, rec.IdentityID)
			},
			want: map[string]want{iapSlug: {action: plan.NoOp,
				reason: "up to date (expires 2026-06-22T09:00:00Z); github killed by alice at 2026-06-21T11:00:00Z",
				changes: map[string]string{
					"github": "no-op|killed by alice at 2026-06-21T11:00:00Z: token leaked; not minted again until handoff untombstone", "infisical": "no-op|up to date",
				}}},
		},
		{
			// The spec changed after a kill: it is not applied, and
			// nothing is minted under the old one either (no refresh of
			// a token due, no repair of a missing secret); the manifest
			// keeps its digest and expiry, and a warning says the way out.
			name:  "kill switch on one surface, then the spec changed",
			specs: map[string]string{iapSlug: iapWiderHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-time.Hour), "alice", "token leaked")
				m.Status, m.Revocation.Surfaces = manifest.Active, []string{"apple_iap"}
				githubRecord(t, m, func(r *ghsurface.Record) { r.TokenExpiresAt = now.Add(5 * time.Minute) })
				lh := put(l, m)
				delete(lh.Secrets, SecretInfisicalClientSecret)
			},
			want: map[string]want{iapSlug: {action: plan.NoOp,
				reason: "spec changed since the last apply (digest sha256:87fbb982b326 → sha256:34da23270502) while apple_iap killed by alice at 2026-06-21T11:00:00Z: the new spec is not applied and nothing is minted",
				changes: map[string]string{
					"github":    "no-op|token expires in 5m, not refreshed",
					"infisical": "no-op|INFISICAL_CLIENT_SECRET missing from the vault, not written again",
					"mcp":       "no-op|kept as applied (spec sha256:87fbb982b326) until 2026-06-22T09:00:00Z",
					"apple_iap": "no-op|killed by alice",
				}}},
			diags: []string{"warning|Handoff iap-notif-handler-20260621 has killed surfaces; its spec changed|/repo/specs/iap-notif-handler-20260621.hcl:1:1"},
		},
		{
			// A kill recorded while the privilege still reads the key, and
			// a changed spec that widens the read paths: the privilege is
			// narrowed from its record, never widened to the new spec.
			name:  "killed by-reference surface, its key path still granted, spec changed",
			specs: map[string]string{stripeSlug: strings.Replace(stripeHCL, `"/MooseQuest/queue/staging/STRIPE_*"]`, `"/MooseQuest/queue/staging/STRIPE_*", "/MooseQuest/queue/staging/APPLE_IAP_*"]`, 1)},
			live: func(t *testing.T, l *state.Live) {
				put(l, killedStripe(t, now.Add(-3*time.Hour)))
			},
			want: map[string]want{stripeSlug: {action: plan.Refresh, changes: map[string]string{
				"stripe":    "no-op|killed by sec",
				"infisical": "refresh|/MooseQuest/queue/staging/STRIPE_* is withheld since stripe was killed",
			}}},
			diags: []string{"warning|Handoff founders-checkout-20260621 has killed surfaces; its spec changed|/repo/specs/founders-checkout-20260621.hcl:1:1"},
		},
		{
			// A run that committed (its manifest and the journal marked
			// committed in one batch) and stopped before deleting the
			// journal: only the journal goes, nothing is minted.
			name:  "settled journal beside its manifest",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-time.Hour))
				lh := put(l, m)
				journal(lh, &state.Journal{Slug: iapSlug, Operation: "create", RunID: "run-1", StartedAt: now.Add(-time.Hour), Committed: true,
					Entries:  []state.JournalEntry{{Step: "create", Surface: "infisical"}, {Step: "create", Surface: "github"}},
					InFlight: []state.InFlight{{Surface: "github", Step: "mint installation token", Secret: SecretGitHubToken, At: now.Add(-time.Hour)}}})
			},
			want: map[string]want{iapSlug: {action: plan.Refresh, reason: "the journal of apply run run-1 (create, started 2026-06-21T11:00:00Z) is marked committed",
				changes: map[string]string{"github": "no-op", "infisical": "no-op", "vault": "refresh|delete it, nothing else to do"}}},
		},
		{
			// A settled journal beside a handoff that needs more: its run
			// deletes the journal on the way, and refreshes only what is
			// due, as if the journal were gone.
			name:  "settled journal beside an expired token",
			specs: map[string]string{docsSlug: ghReadHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-2*time.Hour))
				githubRecord(t, m, func(r *ghsurface.Record) { r.TokenExpiresAt = now.Add(-3 * time.Minute) })
				lh := put(l, m)
				journal(lh, &state.Journal{Slug: docsSlug, Operation: "refresh", RunID: "run-2", Committed: true,
					Entries: []state.JournalEntry{{Step: "refresh", Surface: "github"}}})
			},
			want: map[string]want{docsSlug: {action: plan.Refresh, reason: "token expired 3m ago",
				changes: map[string]string{"github": "refresh|token expired 3m ago"}}},
		},
		{
			// A stopped run's journal on a handoff whose spec changed under
			// a kill: the killed surface's leftovers are revoked, the rest
			// is not refreshed (nothing is minted).
			name:  "spec changed under a kill, beside a journal",
			specs: map[string]string{iapSlug: iapWiderHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-time.Hour), "alice", "token leaked")
				m.Status, m.Revocation.Surfaces = manifest.Active, []string{"github"}
				m.Secrets = []string{SecretInfisicalClientID, SecretInfisicalClientSecret, "APPLE_IAP_KEY"}
				lh := put(l, m)
				journal(lh, &state.Journal{Slug: iapSlug, Operation: "refresh",
					Entries: []state.JournalEntry{{Step: "refresh", Surface: "github"}, {Step: "refresh", Surface: "infisical"}}})
			},
			want: map[string]want{iapSlug: {action: plan.Revoke, changes: map[string]string{
				"github":    "revoke|revoke what the unfinished apply left; not minted again",
				"infisical": "no-op|what that left is not cleaned by minting",
			}}},
			diags: []string{"warning|Handoff iap-notif-handler-20260621 has killed surfaces; its spec changed|/repo/specs/iap-notif-handler-20260621.hcl:1:1"},
		},
		{
			// The journal names only what lives: nothing to revoke, nothing
			// minted; the vault folder's change clears the journal (which
			// untombstone needs gone).
			name:  "spec changed under a kill, beside a journal of a live surface",
			specs: map[string]string{iapSlug: iapWiderHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-time.Hour), "alice", "token leaked")
				m.Status, m.Revocation.Surfaces = manifest.Active, []string{"github"}
				m.Secrets = []string{SecretInfisicalClientID, SecretInfisicalClientSecret, "APPLE_IAP_KEY"}
				lh := put(l, m)
				journal(lh, &state.Journal{Slug: iapSlug, Operation: "update",
					Entries: []state.JournalEntry{{Step: "regrant", Surface: "infisical"}}})
			},
			want: map[string]want{iapSlug: {action: plan.Refresh, changes: map[string]string{
				"github":    "no-op|killed by alice",
				"infisical": "no-op|what that left is not cleaned by minting",
				"vault":     "refresh|incomplete apply found (journal): clear it; nothing is minted",
			}}},
			diags: []string{"warning|Handoff iap-notif-handler-20260621 has killed surfaces; its spec changed|/repo/specs/iap-notif-handler-20260621.hcl:1:1"},
		},
		{
			// `handoff revoke -surface stripe` narrowed the identity's
			// privilege to withhold stripe's key paths: nothing to do, and
			// nothing widens it again while stripe stays killed.
			name:  "killed by-reference surface, privilege narrowed",
			specs: map[string]string{stripeSlug: stripeHCL},
			live: func(t *testing.T, l *state.Live) {
				m := killedStripe(t, now.Add(-3*time.Hour))
				infisicalRecord(t, m, func(r *infsurface.Record) { r.ReadPaths = []string{ownFolderGlob(root, stripeSlug)} })
				put(l, m)
			},
			want: map[string]want{stripeSlug: {action: plan.NoOp, changes: map[string]string{
				"stripe": "no-op|killed by sec", "infisical": "no-op|up to date",
			}}},
		},
		{
			// A kill recorded while the privilege still reads the key (by a
			// build that did not narrow it): the privilege is narrowed in
			// place, the identity and its client secret kept.
			name:  "killed by-reference surface, its key path still granted",
			specs: map[string]string{stripeSlug: stripeHCL},
			live: func(t *testing.T, l *state.Live) {
				put(l, killedStripe(t, now.Add(-3*time.Hour)))
			},
			want: map[string]want{stripeSlug: {action: plan.Refresh, changes: map[string]string{
				"stripe":    "no-op|killed by sec",
				"infisical": "refresh|/MooseQuest/queue/staging/STRIPE_* is withheld since stripe was killed",
			}}},
		},
		{
			// Untombstoned: the next apply grants the key path again, in
			// place (an escalation the plan shows).
			name:  "kill of a by-reference surface lifted",
			specs: map[string]string{stripeSlug: stripeHCL},
			live: func(t *testing.T, l *state.Live) {
				m := killedStripe(t, now.Add(-3*time.Hour))
				m.Revocation = nil
				infisicalRecord(t, m, func(r *infsurface.Record) { r.ReadPaths = []string{ownFolderGlob(root, stripeSlug)} })
				put(l, m)
			},
			want: map[string]want{stripeSlug: {action: plan.Refresh, changes: map[string]string{
				"stripe":    "no-op",
				"infisical": "refresh|wider vault path /MooseQuest/queue/staging/STRIPE_*",
			}}},
		},
		{
			name:  "kill switch on one surface, then past its TTL",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-25*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-20*time.Hour), "alice", "token leaked")
				m.Revocation.Surfaces = []string{"github"}
				put(l, m)
			},
			want: map[string]want{iapSlug: {action: plan.Revoke, reason: "past its TTL", changes: map[string]string{
				"infisical": "revoke", "mcp": "revoke", "apple_iap": "revoke",
			}}},
		},
		{
			name:  "corrupt manifest",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				_, err := manifest.Parse([]byte(`{"schema_version": 1, "slug": "iap-notif-handler-20260621"`))
				l.Handoffs[iapSlug] = &state.Handoff{
					Slug: iapSlug, Folder: root + "/" + iapSlug,
					ManifestErr:    &state.ManifestError{Path: root + "/" + iapSlug + "/PROVISION_MANIFEST", Environment: "staging", Err: err},
					ManifestDigest: "sha256:" + strings.Repeat("cd", 32),
					Secrets: map[string]state.SecretMeta{
						manifest.SecretName: {Version: 3}, SecretGitHubToken: {Version: 2},
						SecretInfisicalClientID: {Version: 1}, SecretInfisicalClientSecret: {Version: 1},
					},
				}
				name := infsurface.IdentityName(iapSlug, now.Add(-24*time.Hour))
				addIdentity(l, name, "id-old")
			},
			want: map[string]want{iapSlug: {action: plan.Replace,
				reason: "corrupt manifest /MooseQuest/handoffs/iap-notif-handler-20260621/PROVISION_MANIFEST (environment staging): manifest is not JSON",
				changes: map[string]string{
					"github": "replace|revoke its leftovers and create again", "infisical": "replace", "mcp": "replace", "apple_iap": "replace",
				}}},
		},
		{
			name:  "journal without a manifest, spec present",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				j := &state.Journal{Slug: iapSlug, Operation: "create", Entries: []state.JournalEntry{
					{Step: "create-identity", Surface: "infisical", RemoteIDs: map[string]string{"identity_id": "id-half"}, At: now.Add(-time.Minute)},
				}}
				raw, _ := j.Marshal()
				l.Handoffs[iapSlug] = &state.Handoff{
					Slug: iapSlug, Folder: root + "/" + iapSlug, JournalRaw: raw, Journal: j,
					Secrets: map[string]state.SecretMeta{state.JournalSecretName: {Version: 2}},
				}
			},
			want: map[string]want{iapSlug: {action: plan.Replace,
				reason:  "incomplete apply found (journal): revoke its leftovers and create again",
				changes: map[string]string{"github": "replace", "infisical": "replace"}}},
		},
		{
			name:  "journal without a manifest, spec gone",
			specs: map[string]string{},
			live: func(t *testing.T, l *state.Live) {
				j := &state.Journal{Slug: docsSlug, Operation: "create", Entries: []state.JournalEntry{
					{Step: "mint-token", Surface: "github", RemoteIDs: map[string]string{"installation_id": "1001"}, At: now.Add(-time.Minute)},
				}}
				raw, _ := j.Marshal()
				l.Handoffs[docsSlug] = &state.Handoff{
					Slug: docsSlug, Folder: root + "/" + docsSlug, JournalRaw: raw, Journal: j,
					Secrets: map[string]state.SecretMeta{state.JournalSecretName: {Version: 1}, SecretGitHubToken: {Version: 1}},
				}
			},
			want: map[string]want{docsSlug: {action: plan.Revoke,
				reason:  "incomplete apply found (journal); no spec: revoke its leftovers",
				changes: map[string]string{"github": "revoke"}}},
		},
		{
			name:  "journal beside an active manifest",
			specs: map[string]string{docsSlug: ghReadHCL},
			live: func(t *testing.T, l *state.Live) {
				lh := put(l, applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-time.Hour)))
				j := &state.Journal{Slug: docsSlug, Operation: "refresh", Entries: []state.JournalEntry{
					{Step: "mint-token", Surface: "github", At: now.Add(-time.Minute)},
				}}
				lh.JournalRaw, _ = j.Marshal()
				lh.Journal = j
				lh.Secrets[state.JournalSecretName] = state.SecretMeta{Version: 1}
			},
			want: map[string]want{docsSlug: {action: plan.Refresh, changes: map[string]string{
				"github": "refresh|incomplete apply found (journal)",
			}}},
		},
		{
			name:  "unfinished kill of one surface",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				// `handoff revoke -surface github` wrote its tombstone, then
				// stopped before it revoked the token.
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				m.Revocation = &manifest.Revocation{At: now.Add(-time.Minute), Kind: manifest.RevokedManual, By: "alice", Reason: "token leaked", Surfaces: []string{"github"}}
				lh := put(l, m)
				journal(lh, &state.Journal{Slug: iapSlug, Operation: "revoke", Revocation: m.Revocation,
					Entries: []state.JournalEntry{{Step: "revoke", Surface: "github", At: now.Add(-time.Minute)}}})
			},
			want: map[string]want{iapSlug: {action: plan.Revoke, reason: "unfinished revocation of github by alice",
				changes: map[string]string{
					"github": "revoke|finish it", "infisical": "no-op", "mcp": "no-op", "apple_iap": "no-op",
				}}},
		},
		{
			name:  "unfinished kill before its tombstone",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				// `handoff revoke` wrote its journal and stopped: the
				// manifest is still active, and the token near its refresh.
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				githubRecord(t, m, func(r *ghsurface.Record) { r.TokenExpiresAt = now.Add(5 * time.Minute) })
				lh := put(l, m)
				journal(lh, &state.Journal{Slug: iapSlug, Operation: "revoke",
					Revocation: &manifest.Revocation{At: now.Add(-time.Minute), Kind: manifest.RevokedManual, By: "alice", Reason: "drill"},
					Entries:    []state.JournalEntry{{Step: "revoke", Surface: "github"}, {Step: "revoke", Surface: "infisical"}, {Step: "revoke", Surface: "apple_iap"}}})
			},
			want: map[string]want{iapSlug: {action: plan.Revoke, reason: "unfinished revocation by alice",
				changes: map[string]string{
					"github": "revoke|finish it", "infisical": "revoke", "mcp": "revoke", "apple_iap": "revoke",
				}}},
		},
		{
			name:  "unfinished revocation beside an active manifest",
			specs: map[string]string{docsSlug: ghReadHCL},
			live: func(t *testing.T, l *state.Live) {
				// A revocation by apply stopped after the token and before
				// the manifest: no refresh brings it back.
				lh := put(l, applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-time.Hour)))
				delete(lh.Secrets, SecretGitHubToken)
				journal(lh, &state.Journal{Slug: docsSlug, Operation: "revoke",
					Entries: []state.JournalEntry{{Step: "revoke", Surface: "github", At: now.Add(-time.Minute)}}})
			},
			want: map[string]want{docsSlug: {action: plan.Revoke, reason: "incomplete revocation found (journal): finish it",
				changes: map[string]string{"github": "revoke|finish it"}}},
		},
		{
			name:  "killed surface beside a journal",
			specs: map[string]string{iapSlug: iapHCL},
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, iapSlug, iapHCL), now.Add(-3*time.Hour))
				revoke(m, manifest.RevokedManual, now.Add(-time.Hour), "alice", "token leaked")
				m.Status, m.Revocation.Surfaces = manifest.Active, []string{"github"}
				m.Secrets = []string{SecretInfisicalClientID, SecretInfisicalClientSecret, "APPLE_IAP_KEY"}
				lh := put(l, m)
				delete(lh.Secrets, SecretGitHubToken)
				journal(lh, &state.Journal{Slug: iapSlug, Operation: "refresh",
					Entries: []state.JournalEntry{{Step: "refresh", Surface: "github"}, {Step: "refresh", Surface: "infisical"}}})
			},
			want: map[string]want{iapSlug: {action: plan.Revoke, changes: map[string]string{
				"github":    "revoke|killed by alice at 2026-06-21T11:00:00Z: token leaked; revoke what the unfinished apply left; not minted again",
				"infisical": "refresh|incomplete apply found (journal)",
			}}},
		},
		{
			name:  "installation missing for the owner",
			specs: map[string]string{"fork-sync-20260621": otherOrgHCL},
			want:  map[string]want{"fork-sync-20260621": {action: plan.Create}},
			diags: []string{"error|No GitHub App installation for someone-else|/repo/specs/fork-sync-20260621.hcl:7:19"},
		},
		{
			name:  "installation cannot grant a permission",
			specs: map[string]string{"triage-bot-20260621": issuesWriteHCL},
			want:  map[string]want{"triage-bot-20260621": {action: plan.Create}},
			diags: []string{"error|GitHub App installation cannot grant issues: write|/repo/specs/triage-bot-20260621.hcl:8:30"},
		},
		{
			// H1: the App is the outer bound of every token. Tokens are
			// narrowed per handoff anyway, so a forbidden permission on an
			// installation a spec uses is a warning, not an error; an
			// installation no spec uses is not reported.
			name:  "installation grants forbidden permissions",
			specs: map[string]string{iapSlug: iapHCL, docsSlug: ghReadHCL},
			live: func(t *testing.T, l *state.Live) {
				installs(l).List[0].Permissions = map[string]string{
					"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read",
					"administration": "write", "workflows": "write", "organization_personal_access_tokens": "write",
					"members": "read", "repository_projects": "admin",
				}
				installs(l).List = append(installs(l).List, github.Installation{ID: 1003, Account: "unused-org", TargetType: "Organization",
					Permissions: map[string]string{"secrets": "write", "metadata": "read"}})
			},
			want: map[string]want{
				iapSlug:  {action: plan.Create},
				docsSlug: {action: plan.Create},
			},
			diags: []string{"warning|GitHub App installation on raxx-app (id 1001) grants what no handoff may hold (administration: write, members: read, repository_projects: admin, workflows: write): narrow the App's permissions in its settings|/repo/specs/docs-fixer-20260620.hcl:7:19"},
		},
		{
			name:     "revoke without a provider",
			specs:    map[string]string{},
			registry: without("stripe"),
			live: func(t *testing.T, l *state.Live) {
				m := applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-time.Hour))
				if err := m.Surfaces.Put("stripe", json.RawMessage(`{"mode":"test","key_id":"rk_123","secret":"STRIPE_RESTRICTED_KEY"}`)); err != nil {
					t.Fatal(err)
				}
				m.Secrets = append(m.Secrets, "STRIPE_RESTRICTED_KEY")
				put(l, m)
			},
			want: map[string]want{docsSlug: {action: plan.Revoke, reason: "spec deleted", changes: map[string]string{
				"github": "revoke", "stripe": "revoke",
			}}},
			diags: []string{"error|No provider for surface stripe|"},
		},
		{
			name:  "state problems are warnings",
			specs: map[string]string{},
			live: func(t *testing.T, l *state.Live) {
				l.Problems = []string{"secret /MooseQuest/handoffs/STRAY lies directly in the handoff root, outside any handoff's folder"}
			},
			want:  map[string]want{},
			diags: []string{"warning|Unexpected content in the vault|"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := loadRepo(t, tc.specs)
			live := emptyLive()
			if tc.live != nil {
				tc.live(t, live)
			}
			reg := tc.registry
			if reg == nil {
				reg = allProviders
			}
			p, diags := Plan(context.Background(), repo, live, Options{
				Now: now, GitCommit: "0123456789abcdef0123456789abcdef01234567", Version: "test", Registry: reg,
			})
			if p == nil {
				t.Fatalf("no plan: %v", diags)
			}
			checkDiags(t, diags, tc.diags)
			if len(p.Handoffs) != len(tc.want) {
				t.Errorf("plan has %d handoffs, want %d", len(p.Handoffs), len(tc.want))
			}
			for _, h := range p.Handoffs {
				w, ok := tc.want[h.Slug]
				if !ok {
					t.Errorf("unexpected handoff %s in the plan", h.Slug)
					continue
				}
				if h.Action != w.action {
					t.Errorf("%s: action %s (%s), want %s", h.Slug, h.Action, h.Reason, w.action)
				}
				if !strings.Contains(h.Reason, w.reason) {
					t.Errorf("%s: reason %q, want it to contain %q", h.Slug, h.Reason, w.reason)
				}
				for surface, wc := range w.changes {
					action, reason, _ := strings.Cut(wc, "|")
					c, ok := findChange(h, surface)
					if !ok {
						t.Errorf("%s: no change for %s", h.Slug, surface)
						continue
					}
					if string(c.Action) != action || !strings.Contains(c.Reason+"|"+strings.Join(c.Escalations, "|"), reason) {
						t.Errorf("%s/%s: %s %q (escalations %q), want %s containing %q", h.Slug, surface, c.Action, c.Reason, c.Escalations, action, reason)
					}
				}
			}
			golden(t, p, diags)
		})
	}
}

func findChange(h plan.Handoff, surface string) (plan.Change, bool) {
	for _, c := range h.Changes {
		if c.Surface == surface {
			return c, true
		}
	}
	return plan.Change{}, false
}

func diagString(d *hcl.Diagnostic) string {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	subj := ""
	if d.Subject != nil {
		subj = spec.RangeString(*d.Subject)
	}
	return sev + "|" + d.Summary + "|" + subj
}

func checkDiags(t *testing.T, diags hcl.Diagnostics, want []string) {
	t.Helper()
	var got []string
	for _, d := range diags {
		got = append(got, diagString(d))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s\n(details: %v)", strings.Join(got, "\n"), strings.Join(want, "\n"), diags)
	}
}

// golden compares the plan and its diagnostics, as JSON, with
// testdata/<test name>.golden.json.
func golden(t *testing.T, p *plan.Plan, diags hcl.Diagnostics) {
	t.Helper()
	type goldenDiag struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail"`
		Subject  string `json:"subject,omitempty"`
	}
	doc := struct {
		Plan        *plan.Plan   `json:"plan"`
		Diagnostics []goldenDiag `json:"diagnostics"`
	}{Plan: p, Diagnostics: []goldenDiag{}}
	for _, d := range diags {
		parts := strings.SplitN(diagString(d), "|", 3)
		doc.Diagnostics = append(doc.Diagnostics, goldenDiag{Severity: parts[0], Summary: d.Summary, Detail: d.Detail, Subject: parts[2]})
	}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	name := strings.NewReplacer(" ", "_", ":", "", ",", "", "/", "_").Replace(strings.TrimPrefix(t.Name(), "TestPlan/"))
	file := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/reconcile -run TestPlan -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("plan differs from %s (rerun with -update and review the diff):\n%s", file, firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}

func TestPlanIsDeterministicAndCarriesFingerprints(t *testing.T) {
	repo := loadRepo(t, map[string]string{iapSlug: iapHCL, docsSlug: ghReadHCL})
	live := emptyLive()
	put(live, applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-time.Hour)))
	opts := Options{Now: now, Registry: allProviders}
	p1, _ := Plan(context.Background(), repo, live, opts)
	p2, _ := Plan(context.Background(), repo, live, opts)
	b1, _ := json.Marshal(p1)
	b2, _ := json.Marshal(p2)
	if !bytes.Equal(b1, b2) {
		t.Fatal("two plans of the same inputs differ")
	}
	if p1.StateFingerprint != live.Fingerprint() {
		t.Errorf("StateFingerprint %s, want live.Fingerprint() %s", p1.StateFingerprint, live.Fingerprint())
	}
	if p1.SpecsDigest != SpecsDigest(repo.Handoffs) || !strings.HasPrefix(p1.SpecsDigest, "sha256:") {
		t.Errorf("SpecsDigest %q", p1.SpecsDigest)
	}
	// The specs digest follows the specs, not their order.
	rev := []*spec.Handoff{repo.Handoffs[1], repo.Handoffs[0]}
	if SpecsDigest(rev) != p1.SpecsDigest {
		t.Error("SpecsDigest depends on the order of the specs")
	}
	other := loadRepo(t, map[string]string{iapSlug: iapWiderHCL, docsSlug: ghReadHCL})
	if SpecsDigest(other.Handoffs) == p1.SpecsDigest {
		t.Error("SpecsDigest did not change with a spec")
	}
	if !p1.Policy.Passed || len(p1.Policy.Checks) == 0 {
		t.Errorf("policy result %+v", p1.Policy)
	}
}

func TestPlanRecordsPolicyFailures(t *testing.T) {
	bad := strings.Replace(ghReadHCL, `contents = "read"`, `administration = "write"`, 1)
	repo := loadRepo(t, map[string]string{docsSlug: bad})
	p, diags := Plan(context.Background(), repo, emptyLive(), Options{Now: now, Registry: allProviders})
	if !diags.HasErrors() || p.Policy.Passed {
		t.Fatalf("a forbidden permission passed: passed=%v diags=%v", p.Policy.Passed, diags)
	}
	// A caller that ran policy.Check itself gets only the planner's diagnostics.
	p, diags = Plan(context.Background(), repo, emptyLive(), Options{Now: now, Registry: allProviders,
		PolicyChecked: true, PolicyDiagnostics: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "x"}}})
	for _, d := range diags {
		if d.Summary == "x" || strings.HasPrefix(d.Summary, "Forbidden") {
			t.Errorf("policy diagnostic returned again: %v", d)
		}
	}
	if p.Policy.Passed {
		t.Error("policy result passed despite the caller's errors")
	}
}

func TestPlanNeedsNow(t *testing.T) {
	repo := loadRepo(t, nil)
	if p, diags := Plan(context.Background(), repo, emptyLive(), Options{}); p != nil || !diags.HasErrors() {
		t.Fatalf("plan without Now: %v %v", p, diags)
	}
}

func TestRefreshWindow(t *testing.T) {
	repo := loadRepo(t, map[string]string{docsSlug: ghReadHCL})
	for _, tc := range []struct {
		left     time.Duration
		window   time.Duration
		schedule time.Duration
		want     plan.Action
	}{
		// Due within DueWithin(15m) = 20m, whatever the window; a window
		// at most that long spreads nothing (one phase: every run).
		{21 * time.Minute, 20 * time.Minute, 0, plan.NoOp},
		{20 * time.Minute, 20 * time.Minute, 0, plan.Refresh},
		{20 * time.Minute, 10 * time.Minute, 0, plan.Refresh},
		{3 * time.Minute, 10 * time.Minute, 0, plan.Refresh},
		{51 * time.Minute, 0, 0, plan.NoOp},
		// Runs every 30 minutes (handoff.hcl's apply.schedule): due within
		// 40m, or the next run, perhaps late, comes after the expiry.
		{35 * time.Minute, 20 * time.Minute, 30 * time.Minute, plan.Refresh},
		{41 * time.Minute, 20 * time.Minute, 30 * time.Minute, plan.NoOp},
		{35 * time.Minute, 20 * time.Minute, 15 * time.Minute, plan.NoOp},
	} {
		live := emptyLive()
		m := applied(t, parseSpec(t, docsSlug, ghReadHCL), now.Add(-time.Hour))
		githubRecord(t, m, func(r *ghsurface.Record) { r.TokenExpiresAt = now.Add(tc.left) })
		put(live, m)
		p, _ := Plan(context.Background(), repo, live, Options{Now: now, RefreshWindow: tc.window, Schedule: tc.schedule, Registry: allProviders})
		if got := p.Handoffs[0].Action; got != tc.want {
			t.Errorf("token left %s, window %s, schedule %s: %s, want %s", tc.left, tc.window, tc.schedule, got, tc.want)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		q, p string
		want bool
	}{
		{"/a/b/**", "/a/b/c/D", true},
		{"/a/b/**", "/a/bc/D", false},
		{"/a/B_*", "/a/B_C*", true},
		{"/a/B_*", "/a/C_*", false},
		{"/a/B_*", "/a/B_/x", false},
		{"/a/X", "/a/X", true},
	} {
		if got := plan.CoveredBy(tc.p, []string{tc.q}); got != tc.want {
			t.Errorf("covers(%q, %q) = %v, want %v", tc.q, tc.p, got, tc.want)
		}
	}
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		8 * time.Minute:                 "8m",
		65 * time.Minute:                "1h5m",
		24 * time.Hour:                  "24h",
		45 * time.Second:                "45s",
		8*time.Minute + 20*time.Second:  "8m",
		-3 * time.Minute:                "3m",
		2*time.Hour + 29*time.Second:    "2h",
		59*time.Minute + 50*time.Second: "1h",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%s) = %q, want %q", d, got, want)
		}
	}
}
