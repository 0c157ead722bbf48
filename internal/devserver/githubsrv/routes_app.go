package githubsrv

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// GET /app
func (s *Server) getApp(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c.ok(c.app(true))
}

// GET /app/installations
func (s *Server) listInstallations(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var since time.Time
	if v := c.r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			c.fail(errValidation(fieldError{Resource: "Installation", Field: "since", Code: "invalid"}))
			return
		}
		since = t
	}
	var list []*Installation
	for _, in := range s.w.installs {
		if !in.UpdatedAt.Before(since) {
			list = append(list, in)
		}
	}
	lo, hi := c.pageBounds(len(list))
	out := make([]installationJSON, 0, hi-lo)
	for _, in := range list[lo:hi] {
		out = append(out, c.installation(in))
	}
	c.ok(out)
}

// GET /app/installations/{installation_id}
func (s *Server) getInstallation(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := c.pathInt("installation_id")
	in := s.w.installByID[id]
	if !ok || in == nil {
		c.fail(errNotFound())
		return
	}
	c.ok(c.installation(in))
}

// GET /repos/{owner}/{repo}/installation
func (s *Server) getRepoInstallation(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.w.repo(c.r.PathValue("owner"), c.r.PathValue("repo"))
	if r == nil {
		c.fail(errNotFound())
		return
	}
	in := s.w.installationFor(r)
	if in == nil {
		c.fail(errNotFound())
		return
	}
	c.ok(c.installation(in))
}

// GET /orgs/{org}/installation
func (s *Server) getOrgInstallation(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	in := s.w.installByAccount[lower(c.r.PathValue("org"))]
	acc := s.w.accountByLogin[lower(c.r.PathValue("org"))]
	if in == nil || acc == nil || acc.Type != "Organization" {
		c.fail(errNotFound())
		return
	}
	c.ok(c.installation(in))
}

type tokenJSON struct {
	Token               string            `json:"token"`
	ExpiresAt           string            `json:"expires_at"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection"`
	Repositories        []repoJSON        `json:"repositories,omitempty"`
}

// POST /app/installations/{installation_id}/access_tokens
//
// The token gets every repository and permission of the installation unless
// the body narrows them. A repository outside the installation, a permission
// the installation lacks or an unknown permission is a 422; a suspended
// installation is a 403.
func (s *Server) createAccessToken(c *call) {
	body, bodyErr, _ := c.readObject(false)
	id, ok := c.pathInt("installation_id")

	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.w
	in := w.installByID[id]
	if !ok || in == nil {
		c.fail(errNotFound())
		return
	}
	if in.SuspendedAt != nil {
		c.fail(newError(http.StatusForbidden, msgSuspended))
		return
	}
	if bodyErr != nil {
		c.fail(bodyErr)
		return
	}
	names, _, e := body.strs("repositories")
	if e != nil {
		c.fail(e)
		return
	}
	ids, _, e := body.ints("repository_ids")
	if e != nil {
		c.fail(e)
		return
	}
	perms, _, e := body.stringMap("permissions")
	if e != nil {
		c.fail(e)
		return
	}
	if len(names)+len(ids) > 500 {
		c.fail(errValidation(fieldError{Resource: "InstallationAccessToken", Field: "repositories", Code: "custom",
			Message: "Too many repositories: at most 500 may be listed."}))
		return
	}

	// Narrow the repositories.
	var repoIDs []int64
	var repos []*Repository
	if len(names) > 0 || len(ids) > 0 {
		seen := map[int64]bool{}
		add := func(r *Repository) bool {
			if r == nil || !w.covers(in, r) {
				return false
			}
			if !seen[r.ID] {
				seen[r.ID] = true
				repoIDs = append(repoIDs, r.ID)
			}
			return true
		}
		for _, name := range names {
			if !add(w.repo(in.Account, name)) {
				c.fail(newError(http.StatusUnprocessableEntity, msgReposNotInInstall))
				return
			}
		}
		for _, rid := range ids {
			if !add(w.repoByID[rid]) {
				c.fail(newError(http.StatusUnprocessableEntity, msgReposNotInInstall))
				return
			}
		}
		sort.Slice(repoIDs, func(i, j int) bool { return repoIDs[i] < repoIDs[j] })
		for _, rid := range repoIDs {
			repos = append(repos, w.repoByID[rid])
		}
	}

	// Narrow the permissions.
	granted := clonePerms(in.Permissions)
	if len(perms) > 0 {
		for name, level := range perms {
			if _, known := appPermissionLevels[name]; !known {
				c.fail(newError(http.StatusUnprocessableEntity, msgPermsNotGranted))
				return
			}
			if !validLevel(name, level) {
				c.fail(errInvalid(fmt.Sprintf("For 'properties/%s', %q is not one of [\"%s\"].", name, level, strings.Join(appPermissionLevels[name], "\", \""))))
				return
			}
			if permLevel(level) > permLevel(in.Permissions[name]) {
				c.fail(newError(http.StatusUnprocessableEntity, msgPermsNotGranted))
				return
			}
		}
		granted = clonePerms(perms)
		// Every token can read the metadata of its repositories.
		if _, ok := granted["metadata"]; !ok && in.Permissions["metadata"] != "" {
			granted["metadata"] = "read"
		}
	}

	raw, err := newToken()
	if err != nil {
		c.fail(newError(http.StatusInternalServerError, "Server Error"))
		return
	}
	selection := in.RepositorySelection
	if repoIDs != nil {
		selection = "selected"
	}
	t := &installationToken{
		Fingerprint:         fingerprint(raw),
		Last4:               last4(raw),
		InstallationID:      in.ID,
		RepositoryIDs:       repoIDs,
		RepositorySelection: selection,
		Permissions:         granted,
		CreatedAt:           c.now,
		ExpiresAt:           c.now.Add(InstallationTokenLifetime),
	}
	w.tokens = append(w.tokens, t)
	w.tokenByFpr[t.Fingerprint] = t

	out := tokenJSON{Token: raw, ExpiresAt: ts(t.ExpiresAt), Permissions: granted, RepositorySelection: selection}
	for _, r := range repos {
		out.Repositories = append(out.Repositories, c.repo(r, nil, false))
	}
	c.json(http.StatusCreated, out)
}

type installationReposJSON struct {
	TotalCount          int        `json:"total_count"`
	RepositorySelection string     `json:"repository_selection"`
	Repositories        []repoJSON `json:"repositories"`
}

// GET /installation/repositories: the token's repositories, by id.
func (s *Server) listInstallationRepos(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	w := s.w
	var repos []*Repository
	selection := "selected"
	switch c.cred.kind {
	case installation:
		selection = c.cred.token.RepositorySelection
		for _, r := range w.installRepos[c.cred.inst.ID] {
			if c.cred.covers(w, r) {
				repos = append(repos, r)
			}
		}
	case actionsToken:
		if r := w.repoByName[lower(c.cred.actions.Repository)]; r != nil {
			repos = append(repos, r)
		}
	}
	lo, hi := c.pageBounds(len(repos))
	out := installationReposJSON{TotalCount: len(repos), RepositorySelection: selection, Repositories: []repoJSON{}}
	for _, r := range repos[lo:hi] {
		out.Repositories = append(out.Repositories, c.repo(r, c.cred.perms, false))
	}
	c.ok(out)
}

// DELETE /installation/token: the token revokes itself; it then gets 401.
func (s *Server) revokeToken(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := c.now
	switch c.cred.kind {
	case installation:
		if t := s.w.tokenByFpr[c.cred.fpr]; t != nil && t.RevokedAt == nil {
			t.RevokedAt = &now
		}
	case actionsToken:
		if a := s.w.actionsByHash[c.cred.fpr]; a != nil && a.RevokedAt == nil {
			a.RevokedAt = &now
		}
	}
	c.noContent()
}
