package github

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	gh "github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

// Step names.
const (
	StepMint   = "mint installation token"
	StepRevoke = "revoke installation token"
)

// Surface mints installation tokens with the App's client.
type Surface struct {
	// Client returns the App's client; nil when no App is configured
	// (parsing, policy and planning need none).
	Client func() (*gh.Client, error)
}

// New returns the surface; client may be nil.
func New(client func() (*gh.Client, error)) *Surface { return &Surface{Client: client} }

// Name is "github".
func (s *Surface) Name() string { return Name }

func (s *Surface) client() (*gh.Client, error) {
	if s.Client == nil {
		return nil, fmt.Errorf("github: no GitHub App is configured: set the github block of handoff.hcl and the App's private key")
	}
	return s.Client()
}

// Steps: a create mints; a refresh revokes the old token (read from the
// vault) and mints; a revoke revokes the token with itself. Revoking needs
// a token in the folder: without one there is no step.
func (s *Surface) Steps(op surface.Op, req *surface.Request, rec surface.Record) []surface.Step {
	mint := surface.Step{Name: StepMint, Untraceable: true}
	revoke := []surface.Step{{Name: StepRevoke}}
	if req != nil && !tokenInFolder(req, rec) {
		revoke = nil
	}
	switch op {
	case surface.OpCreate:
		return []surface.Step{mint}
	case surface.OpRefresh:
		return append(revoke, mint)
	case surface.OpRevoke:
		return revoke
	}
	return nil
}

// tokenInFolder reports whether the live state shows the token secret in
// the handoff's folder (true when it is not known).
func tokenInFolder(req *surface.Request, rec surface.Record) bool {
	if req.Live == nil {
		return true
	}
	h := req.Live.Handoffs[req.Slug]
	if h == nil {
		return false
	}
	_, ok := h.Secrets[Decode(rec).secretName()]
	return ok
}

// Create mints a token narrowed to the spec's repository and permissions.
func (s *Surface) Create(ctx context.Context, req *surface.Request) (surface.Result, error) {
	g := Of(req.Spec)
	if g == nil {
		return surface.Result{}, fmt.Errorf("github: handoff %s has no github block", req.Slug)
	}
	owner, repo, ok := strings.Cut(g.Repository.Value, "/")
	if !ok || owner == "" || repo == "" {
		return surface.Result{}, fmt.Errorf("github: handoff %s: repository %q is not owner/name", req.Slug, g.Repository.Value)
	}
	inst, err := s.installation(ctx, req, owner, repo)
	if err != nil {
		return surface.Result{}, err
	}
	return s.mint(ctx, req, inst, g.Repository.Value, g.Permissions.Map(), "")
}

// Refresh revokes the token in the vault (gone is fine) and mints a new one
// with the grant rec records.
func (s *Surface) Refresh(ctx context.Context, req *surface.Request, rec surface.Record) (surface.Result, error) {
	r := Decode(rec)
	if r == nil {
		return s.Create(ctx, req)
	}
	prev, err := s.revokeVaultToken(ctx, req, r.Secret)
	if err != nil {
		return surface.Result{}, err
	}
	repository, perms := r.Repository, r.Permissions
	if g := Of(req.Spec); g != nil {
		// The spec is unchanged (a refresh), but it is the authority.
		repository, perms = g.Repository.Value, g.Permissions.Map()
	}
	return s.mint(ctx, req, r.InstallationID, repository, perms, prev)
}

// Revoke revokes the token found in the handoff's folder with itself. A
// token already expired or revoked is success. Without a vault copy there is
// nothing GitHub lets anyone revoke.
func (s *Surface) Revoke(ctx context.Context, req *surface.Request, rec surface.Record) error {
	_, err := s.revokeVaultToken(ctx, req, Decode(rec).secretName())
	return err
}

// revokeVaultToken reads the token in the vault and revokes it with itself;
// it returns the fingerprint of what it found ("" when there was none).
func (s *Surface) revokeVaultToken(ctx context.Context, req *surface.Request, name string) (string, error) {
	if name == "" {
		name = SecretName
	}
	if req.Vault == nil {
		return "", fmt.Errorf("github: handoff %s: no vault to read %s from", req.Slug, name)
	}
	sec, err := req.Vault.GetSecret(ctx, req.Environment, req.Folder, name)
	if vault.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("github: read %s of handoff %s to revoke it: %w", name, req.Slug, err)
	}
	token := strings.TrimSpace(sec.Value)
	sec.Value = ""
	if token == "" {
		return "", nil
	}
	fp := manifest.Fingerprint(token)
	if err := req.Begin(ctx, StepRevoke, map[string]string{"token_fingerprint": fp}); err != nil {
		return fp, err
	}
	c, err := s.client()
	if err != nil {
		return fp, err
	}
	if err := c.RevokeToken(ctx, token); err != nil && !errors.Is(err, gh.ErrTokenGone) {
		return fp, fmt.Errorf("github: revoke token %s of handoff %s: %w", fp, req.Slug, err)
	}
	return fp, nil
}

func (s *Surface) installation(ctx context.Context, req *surface.Request, owner, repo string) (int64, error) {
	if l := LiveOf(req.Live); l != nil {
		if in, ok := l.Find(owner); ok {
			return in.ID, nil
		}
	}
	c, err := s.client()
	if err != nil {
		return 0, err
	}
	in, err := c.InstallationForRepo(ctx, owner, repo)
	if err != nil {
		return 0, fmt.Errorf("github: handoff %s: %w", req.Slug, err)
	}
	return in.ID, nil
}

func (s *Surface) mint(ctx context.Context, req *surface.Request, inst int64, repository string, perms map[string]string, prevFingerprint string) (surface.Result, error) {
	if !req.ExpiresAt.IsZero() && !req.Now.Before(req.ExpiresAt) {
		return surface.Result{}, fmt.Errorf("github: handoff %s expired at %s: no token is minted for it", req.Slug, req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	_, repo, _ := strings.Cut(repository, "/")
	ids := map[string]string{
		"installation_id": strconv.FormatInt(inst, 10),
		"repository":      repository,
		"secret":          SecretName,
		"expires_by":      req.Now.Add(TokenLife).UTC().Format(time.RFC3339),
		// What a flag of an unrevocable mint says (package apply).
		"credential":  "GitHub installation token",
		"reach":       fmt.Sprintf("for %s (installation %d)", repository, inst),
		"unrevocable": "GitHub revokes a token only with the token itself",
	}
	if prevFingerprint != "" {
		ids["prev_fingerprint"] = prevFingerprint
	}
	c, err := s.client()
	if err != nil {
		return surface.Result{}, err
	}
	if err := req.Begin(ctx, StepMint, ids); err != nil {
		return surface.Result{}, err
	}
	tok, err := c.MintToken(ctx, inst, []string{repo}, perms)
	if err != nil {
		return surface.Result{}, fmt.Errorf("github: mint the token of handoff %s: %w", req.Slug, err)
	}
	value := tok.Value
	undo := func(ctx context.Context) error {
		err := c.RevokeToken(ctx, value)
		if errors.Is(err, gh.ErrTokenGone) {
			return nil
		}
		return err
	}
	res := surface.Result{Compensate: undo}
	// Least privilege is checked on what GitHub granted, not on what was
	// asked: a token wider than the spec is revoked at once.
	if err := checkNarrowed(tok, repo, perms); err != nil {
		if uerr := undo(ctx); uerr != nil {
			return res, fmt.Errorf("github: handoff %s: %v; revoking it failed too: %w", req.Slug, err, uerr)
		}
		return surface.Result{}, fmt.Errorf("github: handoff %s: %w (the token was revoked)", req.Slug, err)
	}
	fp := tok.Fingerprint()
	rec := &Record{
		InstallationID:   inst,
		Repository:       repository,
		Permissions:      maps.Clone(perms),
		Secret:           SecretName,
		TokenExpiresAt:   tok.ExpiresAt.UTC(),
		TokenFingerprint: fp,
		MintedAt:         req.Now.UTC(),
	}
	if len(tok.RepositoryIDs) == 1 {
		rec.RepositoryID = tok.RepositoryIDs[0]
	}
	res.Secrets = map[string]string{SecretName: value}
	res.Record = rec
	res.Fingerprint = fp
	res.Detail = fmt.Sprintf("installation token for %s (installation %d; %s), expires %s",
		repository, inst, gh.FormatPermissions(perms), rec.TokenExpiresAt.Format(time.RFC3339))
	return res, nil
}

// checkNarrowed refuses a token that reaches another repository than repo
// or holds a permission beyond perms (metadata: read, which every token
// has, aside).
func checkNarrowed(tok gh.Token, repo string, perms map[string]string) error {
	if len(tok.RepositoryNames) != 1 || !strings.EqualFold(tok.RepositoryNames[0], repo) {
		return fmt.Errorf("GitHub minted a token for repositories %v, not for %s alone", tok.RepositoryNames, repo)
	}
	for name, level := range tok.Permissions {
		if name == "metadata" && level == "read" {
			continue
		}
		want, ok := perms[name]
		if !ok || rank(level) > rank(want) {
			return fmt.Errorf("GitHub granted %s: %s beyond the spec's %s", name, level, orNone(want))
		}
	}
	return nil
}

// Verify compares the manifest's token with the spec and with what the
// token in the vault can reach.
func (s *Surface) Verify(ctx context.Context, req *surface.Request, rec surface.Record) []surface.Violation {
	v := &surface.Violations{Surface: Name}
	add := v.Add
	r := Decode(rec)
	if r == nil {
		add(false, "no token recorded")
		return v.List
	}
	if g := Of(req.Spec); g != nil {
		if !strings.EqualFold(g.Repository.Value, r.Repository) {
			add(true, "the token was minted for %s, the spec asks for %s", r.Repository, g.Repository.Value)
		}
		want := g.Permissions.Map()
		for name, level := range r.Permissions {
			if rank(level) > rank(want[name]) {
				add(true, "the token holds %s: %s, the spec asks for %s", name, level, orNone(want[name]))
			}
		}
	}
	for name, level := range r.Permissions {
		if _, bad := ForbiddenPermission(name); bad || level == "admin" {
			add(true, "the token holds the forbidden permission %s: %s", name, level)
		}
	}
	if !req.Now.Before(r.TokenExpiresAt) {
		add(false, "the token expired at %s: run handoff apply to mint a new one", r.TokenExpiresAt.UTC().Format(time.RFC3339))
	}
	if req.Vault == nil {
		return v.List
	}
	sec, err := req.Vault.GetSecret(ctx, req.Environment, req.Folder, r.secretName())
	if err != nil {
		if vault.IsNotFound(err) {
			add(false, "%s is missing from %s", r.secretName(), req.Folder)
		} else {
			add(false, "cannot read %s: %v", r.secretName(), err)
		}
		return v.List
	}
	token := strings.TrimSpace(sec.Value)
	sec.Value = ""
	if fp := manifest.Fingerprint(token); fp != r.TokenFingerprint {
		add(false, "the token in the vault (%s) is not the one the manifest records (%s)", fp, r.TokenFingerprint)
	}
	if !req.Now.Before(r.TokenExpiresAt) {
		return v.List
	}
	c, err := s.client()
	if err != nil {
		add(false, "cannot verify the token with GitHub: %v", err)
		return v.List
	}
	repos, err := c.TokenRepositories(ctx, token)
	switch {
	case err != nil:
		add(false, "the token is refused by GitHub (%v): run handoff apply", err)
	case len(repos) != 1 || !strings.EqualFold(repos[0].FullName, r.Repository):
		names := make([]string, len(repos))
		for i, x := range repos {
			names[i] = x.FullName
		}
		sort.Strings(names)
		add(true, "the token reaches %s, the manifest records %s only", strings.Join(names, ", "), r.Repository)
	}
	return v.List
}

var levels = map[string]int{"": 0, "none": 0, "read": 1, "write": 2, "admin": 3}

func rank(level string) int { return levels[level] }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Session: the token, as GH_TOKEN (the name gh and most tools read).
func (s *Surface) Session(rec surface.Record, _ string) surface.Session {
	return surface.Session{Env: []surface.EnvVar{{Name: "GH_TOKEN", Secret: Decode(rec).secretName()}}}
}

// DescribeRevoke says what revoking rec ended.
func (s *Surface) DescribeRevoke(rec surface.Record, _ bool) string {
	r := Decode(rec)
	if r == nil {
		return ""
	}
	return fmt.Sprintf("installation token %s for %s (the token in the vault, with itself)", r.TokenFingerprint, r.Repository)
}
