package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// Token is an installation access token as minted: the secret, its fixed
// one-hour expiry and exactly what GitHub granted.
//
// Value is the only copy of the secret: write it to the vault and nowhere
// else. Token prints as its fingerprint with every fmt verb and in slog, and
// encoding/json skips Value, so an accidental %v or log line cannot leak it.
type Token struct {
	Value     string `json:"-"`
	ExpiresAt time.Time
	// Permissions are what GitHub granted, which may be fewer than the
	// installation holds, never more than asked.
	Permissions map[string]string
	// RepositoryIDs and RepositoryNames (without owner) are the repositories
	// the token reaches, in the same order; empty when GitHub did not narrow
	// it to a list.
	RepositoryIDs   []int64
	RepositoryNames []string
}

// Fingerprint identifies the token in manifests and logs without revealing
// it ("sha256:" and 12 hex digits); empty for a zero Token.
func (t Token) Fingerprint() string {
	if t.Value == "" {
		return ""
	}
	return manifest.Fingerprint(t.Value)
}

// String describes the token by fingerprint and expiry, never by value.
func (t Token) String() string {
	fp := t.Fingerprint()
	if fp == "" {
		fp = "none"
	}
	return fmt.Sprintf("github.Token{%s, expires %s}", fp, t.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString is String.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, …).
func (t Token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// LogValue keeps the value out of structured logs.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Expired reports whether the token is past its expiry at now.
func (t Token) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }

// Repository is a repository as a token sees it.
type Repository struct {
	ID            int64
	Owner         string
	Name          string
	FullName      string
	Private       bool
	Archived      bool
	DefaultBranch string
}

func repositoryFrom(r *gh.Repository) Repository {
	out := Repository{
		ID:            r.GetID(),
		Name:          r.GetName(),
		FullName:      r.GetFullName(),
		Private:       r.GetPrivate(),
		Archived:      r.GetArchived(),
		DefaultBranch: r.GetDefaultBranch(),
	}
	if r.Owner != nil {
		out.Owner = r.Owner.GetLogin()
	}
	return out
}

var permName = regexp.MustCompile(`^[a-z][a-z_]{0,63}$`)

func checkPermissions(perms map[string]string) error {
	if len(perms) == 0 {
		return errors.New("github: no permissions given: a token minted without them gets every permission of the installation")
	}
	for name, level := range perms {
		if !permName.MatchString(name) {
			return fmt.Errorf("github: %q is not a permission name", name)
		}
		if _, ok := levelRank[level]; !ok {
			return fmt.Errorf("github: permission %s: %q is not read, write or admin", name, level)
		}
	}
	return nil
}

// wireToken decodes POST /app/installations/{id}/access_tokens. It is never
// printed or kept: Token takes its place at once.
type wireToken struct {
	Token        string            `json:"token"`
	ExpiresAt    time.Time         `json:"expires_at"`
	Permissions  map[string]string `json:"permissions"`
	Repositories []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"repositories"`
}

type mintRequest struct {
	Repositories []string          `json:"repositories,omitempty"`
	Permissions  map[string]string `json:"permissions"`
}

// MintToken mints an installation access token narrowed to repositories
// (names without owner, at least one) and permissions (at least one), with
// POST /app/installations/{id}/access_tokens. GitHub fixes its life at one
// hour. The request is never retried after an answer that may mean the token
// was created (a 502, a dropped connection): the next apply converges.
//
// A 422 means the installation cannot grant what was asked; the error's
// Remedy names the permissions the installation lacks (looked up with one
// more request) or, when they are all there, the repositories.
func (c *Client) MintToken(ctx context.Context, installationID int64, repositories []string, permissions map[string]string) (Token, error) {
	if len(repositories) == 0 {
		return Token{}, errors.New("github: no repository given: a token minted without one reaches every repository of the installation")
	}
	for _, r := range repositories {
		if strings.Contains(r, "/") {
			return Token{}, fmt.Errorf("github: repository %q: give the name without the owner", r)
		}
		if err := checkName("repository", r); err != nil {
			return Token{}, err
		}
	}
	if err := checkPermissions(permissions); err != nil {
		return Token{}, err
	}
	return c.mint(ctx, installationID, mintRequest{Repositories: repositories, Permissions: permissions})
}

// mint sends a mint request; the org-level helper token of the PAT calls
// comes through here with no repositories.
func (c *Client) mint(ctx context.Context, installationID int64, body mintRequest) (Token, error) {
	var w wireToken
	op := fmt.Sprintf("mint a token from installation %d", installationID)
	err := c.call(ctx, c.appSession(), op, func(ae *httpx.APIError) {
		switch ae.Status {
		case http.StatusUnprocessableEntity:
			ae.Remedy = c.mintRemedy(ctx, installationID, body)
		case http.StatusNotFound:
			ae.Remedy = fmt.Sprintf("installation %d does not exist or the App was uninstalled: install the App again and rerun plan", installationID)
		case http.StatusForbidden:
			if strings.Contains(strings.ToLower(ae.Message), "suspend") {
				ae.Remedy = fmt.Sprintf("installation %d is suspended: an organization owner must unsuspend it", installationID)
			}
		}
	}, func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
		return sendJSON(ctx, g, http.MethodPost, fmt.Sprintf("app/installations/%d/access_tokens", installationID), body, &w)
	})
	if err != nil {
		return Token{}, err
	}
	if w.Token == "" || w.ExpiresAt.IsZero() {
		return Token{}, fmt.Errorf("github: %s: the answer has no token or no expiry", op)
	}
	t := Token{Value: w.Token, ExpiresAt: w.ExpiresAt, Permissions: w.Permissions}
	for _, r := range w.Repositories {
		t.RepositoryIDs = append(t.RepositoryIDs, r.ID)
		t.RepositoryNames = append(t.RepositoryNames, r.Name)
	}
	return t, nil
}

// mintRemedy explains a 422 on a mint: which permissions the installation
// lacks (it reads the installation to know) or, when it has them all, which
// of the repositories it does not cover (one look-up each, for up to ten).
// It falls back to naming everything that was asked for.
func (c *Client) mintRemedy(ctx context.Context, installationID int64, body mintRequest) string {
	asked := strings.Join(body.Repositories, ", ")
	if asked == "" {
		asked = "(none)"
	}
	inst, err := c.InstallationByID(ctx, installationID)
	if err != nil {
		return fmt.Sprintf("the App installation %d lacks permission %s or repository %s: add it to the installation or narrow the spec",
			installationID, FormatPermissions(body.Permissions), asked)
	}
	if missing := CheckGrant(inst, body.Permissions); len(missing) > 0 {
		return fmt.Sprintf("the App installation %d on %s lacks permission %s: add it to the App and have an owner accept it on the installation, or narrow the spec",
			installationID, inst.Account, strings.Join(missing, ", "))
	}
	lacking := body.Repositories
	if len(body.Repositories) <= 10 {
		lacking = nil
		for _, r := range body.Repositories {
			found, err := c.InstallationForRepo(ctx, inst.Account, r)
			if err != nil || found.ID != installationID {
				lacking = append(lacking, r)
			}
		}
		if len(lacking) == 0 {
			lacking = body.Repositories
		}
	}
	return fmt.Sprintf("the App installation %d on %s lacks repository %s: add it to the installation (organization settings → GitHub Apps → Configure → Repository access), or narrow the spec",
		installationID, inst.Account, strings.Join(lacking, ", "))
}

// FormatPermissions renders permissions as "name: level" pairs sorted by
// name, for messages.
func FormatPermissions(perms map[string]string) string {
	names := make([]string, 0, len(perms))
	for n := range perms {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + perms[n]
	}
	return strings.Join(parts, ", ")
}

// RevokeToken revokes an installation token with DELETE /installation/token,
// authenticated with the token itself.
//
// When GitHub answers 401 the token is already expired or revoked: the
// returned error matches ErrTokenGone, and callers should treat it as
// success (errors.Is(err, ErrTokenGone)). Any other error means the token
// may still be live.
func (c *Client) RevokeToken(ctx context.Context, token string) error {
	s, err := c.withToken(token)
	if err != nil {
		return err
	}
	err = c.call(ctx, s, "revoke an installation token", func(ae *httpx.APIError) {
		if ae.Status == http.StatusUnauthorized {
			ae.Remedy = "nothing to do: the token is already expired or revoked"
		}
	}, func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
		return g.Apps.RevokeInstallationToken(ctx)
	})
	var ae *httpx.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		return &statusError{APIError: ae, sentinel: ErrTokenGone}
	}
	return err
}

// TokenRepositories lists the repositories a token reaches (GET
// /installation/repositories, every page): for a narrowed token, exactly the
// ones it was minted for.
func (c *Client) TokenRepositories(ctx context.Context, token string) ([]Repository, error) {
	s, err := c.withToken(token)
	if err != nil {
		return nil, err
	}
	repos, err := paginate(ctx, c, s, "list the token's repositories", nil,
		func(ctx context.Context, g *gh.Client, opts gh.ListOptions) ([]*gh.Repository, *gh.Response, error) {
			list, resp, err := g.Apps.ListRepos(ctx, &opts)
			if list == nil {
				return nil, resp, err
			}
			return list.Repositories, resp, err
		})
	if err != nil {
		return nil, err
	}
	out := make([]Repository, len(repos))
	for i, r := range repos {
		out[i] = repositoryFrom(r)
	}
	return out, nil
}

// RepoWithToken reads owner/repo with token (GET /repos/{owner}/{repo}). A
// repository outside the token's reach answers 404, which matches
// ErrNotFound: the expected result of a least-privilege probe.
func (c *Client) RepoWithToken(ctx context.Context, token, owner, repo string) (Repository, error) {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return Repository{}, err
	}
	s, err := c.withToken(token)
	if err != nil {
		return Repository{}, err
	}
	var r *gh.Repository
	err = c.call(ctx, s, fmt.Sprintf("read %s/%s with the token", owner, repo), nil, func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
		var resp *gh.Response
		var err error
		r, resp, err = g.Repositories.Get(ctx, owner, repo)
		return resp, err
	})
	if err != nil {
		return Repository{}, err
	}
	return repositoryFrom(r), nil
}
