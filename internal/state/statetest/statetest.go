// Package statetest starts the local dev servers seeded with N active
// handoffs whose manifests match their specs: the bed of the request-count
// tests and of the read and plan benchmarks of packages state and
// reconcile. Seeding goes through the servers' fixtures (their Go API), so
// a world of 1,000 handoffs starts in a fraction of a second; reads go
// through the real provider clients over HTTP.
//
// It is test support: nothing outside tests imports it.
package statetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/vault/infisicalvault"
)

// Environment and Root are where the seeded handoffs live.
const (
	Environment = "staging"
	Root        = infisicalsrv.DefaultHandoffRoot
	// Repository is the repository every seeded handoff's token is for; the
	// default GitHub fixture's installation 1001 covers it.
	Repository = "raxx-app/TradeMasterAPI"
	// RepoDir is the directory the in-memory GitOps repository claims.
	RepoDir = "/gitops"
)

// ValuePrefixes start every secret value Start seeds (token, client
// secret), so that a leak scan can look for them first.
var ValuePrefixes = []string{"ghs_seed", "seed-cs-"}

// World is a running pair of dev servers holding N handoffs, the clients
// that read them, and the GitOps repository whose specs they were applied
// from.
type World struct {
	Servers   *devserver.Servers
	Infisical *infisical.Client
	GitHub    *github.Client
	// Registry is the build's surfaces with the world's clients.
	Registry *surface.Registry
	// Repo holds handoff.hcl and one spec per seeded handoff (not read from
	// disk: Dir is RepoDir).
	Repo *spec.Repo
	// Now is the instant the manifests were written for: created an hour
	// before, tokens valid 50 minutes after.
	Now   time.Time
	Slugs []string
	// Values are every secret value seeded, for leak scans.
	Values []string
}

// Sources are the clients as state.Read wants them: the vault, the
// identities and the App's installations.
func (w *World) Sources() state.Sources {
	return state.Sources{Vault: infisicalvault.New(w.Infisical), Readers: Readers(w.Registry)}
}

// Readers are the registry's surfaces that read live state of their own,
// but those built without a client (a world that configures no Cloudflare
// client reads no Cloudflare state, as a workspace whose specs use none).
func Readers(reg *surface.Registry) []state.LiveReader {
	var out []state.LiveReader
	for _, s := range reg.All() {
		if c, ok := s.(*cfsurface.Surface); ok && c.Client == nil {
			continue
		}
		if lr, ok := s.(state.LiveReader); ok {
			out = append(out, lr)
		}
	}
	return out
}

// Options are the read options of the seeded world.
func (w *World) Options() state.Options {
	return state.Options{Environment: Environment, Root: Root, Now: func() time.Time { return w.Now }}
}

// Slug is the slug of the i-th seeded handoff.
func Slug(i int) string { return fmt.Sprintf("load-%05d-20260621", i) }

// SpecSource is the spec of the i-th seeded handoff.
func SpecSource(i int) string {
	return fmt.Sprintf(`handoff %q {
  card        = %d
  description = "seeded handoff %d"
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = %q
    permissions = { contents = "write", pull_requests = "write" }
  }

  infisical {
    read = ["/MooseQuest/queue/staging/APPLE_IAP_*"]
  }
}
`, Slug(i), 1000+i, i, Repository)
}

// ConfigSource is the handoff.hcl of the world.
func ConfigSource() string {
	return fmt.Sprintf(`infisical {
  organization_id = %q
  project_id      = %q
  environment     = %q
  handoff_root    = %q
}

github {
  app_id = 424242
}

policy {
  max_ttl            = "24h"
  github_permissions = { contents = "write", pull_requests = "write", issues = "write", metadata = "read" }
  vault_read_roots   = [%q]
  github_owners      = ["raxx-app"]
}
`, infisicalsrv.DefaultOrganizationID, infisicalsrv.DefaultProjectID, Environment, Root, infisicalsrv.DefaultQueuePath)
}

// Manifest is what apply would have written for spec h, created at
// created, with a token expiring at tokenExpiry.
func Manifest(h *spec.Handoff, created, tokenExpiry time.Time, identityID string) *manifest.Manifest {
	slug := h.Slug.Value
	exp := created.Add(h.TTL.Value)
	g, in := ghsurface.Of(h), infsurface.Of(h)
	m := &manifest.Manifest{
		SchemaVersion: manifest.SchemaVersion,
		Slug:          slug,
		Card:          int(h.Card.Value),
		SpecFile:      path.Join(spec.SpecsDir, slug+".hcl"),
		SpecDigest:    h.Digest(),
		ApprovedBy:    h.ApprovedBy.Value,
		CreatedAt:     created,
		UpdatedAt:     created,
		ExpiresAt:     exp,
		Status:        manifest.Active,
		Secrets:       []string{"GH_HANDOFF_TOKEN", "INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET"},
	}
	_ = m.Surfaces.Put(ghsurface.Name, &ghsurface.Record{
		InstallationID: 1001, Repository: g.Repository.Value, Permissions: g.Permissions.Map(),
		Secret: "GH_HANDOFF_TOKEN", TokenExpiresAt: tokenExpiry, TokenFingerprint: "sha256:0123456789ab",
	})
	_ = m.Surfaces.Put(infsurface.Name, &infsurface.Record{
		IdentityID: identityID, IdentityName: infsurface.IdentityName(slug, created),
		Environment:    Environment,
		ReadPaths:      append([]string{path.Join(Root, slug) + "/**"}, in.Read.Strings()...),
		ClientIDSecret: "INFISICAL_CLIENT_ID", ClientSecretSecret: "INFISICAL_CLIENT_SECRET",
	})
	return m
}

// Start seeds and starts a world of n handoffs, closed with tb's cleanup.
// The provisioner client is logged in already, so that reads count only
// their own requests.
func Start(tb testing.TB, n int) *World {
	tb.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	created := now.Add(-time.Hour)
	w := &World{Now: now}

	cfgName := path.Join(RepoDir, spec.ConfigFile)
	cfg, diags := spec.ParseConfig(cfgName, []byte(ConfigSource()))
	if diags.HasErrors() {
		tb.Fatalf("statetest: config: %v", diags)
	}
	w.Repo = &spec.Repo{Dir: RepoDir, Config: cfg, Sources: map[string][]byte{}}

	fx := infisicalsrv.DefaultFixture()
	proj := &fx.Projects[0]
	for i := range n {
		slug := Slug(i)
		name := path.Join(RepoDir, spec.SpecsDir, slug+".hcl")
		src := SpecSource(i)
		h, diags := spec.ParseHandoffFile(name, []byte(src))
		if diags.HasErrors() {
			tb.Fatalf("statetest: spec %s: %v", slug, diags)
		}
		w.Repo.Handoffs = append(w.Repo.Handoffs, h)
		w.Slugs = append(w.Slugs, slug)

		identityID := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		// A token minted 5 minutes ago: outside the refresh window (50
		// minutes), so that the world plans as no change at any time.
		m, err := manifest.Marshal(Manifest(h, created, now.Add(55*time.Minute), identityID))
		if err != nil {
			tb.Fatalf("statetest: manifest %s: %v", slug, err)
		}
		folder := path.Join(Root, slug)
		token, clientSecret := ValuePrefixes[0]+randHex(18), ValuePrefixes[1]+randHex(16)
		w.Values = append(w.Values, token, clientSecret)
		proj.Secrets = append(proj.Secrets,
			infisicalsrv.FixtureSecret{Environment: Environment, Path: folder, Key: manifest.SecretName, Value: string(m)},
			infisicalsrv.FixtureSecret{Environment: Environment, Path: folder, Key: "GH_HANDOFF_TOKEN", Value: token},
			infisicalsrv.FixtureSecret{Environment: Environment, Path: folder, Key: "INFISICAL_CLIENT_ID", Value: "seed-client-" + slug},
			infisicalsrv.FixtureSecret{Environment: Environment, Path: folder, Key: "INFISICAL_CLIENT_SECRET", Value: clientSecret},
		)
		fx.Identities = append(fx.Identities, infisicalsrv.FixtureIdentity{ID: identityID, Name: infsurface.IdentityName(slug, created)})
	}
	// Reads only: the server's request limit is not what is measured, so no
	// limiter, as on a self-hosted Infisical.
	fx.Settings.RateLimits.Profile = infisicalsrv.ProfileSelfHosted

	srv, err := devserver.Start(devserver.Options{Fixtures: devserver.Fixtures{Infisical: &fx}})
	if err != nil {
		tb.Fatalf("statetest: start the dev servers: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	w.Servers = srv

	clientID, clientSecret := srv.Infisical.ProvisionerCredentials()
	w.Infisical, err = infisical.New(infisical.Config{
		SiteURL: srv.InfisicalURL, ClientID: clientID, ClientSecret: clientSecret,
		OrganizationID: srv.Infisical.OrganizationID(), ProjectID: srv.Infisical.ProjectID(),
	})
	if err != nil {
		tb.Fatalf("statetest: infisical client: %v", err)
	}
	w.GitHub, err = github.New(github.Config{APIURL: srv.GitHubURL, AppID: srv.GitHub.AppID(), PrivateKeyPEM: srv.GitHub.AppPrivateKeyPEM()})
	if err != nil {
		tb.Fatalf("statetest: github client: %v", err)
	}
	if err := w.Infisical.Login(context.Background()); err != nil {
		tb.Fatalf("statetest: provisioner login: %v", err)
	}
	w.Registry = surfaces.New(surfaces.Clients{
		GitHub:    func() (*github.Client, error) { return w.GitHub, nil },
		Infisical: func() (*infisical.Client, error) { return w.Infisical, nil },
	})
	return w
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
