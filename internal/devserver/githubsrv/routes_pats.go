package githubsrv

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// orgAccess checks an organization's fine-grained PAT endpoint: the
// organization exists (else 404) and the caller is an installation token on
// it with permission perm at level min (else 403). The caller holds s.mu.
func (c *call) orgAccess(perm string, min int) (*Account, bool) {
	w := c.s.w
	org := w.accountByLogin[lower(c.r.PathValue("org"))]
	if org == nil || org.Type != "Organization" {
		c.fail(errNotFound())
		return nil, false
	}
	level := "read"
	if min == levelWrite {
		level = "write"
	}
	if c.cred.kind != installation || !strings.EqualFold(c.cred.inst.Account, org.Login) || !hasPerm(c.cred.perms, perm, min) {
		c.fail(errForbidden(perm + "=" + level))
		return nil, false
	}
	return org, true
}

// patFilter is the query of the PAT and PAT-request listings.
type patFilter struct {
	owners     map[string]bool
	repository string
	permName   string
	permLevel  string
	before     *time.Time
	after      *time.Time
	tokenIDs   map[int64]bool
	asc        bool
}

// queryList reads a repeated query parameter, in both of its spellings
// (owner=a&owner=b and owner[]=a&owner[]=b).
func queryList(q url.Values, name string) []string {
	var out []string
	for _, key := range []string{name, name + "[]"} {
		for _, v := range q[key] {
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
	}
	return out
}

// patFilters reads the filters of the contract: owner (at most 10),
// repository, permission ("issues_read", or a bare name for any level),
// last_used_before and last_used_after, token_id (at most 50), sort
// (created_at) and direction (asc or desc, default desc). A malformed one
// is a 422.
func (c *call) patFilters(resource string) (*patFilter, bool) {
	q := c.r.URL.Query()
	invalid := func(field string) (*patFilter, bool) {
		c.fail(errValidation(fieldError{Resource: resource, Field: field, Code: "invalid"}))
		return nil, false
	}
	f := &patFilter{repository: q.Get("repository")}
	if owners := queryList(q, "owner"); len(owners) > 0 {
		if len(owners) > 10 {
			return invalid("owner")
		}
		f.owners = map[string]bool{}
		for _, o := range owners {
			f.owners[lower(o)] = true
		}
	}
	if p := q.Get("permission"); p != "" {
		f.permName = p
		if i := strings.LastIndexByte(p, '_'); i > 0 && permLevel(p[i+1:]) != levelNone {
			f.permName, f.permLevel = p[:i], p[i+1:]
		}
	}
	for _, b := range []struct {
		name string
		dst  **time.Time
	}{{"last_used_before", &f.before}, {"last_used_after", &f.after}} {
		if v := q.Get(b.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return invalid(b.name)
			}
			*b.dst = &t
		}
	}
	if ids := queryList(q, "token_id"); len(ids) > 0 {
		if len(ids) > 50 {
			return invalid("token_id")
		}
		f.tokenIDs = map[int64]bool{}
		for _, v := range ids {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return invalid("token_id")
			}
			f.tokenIDs[n] = true
		}
	}
	if s := q.Get("sort"); s != "" && s != "created_at" {
		return invalid("sort")
	}
	switch q.Get("direction") {
	case "", "desc":
	case "asc":
		f.asc = true
	default:
		return invalid("direction")
	}
	return f, true
}

// match applies the filter to one token.
func (f *patFilter) match(owner, selection string, repos []string, perms PATPermissions, lastUsed *time.Time, tokenID int64) bool {
	if f.owners != nil && !f.owners[lower(owner)] {
		return false
	}
	if f.tokenIDs != nil && !f.tokenIDs[tokenID] {
		return false
	}
	if f.repository != "" {
		switch selection {
		case "all":
		case "subset":
			found := false
			for _, r := range repos {
				found = found || strings.EqualFold(r, f.repository)
			}
			if !found {
				return false
			}
		default:
			return false
		}
	}
	if f.permName != "" {
		found := false
		for _, m := range []map[string]string{perms.Organization, perms.Repository, perms.Other} {
			if level, ok := m[f.permName]; ok && (f.permLevel == "" || level == f.permLevel) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	if f.before != nil && (lastUsed == nil || !lastUsed.Before(*f.before)) {
		return false
	}
	if f.after != nil && (lastUsed == nil || !lastUsed.After(*f.after)) {
		return false
	}
	return true
}

// GET /orgs/{org}/personal-access-tokens: active grants, newest first.
func (s *Server) listPATs(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	org, ok := c.orgAccess("organization_personal_access_tokens", levelRead)
	if !ok {
		return
	}
	f, ok := c.patFilters("OrganizationProgrammaticAccessGrant")
	if !ok {
		return
	}
	var list []*PersonalAccessToken
	for _, p := range s.w.pats {
		if p.RevokedAt == nil && strings.EqualFold(p.Organization, org.Login) &&
			f.match(p.Owner, p.RepositorySelection, p.Repositories, p.Permissions, p.TokenLastUsedAt, p.TokenID) {
			list = append(list, p)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if !a.AccessGrantedAt.Equal(b.AccessGrantedAt) {
			return a.AccessGrantedAt.Before(b.AccessGrantedAt) == f.asc
		}
		return (a.ID < b.ID) == f.asc
	})
	lo, hi := c.pageBounds(len(list))
	out := make([]patGrantJSON, 0, hi-lo)
	for _, p := range list[lo:hi] {
		out = append(out, c.patGrant(p))
	}
	c.ok(out)
}

// activePAT finds an organization's unrevoked grant.
func (w *world) activePAT(org *Account, id int64) *PersonalAccessToken {
	p := w.patByID[id]
	if p == nil || p.RevokedAt != nil || !strings.EqualFold(p.Organization, org.Login) {
		return nil
	}
	return p
}

// action reads and checks the `action` of a review or revocation body.
func action(obj object, allowed ...string) (string, *apiError) {
	a, _, e := obj.str("action", true)
	if e != nil {
		return "", e
	}
	for _, ok := range allowed {
		if a == ok {
			return a, nil
		}
	}
	return "", errInvalid("For 'properties/action', " + strconv.Quote(a) + " is not one of [\"" + strings.Join(allowed, "\", \"") + "\"].")
}

// POST /orgs/{org}/personal-access-tokens: revoke up to 100 grants at once.
func (s *Server) revokePATs(c *call) {
	obj, bodyErr, _ := c.readObject(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	org, ok := c.orgAccess("organization_personal_access_tokens", levelWrite)
	if !ok {
		return
	}
	if bodyErr != nil {
		c.fail(bodyErr)
		return
	}
	if _, e := action(obj, "revoke"); e != nil {
		c.fail(e)
		return
	}
	ids, present, e := obj.ints("pat_ids")
	switch {
	case e != nil:
		c.fail(e)
		return
	case !present:
		c.fail(missing("pat_ids"))
		return
	case len(ids) < 1 || len(ids) > 100:
		c.fail(errValidation(fieldError{Resource: "OrganizationProgrammaticAccessGrant", Field: "pat_ids", Code: "invalid",
			Message: "pat_ids must list between 1 and 100 ids"}))
		return
	}
	var pats []*PersonalAccessToken
	for _, id := range ids {
		p := s.w.activePAT(org, id)
		if p == nil {
			c.fail(errNotFound())
			return
		}
		pats = append(pats, p)
	}
	now := c.now
	for _, p := range pats {
		p.RevokedAt = &now
	}
	c.json(http.StatusAccepted, struct{}{})
}

// POST /orgs/{org}/personal-access-tokens/{pat_id}: revoke one grant.
func (s *Server) revokePAT(c *call) {
	obj, bodyErr, _ := c.readObject(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	org, ok := c.orgAccess("organization_personal_access_tokens", levelWrite)
	if !ok {
		return
	}
	id, ok := c.pathInt("pat_id")
	p := s.w.activePAT(org, id)
	if !ok || p == nil {
		c.fail(errNotFound())
		return
	}
	if bodyErr != nil {
		c.fail(bodyErr)
		return
	}
	if _, e := action(obj, "revoke"); e != nil {
		c.fail(e)
		return
	}
	now := c.now
	p.RevokedAt = &now
	c.noContent()
}

// patRepos returns the repositories a PAT selection reaches in org.
func (w *world) patRepos(org *Account, selection string, names []string) []*Repository {
	switch selection {
	case "all":
		return w.reposByOwner[lower(org.Login)]
	case "subset":
		var out []*Repository
		for _, r := range w.reposByOwner[lower(org.Login)] {
			for _, n := range names {
				if strings.EqualFold(n, r.Name) {
					out = append(out, r)
					break
				}
			}
		}
		return out
	}
	return nil
}

// GET /orgs/{org}/personal-access-tokens/{pat_id}/repositories
func (s *Server) listPATRepos(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	org, ok := c.orgAccess("organization_personal_access_tokens", levelRead)
	if !ok {
		return
	}
	id, ok := c.pathInt("pat_id")
	p := s.w.activePAT(org, id)
	if !ok || p == nil {
		c.fail(errNotFound())
		return
	}
	repos := s.w.patRepos(org, p.RepositorySelection, p.Repositories)
	lo, hi := c.pageBounds(len(repos))
	out := make([]repoJSON, 0, hi-lo)
	for _, r := range repos[lo:hi] {
		out = append(out, c.repo(r, nil, false))
	}
	c.ok(out)
}

// GET /orgs/{org}/personal-access-token-requests: pending requests, newest
// first.
func (s *Server) listPATRequests(c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	org, ok := c.orgAccess("organization_personal_access_token_requests", levelRead)
	if !ok {
		return
	}
	f, ok := c.patFilters("OrganizationProgrammaticAccessGrantRequest")
	if !ok {
		return
	}
	var list []*PersonalAccessTokenRequest
	for _, p := range s.w.patReqs {
		if p.Status == "pending" && strings.EqualFold(p.Organization, org.Login) &&
			f.match(p.Owner, p.RepositorySelection, p.Repositories, p.Permissions, p.TokenLastUsedAt, p.TokenID) {
			list = append(list, p)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt) == f.asc
		}
		return (a.ID < b.ID) == f.asc
	})
	lo, hi := c.pageBounds(len(list))
	out := make([]patRequestJSON, 0, hi-lo)
	for _, p := range list[lo:hi] {
		out = append(out, c.patRequest(p))
	}
	c.ok(out)
}

// POST /orgs/{org}/personal-access-token-requests/{pat_request_id}: approve
// (the PAT gains a grant) or deny a pending request.
func (s *Server) reviewPATRequest(c *call) {
	obj, bodyErr, _ := c.readObject(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	org, ok := c.orgAccess("organization_personal_access_token_requests", levelWrite)
	if !ok {
		return
	}
	w := s.w
	id, ok := c.pathInt("pat_request_id")
	req := w.patReqByID[id]
	if !ok || req == nil || req.Status != "pending" || !strings.EqualFold(req.Organization, org.Login) {
		c.fail(errNotFound())
		return
	}
	if bodyErr != nil {
		c.fail(bodyErr)
		return
	}
	act, e := action(obj, "approve", "deny")
	if e != nil {
		c.fail(e)
		return
	}
	reason, e := obj.nullableStr("reason")
	if e != nil {
		c.fail(e)
		return
	}
	if reason != nil && len([]rune(*reason)) > 1024 {
		c.fail(errValidation(fieldError{Resource: "OrganizationProgrammaticAccessGrantRequest", Field: "reason", Code: "custom",
			Message: "reason is too long (maximum is 1024 characters)"}))
		return
	}
	now := c.now
	req.ReviewedAt = &now
	if act == "deny" {
		req.Status = "denied"
		c.noContent()
		return
	}
	req.Status = "approved"
	grant := &PersonalAccessToken{
		ID: w.nextPATID, Organization: req.Organization, Owner: req.Owner, TokenID: req.TokenID, TokenName: req.TokenName,
		RepositorySelection: req.RepositorySelection, Repositories: append([]string(nil), req.Repositories...),
		Permissions: clonePATPerms(req.Permissions), AccessGrantedAt: now,
		TokenExpiresAt: req.TokenExpiresAt, TokenLastUsedAt: req.TokenLastUsedAt,
	}
	w.nextPATID++
	w.pats = append(w.pats, grant)
	w.patByID[grant.ID] = grant
	c.noContent()
}
