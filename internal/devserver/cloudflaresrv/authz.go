package cloudflaresrv

import (
	"sort"
	"strings"
)

// Resource keys, as Cloudflare writes them in a policy's resources:
//
//	com.cloudflare.api.account.zone.<zone id>: "*"   one zone
//	com.cloudflare.api.account.zone.*: "*"            every zone of the user
//	com.cloudflare.api.account.<account id>: "*"      one account
//	com.cloudflare.api.account.*: "*"                 every account
//	com.cloudflare.api.account.<account id or *>: {"com.cloudflare.api.account.zone.<id or *>": "*"}
//	                                                  zones of an account
//	com.cloudflare.api.user.<user id>: "*"            the user
const (
	zoneKeyPrefix    = ScopeZone + "."
	accountKeyPrefix = ScopeAccount + "."
	userKeyPrefix    = ScopeUser + "."
)

// target is what a permission is checked on.
type target struct {
	scope     string // ScopeZone, ScopeAccount or ScopeUser
	id        string
	accountID string // for a zone: its account
}

func zoneTarget(z *zone) target       { return target{scope: ScopeZone, id: z.ID, accountID: z.AccountID} }
func userTarget(userID string) target { return target{scope: ScopeUser, id: userID} }

// covers reports whether a policy's resources reach t.
func (p *policy) covers(t target) bool {
	for k, v := range p.Resources {
		if resourceCovers(k, v, t) {
			return true
		}
	}
	return false
}

func resourceCovers(key string, value any, t target) bool {
	switch {
	case strings.HasPrefix(key, zoneKeyPrefix):
		id := strings.TrimPrefix(key, zoneKeyPrefix)
		return t.scope == ScopeZone && value == "*" && (id == "*" || id == t.id)
	case strings.HasPrefix(key, accountKeyPrefix):
		id := strings.TrimPrefix(key, accountKeyPrefix)
		switch v := value.(type) {
		case string:
			return t.scope == ScopeAccount && v == "*" && (id == "*" || id == t.id)
		case map[string]any:
			if t.scope != ScopeZone || (id != "*" && id != t.accountID) {
				return false
			}
			for nk, nv := range v {
				if resourceCovers(nk, nv, t) {
					return true
				}
			}
		}
		return false
	case strings.HasPrefix(key, userKeyPrefix):
		id := strings.TrimPrefix(key, userKeyPrefix)
		return t.scope == ScopeUser && value == "*" && id == t.id
	}
	return false
}

// effective returns the ids of the permission groups the token holds on t:
// those its allow policies grant there, less those its deny policies take
// away (deny wins, whatever the order of the policies).
func (st *state) effective(tok *token, t target) map[string]bool {
	allowed := map[string]bool{}
	denied := map[string]bool{}
	for _, p := range tok.Policies {
		if !p.covers(t) {
			continue
		}
		for _, id := range p.PermissionGroups {
			g := st.groupByID[id]
			if g == nil || !hasScope(g, t.scope) {
				continue
			}
			if p.Effect == "deny" {
				denied[id] = true
			} else {
				allowed[id] = true
			}
		}
	}
	for id := range denied {
		delete(allowed, id)
	}
	return allowed
}

// holds reports whether the token holds, on t, any of the named groups.
func (st *state) holds(tok *token, t target, names ...string) bool {
	eff := st.effective(tok, t)
	for _, n := range names {
		if g := st.groupByName[n]; g != nil && eff[g.ID] {
			return true
		}
	}
	return false
}

// reaches reports whether the token holds any permission on the zone: what
// makes a zone appear in its GET /zones. Chosen: a token holding only, say,
// DNS Write on a zone lists it, as DNS clients (certbot) rely on.
func (st *state) reaches(tok *token, z *zone) bool {
	return len(st.effective(tok, zoneTarget(z))) > 0
}

func hasScope(g *PermissionGroup, scope string) bool {
	for _, s := range g.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// parsePolicies validates the policies of a token body and returns them
// with ids. existing are the token's current policies (on update a policy
// may name one of them by id and keeps it); on creation a policy id is
// refused as Cloudflare refuses it.
func (st *state) parsePolicies(raw any, existing []*policy, creating bool) ([]*policy, *apiError) {
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, errValidation("policies must be a non-empty array of policies")
	}
	known := map[string]bool{}
	for _, p := range existing {
		known[p.ID] = true
	}
	var out []*policy
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, errValidation("policies[%d] must be an object", i)
		}
		p := &policy{}
		if id, present := m["id"]; present && id != nil {
			s, _ := id.(string)
			if creating {
				return nil, errValidation("Reusing existing policies is not supported by token creation")
			}
			if known[s] {
				p.ID = s
			}
		}
		if p.ID == "" {
			p.ID = newID()
		}
		switch e := m["effect"]; e {
		case "allow", "deny":
			p.Effect = e.(string)
		default:
			return nil, errValidation("policies[%d].effect must be allow or deny", i)
		}
		scopes, aerr := st.parsePolicyGroups(m["permission_groups"], i, p)
		if aerr != nil {
			return nil, aerr
		}
		if aerr := st.parseResources(m["resources"], i, p, scopes); aerr != nil {
			return nil, aerr
		}
		out = append(out, p)
	}
	return out, nil
}

// parsePolicyGroups reads permission_groups (objects with an id, as
// Cloudflare requires: "id must be present") and returns their scopes.
func (st *state) parsePolicyGroups(raw any, i int, p *policy) (map[string]bool, *apiError) {
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, errValidation("policies[%d].permission_groups must be a non-empty array", i)
	}
	scopes := map[string]bool{}
	seen := map[string]bool{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, errValidation("policies[%d].permission_groups must hold objects with an id", i)
		}
		id, _ := m["id"].(string)
		if id == "" {
			return nil, errValidation("policies[%d].permission_groups: id must be present", i)
		}
		g := st.groupByID[id]
		if g == nil {
			return nil, errValidation("Permission group %s does not exist", id)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		p.PermissionGroups = append(p.PermissionGroups, id)
		for _, s := range g.Scopes {
			scopes[s] = true
		}
	}
	if len(scopes) > 1 {
		return nil, errValidation("policies[%d]: permission groups of different scopes (%s) cannot share a policy", i, strings.Join(sortedKeys(scopes), ", "))
	}
	return scopes, nil
}

// parseResources reads a policy's resources: every key must name a
// resource the user can reach, in the scope of the policy's permission
// groups. Chosen: Cloudflare's exact messages for these refusals are not
// public; the checks are those its documentation implies.
func (st *state) parseResources(raw any, i int, p *policy, scopes map[string]bool) *apiError {
	m, ok := raw.(map[string]any)
	if !ok || len(m) == 0 {
		return errValidation("policies[%d].resources must be a non-empty object", i)
	}
	var scope string
	for s := range scopes {
		scope = s
	}
	out := map[string]any{}
	for _, k := range sortedKeys(m) {
		v := m[k]
		kind, aerr := st.checkResource(k, v)
		if aerr != nil {
			return aerr
		}
		if kind != scope {
			return errValidation("Permission groups of scope %s cannot be applied to resource %s", scope, k)
		}
		out[k] = v
	}
	p.Resources = out
	return nil
}

// checkResource validates one resource entry and returns the scope it is
// of (zones nested under an account are of the zone scope).
func (st *state) checkResource(key string, value any) (string, *apiError) {
	invalid := func() (string, *apiError) { return "", errValidation("Invalid resource %s", key) }
	switch {
	case strings.HasPrefix(key, zoneKeyPrefix):
		id := strings.TrimPrefix(key, zoneKeyPrefix)
		if value != "*" {
			return invalid()
		}
		if id != "*" && st.zoneByID[id] == nil {
			return "", errValidation("Resource %s is not accessible to the user", key)
		}
		return ScopeZone, nil
	case strings.HasPrefix(key, accountKeyPrefix):
		id := strings.TrimPrefix(key, accountKeyPrefix)
		if id != "*" && st.accountByID[id] == nil {
			if hexID32.MatchString(id) {
				return "", errValidation("Resource %s is not accessible to the user", key)
			}
			return invalid()
		}
		switch v := value.(type) {
		case string:
			if v != "*" {
				return invalid()
			}
			return ScopeAccount, nil
		case map[string]any:
			if len(v) == 0 {
				return invalid()
			}
			for nk, nv := range v {
				if !strings.HasPrefix(nk, zoneKeyPrefix) {
					return invalid()
				}
				if _, aerr := st.checkResource(nk, nv); aerr != nil {
					return "", aerr
				}
				zid := strings.TrimPrefix(nk, zoneKeyPrefix)
				if z := st.zoneByID[zid]; z != nil && id != "*" && z.AccountID != id {
					return "", errValidation("Resource %s is not in account %s", nk, id)
				}
			}
			return ScopeZone, nil
		}
		return invalid()
	case strings.HasPrefix(key, userKeyPrefix):
		id := strings.TrimPrefix(key, userKeyPrefix)
		if value != "*" {
			return invalid()
		}
		if id != st.User.ID {
			return "", errValidation("Resource %s is not accessible to the user", key)
		}
		return ScopeUser, nil
	}
	return invalid()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
