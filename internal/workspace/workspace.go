// Package workspace is what every remote command of the CLI starts from: the
// GitOps directory's specs and handoff.hcl (validated against the policy),
// the settings they give after environment overrides, the provider clients
// built from the provisioner's credentials in the environment, the clock,
// and the live state and plan computed from them.
//
// Settings come from handoff.hcl; the environment overrides them:
// INFISICAL_SITE_URL, INFISICAL_PROJECT_ID, INFISICAL_ORGANIZATION_ID,
// HANDOFF_GITHUB_API_URL and HANDOFF_GITHUB_APP_ID. Credentials come only from
// the environment: INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET,
// GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE, CF_ACCESS_CLIENT_ID
// and CF_ACCESS_CLIENT_SECRET.
package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/provider/cloudflare"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/vault"
	"github.com/raxx-app/handoff/internal/vault/infisicalvault"
)

// Environment variables read besides the providers' own.
const (
	EnvOrganizationID = "INFISICAL_ORGANIZATION_ID"
	EnvGitHubAPIURL   = "HANDOFF_GITHUB_API_URL"
	EnvGitHubAppID    = "HANDOFF_GITHUB_APP_ID"
	// EnvDevClockURL points at the /_dev/clock endpoint of `handoff dev`:
	// when set, the CLI runs on the dev servers' clock (which tests and the
	// demo advance) instead of the wall clock. Never set it in production.
	EnvDevClockURL = "HANDOFF_DEV_CLOCK_URL"
	// EnvInfisicalRateLimits and EnvGitHubRateLimits choose the vendors'
	// rate limits the tool paces itself to: "cloud" or "self-hosted" for
	// Infisical, "dotcom" or "enterprise" for GitHub; unset, by the
	// endpoint (Infisical Cloud and api.github.com are paced, other
	// endpoints only obey what the server says). `handoff dev` sets them to
	// the limits its servers enforce.
	EnvInfisicalRateLimits = "HANDOFF_INFISICAL_RATE_LIMITS"
	EnvGitHubRateLimits    = "HANDOFF_GITHUB_RATE_LIMITS"
	// EnvAWSEndpoint sends every AWS call to one endpoint (the local server
	// of `handoff dev`); the standard AWS_ENDPOINT_URL works too.
	EnvAWSEndpoint = "HANDOFF_AWS_ENDPOINT_URL"
)

// Settings are the resolved connection settings of a workspace.
type Settings struct {
	SiteURL        string
	OrganizationID string
	ProjectID      string
	Environment    string
	HandoffRoot    string
	GitHubAPIURL   string
	GitHubAppID    int64
	// GitHubAppIDFrom is EnvGitHubAppID when the environment set the App
	// id (then GitHubAppID is 0 if it is not a positive number), else empty
	// (handoff.hcl's app_id).
	GitHubAppIDFrom string
}

// Workspace is a loaded GitOps directory with lazily built clients.
type Workspace struct {
	Dir      string
	Repo     *spec.Repo
	Settings Settings
	// PolicyDiagnostics are the warnings policy.Check reported (errors stop
	// Load).
	PolicyDiagnostics hcl.Diagnostics
	// Version is the handoff build, recorded in plans.
	Version string
	// HTTP tunes every provider's client (tests inject a transport). Its
	// Pacer, when nil, is made on first use: one per workspace, shared by
	// every client, reporting each wait to OnWait.
	HTTP httpx.Config
	// OnWait is told of every wait for a vendor's rate limit ("waiting 38 s
	// for Infisical's limit on secret writes, 40/min"); nil says nothing.
	OnWait func(pace.Wait)

	getenv      func(string) string
	clockOffset time.Duration

	ghOnce  sync.Once
	gh      *github.Client
	ghErr   error
	infOnce sync.Once
	inf     *infisical.Client
	infErr  error

	regOnce sync.Once
	reg     *surface.Registry

	paceOnce sync.Once
	cfOnce   sync.Once
	cf       *cloudflare.Client
	cfErr    error
	awsOnce  sync.Once
	aws      *aws.Client
	awsErr   error
	hkOnce   sync.Once
	hk       *heroku.Client
	hkErr    error
}

// httpConfig is the HTTP configuration every client shares, with the
// workspace's pacer.
func (w *Workspace) httpConfig() httpx.Config {
	w.paceOnce.Do(func() {
		if w.HTTP.Pacer == nil {
			w.HTTP.Pacer = pace.New(pace.Config{OnWait: func(wt pace.Wait) {
				if w.OnWait != nil {
					w.OnWait(wt)
				}
			}})
		}
	})
	return w.HTTP
}

// SetWaitDeadline bounds every wait for a vendor's limit from now on, in
// every client of the workspace, whether or not it made requests already: a
// wait that would end after t (wall clock) fails at once
// (pace.Pacer.SetDeadline). Zero: none.
func (w *Workspace) SetWaitDeadline(t time.Time) { w.Pacer().SetDeadline(t) }

// Pacer is the workspace's pacer: its counters say how many requests went
// to each vendor and rate-limit class, and how long the limits made the run
// wait.
func (w *Workspace) Pacer() *pace.Pacer { return w.httpConfig().Pacer }

// Load parses and validates dir (the directory holding handoff.hcl and
// specs/). Diagnostics with errors mean nothing else may run: no remote
// call is made before the specs pass the policy.
func Load(ctx context.Context, dir string, getenv func(string) string) (*Workspace, hcl.Diagnostics) {
	repo, diags := spec.LoadDir(dir)
	if !diags.HasErrors() {
		diags = append(diags, policy.CheckBounded(repo)...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return finishLoad(ctx, dir, repo, diags, getenv)
}

// LoadForRevoke is Load for the kill switch, which only ever lowers
// privilege: an invalid spec must not keep an operator from revoking
// another handoff. Errors in handoff.hcl (or a repository that cannot be
// read) still stop it; slug's own spec with errors is left out, its
// diagnostics turned into warnings that say so. No other spec is read
// (spec.LoadDirOf): the kill switch never waits for another handoff's
// spec, however large or hostile. Every other command uses Load.
func LoadForRevoke(ctx context.Context, dir string, getenv func(string) string, slug string) (*Workspace, hcl.Diagnostics) {
	repo, diags := spec.LoadDirOf(dir, []string{slug})
	if repo != nil && repo.Config != nil {
		diags = append(diags, policy.CheckBounded(repo)...)
	}
	bad := map[string]bool{}
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject != nil {
			bad[d.Subject.Filename] = true
		}
	}
	cfgBroken := repo == nil || repo.Config == nil || bad[repo.Config.Filename]
	for _, d := range diags {
		if d.Severity == hcl.DiagError && (d.Subject == nil || (repo != nil && repo.Config != nil && d.Subject.Filename == repo.Config.Filename)) {
			cfgBroken = true
		}
	}
	if cfgBroken {
		return nil, diags
	}
	var keep []*spec.Handoff
	for _, h := range repo.Handoffs {
		if !bad[h.Filename] {
			keep = append(keep, h)
		}
	}
	repo.Handoffs = keep
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			d.Severity = hcl.DiagWarning
			d.Summary += " (spec left out: revoke goes on without it)"
		}
	}
	return finishLoad(ctx, dir, repo, diags, getenv)
}

// LoadForSlugs is Load for the commands about given handoffs only (gate,
// env, verify SLUG…, rotation): they depend on handoff.hcl and on those
// handoffs' own specs, never on another handoff's, so they read no other
// spec (spec.LoadDirOf): one invalid, large or hostile spec must neither
// stop nor slow the dispatch of every task. Errors in handoff.hcl or the
// default policy, in a spec file of one of slugs, or tied to no spec file
// still stop it. An entry of specs/ with errors that is not theirs (a
// misplaced spec) gives way to one warning per file that says so.
func LoadForSlugs(ctx context.Context, dir string, getenv func(string) string, slugs []string) (*Workspace, hcl.Diagnostics) {
	repo, diags := spec.LoadDirOf(dir, slugs)
	if repo == nil || repo.Config == nil {
		return nil, diags
	}
	diags = append(diags, policy.CheckBounded(repo)...)
	want := map[string]bool{}
	for _, s := range slugs {
		want[s] = true
	}
	own := map[string]bool{}
	for _, h := range repo.Handoffs {
		if want[h.Slug.Value] {
			own[h.Filename] = true
		}
	}
	specDir := filepath.Join(repo.Dir, spec.SpecsDir) + string(filepath.Separator)
	var kept hcl.Diagnostics
	errs := map[string]int{} // other spec files with errors → how many
	first := map[string]string{}
	var order []string
	for _, d := range diags {
		if d.Subject == nil {
			kept = append(kept, d)
			continue
		}
		f := d.Subject.Filename
		if f == repo.Config.Filename || own[f] || want[spec.SlugFromFilename(f)] || !strings.HasPrefix(f, specDir) {
			kept = append(kept, d)
			continue
		}
		if d.Severity == hcl.DiagError {
			if errs[f] == 0 {
				order = append(order, f)
				first[f] = d.Summary
			}
			errs[f]++
		}
	}
	if kept.HasErrors() {
		return nil, kept
	}
	sort.Strings(order)
	for _, f := range order {
		kept = append(kept, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Spec with errors left out",
			Detail: fmt.Sprintf("%s has %s (%s). It is not the spec of %s, which does not depend on it: this command goes on without it, but plan and apply stop until it is fixed. Run handoff validate to see them.",
				f, plural(errs[f], "error"), strings.TrimSuffix(first[f], "."), strings.Join(slugs, ", ")),
			Subject: spec.FileRange(f).Ptr()})
	}
	keep := repo.Handoffs[:0:0]
	for _, h := range repo.Handoffs {
		if errs[h.Filename] == 0 {
			keep = append(keep, h)
		}
	}
	repo.Handoffs = keep
	return finishLoad(ctx, dir, repo, kept, getenv)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func finishLoad(ctx context.Context, dir string, repo *spec.Repo, diags hcl.Diagnostics, getenv func(string) string) (*Workspace, hcl.Diagnostics) {
	w := &Workspace{Dir: dir, Repo: repo, PolicyDiagnostics: diags, getenv: getenv}
	w.Settings = resolve(repo.Config, getenv)
	if u := getenv(EnvDevClockURL); u != "" {
		off, err := devClockOffset(ctx, u)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the dev clock",
				Detail: fmt.Sprintf("%s is set but %v. Start `handoff dev` or unset it.", EnvDevClockURL, err)}}
		}
		w.clockOffset = off
	}
	return w, diags
}

func resolve(cfg *spec.Config, getenv func(string) string) Settings {
	var s Settings
	if v := infisicalvault.ConfigOf(cfg); v != nil {
		s.SiteURL = v.SiteURL.Value
		s.OrganizationID = v.OrganizationID.Value
		s.ProjectID = v.ProjectID.Value
		s.Environment = v.Env.Value
		s.HandoffRoot = v.Root.Value
	}
	if g := ghsurface.ConfigOf(cfg); g != nil {
		s.GitHubAPIURL = g.APIURL.Value
		s.GitHubAppID = g.AppID.Value
	}
	override := func(dst *string, key string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	override(&s.SiteURL, infisical.EnvSiteURL)
	override(&s.ProjectID, infisical.EnvProjectID)
	override(&s.OrganizationID, EnvOrganizationID)
	override(&s.GitHubAPIURL, EnvGitHubAPIURL)
	if v := strings.TrimSpace(getenv(EnvGitHubAppID)); v != "" {
		// A value that is not an id is not ignored (handoff.hcl's would
		// be used in its place): GitHub() refuses it.
		s.GitHubAppID, s.GitHubAppIDFrom = 0, EnvGitHubAppID
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			s.GitHubAppID = id
		}
	}
	if s.GitHubAPIURL == "" {
		s.GitHubAPIURL = ghsurface.DefaultAPIURL
	}
	return s
}

// Now is the workspace's clock: the wall clock, or the dev servers' clock
// when HANDOFF_DEV_CLOCK_URL is set.
func (w *Workspace) Now() time.Time { return time.Now().Add(w.clockOffset).UTC() }

// GitHub returns the App's client, built on first use from the environment.
func (w *Workspace) GitHub() (*github.Client, error) {
	w.ghOnce.Do(func() {
		if w.ghErr = w.confirmedEndpoint("github", "api_url", EnvGitHubAPIURL, ghsurface.DefaultAPIURL, w.githubURLAttr()); w.ghErr != nil {
			return
		}
		appIDFrom := "app_id in the github block of handoff.hcl"
		switch {
		case w.Settings.GitHubAppIDFrom == EnvGitHubAppID && w.Settings.GitHubAppID == 0:
			w.ghErr = fmt.Errorf("github: %s=%q is not a GitHub App id (the number on the App's settings page)", EnvGitHubAppID, strings.TrimSpace(w.getenv(EnvGitHubAppID)))
			return
		case w.Settings.GitHubAppID == 0:
			w.ghErr = errors.New("github: no app_id: set it in the github block of handoff.hcl or export " + EnvGitHubAppID)
			return
		case w.Settings.GitHubAppIDFrom != "":
			appIDFrom = w.Settings.GitHubAppIDFrom + " (it overrides app_id in handoff.hcl)"
		}
		key, err := github.LoadPrivateKey(w.getenv)
		if err != nil {
			w.ghErr = err
			return
		}
		w.gh, w.ghErr = github.New(github.Config{
			APIURL: w.Settings.GitHubAPIURL, AppID: w.Settings.GitHubAppID, AppIDFrom: appIDFrom, PrivateKeyPEM: key,
			HTTP: w.httpConfig(), Now: w.Now,
			RateLimits: github.RateLimits{Profile: github.Profile(strings.TrimSpace(w.getenv(EnvGitHubRateLimits)))},
		})
	})
	return w.gh, w.ghErr
}

// Infisical returns the provisioner's client, built on first use from the
// environment.
func (w *Workspace) Infisical() (*infisical.Client, error) {
	w.infOnce.Do(func() {
		if w.infErr = w.confirmedEndpoint("infisical", "site_url", infisical.EnvSiteURL, infisical.DefaultSiteURL, w.infisicalURLAttr()); w.infErr != nil {
			return
		}
		cfg, err := infisical.ConfigFromEnv(w.getenv, infisical.Config{
			SiteURL: w.Settings.SiteURL, OrganizationID: w.Settings.OrganizationID,
			ProjectID: w.Settings.ProjectID, HTTP: w.httpConfig(),
			RateLimits: infisical.RateLimits{Profile: infisical.Profile(strings.TrimSpace(w.getenv(EnvInfisicalRateLimits)))},
		})
		if err != nil {
			w.infErr = err
			return
		}
		w.inf, w.infErr = infisical.New(cfg)
	})
	return w.inf, w.infErr
}

// Close ends what the workspace's clients hold on the servers: the
// provisioner's Infisical access tokens are revoked (a login's token lives
// 30 days by default; a command must not leave one behind). It builds no
// client: a workspace whose Infisical client was never used sends nothing,
// and the client cannot be built after Close. Call it once the command is
// over, with a context that is not the cancelled one of an interrupted run.
func (w *Workspace) Close(ctx context.Context) error {
	w.infOnce.Do(func() { w.infErr = errors.New("infisical: the workspace is closed") })
	if w.inf == nil {
		return nil
	}
	if err := w.inf.Logout(ctx); err != nil {
		return fmt.Errorf("revoke the provisioner's Infisical access token: %w", err)
	}
	return nil
}

// Cloudflare returns the provisioner's Cloudflare client, built on first
// use from the environment (CLOUDFLARE_API_TOKEN, HANDOFF_CLOUDFLARE_API_URL).
func (w *Workspace) Cloudflare() (*cloudflare.Client, error) {
	w.cfOnce.Do(func() {
		w.cf, w.cfErr = cloudflare.New(cloudflare.Config{
			BaseURL: strings.TrimSpace(w.getenv(cloudflare.EnvAPIURL)),
			Token:   cloudflare.Secret(strings.TrimSpace(w.getenv(cloudflare.EnvAPIToken))),
			HTTP:    w.httpConfig(),
		})
	})
	return w.cf, w.cfErr
}

// AWS returns the provisioner's AWS client, built on first use with the
// standard credential chain (environment, shared config, web identity for
// GitHub Actions OIDC).
//
// One layer retries: the SDK's standard retryer, which knows AWS's
// throttling and transient error codes (AWS throttles with a 400 the HTTP
// layer cannot tell from a refusal), with two attempts. Each attempt waits
// for its place in the workspace's pacer (aws.RateModel), whose transport
// sends it once.
func (w *Workspace) AWS() (*aws.Client, error) {
	w.awsOnce.Do(func() {
		hc := w.httpConfig()
		cfg := aws.EnvConfig(w.getenv)
		if e := strings.TrimSpace(w.getenv(EnvAWSEndpoint)); e != "" {
			cfg.Endpoint = e
		}
		cfg.HTTPClient = &http.Client{Transport: aws.PacedTransport(hc.Pacer, hc.Transport)}
		cfg.MaxAttempts = AWSAttempts
		cfg.Now = w.Now
		if w.getenv(EnvDevClockURL) != "" {
			// handoff dev's server checks signatures on the dev clock.
			cfg.SigningClock = w.Now
		}
		w.aws, w.awsErr = aws.New(context.Background(), cfg)
	})
	return w.aws, w.awsErr
}

// AWSAttempts is how many attempts the AWS client makes of one call: one
// retry.
const AWSAttempts = 2

// Heroku returns the provisioner's Heroku client (the dedicated handoff
// account's API key: HEROKU_API_KEY), built on first use.
func (w *Workspace) Heroku() (*heroku.Client, error) {
	w.hkOnce.Do(func() {
		w.hk, w.hkErr = heroku.New(heroku.Config{
			BaseURL: strings.TrimSpace(w.getenv(EnvHerokuAPIURL)),
			APIKey:  strings.TrimSpace(w.getenv(heroku.EnvAPIKey)),
			HTTP:    w.httpConfig(), Now: w.Now,
		})
	})
	return w.hk, w.hkErr
}

// EnvHerokuAPIURL is the Heroku API base URL (the local server of `handoff
// dev`); unset, Heroku's.
const EnvHerokuAPIURL = "HANDOFF_HEROKU_API_URL"

// UsesGitHub reports whether any spec has a github block (a workspace
// without one never needs the App key).
func (w *Workspace) UsesGitHub() bool { return w.Uses(ghsurface.Name) }

// Uses reports whether a spec asks for surface name or handoff.hcl has a
// block of it: a workspace that uses none of a vendor's surfaces never
// needs its credentials.
func (w *Workspace) Uses(name string) bool {
	for _, h := range w.Repo.Handoffs {
		if h.HasSurface(name) {
			return true
		}
	}
	_, ok := w.Repo.Config.Block(name)
	return ok
}

// Vault is the vault of the handoffs' folders: the provisioner's Infisical
// project.
func (w *Workspace) Vault() (vault.Vault, error) {
	inf, err := w.Infisical()
	if err != nil {
		return nil, err
	}
	return infisicalvault.New(inf), nil
}

// Registry is the build's surfaces with the workspace's clients: a vendor
// client is built when a surface first needs it. The GitHub App is left
// out when no spec uses it.
func (w *Workspace) Registry() *surface.Registry {
	w.regOnce.Do(func() {
		c := surfaces.Clients{Infisical: w.Infisical, Cloudflare: w.Cloudflare, AWS: w.AWS, Heroku: w.Heroku}
		if w.UsesGitHub() {
			c.GitHub = w.GitHub
		}
		w.reg = surfaces.New(c)
	})
	return w.reg
}

// Readers are the surfaces whose live state is read with the vault's:
// those that read one and that a spec uses (the vault's own surface, the
// handoffs' identities, always: what a deleted spec left is found there).
// A surface that no spec uses any more but whose deterministic names find
// what a handoff left (surface.Leftovers: Cloudflare tokens, Heroku
// authorizations) is read too when an active manifest records it or a
// journal names it (state.WhenRecorded): its last spec was deleted, and
// the revocation sweeps by name. Its vendor's credentials are then needed,
// as they are to revoke what the manifest records.
func (w *Workspace) Readers() []state.LiveReader {
	var out []state.LiveReader
	for _, s := range w.Registry().All() {
		lr, ok := s.(state.LiveReader)
		if !ok {
			continue
		}
		if s.Name() != infsurface.Name && !w.Uses(s.Name()) {
			if _, sweeps := s.(surface.Leftovers); sweeps {
				out = append(out, state.WhenRecorded(lr))
			}
			continue
		}
		out = append(out, lr)
	}
	return out
}

// ReadState reads the live state of every handoff (internal/state), and
// the rotation document when handoff.hcl enrolls credentials.
func (w *Workspace) ReadState(ctx context.Context) (*state.Live, error) {
	v, err := w.Vault()
	if err != nil {
		return nil, err
	}
	if w.UsesGitHub() {
		// Fail here, with the App's own message, rather than in a reader.
		if _, err := w.GitHub(); err != nil {
			return nil, err
		}
	}
	return state.Read(ctx, state.Sources{Vault: v, Readers: w.Readers()},
		state.Options{Environment: w.Settings.Environment, Root: w.Settings.HandoffRoot, Now: w.Now,
			Rotation: reconcile.RotationLocation(w.Repo.Config)})
}

// Plan reads the live state and diffs the specs against it. Diagnostics
// with errors (a surface without a provider, a permission the App
// installation cannot grant) mean the plan must not be applied.
func (w *Workspace) Plan(ctx context.Context) (*plan.Plan, *state.Live, hcl.Diagnostics, error) {
	live, err := w.ReadState(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	p, diags, err := w.PlanFrom(ctx, live)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, live, diags, nil
}

// PlanFrom diffs the specs against a live state read elsewhere: apply's
// own read under the lock, when the plan it was given went stale while it
// waited for the lock. The surfaces' live plan checks (LivePlanChecker)
// run on it too; an error is a failure to ask them.
func (w *Workspace) PlanFrom(ctx context.Context, live *state.Live) (*plan.Plan, hcl.Diagnostics, error) {
	p, diags := reconcile.Plan(ctx, w.Repo, live, reconcile.Options{
		Now:               w.Now(),
		GitCommit:         GitCommit(w.Dir, w.getenv),
		Version:           w.Version,
		Registry:          w.Registry(),
		Schedule:          w.Repo.Config.Schedule(),
		PolicyChecked:     true,
		PolicyDiagnostics: w.PolicyDiagnostics,
	})
	if p == nil {
		return p, diags, nil
	}
	more, err := w.checkPlanLive(ctx, p, live)
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, more...)
	if more.HasErrors() {
		p.Policy.Passed = false
	}
	for _, d := range more {
		if d.Severity == hcl.DiagWarning {
			p.Policy.Warnings = append(p.Policy.Warnings, d.Summary)
		}
	}
	return p, diags, nil
}

// LivePlanChecker is a surface with plan-time checks that ask its vendor,
// beside the planner's own (surface.PlanChecker, which make no request):
// the GitHub App's installation that reaches each repository a token is
// about to be minted for. Its requests are bounded by the plan's changes,
// never by the number of handoffs. An error is a failure to ask.
type LivePlanChecker interface {
	CheckPlanLive(ctx context.Context, in surface.PlanInput) (hcl.Diagnostics, error)
}

// checkPlanLive runs the LivePlanChecker surfaces that a spec uses with
// every handoff's use of them in p.
func (w *Workspace) checkPlanLive(ctx context.Context, p *plan.Plan, live *state.Live) (hcl.Diagnostics, error) {
	var diags hcl.Diagnostics
	for _, s := range w.Registry().All() {
		lc, ok := s.(LivePlanChecker)
		if !ok || !w.Uses(s.Name()) {
			continue
		}
		in := surface.PlanInput{Specs: w.Repo.Handoffs, Live: live}
		for _, ph := range p.Handoffs {
			h := w.Repo.Handoff(ph.Slug)
			if h == nil || !h.HasSurface(s.Name()) {
				continue
			}
			lh := live.Handoffs[ph.Slug]
			active := lh != nil && lh.Manifest != nil && lh.Manifest.Status == manifest.Active
			for _, c := range ph.Changes {
				if c.Surface == s.Name() {
					in.Uses = append(in.Uses, surface.Use{Spec: h, Change: c, Active: active})
				}
			}
		}
		d, err := lc.CheckPlanLive(ctx, in)
		if err != nil {
			return nil, err
		}
		diags = append(diags, d...)
	}
	return diags, nil
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// GitCommit is the commit the specs come from: GITHUB_SHA in GitHub
// Actions, else `git rev-parse HEAD` in dir, else empty.
func GitCommit(dir string, getenv func(string) string) string {
	if sha := strings.TrimSpace(getenv("GITHUB_SHA")); commitRE.MatchString(sha) {
		return sha
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	out, err := exec.Command("git", "-C", abs, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	if sha := strings.TrimSpace(string(out)); commitRE.MatchString(sha) {
		return sha
	}
	return ""
}

func devClockOffset(ctx context.Context, url string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	// Only `handoff dev`'s clock, which listens on loopback: a clock from
	// anywhere else would move every expiry decision of a real run.
	if h := req.URL.Hostname(); h != "localhost" && (net.ParseIP(h) == nil || !net.ParseIP(h).IsLoopback()) {
		return 0, fmt.Errorf("%s is not a loopback address (handoff dev's clock only)", url)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Now time.Time `json:"now"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	return time.Until(body.Now), nil
}

// confirmedEndpoint refuses to send the provisioner's credentials to an
// endpoint that only the repository names. handoff.hcl is edited by pull
// requests, and the plan job of a pull request runs with the credentials:
// a site_url or api_url changed in the pull request must not redirect them
// (and the App's JWT, the Actions token, the Cloudflare Access headers) to
// a host its author chose. So the endpoint is the environment's when set
// (it overrides handoff.hcl, as the contract says), else the vendor's
// default; a non-default endpoint written only in handoff.hcl is refused
// until the environment confirms it.
func (w *Workspace) confirmedEndpoint(surface, attr, envName, def string, written spec.String) error {
	if strings.TrimSpace(w.getenv(envName)) != "" || !written.Valid() {
		return nil
	}
	if v := strings.TrimRight(strings.TrimSpace(written.Value), "/"); v == "" || v == def {
		return nil
	}
	return fmt.Errorf("%s: %s sets %s = %q, which only the environment may choose: the provisioner's credentials are sent to it, "+
		"and a pull request can change handoff.hcl. Set %s=%s where the credentials are (in GitHub Actions, a repository "+
		"variable passed to the job), or remove %s to use %s",
		surface, rangeString(written.Range), attr, written.Value, envName, written.Value, attr, def)
}

func (w *Workspace) infisicalURLAttr() spec.String {
	if c := infisicalvault.ConfigOf(w.Repo.Config); c != nil {
		return c.SiteURL
	}
	return spec.String{}
}

func (w *Workspace) githubURLAttr() spec.String {
	if c := ghsurface.ConfigOf(w.Repo.Config); c != nil {
		return c.APIURL
	}
	return spec.String{}
}

func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
