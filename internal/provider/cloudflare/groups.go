package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// The scopes of permission groups. A group applies to resources of its
// scope only: zone groups to zones, account groups to accounts, user groups
// to the user.
const (
	ScopeZone    = "com.cloudflare.api.account.zone"
	ScopeAccount = "com.cloudflare.api.account"
	ScopeUser    = "com.cloudflare.api.user"
)

// PermissionGroup is a named set of permissions a token policy grants.
type PermissionGroup struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
}

// Scope is the group's scope ("" when Cloudflare gave none).
func (g PermissionGroup) Scope() string {
	if len(g.Scopes) == 0 {
		return ""
	}
	return g.Scopes[0]
}

// PermissionGroups is the catalogue Cloudflare offers, with a resolver from
// names to groups.
type PermissionGroups []PermissionGroup

// PermissionGroups returns the catalogue of permission groups (GET
// /user/tokens/permission_groups; the token needs API Tokens Read or
// Write).
func (c *Client) PermissionGroups(ctx context.Context) (PermissionGroups, error) {
	var out PermissionGroups
	if _, err := c.do(ctx, &call{op: "list permission groups", method: http.MethodGet, path: "/user/tokens/permission_groups"}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Resolve finds the named groups (exact names, e.g. "DNS Write") in any
// scope. It fails naming every unknown group (with the catalogue's spelling
// when only the case differs) and every name that several scopes share; for
// those, use ResolveInScope.
func (gs PermissionGroups) Resolve(names ...string) ([]PermissionGroup, error) {
	return gs.resolve("", names)
}

// ResolveInScope finds the named groups among those of one scope
// (ScopeZone, ScopeAccount or ScopeUser).
func (gs PermissionGroups) ResolveInScope(scope string, names ...string) ([]PermissionGroup, error) {
	return gs.resolve(scope, names)
}

func (gs PermissionGroups) resolve(scope string, names []string) ([]PermissionGroup, error) {
	var out []PermissionGroup
	var unknown, ambiguous []string
	for _, name := range names {
		var matches []PermissionGroup
		for _, g := range gs {
			if g.Name == name && (scope == "" || hasScope(g, scope)) {
				matches = append(matches, g)
			}
		}
		switch len(matches) {
		case 1:
			out = append(out, matches[0])
			continue
		case 0:
			hint := ""
			for _, g := range gs {
				if strings.EqualFold(g.Name, name) && (scope == "" || hasScope(g, scope)) {
					hint = fmt.Sprintf(" (did you mean %q?)", g.Name)
					break
				}
			}
			unknown = append(unknown, fmt.Sprintf("%q%s", name, hint))
		default:
			var scopes []string
			for _, g := range matches {
				scopes = append(scopes, g.Scope())
			}
			sort.Strings(scopes)
			ambiguous = append(ambiguous, fmt.Sprintf("%q (scopes %s)", name, strings.Join(scopes, ", ")))
		}
	}
	var problems []string
	if len(unknown) > 0 {
		in := "Cloudflare's catalogue"
		if scope != "" {
			in = "the groups of scope " + scope
		}
		problems = append(problems, fmt.Sprintf("unknown permission group %s in %s", strings.Join(unknown, ", "), in))
	}
	if len(ambiguous) > 0 {
		problems = append(problems, fmt.Sprintf("permission group %s exists in several scopes: name the scope", strings.Join(ambiguous, ", ")))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cloudflare: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

func hasScope(g PermissionGroup, scope string) bool {
	for _, s := range g.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}
