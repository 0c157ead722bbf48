package infisicalsrv

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Project memberships of identities (identity-project-membership-router.ts
// and its deprecated twins).

var msRe = regexp.MustCompile(`(?i)^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$`)

// parseMs is the "ms" package's parse: "1h", "30m", "2 days", "1500".
func parseMs(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 100 {
		return 0, false
	}
	mm := msRe.FindStringSubmatch(s)
	if mm == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(mm[1], 64)
	if err != nil {
		return 0, false
	}
	unit := float64(time.Millisecond)
	switch u := strings.ToLower(mm[2]); {
	case u == "" || strings.HasPrefix(u, "ms") || strings.HasPrefix(u, "msec") || strings.HasPrefix(u, "millisecond"):
	case strings.HasPrefix(u, "s"):
		unit = float64(time.Second)
	case strings.HasPrefix(u, "m"):
		unit = float64(time.Minute)
	case strings.HasPrefix(u, "h"):
		unit = float64(time.Hour)
	case strings.HasPrefix(u, "d"):
		unit = float64(24 * time.Hour)
	case strings.HasPrefix(u, "w"):
		unit = float64(7 * 24 * time.Hour)
	case strings.HasPrefix(u, "y"):
		unit = float64(365.25 * 24 * float64(time.Hour))
	}
	d := n * unit
	if d > math.MaxInt64/2 || d < math.MinInt64/2 {
		return 0, false
	}
	return time.Duration(d), true
}

// temporaryFields checks the temporary-access fields of a role or
// privilege input under path.
func temporaryFields(m map[string]any, path []any, add func(zodIssue)) {
	if _, ok := m["temporaryMode"]; !ok {
		add(invalidType("'relative'", undefined, clonePath(path, "temporaryMode")))
	}
	r, ok := m["temporaryRange"].(string)
	if !ok {
		add(invalidType("string", valueOrUndefined(m, "temporaryRange"), clonePath(path, "temporaryRange")))
	} else if d, ok := parseMs(r); !ok || d <= 0 {
		add(customIssue(clonePath(path, "temporaryRange"), "Invalid time period format or value"))
	}
	if _, ok := m["temporaryAccessStartTime"]; !ok {
		add(invalidType("string", undefined, clonePath(path, "temporaryAccessStartTime")))
	}
}

func valueOrUndefined(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	return undefined
}

var roleInput = object(
	field("role", str().trimmed().minL(1)),
	field("isTemporary", boolean().opt()),
	field("temporaryMode", enum("relative").opt()),
	field("temporaryRange", str().opt()),
	field("temporaryAccessStartTime", dateTime().opt()),
).withRefine(func(v any, path []any, add func(zodIssue)) {
	m := bodyMap(v)
	if t, _ := getBool(m, "isTemporary"); t {
		temporaryFields(m, path, add)
	}
})

var createMembershipBody = object(
	field("role", str().trimmed().opt()),
	field("roles", array(roleInput).minL(1).opt()),
)

var updateMembershipBody = object(field("roles", array(roleInput).minL(1)))

// temporaryGrant holds the parsed temporary fields of a role or privilege.
type temporaryGrant struct {
	isTemporary bool
	mode, rng   *string
	start, end  *time.Time
}

func readTemporary(m map[string]any) temporaryGrant {
	var g temporaryGrant
	g.isTemporary, _ = getBool(m, "isTemporary")
	if !g.isTemporary {
		return g
	}
	mode, _ := getString(m, "temporaryMode", true)
	rng, _ := getString(m, "temporaryRange", true)
	startS, _ := getString(m, "temporaryAccessStartTime", true)
	start, _ := parseISOTime(startS)
	d, _ := parseMs(rng)
	end := start.Add(d)
	g.mode, g.rng, g.start, g.end = &mode, &rng, &start, &end
	return g
}

func (s *Server) readRoles(c *call, m map[string]any) ([]*membershipRole, *apiError) {
	var out []*membershipRole
	if raw, ok := m["roles"]; ok {
		for _, e := range asSlice(raw) {
			em := bodyMap(e)
			role, _ := getString(em, "role", true)
			g := readTemporary(em)
			out = append(out, &membershipRole{ID: newUUID(), Role: role, IsTemporary: g.isTemporary, TemporaryMode: g.mode,
				TemporaryRange: g.rng, TemporaryAccessStartTime: g.start, TemporaryAccessEndTime: g.end, CreatedAt: c.now, UpdatedAt: c.now})
		}
	} else if role, ok := getString(m, "role", true); ok {
		out = append(out, &membershipRole{ID: newUUID(), Role: role, CreatedAt: c.now, UpdatedAt: c.now})
	}
	for _, r := range out {
		if !isProjectRole(r.Role) {
			return nil, errNotFound("Custom project roles not found")
		}
	}
	return out, nil
}

type membershipView struct {
	ID         string    `json:"id"`
	Role       string    `json:"role"`
	RoleID     *string   `json:"roleId"`
	ProjectID  string    `json:"projectId"`
	IdentityID string    `json:"identityId"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

func viewMembership(m *projectMembership) membershipView {
	role := roleNoAccess
	if len(m.Roles) > 0 {
		role = m.Roles[0].Role
	}
	return membershipView{ID: m.ID, Role: role, ProjectID: m.ProjectID, IdentityID: m.IdentityID, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

type membershipRoleView struct {
	ID                       string     `json:"id"`
	Role                     string     `json:"role"`
	CustomRoleID             *string    `json:"customRoleId"`
	CustomRoleName           *string    `json:"customRoleName"`
	CustomRoleSlug           *string    `json:"customRoleSlug"`
	IsTemporary              bool       `json:"isTemporary"`
	TemporaryMode            *string    `json:"temporaryMode"`
	TemporaryRange           *string    `json:"temporaryRange"`
	TemporaryAccessStartTime *time.Time `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *time.Time `json:"temporaryAccessEndTime"`
}

func viewRoles(roles []*membershipRole) []membershipRoleView {
	out := make([]membershipRoleView, 0, len(roles))
	for _, r := range roles {
		out = append(out, membershipRoleView{ID: r.ID, Role: r.Role, IsTemporary: r.IsTemporary, TemporaryMode: r.TemporaryMode,
			TemporaryRange: r.TemporaryRange, TemporaryAccessStartTime: r.TemporaryAccessStartTime, TemporaryAccessEndTime: r.TemporaryAccessEndTime})
	}
	return out
}

// viewMembershipDetail is the GET shape: roles, identity and project.
func (s *Server) viewMembershipDetail(m *projectMembership, now time.Time) map[string]any {
	out := map[string]any{
		"id": m.ID, "identityId": m.IdentityID, "projectId": m.ProjectID, "createdAt": m.CreatedAt, "updatedAt": m.UpdatedAt,
		"roles": viewRoles(m.Roles),
	}
	if id := s.st.identities[m.IdentityID]; id != nil {
		out["identity"] = map[string]any{"id": id.ID, "name": id.Name, "authMethods": id.authMethods(s.st)}
		if id.LastLoginAuthMethod != "" {
			out["lastLoginAuthMethod"] = id.LastLoginAuthMethod
			out["lastLoginTime"] = id.LastLoginTime
		}
	}
	if p := s.st.projects[m.ProjectID]; p != nil {
		out["project"] = map[string]any{"id": p.ID, "name": p.Name, "slug": p.Slug}
	}
	return out
}

func roleNames(roles []*membershipRole) []map[string]any {
	out := []map[string]any{}
	for _, r := range roles {
		out = append(out, map[string]any{"role": r.Role, "isTemporary": r.IsTemporary})
	}
	return out
}

// createMembership serves the current POST and the deprecated ones.
func (s *Server) createMembership(c *call) (any, *apiError) {
	m, verr := c.validateBody(createMembershipBody)
	if verr != nil {
		return nil, verr
	}
	_, hasRole := m["role"]
	_, hasRoles := m["roles"]
	if !hasRole && !hasRoles {
		return nil, errBadRequest("You must provide either role or roles field")
	}
	projectID, identityID := c.r.PathValue("projectId"), c.r.PathValue("identityId")
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actCreate, subIdentity, &subjectFields{identityID: identityID}); err != nil {
		return nil, err
	}
	id, err := s.lookupIdentity(c, identityID)
	if err != nil {
		return nil, err
	}
	if s.st.membership(projectID, identityID) != nil {
		return nil, errBadRequest("Identity with ID " + identityID + " already exists in project with ID " + projectID)
	}
	roles, err := s.readRoles(c, m)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if r.Role != roleNoAccess {
			if err := ab.requireBoundary("Failed to assign to role", actAssignRole, subIdentity); err != nil {
				return nil, err
			}
		}
	}
	pm := &projectMembership{ID: newUUID(), ProjectID: projectID, IdentityID: id.ID, Roles: roles, CreatedAt: c.now, UpdatedAt: c.now}
	if s.st.memberships[projectID] == nil {
		s.st.memberships[projectID] = map[string]*projectMembership{}
	}
	s.st.memberships[projectID][id.ID] = pm
	s.recordAudit(c, nil, projectID, "create-identity-project-membership", map[string]any{"identityId": id.ID, "roles": roleNames(roles)})
	return map[string]any{"identityMembership": viewMembership(pm)}, nil
}

// lookupMembership is the membership of the path's identity in the path's
// project, after the actor's permission for action on identities.
func (s *Server) lookupMembership(c *call, action string) (*projectMembership, *ability, *apiError) {
	projectID, identityID := c.r.PathValue("projectId"), c.r.PathValue("identityId")
	ab, err := s.projectAbility(c, projectID)
	if err != nil {
		return nil, nil, err
	}
	if err := ab.require(action, subIdentity, &subjectFields{identityID: identityID}); err != nil {
		return nil, nil, err
	}
	pm := s.st.membership(projectID, identityID)
	if pm == nil {
		return nil, nil, errNotFound("Identity with ID " + identityID + " not found in project with ID " + projectID)
	}
	return pm, ab, nil
}

func (s *Server) updateMembership(c *call) (any, *apiError) {
	return s.updateMembershipAs(c, false)
}

func (s *Server) updateMembershipLegacy(c *call) (any, *apiError) {
	return s.updateMembershipAs(c, true)
}

func (s *Server) updateMembershipAs(c *call, legacy bool) (any, *apiError) {
	m, verr := c.validateBody(updateMembershipBody)
	if verr != nil {
		return nil, verr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pm, ab, err := s.lookupMembership(c, actEdit)
	if err != nil {
		return nil, err
	}
	roles, err := s.readRoles(c, m)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if r.Role != roleNoAccess {
			if err := ab.requireBoundary("Failed to change to a more privileged role", actAssignRole, subIdentity); err != nil {
				return nil, err
			}
		}
	}
	pm.Roles = roles
	pm.UpdatedAt = c.now
	s.recordAudit(c, nil, pm.ProjectID, "update-identity-project-membership", map[string]any{"identityId": pm.IdentityID, "roles": roleNames(roles)})
	if legacy {
		return map[string]any{"roles": viewRoles(roles)}, nil
	}
	return map[string]any{"identityMembership": viewMembership(pm)}, nil
}

func (s *Server) deleteMembership(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pm, _, err := s.lookupMembership(c, actDelete)
	if err != nil {
		return nil, err
	}
	view := viewMembership(pm)
	s.st.deleteMembership(pm)
	s.recordAudit(c, nil, pm.ProjectID, "delete-identity-project-membership", map[string]any{"identityId": pm.IdentityID})
	return map[string]any{"identityMembership": view}, nil
}

func (s *Server) getMembership(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	pm, _, err := s.lookupMembership(c, actRead)
	if err != nil {
		return nil, err
	}
	s.recordAudit(c, nil, pm.ProjectID, "get-identity-project-membership", map[string]any{"identityId": pm.IdentityID})
	return map[string]any{"identityMembership": s.viewMembershipDetail(pm, c.now)}, nil
}

var listMembershipsQuery = object(
	field("offset", coerceNum().gte(0).opt()),
	field("limit", coerceNum().gte(1).lte(1000).opt()),
	field("identityName", str().trimmed().opt()),
	field("roles", str().opt()),
)

func (s *Server) listMemberships(c *call) (any, *apiError) {
	q, verr := c.validateQuery(listMembershipsQuery)
	if verr != nil {
		return nil, verr
	}
	projectID := c.r.PathValue("projectId")
	s.mu.RLock()
	defer s.mu.RUnlock()
	ab, err := s.projectAbility(c, projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actRead, subIdentity, nil); err != nil {
		return nil, err
	}
	var all []*projectMembership
	name, _ := getString(q, "identityName", true)
	roleFilter := splitTrim(func() string { v, _ := getString(q, "roles", true); return v }(), ",")
	for _, pm := range s.st.memberships[projectID] {
		id := s.st.identities[pm.IdentityID]
		if id == nil || (name != "" && !strings.Contains(strings.ToLower(id.Name), strings.ToLower(name))) {
			continue
		}
		if len(roleFilter) > 0 {
			hit := false
			for _, r := range pm.Roles {
				hit = hit || contains(roleFilter, r.Role)
			}
			if !hit {
				continue
			}
		}
		all = append(all, pm)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].ID < all[j].ID
	})
	offset, limit := 0, 20
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
	out := make([]any, 0, len(page))
	for _, pm := range page {
		out = append(out, s.viewMembershipDetail(pm, c.now))
	}
	return map[string]any{"identityMemberships": out, "totalCount": len(all)}, nil
}

func (s *Server) sortedProjects() []*project {
	out := make([]*project, 0, len(s.st.projects))
	for _, p := range s.st.projects {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
