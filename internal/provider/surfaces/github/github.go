// Package github is the github surface: a GitHub App installation token
// narrowed at mint time to the spec's one repository and its permissions,
// written to the handoff's folder as GH_HANDOFF_TOKEN.
//
// GitHub fixes a token's life at one hour and revokes one only when given
// the token itself (DELETE /installation/token): the vault copy is the only
// means of revocation. So the mint is the surface's one Untraceable step,
// and apply writes the value to the vault right after it. A process killed
// between the mint and that write leaves a token nobody can revoke; it
// reaches one repository with the spec's permissions and dies within the
// hour (see package apply).
package github

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider"
	gh "github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/spec"
)

// SecretName is the vault secret holding the token.
const SecretName = "GH_HANDOFF_TOKEN"

// TokenLife is the life GitHub gives an installation token.
const TokenLife = time.Hour

// Step names.
const (
	StepMint   = "mint installation token"
	StepRevoke = "revoke installation token"
)

// Surface mints installation tokens with the App's Client.
type Surface struct {
	Client *gh.Client
}

// New returns the surface.
func New(c *gh.Client) *Surface { return &Surface{Client: c} }

// Name is "github".
func (s *Surface) Name() string { return spec.SurfaceGitHub }

// Secrets is GH_HANDOFF_TOKEN.
func (s *Surface) Secrets() []string { return []string{SecretName} }

// Steps: a create mints; a refresh revokes the old token (read from the
// vault) and mints; a revoke revokes the token with itself. Revoking needs
// a token in the folder: without one there is no step.
func (s *Surface) Steps(op provider.Op, req *provider.Request, rec *provider.Record) []provider.Step {
	mint := provider.Step{Name: StepMint, Untraceable: true}
	revoke := []provider.Step{{Name: StepRevoke}}
	if req != nil && !tokenInFolder(req, rec) {
		revoke = nil
	}
	switch op {
	case provider.OpCreate:
		return []provider.Step{mint}
	case provider.OpRefresh:
		return append(revoke, mint)
	case provider.OpRevoke:
		return revoke
	}
	return nil
}

// tokenInFolder reports whether the live state shows the token secret in
// the handoff's folder (true when it is not known).
func tokenInFolder(req *provider.Request, rec *provider.Record) bool {
	if req.Live == nil {
		return true
	}
	h := req.Live.Handoffs[req.Slug]
	if h == nil {
		return false
	}
	name := SecretName
	if rec != nil && rec.GitHub != nil && rec.GitHub.Secret != "" {
		name = rec.GitHub.Secret
	}
	_, ok := h.Secrets[name]
	return ok
}

// Create mints a token narrowed to the spec's repository and permissions.
func (s *Surface) Create(ctx context.Context, req *provider.Request) (provider.Result, error) {
	if req.Spec == nil || req.Spec.GitHub == nil {
		return provider.Result{}, fmt.Errorf("github: handoff %s has no github block", req.Slug)
	}
	g := req.Spec.GitHub
	owner, repo, ok := strings.Cut(g.Repository.Value, "/")
	if !ok || owner == "" || repo == "" {
		return provider.Result{}, fmt.Errorf("github: handoff %s: repository %q is not owner/name", req.Slug, g.Repository.Value)
	}
	inst, err := s.installation(ctx, req, owner, repo)
	if err != nil {
		return provider.Result{}, err
	}
	return s.mint(ctx, req, inst, g.Repository.Value, g.Permissions.Map(), "")
}

// Refresh revokes the token in the vault (gone is fine) and mints a new one
// with the grant rec records.
func (s *Surface) Refresh(ctx context.Context, req *provider.Request, rec provider.Record) (provider.Result, error) {
	r := rec.GitHub
	if r == nil {
		return s.Create(ctx, req)
	}
	prev, err := s.revokeVaultToken(ctx, req, r.Secret)
	if err != nil {
		return provider.Result{}, err
	}
	repository, perms := r.Repository, r.Permissions
	if req.Spec != nil && req.Spec.GitHub != nil {
		// The spec is unchanged (a refresh), but it is the authority.
		repository, perms = req.Spec.GitHub.Repository.Value, req.Spec.GitHub.Permissions.Map()
	}
	return s.mint(ctx, req, r.InstallationID, repository, perms, prev)
}

// Revoke revokes the token found in the handoff's folder with itself. A
// token already expired or revoked is success. Without a vault copy there is
// nothing GitHub lets anyone revoke.
func (s *Surface) Revoke(ctx context.Context, req *provider.Request, rec *provider.Record) error {
	name := SecretName
	if rec != nil && rec.GitHub != nil && rec.GitHub.Secret != "" {
		name = rec.GitHub.Secret
	}
	_, err := s.revokeVaultToken(ctx, req, name)
	return err
}

// revokeVaultToken reads the token in the vault and revokes it with itself;
// it returns the fingerprint of what it found ("" when there was none).
func (s *Surface) revokeVaultToken(ctx context.Context, req *provider.Request, name string) (string, error) {
	if name == "" {
		name = SecretName
	}
	if req.Vault == nil {
		return "", fmt.Errorf("github: handoff %s: no vault to read %s from", req.Slug, name)
	}
	sec, err := req.Vault.GetSecret(ctx, req.Environment, req.Folder, name)
	if infisical.IsNotFound(err) {
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
	if err := s.Client.RevokeToken(ctx, token); err != nil && !errors.Is(err, gh.ErrTokenGone) {
		return fp, fmt.Errorf("github: revoke token %s of handoff %s: %w", fp, req.Slug, err)
	}
	return fp, nil
}

func (s *Surface) installation(ctx context.Context, req *provider.Request, owner, repo string) (int64, error) {
	if req.Live != nil && req.Live.InstallationsKnown {
		if in, ok := req.Live.Installation(owner); ok {
			return in.ID, nil
		}
	}
	in, err := s.Client.InstallationForRepo(ctx, owner, repo)
	if err != nil {
		return 0, fmt.Errorf("github: handoff %s: %w", req.Slug, err)
	}
	return in.ID, nil
}

func (s *Surface) mint(ctx context.Context, req *provider.Request, inst int64, repository string, perms map[string]string, prevFingerprint string) (provider.Result, error) {
	if !req.ExpiresAt.IsZero() && !req.Now.Before(req.ExpiresAt) {
		return provider.Result{}, fmt.Errorf("github: handoff %s expired at %s: no token is minted for it", req.Slug, req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	_, repo, _ := strings.Cut(repository, "/")
	ids := map[string]string{
		"installation_id": strconv.FormatInt(inst, 10),
		"repository":      repository,
		"secret":          SecretName,
		"expires_by":      req.Now.Add(TokenLife).UTC().Format(time.RFC3339),
	}
	if prevFingerprint != "" {
		ids["prev_fingerprint"] = prevFingerprint
	}
	if err := req.Begin(ctx, StepMint, ids); err != nil {
		return provider.Result{}, err
	}
	tok, err := s.Client.MintToken(ctx, inst, []string{repo}, perms)
	if err != nil {
		return provider.Result{}, fmt.Errorf("github: mint the token of handoff %s: %w", req.Slug, err)
	}
	value := tok.Value
	undo := func(ctx context.Context) error {
		err := s.Client.RevokeToken(ctx, value)
		if errors.Is(err, gh.ErrTokenGone) {
			return nil
		}
		return err
	}
	res := provider.Result{Compensate: undo}
	// Least privilege is checked on what GitHub granted, not on what was
	// asked: a token wider than the spec is revoked at once.
	if err := checkNarrowed(tok, repo, perms); err != nil {
		if uerr := undo(ctx); uerr != nil {
			return res, fmt.Errorf("github: handoff %s: %v; revoking it failed too: %w", req.Slug, err, uerr)
		}
		return provider.Result{}, fmt.Errorf("github: handoff %s: %w (the token was revoked)", req.Slug, err)
	}
	fp := tok.Fingerprint()
	rec := &manifest.GitHub{
		InstallationID:   inst,
		Repository:       repository,
		Permissions:      cloneMap(perms),
		Secret:           SecretName,
		TokenExpiresAt:   tok.ExpiresAt.UTC(),
		TokenFingerprint: fp,
		MintedAt:         req.Now.UTC(),
	}
	if len(tok.RepositoryIDs) == 1 {
		rec.RepositoryID = tok.RepositoryIDs[0]
	}
	res.Secrets = map[string]string{SecretName: value}
	res.Record = provider.Record{GitHub: rec}
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
func (s *Surface) Verify(ctx context.Context, req *provider.Request, rec provider.Record) []provider.Violation {
	var out []provider.Violation
	add := func(scope bool, format string, args ...any) {
		out = append(out, provider.Violation{Surface: spec.SurfaceGitHub, Scope: scope, Message: fmt.Sprintf(format, args...)})
	}
	r := rec.GitHub
	if r == nil {
		add(false, "no token recorded")
		return out
	}
	if req.Spec != nil && req.Spec.GitHub != nil {
		g := req.Spec.GitHub
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
		if level == "admin" || name == "administration" || name == "secrets" || name == "workflows" || strings.HasPrefix(name, "organization_") {
			add(true, "the token holds the forbidden permission %s: %s", name, level)
		}
	}
	if !req.Now.Before(r.TokenExpiresAt) {
		add(false, "the token expired at %s: run handoff apply to mint a new one", r.TokenExpiresAt.UTC().Format(time.RFC3339))
	}
	if req.Vault == nil {
		return out
	}
	sec, err := req.Vault.GetSecret(ctx, req.Environment, req.Folder, cmp.Or(r.Secret, SecretName))
	if err != nil {
		if infisical.IsNotFound(err) {
			add(false, "%s is missing from %s", cmp.Or(r.Secret, SecretName), req.Folder)
		} else {
			add(false, "cannot read %s: %v", cmp.Or(r.Secret, SecretName), err)
		}
		return out
	}
	token := strings.TrimSpace(sec.Value)
	sec.Value = ""
	if fp := manifest.Fingerprint(token); fp != r.TokenFingerprint {
		add(false, "the token in the vault (%s) is not the one the manifest records (%s)", fp, r.TokenFingerprint)
	}
	if !req.Now.Before(r.TokenExpiresAt) {
		return out
	}
	repos, err := s.Client.TokenRepositories(ctx, token)
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
	return out
}

var levels = map[string]int{"": 0, "none": 0, "read": 1, "write": 2, "admin": 3}

func rank(level string) int { return levels[level] }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
