package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/githubsrv"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/provider/cloudflare"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/state/statetest"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/vault"
	"github.com/raxx-app/handoff/internal/vault/infisicalvault"
)

// ghRec is m's token record (nil when none).
func ghRec(m *manifest.Manifest) *ghsurface.Record {
	return ghsurface.Decode(m.Surfaces[ghsurface.Name])
}

// infRec is m's identity record (nil when none).
func infRec(m *manifest.Manifest) *infsurface.Record {
	return infsurface.Decode(m.Surfaces[infsurface.Name])
}

const (
	env        = "staging"
	root       = infisicalsrv.DefaultHandoffRoot
	queue      = infisicalsrv.DefaultQueuePath
	iapSlug    = "iap-notif-handler-20260621"
	stripeSlug = "founders-checkout-20260621"
	leaseTTL   = 30 * time.Second
)

// t0 is the frozen instant every test starts at.
var t0 = time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)

// world is the dev servers behind httptest on a frozen clock, the real
// clients, the GitOps repository of testdata/repo, and the secret scan: every
// text the tests see (progress, errors, plans, manifests, journals, leases)
// is scanned at cleanup for every secret value minted during the test.
type world struct {
	t    testing.TB
	kit  *devkit.Kit
	srv  *devserver.Servers
	inf  *infisical.Client
	gh   *github.Client
	reg  *surface.Registry
	repo *spec.Repo
	// executed are the steps each handoff's run announced, by slug, in
	// the last apply.
	execMu   sync.Mutex
	executed map[string][]string

	progress syncBuffer
	// lastPlan is the plan w.plan made last.
	lastPlan *plan.Plan

	mu     sync.Mutex
	values map[string]bool // secret values minted or configured
	texts  []string        // texts that must hold none of them
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type worldOptions struct {
	// slugs are the specs to keep: classicSlugs when empty, unless
	// everySpec (every spec of testdata/repo, each surface's fixture too).
	slugs     []string
	everySpec bool
	fixture   *infisicalsrv.Fixture
	noCleanup bool
	// maxWait is the longest Retry-After the clients honour (50 ms).
	maxWait time.Duration
	// virtualWaits gives the clients one pacer on a virtual clock: their
	// backoffs and Retry-After waits advance it instead of sleeping (the
	// fault tests wait out a one-second Retry-After hundreds of times).
	virtualWaits bool
}

func newWorld(tb testing.TB, opts worldOptions) *world {
	tb.Helper()
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(t0), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	fx := devserver.Fixtures{Infisical: opts.fixture}
	srv, err := devserver.New(devserver.Options{Kit: kit, Fixtures: fx})
	if err != nil {
		tb.Fatal(err)
	}
	ghs := httptest.NewServer(srv.GitHub)
	infs := httptest.NewServer(srv.Infisical)
	cfs := httptest.NewServer(srv.Cloudflare)
	aws := httptest.NewServer(srv.AWS)
	hks := httptest.NewServer(srv.Heroku)
	for _, s := range []*httptest.Server{ghs, infs, cfs, aws, hks} {
		tb.Cleanup(s.Close)
	}
	hc := httpx.Config{MinWait: time.Millisecond, MaxWait: 50 * time.Millisecond, MaxRetries: 4}
	if opts.maxWait > 0 {
		hc.MaxWait = opts.maxWait
	}
	awsPacer := pace.New(pace.Config{})
	if opts.virtualWaits {
		hc.Pacer = pace.New(pace.Config{Clock: pace.NewVirtualClock(t0)})
		awsPacer = hc.Pacer
	}
	id, secret := srv.Infisical.ProvisionerCredentials()
	inf, err := infisical.New(infisical.Config{SiteURL: infs.URL, ClientID: id, ClientSecret: secret,
		OrganizationID: srv.Infisical.OrganizationID(), ProjectID: srv.Infisical.ProjectID(), HTTP: hc, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	gh, err := github.New(github.Config{APIURL: ghs.URL, AppID: srv.GitHub.AppID(), PrivateKeyPEM: srv.GitHub.AppPrivateKeyPEM(),
		Now: kit.Clock.Now, HTTP: hc, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	repo, diags := spec.LoadDir("testdata/repo")
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	if len(opts.slugs) == 0 && !opts.everySpec {
		opts.slugs = classicSlugs
	}
	if len(opts.slugs) > 0 {
		var keep []*spec.Handoff
		for _, h := range repo.Handoffs {
			if slices.Contains(opts.slugs, h.Slug.Value) {
				keep = append(keep, h)
			}
		}
		repo.Handoffs = keep
	}
	w := &world{t: tb, kit: kit, srv: srv, inf: inf, gh: gh, repo: repo, values: map[string]bool{}}
	cf, err := cloudflare.New(cloudflare.Config{BaseURL: cfs.URL + cloudflaresrv.BasePath,
		Token: cloudflare.Secret(srv.Cloudflare.ProvisionerToken()), HTTP: hc, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	awsKey, awsSecret := srv.AWS.ProvisionerCredentials()
	// As the workspace builds it under handoff dev (workspace.AWS): paced,
	// one retry by the SDK alone, signed on the servers' clock.
	awsClient, err := awsprov.New(context.Background(), awsprov.Config{Region: "us-east-1", Endpoint: aws.URL,
		Credentials: credentials.NewStaticCredentialsProvider(awsKey, awsSecret, ""),
		HTTPClient:  &http.Client{Transport: awsprov.PacedTransport(awsPacer, nil)},
		Retryer:     awsRetryer, Now: kit.Clock.Now, SigningClock: kit.Clock.Now, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	hk, err := heroku.New(heroku.Config{BaseURL: hks.URL, APIKey: srv.Heroku.ProvisionerAPIKey(), HTTP: hc,
		Timeout: 10 * time.Second, Now: kit.Clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	w.reg = surfaces.New(surfaces.Clients{
		GitHub:     func() (*github.Client, error) { return gh, nil },
		Infisical:  func() (*infisical.Client, error) { return inf, nil },
		Cloudflare: func() (*cloudflare.Client, error) { return cf, nil },
		AWS:        func() (*awsprov.Client, error) { return awsClient, nil },
		Heroku:     func() (*heroku.Client, error) { return hk, nil },
	})
	for _, v := range []string{secret, srv.Cloudflare.ProvisionerToken(), awsSecret, srv.Heroku.ProvisionerAPIKey()} {
		w.values[v] = true
	}
	for _, s := range infisicalsrv.DefaultFixture().Projects[0].Secrets {
		w.values[s.Value] = true
	}
	if err := inf.Login(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if !opts.noCleanup {
		tb.Cleanup(w.scan)
	}
	return w
}

func (w *world) now() time.Time { return w.kit.Clock.Now() }

func (w *world) advance(d time.Duration) { w.kit.Clock.Advance(d) }

// deps are the apply dependencies of the world.
func (w *world) deps() apply.Deps {
	return apply.Deps{
		Vault: w.vault(), Readers: statetest.Readers(w.reg), Registry: w.reg, Repo: w.repo,
		Now: w.now, Progress: &w.progress,
		Lock:     apply.LockOptions{TTL: leaseTTL, Poll: 20 * time.Millisecond},
		Executed: w.executedStep,
	}
}

func (w *world) vault() vault.Vault { return infisicalvault.New(w.inf) }

func (w *world) executedStep(slug, step string) {
	w.execMu.Lock()
	defer w.execMu.Unlock()
	if w.executed == nil {
		w.executed = map[string][]string{}
	}
	w.executed[slug] = append(w.executed[slug], step)
}

// checkExecuted compares the steps each handoff's run announced with the
// steps the plan listed (the plan is the only decision): equal for a run
// that finished, a prefix for one that stopped.
func (w *world) checkExecuted(p *plan.Plan, rep apply.Report) {
	w.t.Helper()
	w.execMu.Lock()
	executed := w.executed
	w.executed = nil
	w.execMu.Unlock()
	failed := map[string]bool{}
	for _, h := range rep.Handoffs {
		if h.Err != nil {
			failed[h.Slug] = true
		}
	}
	for _, h := range p.Handoffs {
		got := executed[h.Slug]
		var want []string
		if h.Operation != nil {
			want = h.Operation.Steps
		}
		if len(got) == 0 && (len(rep.Handoffs) == 0 || failed[h.Slug]) {
			continue // not run (a no-change plan, a stop before it)
		}
		if failed[h.Slug] || (len(got) < len(want) && !slices.ContainsFunc(rep.Handoffs, func(r apply.HandoffReport) bool { return r.Slug == h.Slug })) {
			if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
				w.t.Errorf("handoff %s executed steps that are not a prefix of the plan's:\nexecuted %q\nplanned  %q", h.Slug, got, want)
			}
			continue
		}
		if !slices.Equal(got, want) {
			w.t.Errorf("handoff %s executed other steps than the plan lists:\nexecuted %q\nplanned  %q", h.Slug, got, want)
		}
	}
}

// plan reads the live state and plans, as `handoff plan` does.
func (w *world) plan() *plan.Plan {
	w.t.Helper()
	ctx := context.Background()
	live, err := state.Read(ctx, state.Sources{Vault: w.vault(), Readers: statetest.Readers(w.reg)},
		state.Options{Environment: env, Root: root, Now: w.now, Rotation: reconcile.RotationLocation(w.repo.Config)})
	if err != nil {
		w.t.Fatal(err)
	}
	p, diags := reconcile.Plan(ctx, w.repo, live, reconcile.Options{Now: w.now(), Registry: w.reg, Version: "test"})
	if diags.HasErrors() {
		w.t.Fatalf("plan: %v", diags)
	}
	var b bytes.Buffer
	if err := plan.RenderJSON(&b, p); err != nil {
		w.t.Fatal(err)
	}
	_ = plan.RenderText(&b, p, plan.TextOptions{})
	w.text(b.String())
	w.lastPlan = p
	return p
}

func (w *world) live() *state.Live {
	w.t.Helper()
	live, err := state.Read(context.Background(), state.Sources{Vault: w.vault(), Readers: statetest.Readers(w.reg)},
		state.Options{Environment: env, Root: root, Now: w.now, Rotation: reconcile.RotationLocation(w.repo.Config)})
	if err != nil {
		w.t.Fatal(err)
	}
	return live
}

// apply plans and applies with deps, recording every text for the scan.
func (w *world) applyWith(d apply.Deps) (apply.Report, error) {
	w.t.Helper()
	p := w.plan()
	w.execMu.Lock()
	w.executed = nil
	w.execMu.Unlock()
	rep, err := apply.Apply(context.Background(), p, d)
	w.record(rep, err)
	if !errors.Is(err, apply.ErrCrash) {
		w.checkExecuted(p, rep)
	}
	return rep, err
}

func (w *world) record(rep apply.Report, err error) {
	if err != nil {
		w.text(err.Error())
	}
	for _, h := range rep.Handoffs {
		if h.Err != nil {
			w.text(h.Err.Error())
		}
	}
	w.text(strings.Join(rep.Flags, "\n"))
	w.harvest()
}

// revokeWith is `handoff revoke` of slug with opts and the fail point fp
// (nil: none), recording its texts.
func (w *world) revokeWith(slug string, opts apply.RevokeOptions, fp func(apply.Step) error) error {
	d := w.deps()
	d.FailPoint = fp
	rep, err := apply.Revoke(context.Background(), slug, opts, d)
	w.record(rep, err)
	return err
}

// dropSpec deletes slug's spec from the repository, as a merged pull
// request that removes the file does.
func (w *world) dropSpec(slug string) {
	w.repo.Handoffs = slices.DeleteFunc(slices.Clone(w.repo.Handoffs), func(h *spec.Handoff) bool { return h.Slug.Value == slug })
}

// mustApply plans and applies, failing on error.
func (w *world) mustApply() apply.Report {
	w.t.Helper()
	rep, err := w.applyWith(w.deps())
	if err != nil {
		w.t.Fatalf("apply: %v\nprogress:\n%s", err, w.progress.String())
	}
	return rep
}

func (w *world) text(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.texts = append(w.texts, s)
}

// harvest collects the secret values in the vault, and the manifests,
// journals and leases as texts to scan.
func (w *world) harvest() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.srv.Infisical.Secrets(env, root, true) {
		switch s.Key {
		case manifest.SecretName, state.JournalSecretName, apply.LockSecretName:
			w.texts = append(w.texts, s.Value)
		case "GH_HANDOFF_TOKEN", "INFISICAL_CLIENT_SECRET":
			if s.Value != "" {
				w.values[s.Value] = true
			}
		default:
			for _, p := range probes {
				if slices.Contains(p.secrets, s.Key) && s.Value != "" {
					w.values[s.Value] = true
				}
			}
		}
	}
}

// scan fails the test when any text holds a secret value.
func (w *world) scan() {
	w.harvest()
	w.text(w.progress.String())
	w.mu.Lock()
	defer w.mu.Unlock()
	for v := range w.values {
		for _, part := range strings.Split(v, "\n") {
			part = strings.TrimSpace(part)
			if len(part) < 8 || strings.HasPrefix(part, "-----") {
				continue
			}
			for _, t := range w.texts {
				if strings.Contains(t, part) {
					w.t.Errorf("secret scan: a secret value appears in a text the tests saw:\n%.300s", strings.ReplaceAll(t, part, "[THE SECRET]"))
				}
			}
		}
	}
}

// manifests returns the parsed manifests of the vault by slug.
func (w *world) manifests() map[string]*manifest.Manifest {
	w.t.Helper()
	out := map[string]*manifest.Manifest{}
	for _, s := range w.srv.Infisical.Secrets(env, root, true) {
		if s.Key != manifest.SecretName {
			continue
		}
		m, err := manifest.Parse([]byte(s.Value))
		if err != nil {
			w.t.Fatalf("manifest %s: %v", s.Path, err)
		}
		out[m.Slug] = m
	}
	return out
}

func (w *world) manifest(slug string) *manifest.Manifest {
	w.t.Helper()
	m := w.manifests()[slug]
	if m == nil {
		w.t.Fatalf("no manifest for %s", slug)
	}
	return m
}

// secret returns a secret value of a handoff's folder (as the devserver
// holds it).
func (w *world) secret(slug, name string) string {
	w.t.Helper()
	s, ok := w.srv.Infisical.Secret(env, path.Join(root, slug), name)
	if !ok {
		w.t.Fatalf("no secret %s in %s", name, slug)
	}
	w.mu.Lock()
	if name == "GH_HANDOFF_TOKEN" || name == "INFISICAL_CLIENT_SECRET" {
		w.values[s.Value] = true
	}
	w.mu.Unlock()
	return s.Value
}

func (w *world) folderSecrets(slug string) []string {
	var out []string
	for _, s := range w.srv.Infisical.Secrets(env, path.Join(root, slug), false) {
		out = append(out, s.Key)
	}
	sort.Strings(out)
	return out
}

// handoffIdentities are the identities named like a handoff's.
func (w *world) handoffIdentities() []infisicalsrv.IdentityInfo {
	var out []infisicalsrv.IdentityInfo
	for _, id := range w.srv.Infisical.Identities() {
		if strings.HasPrefix(id.Name, infsurface.IdentityPrefix) {
			out = append(out, id)
		}
	}
	return out
}

// windowToken is a live token no manifest names: the documented window.
type windowToken = githubsrv.TokenInfo

// assertNoOrphans checks, through the dev servers' inspection, that no
// identity, live client secret, active privilege or live token exists that
// an active manifest does not name. Live tokens no manifest names are
// returned when allowWindow is set (the caller checks them), else fail.
func (w *world) assertNoOrphans(allowWindow bool) []windowToken {
	w.t.Helper()
	now := w.now()
	ms := w.manifests()
	identities := map[string]*manifest.Manifest{}
	tokens := map[string]bool{}
	for _, m := range ms {
		if m.Status != manifest.Active {
			continue
		}
		if inf := infRec(m); inf != nil {
			identities[inf.IdentityID] = m
		}
		if g := ghRec(m); g != nil && (m.Revocation == nil || !slices.Contains(m.Revocation.Surfaces, "github")) {
			tokens[strings.TrimPrefix(g.TokenFingerprint, "sha256:")] = true
		}
	}
	for _, id := range w.handoffIdentities() {
		m := identities[id.ID]
		if m == nil {
			w.t.Errorf("orphan identity %s (%s): no active manifest names it", id.Name, id.ID)
			continue
		}
		rec := infRec(m)
		for _, cs := range w.srv.Infisical.ClientSecrets(id.ID) {
			if cs.Revoked || (cs.ExpiresAt != nil && !now.Before(*cs.ExpiresAt)) {
				continue
			}
			if cs.ID != rec.ClientSecretID {
				w.t.Errorf("orphan client secret %s of %s", cs.ID, id.Name)
			}
		}
		for _, p := range w.srv.Infisical.Privileges(id.ID) {
			if p.Active && p.ID != rec.PrivilegeID {
				w.t.Errorf("orphan privilege %s of %s", p.ID, id.Name)
			}
			if !p.Temporary || p.EndsAt == nil || p.EndsAt.After(m.ExpiresAt.Add(time.Second)) {
				w.t.Errorf("privilege %s of %s is not temporary until the handoff's expiry: %+v", p.ID, id.Name, p)
			}
		}
	}
	for _, p := range probes {
		for _, msg := range p.orphans(w, ms) {
			w.t.Errorf("%s: orphan: %s", p.surface, msg)
		}
	}
	var window []windowToken
	for _, tok := range w.srv.GitHub.LiveTokens() {
		if tokens[tok.Fingerprint[:12]] {
			continue
		}
		if !allowWindow {
			w.t.Errorf("orphan live token …%s: no active manifest names it", tok.Last4)
			continue
		}
		window = append(window, tok)
	}
	return window
}

// assertNarrowed checks a window token: one repository, the spec's
// permissions, dead within the hour.
func (w *world) assertNarrowed(tok windowToken) {
	w.t.Helper()
	if len(tok.RepositoryIDs) != 1 || tok.RepositoryIDs[0] != githubsrv.DefaultTradeMasterRepoID {
		w.t.Errorf("window token reaches %v, want only TradeMasterAPI", tok.RepositoryIDs)
	}
	for k, v := range tok.Permissions {
		want := map[string]string{"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"}[k]
		if v != want {
			w.t.Errorf("window token holds %s: %s", k, v)
		}
	}
	if tok.ExpiresAt.After(w.now().Add(time.Hour)) {
		w.t.Errorf("window token expires at %s, more than an hour from now", tok.ExpiresAt)
	}
}

// snapshot is the shape of the end state, free of ids and times, to compare
// a recovered run with a clean one.
type snapshot struct {
	Slug       string
	Status     manifest.Status
	Revocation manifest.RevocationKind
	Secrets    []string
	Folder     []string
	Surfaces   []string
	Repo       string
	Perms      map[string]string
	ReadPaths  []string
	Identities int
	LiveTokens int
	// Vendors are the probes' snapshots, by surface.
	Vendors map[string]any `json:",omitempty"`
}

func (w *world) snapshot() []snapshot {
	w.t.Helper()
	var out []snapshot
	live := map[string]bool{}
	for _, tok := range w.srv.GitHub.LiveTokens() {
		live[tok.Fingerprint[:12]] = true
	}
	ms := w.manifests()
	slugs := make([]string, 0, len(ms))
	for s := range ms {
		slugs = append(slugs, s)
	}
	sort.Strings(slugs)
	for _, slug := range slugs {
		m := ms[slug]
		s := snapshot{Slug: slug, Status: m.Status, Secrets: m.Secrets, Folder: w.folderSecrets(slug), Surfaces: m.Surfaces.Names()}
		if m.Revocation != nil {
			s.Revocation = m.Revocation.Kind
		}
		if g := ghRec(m); g != nil {
			s.Repo, s.Perms = g.Repository, g.Permissions
			if live[strings.TrimPrefix(g.TokenFingerprint, "sha256:")] {
				s.LiveTokens = 1
			}
		}
		if i := infRec(m); i != nil {
			s.ReadPaths = i.ReadPaths
		}
		for _, id := range w.handoffIdentities() {
			if sl, ok := infsurface.IdentitySlug(id.Name); ok && sl == slug {
				s.Identities++
			}
		}
		for _, p := range probes {
			if v := p.snapshot(w, slug, m); v != nil {
				if s.Vendors == nil {
					s.Vendors = map[string]any{}
				}
				s.Vendors[p.surface] = v
			}
		}
		out = append(out, s)
	}
	return out
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// assertNoChanges plans and expects nothing to do, and an apply of that
// plan to send no request at all.
func (w *world) assertNoChanges() {
	w.t.Helper()
	p := w.plan()
	if p.HasChanges() {
		for _, h := range p.Handoffs {
			if h.Action.IsChange() {
				w.t.Errorf("expected no changes; %s: %s (%s)", h.Slug, h.Action, h.Reason)
			}
		}
		return
	}
	w.kit.Stats.Reset()
	rep, err := apply.Apply(context.Background(), p, w.deps())
	w.record(rep, err)
	if err != nil {
		w.t.Fatal(err)
	}
	if n := w.kit.Stats.Total(); n != 0 {
		w.t.Errorf("a no-change apply sent %d requests: %v", n, w.kit.Stats.Snapshot())
	}
}

// crashAt is a fail point that crashes at step index k of op on slug.
func crashAt(slug, op string, k int) func(apply.Step) error {
	return func(s apply.Step) error {
		if s.Slug == slug && s.Op == op && s.Index == k {
			return apply.ErrCrash
		}
		return nil
	}
}

// failAt is a fail point that fails (no crash) at step k of op on slug.
func failAt(slug, op string, k int) func(apply.Step) error {
	return func(s apply.Step) error {
		if s.Slug == slug && s.Op == op && s.Index == k {
			return errors.New("injected failure")
		}
		return nil
	}
}

// recordSteps is a fail point that records every step.
type stepLog struct {
	mu    sync.Mutex
	steps []apply.Step
}

func (l *stepLog) fp(s apply.Step) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = append(l.steps, s)
	return nil
}

func (l *stepLog) of(slug, op string) []apply.Step {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []apply.Step
	for _, s := range l.steps {
		if s.Slug == slug && s.Op == op {
			out = append(out, s)
		}
	}
	return out
}
