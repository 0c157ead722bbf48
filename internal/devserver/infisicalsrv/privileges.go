package infisicalsrv

import (
	"strings"
	"time"
)

// Identity additional privileges: /api/v2/identity-project-additional-privilege
// and the deprecated /api/v1/additional-privilege/identity.

type privilegeView struct {
	ID                       string           `json:"id"`
	Slug                     string           `json:"slug"`
	IdentityID               string           `json:"identityId"`
	ProjectMembershipID      string           `json:"projectMembershipId"`
	ProjectID                string           `json:"projectId"`
	IsTemporary              bool             `json:"isTemporary"`
	TemporaryMode            *string          `json:"temporaryMode"`
	TemporaryRange           *string          `json:"temporaryRange"`
	TemporaryAccessStartTime *time.Time       `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *time.Time       `json:"temporaryAccessEndTime"`
	Permissions              []permissionRule `json:"permissions,omitempty"`
	CreatedAt                time.Time        `json:"createdAt"`
	UpdatedAt                time.Time        `json:"updatedAt"`
}

func viewPrivilege(p *privilege, withPermissions bool) privilegeView {
	v := privilegeView{ID: p.ID, Slug: p.Slug, IdentityID: p.IdentityID, ProjectMembershipID: p.MembershipID, ProjectID: p.ProjectID,
		IsTemporary: p.IsTemporary, TemporaryMode: p.TemporaryMode, TemporaryRange: p.TemporaryRange,
		TemporaryAccessStartTime: p.TemporaryAccessStartTime, TemporaryAccessEndTime: p.TemporaryAccessEndTime,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if withPermissions {
		v.Permissions = p.Permissions
		if v.Permissions == nil {
			v.Permissions = []permissionRule{}
		}
	}
	return v
}

var privilegeType = object(
	field("isTemporary", boolean()),
	field("temporaryMode", enum("relative").opt()),
	field("temporaryRange", str().opt()),
	field("temporaryAccessStartTime", dateTime().opt()),
).withRefine(func(v any, path []any, add func(zodIssue)) {
	m := bodyMap(v)
	if t, _ := getBool(m, "isTemporary"); t {
		temporaryFields(m, path, add)
	}
})

var createPrivilegeBody = object(
	field("identityId", str().trimmed().minL(1)),
	field("projectId", str().trimmed().minL(1)),
	field("slug", slugField(60).opt()),
	field("permissions", array(anyValue())),
	field("type", privilegeType),
)

// updatePrivilegeBody requires all three fields, as a real server does: a
// missing slug or type is zod's "Required", a missing permissions a custom
// "Invalid input" (observed).
var updatePrivilegeBody = object(
	field("slug", slugField(60)),
	field("permissions", array(anyValue()).missingIssue("Invalid input")),
	field("type", privilegeType),
)

// validatePermissions runs the body schema and then the rule checks.
func (c *call) validatePrivilegeBody(sch *schema) (map[string]any, []permissionRule, *apiError) {
	issues := sch.check(c.body)
	m := bodyMap(c.body)
	var rules []permissionRule
	if raw, ok := m["permissions"].([]any); ok {
		var more []zodIssue
		rules, more = parsePermissionsV2(raw, []any{"permissions"})
		issues = append(issues, more...)
	}
	if len(issues) > 0 {
		return nil, nil, errValidation(issues)
	}
	return m, rules, nil
}

func randomSlug() string { return strings.ToLower(newReqID()[4:]) }

func (s *Server) slugTaken(identityID, projectID, slug, exceptID string) bool {
	for _, p := range s.st.privilegesOf(identityID, projectID) {
		if p.Slug == slug && p.ID != exceptID {
			return true
		}
	}
	return false
}

// grantPrivilege checks and stores a new privilege for identityID in
// projectID (shared by v2 and v1).
func (s *Server) grantPrivilege(c *call, projectID, identityID, slug string, rules []permissionRule, g temporaryGrant) (*privilege, *apiError) {
	ab, err := s.projectAbility(c, projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actEdit, subIdentity, &subjectFields{identityID: identityID}); err != nil {
		return nil, err
	}
	pm := s.st.membership(projectID, identityID)
	if pm == nil {
		return nil, errNotFound("Failed to find identity with id " + identityID)
	}
	if err := ab.requireBoundary("Failed to update more privileged identity", actGrantPrivileges, subIdentity); err != nil {
		return nil, err
	}
	if err := checkReadCombination(rules); err != nil {
		return nil, err
	}
	if slug == "" {
		slug = randomSlug()
	}
	if s.slugTaken(identityID, projectID, slug, "") {
		return nil, errBadRequest("Additional privilege of provided slug exist")
	}
	rules = normalizeRules(rules)
	compiled, cerr := compileRules(rules)
	if cerr != nil {
		return nil, errBadRequest("Invalid permission: " + cerr.Error())
	}
	p := &privilege{ID: newUUID(), Slug: slug, IdentityID: identityID, ProjectID: projectID, MembershipID: pm.ID,
		IsTemporary: g.isTemporary, TemporaryMode: g.mode, TemporaryRange: g.rng, TemporaryAccessStartTime: g.start,
		TemporaryAccessEndTime: g.end, Permissions: rules, CreatedAt: c.now, UpdatedAt: c.now, compiled: compiled}
	s.st.addPrivilege(p)
	s.recordAudit(c, nil, projectID, "create-identity-project-additional-privilege", map[string]any{
		"identityId": identityID, "privilegeId": p.ID, "slug": slug, "isTemporary": g.isTemporary,
	})
	return p, nil
}

func (s *Server) createPrivilegeV2(c *call) (any, *apiError) {
	m, rules, verr := c.validatePrivilegeBody(createPrivilegeBody)
	if verr != nil {
		return nil, verr
	}
	identityID, _ := getString(m, "identityId", true)
	projectID, _ := getString(m, "projectId", true)
	slug, _ := getString(m, "slug", true)
	g := readTemporary(bodyMap(m["type"]))
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.grantPrivilege(c, projectID, identityID, slug, rules, g)
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": viewPrivilege(p, true)}, nil
}

// lookupPrivilege finds the path's privilege after the actor's permission
// for action on the identity it belongs to.
func (s *Server) lookupPrivilege(c *call, action string) (*privilege, *ability, *apiError) {
	id := c.r.PathValue("id")
	p := s.st.privileges[id]
	if p == nil {
		return nil, nil, errNotFound("Privilege with id " + id + " not found")
	}
	ab, err := s.projectAbility(c, p.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	if err := ab.require(action, subIdentity, &subjectFields{identityID: p.IdentityID}); err != nil {
		return nil, nil, err
	}
	return p, ab, nil
}

func (s *Server) getPrivilegeV2(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, _, err := s.lookupPrivilege(c, actRead)
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": viewPrivilege(p, true)}, nil
}

func (s *Server) updatePrivilegeV2(c *call) (any, *apiError) {
	m, rules, verr := c.validatePrivilegeBody(updatePrivilegeBody)
	if verr != nil {
		return nil, verr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ab, err := s.lookupPrivilege(c, actEdit)
	if err != nil {
		return nil, err
	}
	if err := ab.requireBoundary("Failed to update more privileged identity", actGrantPrivileges, subIdentity); err != nil {
		return nil, err
	}
	slug, _ := getString(m, "slug", true)
	if s.slugTaken(p.IdentityID, p.ProjectID, slug, p.ID) {
		return nil, errBadRequest("Additional privilege of provided slug exist")
	}
	if err := checkReadCombination(rules); err != nil {
		return nil, err
	}
	rules = normalizeRules(rules)
	compiled, cerr := compileRules(rules)
	if cerr != nil {
		return nil, errBadRequest("Invalid permission: " + cerr.Error())
	}
	p.Slug = slug
	p.Permissions, p.compiled = rules, compiled
	// Switching to permanent keeps the old temporary* fields in the row
	// (observed); isTemporary alone decides whether they apply.
	if g := readTemporary(bodyMap(m["type"])); g.isTemporary {
		p.IsTemporary, p.TemporaryMode, p.TemporaryRange = true, g.mode, g.rng
		p.TemporaryAccessStartTime, p.TemporaryAccessEndTime = g.start, g.end
	} else {
		p.IsTemporary = false
	}
	p.UpdatedAt = c.now
	s.recordAudit(c, nil, p.ProjectID, "update-identity-project-additional-privilege", map[string]any{
		"identityId": p.IdentityID, "privilegeId": p.ID, "slug": p.Slug,
	})
	return map[string]any{"privilege": viewPrivilege(p, true)}, nil
}

func (s *Server) deletePrivilegeV2(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, _, err := s.lookupPrivilege(c, actEdit)
	if err != nil {
		return nil, err
	}
	s.st.removePrivilege(p)
	s.recordAudit(c, nil, p.ProjectID, "delete-identity-project-additional-privilege", map[string]any{
		"identityId": p.IdentityID, "privilegeId": p.ID, "slug": p.Slug,
	})
	return map[string]any{"privilege": viewPrivilege(p, true)}, nil
}

var listPrivilegesV2Query = object(
	field("identityId", str().trimmed().minL(1)),
	field("projectId", str().trimmed().minL(1)),
)

func (s *Server) listPrivilegesV2(c *call) (any, *apiError) {
	q, verr := c.validateQuery(listPrivilegesV2Query)
	if verr != nil {
		return nil, verr
	}
	identityID, _ := getString(q, "identityId", true)
	projectID, _ := getString(q, "projectId", true)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.listPrivileges(c, identityID, projectID, false)
}

func (s *Server) listPrivileges(c *call, identityID, projectID string, withPermissions bool) (any, *apiError) {
	ab, err := s.projectAbility(c, projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actRead, subIdentity, &subjectFields{identityID: identityID}); err != nil {
		return nil, err
	}
	if s.st.membership(projectID, identityID) == nil {
		return nil, errNotFound("Failed to find identity with id " + identityID)
	}
	out := []privilegeView{}
	for _, p := range s.st.privilegesOf(identityID, projectID) {
		out = append(out, viewPrivilege(p, withPermissions))
	}
	return map[string]any{"privileges": out}, nil
}

var getPrivilegeBySlugQuery = object(
	field("identityId", str().trimmed().minL(1)),
	field("projectSlug", str().trimmed().minL(1).opt()),
	field("projectId", str().trimmed().minL(1).opt()),
)

// getPrivilegeBySlugV2 is GET .../slug/{privilegeSlug}?identityId&projectSlug.
func (s *Server) getPrivilegeBySlugV2(c *call) (any, *apiError) {
	q, verr := c.validateQuery(getPrivilegeBySlugQuery)
	if verr != nil {
		return nil, verr
	}
	identityID, _ := getString(q, "identityId", true)
	s.mu.RLock()
	defer s.mu.RUnlock()
	projectID, _ := getString(q, "projectId", true)
	if slug, ok := getString(q, "projectSlug", true); ok {
		p := s.st.projectsBySlug[slug]
		if p == nil {
			return nil, errNotFound("Project with slug '" + slug + "' not found")
		}
		projectID = p.ID
	}
	ab, err := s.projectAbility(c, projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actRead, subIdentity, &subjectFields{identityID: identityID}); err != nil {
		return nil, err
	}
	slug := c.r.PathValue("privilegeSlug")
	for _, p := range s.st.privilegesOf(identityID, projectID) {
		if p.Slug == slug {
			return map[string]any{"privilege": viewPrivilege(p, true)}, nil
		}
	}
	return nil, errNotFound("Identity additional privilege with slug '" + slug + "' not found")
}

// v1: permissions in the v1 shape ({action, subject, conditions}) or one
// privilegePermission {actions[], subject, conditions}.

var v1Conditions = object(
	field("environment", str().opt()),
	field("secretPath", object(field("$glob", str().opt())).opt()),
).opt()

func v1PrivilegeBody(temporary bool) *schema {
	props := []prop{
		field("identityId", str().trimmed().minL(1)),
		field("projectSlug", str().trimmed().minL(1)),
		field("slug", slugField(60).opt()),
		field("permissions", array(object(
			field("action", str()),
			field("subject", str()),
			field("conditions", v1Conditions),
		)).opt()),
		field("privilegePermission", object(
			field("actions", array(str()).minL(1)),
			field("subject", str()),
			field("conditions", v1Conditions),
		).opt()),
	}
	if temporary {
		props = append(props,
			field("temporaryMode", enum("relative")),
			field("temporaryRange", str().withRefine(func(v any, path []any, add func(zodIssue)) {
				if d, ok := parseMs(v.(string)); !ok || d <= 0 {
					add(customIssue(path, "Invalid time period format or value"))
				}
			})),
			field("temporaryAccessStartTime", dateTime()),
		)
	}
	return object(props...).withRefine(func(v any, path []any, add func(zodIssue)) {
		m := bodyMap(v)
		_, a := m["permissions"]
		_, b := m["privilegePermission"]
		if !a && !b {
			add(customIssue(path, "Either permissions or privilegePermission must be provided"))
		}
	})
}

var (
	createPrivilegeV1Permanent = v1PrivilegeBody(false)
	createPrivilegeV1Temporary = v1PrivilegeBody(true)
)

// v1Rules converts v1 permissions to rules in the v2 shape and validates
// them like v2 ones.
func v1Rules(m map[string]any) ([]permissionRule, []zodIssue) {
	var generic []any
	if pp := bodyMap(m["privilegePermission"]); pp != nil {
		generic = append(generic, map[string]any{"subject": pp["subject"], "action": pp["actions"], "conditions": pp["conditions"]})
	} else {
		for _, e := range asSlice(m["permissions"]) {
			em := bodyMap(e)
			generic = append(generic, map[string]any{"subject": em["subject"], "action": []any{em["action"]}, "conditions": em["conditions"]})
		}
	}
	return parsePermissionsV2(generic, []any{"permissions"})
}

func (s *Server) createPrivilegeV1(c *call, temporary bool) (any, *apiError) {
	sch := createPrivilegeV1Permanent
	if temporary {
		sch = createPrivilegeV1Temporary
	}
	m, verr := c.validateBody(sch)
	if verr != nil {
		return nil, verr
	}
	rules, issues := v1Rules(m)
	if len(issues) > 0 {
		return nil, errValidation(issues)
	}
	identityID, _ := getString(m, "identityId", true)
	projectSlug, _ := getString(m, "projectSlug", true)
	slug, _ := getString(m, "slug", true)
	var g temporaryGrant
	if temporary {
		m["isTemporary"] = true
		g = readTemporary(m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projectsBySlug[projectSlug]
	if p == nil {
		return nil, errNotFound("Project with slug '" + projectSlug + "' not found")
	}
	pr, err := s.grantPrivilege(c, p.ID, identityID, slug, rules, g)
	if err != nil {
		return nil, err
	}
	return map[string]any{"privilege": viewPrivilege(pr, true)}, nil
}

func (s *Server) createPrivilegeV1Permanent(c *call) (any, *apiError) {
	return s.createPrivilegeV1(c, false)
}
func (s *Server) createPrivilegeV1Temporary(c *call) (any, *apiError) {
	return s.createPrivilegeV1(c, true)
}

var deletePrivilegeV1Body = object(
	field("privilegeSlug", str().trimmed().minL(1)),
	field("identityId", str().trimmed().minL(1)),
	field("projectSlug", str().trimmed().minL(1)),
)

func (s *Server) deletePrivilegeV1(c *call) (any, *apiError) {
	m, verr := c.validateBody(deletePrivilegeV1Body)
	if verr != nil {
		return nil, verr
	}
	slug, _ := getString(m, "privilegeSlug", true)
	identityID, _ := getString(m, "identityId", true)
	projectSlug, _ := getString(m, "projectSlug", true)
	s.mu.Lock()
	defer s.mu.Unlock()
	proj := s.st.projectsBySlug[projectSlug]
	if proj == nil {
		return nil, errNotFound("Project with slug '" + projectSlug + "' not found")
	}
	ab, err := s.projectAbility(c, proj.ID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actEdit, subIdentity, &subjectFields{identityID: identityID}); err != nil {
		return nil, err
	}
	if s.st.membership(proj.ID, identityID) == nil {
		return nil, errNotFound("Failed to find identity with id " + identityID)
	}
	for _, p := range s.st.privilegesOf(identityID, proj.ID) {
		if p.Slug == slug {
			s.st.removePrivilege(p)
			s.recordAudit(c, nil, proj.ID, "delete-identity-project-additional-privilege", map[string]any{
				"identityId": identityID, "privilegeId": p.ID, "slug": slug,
			})
			return map[string]any{"privilege": viewPrivilege(p, true)}, nil
		}
	}
	return nil, errNotFound("Identity additional privilege with slug '" + slug + "' not found")
}

var listPrivilegesV1Query = object(
	field("identityId", str().trimmed().minL(1)),
	field("projectSlug", str().trimmed().minL(1)),
)

func (s *Server) listPrivilegesV1(c *call) (any, *apiError) {
	q, verr := c.validateQuery(listPrivilegesV1Query)
	if verr != nil {
		return nil, verr
	}
	identityID, _ := getString(q, "identityId", true)
	projectSlug, _ := getString(q, "projectSlug", true)
	s.mu.RLock()
	defer s.mu.RUnlock()
	proj := s.st.projectsBySlug[projectSlug]
	if proj == nil {
		return nil, errNotFound("Project with slug '" + projectSlug + "' not found")
	}
	return s.listPrivileges(c, identityID, proj.ID, true)
}
