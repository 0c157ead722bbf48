package infisicalsrv

import (
	"time"
)

// permKey identifies a cached project ability.
type permKey struct{ identityID, projectID string }

type permEntry struct {
	ab      *ability
	expires time.Time
}

// orgAbility is the organization permission of an actor (its org role).
// The caller holds s.mu.
func (s *Server) orgAbility(a *actor) *ability {
	role := a.orgRole
	if id := s.st.identities[a.identityID]; id != nil {
		role = id.OrgRole
	}
	return newAbility(orgRoleRules[role])
}

// requireOrg is getOrgPermission + throwUnlessCan for an org-level route
// that names an organization.
func (s *Server) requireOrg(a *actor, orgID, action, subject string) (*ability, *apiError) {
	if orgID != "" && orgID != a.orgID {
		return nil, errForbiddenRequest("", "Your token is scoped to organization with ID "+a.orgID+", but this resource belongs to a different organization.", nil)
	}
	ab := s.orgAbility(a)
	if err := ab.require(action, subject, nil); err != nil {
		return nil, err
	}
	return ab, nil
}

// projectAbility is getProjectPermission for an identity: 404 for an unknown
// project, 403 when the identity is not a member, else the union of its
// active roles and active additional privileges at c.now. The caller holds
// s.mu.
func (s *Server) projectAbility(c *call, projectID string) (*ability, *apiError) {
	return s.abilityAt(c.actor.identityID, c.actor.orgID, projectID, c.now, true)
}

// abilityAt computes (or, with the permission cache on and useCache set,
// recalls) an identity's project ability at now. The caller holds s.mu.
func (s *Server) abilityAt(identityID, orgID, projectID string, now time.Time, useCache bool) (*ability, *apiError) {
	p := s.st.projects[projectID]
	if p == nil {
		return nil, errNotFound("Project with " + projectID + " not found")
	}
	if p.OrgID != orgID {
		return nil, errForbiddenRequest("", "This project does not belong to your selected organization.", nil)
	}
	key := permKey{identityID, projectID}
	ttl := time.Duration(s.permCacheTTL.Load())
	if !useCache {
		ttl = 0
	}
	if ttl > 0 {
		s.permMu.Lock()
		e, ok := s.permCache[key]
		s.permMu.Unlock()
		if ok && now.Before(e.expires) {
			return e.ab, nil
		}
	}
	m := s.st.membership(projectID, identityID)
	if m == nil {
		return nil, errForbiddenRequest("ProjectMembershipNotFound",
			"You are not a member of this project with ID "+projectID+". Please assign this identity to the project with the appropriate permissions, then try again.", nil)
	}
	var sets [][]*rule
	for _, r := range m.Roles {
		if activeAt(r.IsTemporary, r.TemporaryAccessEndTime, now) {
			sets = append(sets, projectRoleRules[r.Role])
		}
	}
	for _, pr := range s.st.privilegesOf(identityID, projectID) {
		if activeAt(pr.IsTemporary, pr.TemporaryAccessEndTime, now) {
			sets = append(sets, pr.compiled)
		}
	}
	ab := newAbility(sets...)
	if ttl > 0 {
		s.permMu.Lock()
		s.permCache[key] = permEntry{ab: ab, expires: now.Add(ttl)}
		s.permMu.Unlock()
	}
	return ab, nil
}
