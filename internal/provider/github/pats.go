package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// PAT is an organization's record of a fine-grained personal access token
// granted access to it. It holds no secret: GitHub never returns a PAT's
// value, and there is no API to create one (they are made by hand in the web
// UI); handoff can list, verify and revoke them.
type PAT struct {
	// ID is the grant's id, the pat_id RevokePAT takes.
	ID int64
	// TokenID and TokenName identify the token itself.
	TokenID   int64
	TokenName string
	// Owner is the login of the user who made the token.
	Owner string
	// RepositorySelection is "none", "all" or "subset".
	RepositorySelection string
	Permissions         PATPermissions
	AccessGrantedAt     time.Time
	// TokenExpired reports whether the token is past its expiry.
	TokenExpired bool
	// TokenExpiresAt is zero for a token that never expires.
	TokenExpiresAt time.Time
	// TokenLastUsedAt is zero for a token never used.
	TokenLastUsedAt time.Time
}

// PATPermissions are a fine-grained PAT's permissions by kind, name → level.
type PATPermissions struct {
	Organization map[string]string
	Repository   map[string]string
	Other        map[string]string
}

// PATFilter narrows ListPATs; its zero value lists every PAT.
type PATFilter struct {
	// Owners are user logins (at most 10).
	Owners []string
	// Repository is a repository name within the organization.
	Repository string
	// Permission is a permission filter such as "issues_read".
	Permission string
	// LastUsedBefore and LastUsedAfter bound the token's last use.
	LastUsedBefore, LastUsedAfter time.Time
	// TokenIDs select tokens by TokenID (at most 50).
	TokenIDs []int64
}

func (f PATFilter) query() (url.Values, error) {
	q := url.Values{}
	if len(f.Owners) > 10 {
		return nil, errors.New("github: list PATs: at most 10 owners per filter")
	}
	if len(f.TokenIDs) > 50 {
		return nil, errors.New("github: list PATs: at most 50 token ids per filter")
	}
	for _, o := range f.Owners {
		if err := checkName("owner", o); err != nil {
			return nil, err
		}
		q.Add("owner", o)
	}
	if f.Repository != "" {
		q.Set("repository", f.Repository)
	}
	if f.Permission != "" {
		q.Set("permission", f.Permission)
	}
	if !f.LastUsedBefore.IsZero() {
		q.Set("last_used_before", f.LastUsedBefore.UTC().Format(time.RFC3339))
	}
	if !f.LastUsedAfter.IsZero() {
		q.Set("last_used_after", f.LastUsedAfter.UTC().Format(time.RFC3339))
	}
	for _, id := range f.TokenIDs {
		q.Add("token_id", strconv.FormatInt(id, 10))
	}
	return q, nil
}

type wirePAT struct {
	ID    int64 `json:"id"`
	Owner *struct {
		Login string `json:"login"`
	} `json:"owner"`
	RepositorySelection string `json:"repository_selection"`
	Permissions         struct {
		Organization map[string]string `json:"organization"`
		Repository   map[string]string `json:"repository"`
		Other        map[string]string `json:"other"`
	} `json:"permissions"`
	AccessGrantedAt time.Time  `json:"access_granted_at"`
	TokenID         int64      `json:"token_id"`
	TokenName       string     `json:"token_name"`
	TokenExpired    bool       `json:"token_expired"`
	TokenExpiresAt  *time.Time `json:"token_expires_at"`
	TokenLastUsedAt *time.Time `json:"token_last_used_at"`
}

func (w wirePAT) pat() PAT {
	p := PAT{
		ID: w.ID, TokenID: w.TokenID, TokenName: w.TokenName,
		RepositorySelection: w.RepositorySelection,
		Permissions: PATPermissions{
			Organization: w.Permissions.Organization,
			Repository:   w.Permissions.Repository,
			Other:        w.Permissions.Other,
		},
		AccessGrantedAt: w.AccessGrantedAt,
		TokenExpired:    w.TokenExpired,
	}
	if w.Owner != nil {
		p.Owner = w.Owner.Login
	}
	if w.TokenExpiresAt != nil {
		p.TokenExpiresAt = *w.TokenExpiresAt
	}
	if w.TokenLastUsedAt != nil {
		p.TokenLastUsedAt = *w.TokenLastUsedAt
	}
	return p
}

// patPermission is the App permission the organization PAT endpoints need.
const patPermission = "organization_personal_access_tokens"

// ListPATs lists the fine-grained PATs granted access to org (GET
// /orgs/{org}/personal-access-tokens, every page). It finds the App's
// installation on org, mints a token narrowed to
// organization_personal_access_tokens: read, uses it and revokes it.
func (c *Client) ListPATs(ctx context.Context, org string, filter PATFilter) ([]PAT, error) {
	q, err := filter.query()
	if err != nil {
		return nil, err
	}
	var out []PAT
	err = c.withOrgToken(ctx, org, "read", func(s *session) error {
		ws, err := paginate(ctx, c, s, fmt.Sprintf("list the fine-grained PATs of %s", org), patRemedy(org, "read"),
			func(ctx context.Context, g *gh.Client, opts gh.ListOptions) ([]wirePAT, *gh.Response, error) {
				pq := url.Values{}
				for k, v := range q {
					pq[k] = v
				}
				pq.Set("per_page", strconv.Itoa(opts.PerPage))
				pq.Set("page", strconv.Itoa(opts.Page))
				var page []wirePAT
				resp, err := getJSON(ctx, g, fmt.Sprintf("orgs/%s/personal-access-tokens?%s", org, pq.Encode()), &page)
				return page, resp, err
			})
		for _, w := range ws {
			out = append(out, w.pat())
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokePAT revokes org's grant patID (POST
// /orgs/{org}/personal-access-tokens/{pat_id} with action "revoke"), with a
// token narrowed to organization_personal_access_tokens: write that is
// revoked afterwards. The PAT stops working on the organization's resources.
func (c *Client) RevokePAT(ctx context.Context, org string, patID int64) error {
	if patID <= 0 {
		return fmt.Errorf("github: revoke PAT: %d is not a PAT id", patID)
	}
	return c.withOrgToken(ctx, org, "write", func(s *session) error {
		return c.call(ctx, s, fmt.Sprintf("revoke fine-grained PAT %d of %s", patID, org), patRemedy(org, "write"),
			func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
				return sendJSON(ctx, g, http.MethodPost, fmt.Sprintf("orgs/%s/personal-access-tokens/%d", org, patID),
					map[string]string{"action": "revoke"}, nil)
			})
	})
}

func patRemedy(org, level string) func(*httpx.APIError) {
	return func(ae *httpx.APIError) {
		switch ae.Status {
		case http.StatusForbidden:
			ae.Remedy = fmt.Sprintf("give the App the organization permission \"Personal access tokens\" (%s: %s) and have an owner of %s accept it; the organization must also require approval of fine-grained PATs", patPermission, level, org)
		case http.StatusNotFound:
			ae.Remedy = fmt.Sprintf("no such PAT grant on %s, or the App cannot see %s's PATs", org, org)
		}
	}
}

// withOrgToken runs fn with a token of the App's installation on org
// narrowed to organization_personal_access_tokens at level, and revokes the
// token afterwards, even when ctx was cancelled meanwhile.
func (c *Client) withOrgToken(ctx context.Context, org, level string, fn func(*session) error) error {
	inst, err := c.InstallationForOrg(ctx, org)
	if err != nil {
		return err
	}
	tok, err := c.mint(ctx, inst.ID, mintRequest{Permissions: map[string]string{patPermission: level}})
	if err != nil {
		return err
	}
	s, err := c.withToken(tok.Value)
	if err != nil {
		return err
	}
	err = fn(s)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	if rerr := c.RevokeToken(rctx, tok.Value); rerr != nil && !errors.Is(rerr, ErrTokenGone) && err == nil {
		// The helper token dies within the hour anyway; say so rather than
		// fail a listing that worked.
		return fmt.Errorf("github: revoke the helper token %s (it expires at %s anyway): %w", tok.Fingerprint(), tok.ExpiresAt.UTC().Format(time.RFC3339), rerr)
	}
	return err
}
