package githubsrv

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file is the read-only inspection API for tests of later packages and
// for `handoff dev`. Nothing here changes the server, and nothing returns a
// minted installation token.

// AppID returns the App's id, the `iss` of its JWTs.
func (s *Server) AppID() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.w.app.ID
}

// AppClientID returns the App's client id, also accepted as `iss`.
func (s *Server) AppClientID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.w.app.ClientID
}

// AppPrivateKeyPEM returns the App's private key in PEM. It is a secret:
// write it only to a file of mode 0600, never to a log.
func (s *Server) AppPrivateKeyPEM() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]byte(nil), s.w.keyPEM...)
}

// ActionsToken returns the Actions token of a repository ("owner/name"), as
// a workflow would find it in GITHUB_TOKEN. It is a secret: hand it only to
// the process that uses it.
func (s *Server) ActionsToken(repository string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.w.actions {
		if strings.EqualFold(a.Repository, repository) {
			return a.Token, true
		}
	}
	return "", false
}

// TokenInfo describes a minted installation token without holding it.
type TokenInfo struct {
	// Fingerprint is the SHA-256 of the token in hex (see Fingerprint).
	Fingerprint string `json:"fingerprint"`
	// Last4 are the token's last four characters, as GitHub shows them.
	Last4          string `json:"last4"`
	InstallationID int64  `json:"installation_id"`
	// RepositoryIDs are the repositories the token reaches, sorted.
	RepositoryIDs       []int64           `json:"repository_ids"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
	CreatedAt           time.Time         `json:"created_at"`
	ExpiresAt           time.Time         `json:"expires_at"`
	Revoked             bool              `json:"revoked"`
	RevokedAt           *time.Time        `json:"revoked_at,omitempty"`
	// Expired is true once the server clock reached ExpiresAt.
	Expired bool `json:"expired"`
}

// Tokens describes every installation token minted so far, live or not, in
// the order they were minted.
func (s *Server) Tokens() []TokenInfo {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]TokenInfo, 0, len(s.w.tokens))
	for _, t := range s.w.tokens {
		ids := t.RepositoryIDs
		if ids == nil {
			for _, r := range s.w.installRepos[t.InstallationID] {
				ids = append(ids, r.ID)
			}
		}
		info := TokenInfo{
			Fingerprint:         t.Fingerprint,
			Last4:               t.Last4,
			InstallationID:      t.InstallationID,
			RepositoryIDs:       append([]int64(nil), ids...),
			RepositorySelection: t.RepositorySelection,
			Permissions:         clonePerms(t.Permissions),
			CreatedAt:           t.CreatedAt,
			ExpiresAt:           t.ExpiresAt,
			Revoked:             t.RevokedAt != nil,
			Expired:             !now.Before(t.ExpiresAt),
		}
		if t.RevokedAt != nil {
			r := *t.RevokedAt
			info.RevokedAt = &r
		}
		sort.Slice(info.RepositoryIDs, func(i, j int) bool { return info.RepositoryIDs[i] < info.RepositoryIDs[j] })
		out = append(out, info)
	}
	return out
}

// LiveTokens describes the installation tokens that still authenticate:
// neither revoked nor expired.
func (s *Server) LiveTokens() []TokenInfo {
	var out []TokenInfo
	for _, t := range s.Tokens() {
		if !t.Revoked && !t.Expired {
			out = append(out, t)
		}
	}
	return out
}

// CommentInfo is an issue comment as a test sees it.
type CommentInfo struct {
	ID        int64     `json:"id"`
	User      string    `json:"user"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ViaApp is the slug of the App that wrote it ("" for a person).
	ViaApp string `json:"via_app,omitempty"`
}

// Comments returns the comments of issue or pull request n of owner/repo,
// oldest first.
func (s *Server) Comments(owner, repo string, n int) []CommentInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.w.repo(owner, repo)
	if r == nil {
		return nil
	}
	var out []CommentInfo
	for _, c := range s.w.commentsByIssue[issueKey{r.ID, n}] {
		out = append(out, CommentInfo{ID: c.ID, User: c.User, Body: c.Body, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ViaApp: c.ViaApp})
	}
	return out
}

// PATInfo is a fine-grained PAT grant as a test sees it.
type PATInfo struct {
	ID                  int64          `json:"id"`
	Owner               string         `json:"owner"`
	TokenID             int64          `json:"token_id"`
	TokenName           string         `json:"token_name"`
	RepositorySelection string         `json:"repository_selection"`
	Repositories        []string       `json:"repositories,omitempty"`
	Permissions         PATPermissions `json:"permissions"`
	TokenExpiresAt      *time.Time     `json:"token_expires_at,omitempty"`
	Revoked             bool           `json:"revoked"`
}

// PersonalAccessTokens returns an organization's fine-grained PAT grants,
// revoked ones included, by id.
func (s *Server) PersonalAccessTokens(org string) []PATInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []PATInfo
	for _, p := range s.w.pats {
		if !strings.EqualFold(p.Organization, org) {
			continue
		}
		out = append(out, PATInfo{
			ID: p.ID, Owner: p.Owner, TokenID: p.TokenID, TokenName: p.TokenName,
			RepositorySelection: p.RepositorySelection, Repositories: append([]string(nil), p.Repositories...),
			Permissions: clonePATPerms(p.Permissions), TokenExpiresAt: p.TokenExpiresAt, Revoked: p.RevokedAt != nil,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RateLimitInfo is a credential's current hourly window.
type RateLimitInfo struct {
	Limit     int   `json:"limit"`
	Used      int   `json:"used"`
	Remaining int   `json:"remaining"`
	Reset     int64 `json:"reset"`
}

// InstallationRateLimit returns the window shared by an installation's
// tokens (a fresh window if it made no request yet in this one).
func (s *Server) InstallationRateLimit(installationID int64) RateLimitInfo {
	s.mu.RLock()
	limit := s.w.limits.InstallationPerHour
	s.mu.RUnlock()
	key := "installation:" + strconv.FormatInt(installationID, 10)
	s.lim.mu.Lock()
	defer s.lim.mu.Unlock()
	w := s.lim.primary[key]
	now := s.kit.Clock.Now()
	if w == nil || now.Unix() >= w.Reset {
		return RateLimitInfo{Limit: limit, Remaining: limit, Reset: now.Add(time.Hour).Unix()}
	}
	return RateLimitInfo{Limit: w.Limit, Used: w.Used, Remaining: w.remaining(), Reset: w.Reset}
}

// SetRateLimits replaces the primary and secondary limits (zero takes
// GitHub's value, negative is off); windows already open keep their count.
func (s *Server) SetRateLimits(r RateLimits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.limits = resolveLimits(r)
}

// IssueInfo is an issue as a test sees it.
type IssueInfo struct {
	Number      int        `json:"number"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	User        string     `json:"user"`
	State       string     `json:"state"`
	StateReason string     `json:"state_reason,omitempty"`
	Labels      []string   `json:"labels,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	ClosedBy    string     `json:"closed_by,omitempty"`
	// ViaApp is the slug of the App that opened it ("" for a person).
	ViaApp string `json:"via_app,omitempty"`
}

// Issues returns the issues (not the pull requests) of owner/repo, by
// number.
func (s *Server) Issues(owner, repo string) []IssueInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.w.repo(owner, repo)
	if r == nil {
		return nil
	}
	var out []IssueInfo
	for _, is := range s.w.issues {
		if is.PullRequest != nil || !strings.EqualFold(is.Repository, r.Owner+"/"+r.Name) {
			continue
		}
		out = append(out, IssueInfo{Number: is.Number, Title: is.Title, Body: is.Body, User: is.User, State: is.State,
			StateReason: is.StateReason, Labels: append([]string(nil), is.Labels...), ClosedAt: is.ClosedAt, ClosedBy: is.ClosedBy, ViaApp: is.ViaApp})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}
