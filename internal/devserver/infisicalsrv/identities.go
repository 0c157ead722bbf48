package infisicalsrv

import (
	"time"
)

// Routes of /api/v1/identities (identity-router.ts).

type identityView struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	OrgID               string    `json:"orgId"`
	AuthMethod          *string   `json:"authMethod"`
	AuthMethods         []string  `json:"authMethods"`
	HasDeleteProtection bool      `json:"hasDeleteProtection"`
	Metadata            []metaKV  `json:"metadata"`
	CreatedAt           time.Time `json:"createdAt"`
	UpdatedAt           time.Time `json:"updatedAt"`
}

type nestedIdentity struct {
	ID                       string   `json:"id"`
	Name                     string   `json:"name"`
	OrgID                    string   `json:"orgId"`
	HasDeleteProtection      bool     `json:"hasDeleteProtection"`
	AuthMethods              []string `json:"authMethods"`
	ActiveLockoutAuthMethods []string `json:"activeLockoutAuthMethods"`
}

// orgMembershipView is the org-membership-shaped answer of GET and list:
// the identity itself is nested.
type orgMembershipView struct {
	ID                  string         `json:"id"`
	Role                string         `json:"role"`
	RoleID              *string        `json:"roleId"`
	OrgID               string         `json:"orgId"`
	IdentityID          string         `json:"identityId"`
	IsActive            bool           `json:"isActive"`
	CreatedAt           time.Time      `json:"createdAt"`
	UpdatedAt           time.Time      `json:"updatedAt"`
	LastLoginAuthMethod *string        `json:"lastLoginAuthMethod"`
	LastLoginTime       *time.Time     `json:"lastLoginTime"`
	Identity            nestedIdentity `json:"identity"`
	Metadata            []metaKV       `json:"metadata"`
}

func (s *Server) viewIdentity(id *identity) identityView {
	md := id.Metadata
	if md == nil {
		md = []metaKV{}
	}
	return identityView{ID: id.ID, Name: id.Name, OrgID: id.OrgID, AuthMethods: id.authMethods(s.st),
		HasDeleteProtection: id.HasDeleteProtection, Metadata: md, CreatedAt: id.CreatedAt, UpdatedAt: id.UpdatedAt}
}

func (s *Server) viewOrgMembership(id *identity, now time.Time) orgMembershipView {
	md := id.Metadata
	if md == nil {
		md = []metaKV{}
	}
	v := orgMembershipView{
		ID: id.OrgMembershipID, Role: id.OrgRole, OrgID: id.OrgID, IdentityID: id.ID, IsActive: true,
		CreatedAt: id.CreatedAt, UpdatedAt: id.UpdatedAt, LastLoginTime: id.LastLoginTime,
		Identity: nestedIdentity{ID: id.ID, Name: id.Name, OrgID: id.OrgID, HasDeleteProtection: id.HasDeleteProtection,
			AuthMethods: id.authMethods(s.st), ActiveLockoutAuthMethods: []string{}},
		Metadata: md,
	}
	if id.LastLoginAuthMethod != "" {
		m := id.LastLoginAuthMethod
		v.LastLoginAuthMethod = &m
	}
	if ua := s.st.uas[id.ID]; ua != nil {
		if lo := s.st.lockouts[lockoutKey(id.ID, ua.ClientID)]; lo != nil && lo.lockedOut && now.Before(lo.expiresAt) {
			v.Identity.ActiveLockoutAuthMethods = []string{authMethodUA}
		}
	}
	return v
}

var metadataInput = array(object(field("key", str().trimmed().minL(1)), field("value", str().trimmed().minL(1)))).opt()

var createIdentityBody = object(
	field("name", str().trimmed().minL(1)),
	field("organizationId", str().trimmed()),
	field("role", str().trimmed().minL(1).opt()),
	field("hasDeleteProtection", boolean().opt()),
	field("metadata", metadataInput),
)

var updateIdentityBody = object(
	field("name", str().trimmed().minL(1).opt()),
	field("role", str().trimmed().minL(1).opt()),
	field("hasDeleteProtection", boolean().opt()),
	field("metadata", metadataInput),
)

func readMetadata(m map[string]any) ([]metaKV, bool) {
	raw, ok := m["metadata"]
	if !ok {
		return nil, false
	}
	out := []metaKV{}
	for _, e := range asSlice(raw) {
		em := bodyMap(e)
		k, _ := getString(em, "key", true)
		v, _ := getString(em, "value", true)
		out = append(out, metaKV{ID: newUUID(), Key: k, Value: v})
	}
	return out, true
}

func (s *Server) createIdentity(c *call) (any, *apiError) {
	m, verr := c.validateBody(createIdentityBody)
	if verr != nil {
		return nil, verr
	}
	orgID, _ := getString(m, "organizationId", true)
	role, ok := getString(m, "role", true)
	if !ok {
		role = roleNoAccess
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.requireOrg(c.actor, orgID, actCreate, subIdentity)
	if err != nil {
		return nil, err
	}
	if !isOrgRole(role) {
		return nil, errNotFound("Organization role with slug '" + role + "' not found")
	}
	if role != roleNoAccess {
		if err := ab.requireBoundary("Failed to create identity", actGrantPrivileges, subIdentity); err != nil {
			return nil, err
		}
	}
	name, _ := getString(m, "name", true)
	del, _ := getBool(m, "hasDeleteProtection")
	md, _ := readMetadata(m)
	id := &identity{ID: newUUID(), Name: name, OrgID: orgID, OrgMembershipID: newUUID(), OrgRole: role,
		HasDeleteProtection: del, Metadata: md, CreatedAt: c.now, UpdatedAt: c.now}
	s.st.identities[id.ID] = id
	s.recordAudit(c, nil, "", "create-identity", map[string]any{"name": name, "hasDeleteProtection": del, "identityId": id.ID})
	return map[string]any{"identity": s.viewIdentity(id)}, nil
}

// lookupIdentity finds an identity of the actor's organization.
func (s *Server) lookupIdentity(c *call, identityID string) (*identity, *apiError) {
	id := s.st.identities[identityID]
	if id == nil || id.OrgID != c.actor.orgID {
		return nil, errNotFound("Failed to find identity with ID " + identityID)
	}
	return id, nil
}

func (s *Server) getIdentity(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, err := s.lookupIdentity(c, c.r.PathValue("identityId"))
	if err != nil {
		return nil, err
	}
	if _, err := s.requireOrg(c.actor, id.OrgID, actRead, subIdentity); err != nil {
		return nil, err
	}
	s.recordAudit(c, nil, "", "get-identity", map[string]any{"identityId": id.ID})
	return map[string]any{"identity": s.viewOrgMembership(id, c.now)}, nil
}

var listIdentitiesQuery = object(
	field("orgId", str().trimmed()),
	field("offset", coerceNum().gte(0).opt()),
	field("limit", coerceNum().gte(1).lte(20000).opt()),
)

func (s *Server) listIdentities(c *call) (any, *apiError) {
	q, verr := c.validateQuery(listIdentitiesQuery)
	if verr != nil {
		return nil, verr
	}
	orgID, _ := getString(q, "orgId", true)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, err := s.requireOrg(c.actor, orgID, actRead, subIdentity); err != nil {
		return nil, err
	}
	all := s.st.sortedIdentities()
	offset, limit := 0, len(all)
	if f, ok := getNumber(q, "offset"); ok {
		offset = min(int(f), len(all))
	}
	if f, ok := getNumber(q, "limit"); ok {
		limit = int(f)
	}
	page := all[offset:]
	if limit < len(page) {
		page = page[:limit]
	}
	out := make([]orgMembershipView, 0, len(page))
	for _, id := range page {
		out = append(out, s.viewOrgMembership(id, c.now))
	}
	s.recordAudit(c, nil, "", "get-identities", map[string]any{"orgId": orgID})
	return map[string]any{"identities": out, "totalCount": len(all)}, nil
}

func (s *Server) updateIdentity(c *call) (any, *apiError) {
	m, verr := c.validateBody(updateIdentityBody)
	if verr != nil {
		return nil, verr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.lookupIdentity(c, c.r.PathValue("identityId"))
	if err != nil {
		return nil, err
	}
	ab, err := s.requireOrg(c.actor, id.OrgID, actEdit, subIdentity)
	if err != nil {
		return nil, err
	}
	if role, ok := getString(m, "role", true); ok {
		if !isOrgRole(role) {
			return nil, errNotFound("Organization role with slug '" + role + "' not found")
		}
		if err := ab.requireBoundary("Failed to update identity", actGrantPrivileges, subIdentity); err != nil {
			return nil, err
		}
		id.OrgRole = role
	}
	if name, ok := getString(m, "name", true); ok {
		id.Name = name
	}
	if b, ok := getBool(m, "hasDeleteProtection"); ok {
		id.HasDeleteProtection = b
	}
	if md, ok := readMetadata(m); ok {
		id.Metadata = md
	}
	id.UpdatedAt = c.now
	s.recordAudit(c, nil, "", "update-identity", map[string]any{"name": id.Name, "identityId": id.ID})
	return map[string]any{"identity": s.viewIdentity(id)}, nil
}

func (s *Server) deleteIdentity(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.lookupIdentity(c, c.r.PathValue("identityId"))
	if err != nil {
		return nil, err
	}
	if _, err := s.requireOrg(c.actor, id.OrgID, actDelete, subIdentity); err != nil {
		return nil, err
	}
	if id.HasDeleteProtection {
		return nil, errBadRequest("Identity has delete protection")
	}
	view := s.viewIdentity(id)
	s.st.deleteIdentity(id)
	s.dropPermCache(id.ID)
	s.recordAudit(c, nil, "", "delete-identity", map[string]any{"identityId": id.ID})
	return map[string]any{"identity": view}, nil
}

// listIdentityProjectMemberships is GET /api/v1/identities/{id}/identity-memberships.
func (s *Server) listIdentityProjectMemberships(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, err := s.lookupIdentity(c, c.r.PathValue("identityId"))
	if err != nil {
		return nil, err
	}
	if _, err := s.requireOrg(c.actor, id.OrgID, actRead, subIdentity); err != nil {
		return nil, err
	}
	out := []any{}
	for _, p := range s.sortedProjects() {
		if m := s.st.membership(p.ID, id.ID); m != nil {
			out = append(out, s.viewMembershipDetail(m, c.now))
		}
	}
	return map[string]any{"identityMemberships": out}, nil
}

// dropPermCache forgets cached abilities of an identity (all projects).
func (s *Server) dropPermCache(identityID string) {
	s.permMu.Lock()
	for k := range s.permCache {
		if k.identityID == identityID {
			delete(s.permCache, k)
		}
	}
	s.permMu.Unlock()
}
