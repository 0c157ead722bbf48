package herokusrv

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// routes registers every link of the contract (14 links on 7 resources).
func (s *Server) routes() {
	s.handle("GET /account", endpoint{cap: capAccount, h: s.accountInfo})
	s.handle("GET /apps", endpoint{cap: capRead, h: s.appList})
	s.handle("GET /apps/{app}", endpoint{cap: capRead, h: s.appInfo})
	s.handle("GET /apps/{app}/config-vars", endpoint{cap: capReadConfig, h: s.configVarInfo})
	s.handle("PATCH /apps/{app}/config-vars", endpoint{cap: capWriteConfig, write: true, h: s.configVarUpdate})
	s.handle("GET /apps/{app}/collaborators", endpoint{cap: capRead, h: s.collaboratorList})
	s.handle("GET /teams/{team}/members", endpoint{cap: capRead, h: s.teamMemberList})
	s.handle("GET /teams/permissions", endpoint{cap: capRead, h: s.teamPermissionList})
	s.handle("POST /oauth/authorizations", endpoint{cap: capAuthorizations, write: true, h: s.authorizationCreate})
	s.handle("GET /oauth/authorizations", endpoint{cap: capAuthorizations, h: s.authorizationList})
	s.handle("GET /oauth/authorizations/{id}", endpoint{cap: capAuthorizations, h: s.authorizationInfo})
	s.handle("PATCH /oauth/authorizations/{id}", endpoint{cap: capAuthorizations, write: true, h: s.authorizationUpdate})
	s.handle("DELETE /oauth/authorizations/{id}", endpoint{cap: capAuthorizations, write: true, h: s.authorizationDelete})
	s.handle("POST /oauth/authorizations/{id}/actions/regenerate-tokens", endpoint{cap: capAuthorizations, write: true, h: s.authorizationRegenerate})
}

// Account.

func (s *Server) accountInfo(c *call) (int, any, *apiError) {
	return http.StatusOK, renderAccount(c.cred.account, c.now), nil
}

// Apps.

// visibleApps are the apps an account can reach: its reach.
func (s *Server) visibleApps(acc *account) []*app {
	var out []*app
	for _, a := range s.w.apps {
		if len(appPerms(a, acc)) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// appFor finds the app of the request's {app} and the caller's permissions
// on it. An unknown app is 404; an app the caller cannot reach is 403, as
// Heroku answers (it tells that the app exists).
func (c *call) appFor() (*app, map[string]bool, *apiError) {
	a := c.s.w.lookupApp(c.r.PathValue("app"))
	if a == nil {
		return nil, nil, errNotFound("Couldn't find that app.")
	}
	perms := appPerms(a, c.cred.account)
	if len(perms) == 0 {
		return nil, nil, errNoAppAccess(a.Name)
	}
	return a, perms, nil
}

func (s *Server) appList(c *call) (int, any, *apiError) {
	var rows []row
	for _, a := range s.visibleApps(c.cred.account) {
		rows = append(rows, row{keys: map[string]string{"id": a.ID, "name": a.Name, "updated_at": a.UpdatedAt.Format(time.RFC3339)}, v: renderApp(a)})
	}
	page, status, aerr := c.paginate(rows, []string{"id", "name", "updated_at"})
	if aerr != nil {
		return 0, nil, aerr
	}
	return status, page, nil
}

func (s *Server) appInfo(c *call) (int, any, *apiError) {
	a, _, aerr := c.appFor()
	if aerr != nil {
		return 0, nil, aerr
	}
	return http.StatusOK, renderApp(a), nil
}

// Config vars.

func errConfigPermission(a *app) *apiError {
	return errForbidden("You need the deploy or manage permission on the app " + a.Name + " to view or change its config vars.")
}

func (s *Server) configVarInfo(c *call) (int, any, *apiError) {
	a, perms, aerr := c.appFor()
	if aerr != nil {
		return 0, nil, aerr
	}
	if !configAccess(perms) {
		return 0, nil, errConfigPermission(a)
	}
	return http.StatusOK, cloneVars(a.ConfigVars), nil
}

// configVarUpdate sets the given vars and removes those set to null, then
// answers with every config var of the app, as Heroku does.
func (s *Server) configVarUpdate(c *call) (int, any, *apiError) {
	a, perms, aerr := c.appFor()
	if aerr != nil {
		return 0, nil, aerr
	}
	if !configAccess(perms) {
		return 0, nil, errConfigPermission(a)
	}
	body, aerr := c.object()
	if aerr != nil {
		return 0, nil, aerr
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !configVarRE.MatchString(k) {
			return 0, nil, errInvalidParams("Invalid config var name " + strconv.Quote(k) + ": names may contain only letters, digits and underscores.")
		}
		switch body[k].(type) {
		case nil, string:
		default:
			return 0, nil, errInvalidParams("Invalid value for config var " + k + ": expected a string or null.")
		}
	}
	changed := false
	for _, k := range keys {
		old, had := a.ConfigVars[k]
		if v, ok := body[k].(string); ok {
			if !had || old != v {
				a.ConfigVars[k] = v
				changed = true
			}
		} else if had {
			delete(a.ConfigVars, k)
			changed = true
		}
	}
	if changed {
		// Every config change is a new release on Heroku.
		a.UpdatedAt = c.now
		rel := c.now
		a.ReleasedAt = &rel
	}
	return http.StatusOK, cloneVars(a.ConfigVars), nil
}

func cloneVars(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Collaborators and teams.

// collaboratorList lists who has access to an app: explicit collaborators
// with their permissions and role, and on a team app the team's admins
// (every permission) and members (view).
func (s *Server) collaboratorList(c *call) (int, any, *apiError) {
	a, _, aerr := c.appFor()
	if aerr != nil {
		return 0, nil, aerr
	}
	var rows []row
	seen := map[*account]bool{}
	add := func(id string, acc *account, role *string, perms []string, created time.Time) {
		if seen[acc] {
			return
		}
		seen[acc] = true
		cj := collaboratorJSON{App: idName{ID: a.ID, Name: a.Name}, CreatedAt: created, ID: id, Permissions: renderPerms(perms),
			Role: role, UpdatedAt: created, User: userJSON{Email: acc.Email, ID: acc.ID}}
		rows = append(rows, row{keys: map[string]string{"id": id}, v: cj})
	}
	str := func(s string) *string { return &s }
	if a.Team != nil {
		for _, m := range a.Team.members {
			if m.Role == "admin" {
				add(uuidFor("collaborator", a.Name+"/"+m.Account.Email), m.Account, str("admin"), appPermOrder, fixtureEpoch)
			}
		}
		for _, col := range a.Collaborators {
			role := teamRole(a.Team, col.Account)
			if role == "" {
				role = "collaborator"
			}
			perms := col.Permissions
			if role == "member" {
				perms = normalizePerms(perms)
			}
			add(col.ID, col.Account, str(role), perms, col.CreatedAt)
		}
		for _, m := range a.Team.members {
			if m.Role == "member" {
				add(uuidFor("collaborator", a.Name+"/"+m.Account.Email), m.Account, str("member"), []string{"view"}, fixtureEpoch)
			}
		}
	} else {
		add(uuidFor("collaborator", a.Name+"/"+a.Owner.Email), a.Owner, str("owner"), []string{}, a.CreatedAt)
		for _, col := range a.Collaborators {
			add(col.ID, col.Account, str("collaborator"), []string{}, col.CreatedAt)
		}
	}
	page, status, aerr := c.paginate(rows, []string{"id"})
	if aerr != nil {
		return 0, nil, aerr
	}
	return status, page, nil
}

// teamMemberList lists a team's members to its admins and members; a team
// "collaborator" sees only its own apps (403), and a team the caller is not
// in is not found.
func (s *Server) teamMemberList(c *call) (int, any, *apiError) {
	t := s.w.lookupTeam(c.r.PathValue("team"))
	if t == nil {
		return 0, nil, errNotFound("Couldn't find that team.")
	}
	switch teamRole(t, c.cred.account) {
	case "admin", "member":
	case "collaborator":
		return 0, nil, errForbidden("You do not have access to the members of the team " + t.Name + ".")
	default:
		return 0, nil, errNotFound("Couldn't find that team.")
	}
	var rows []row
	for _, m := range t.members {
		var name *string
		if m.Account.Name != "" {
			n := m.Account.Name
			name = &n
		}
		rows = append(rows, row{keys: map[string]string{"email": m.Account.Email, "id": m.ID}, v: teamMemberJSON{
			CreatedAt: fixtureEpoch, Email: m.Account.Email, ID: m.ID, Role: m.Role,
			TwoFactorAuthentication: m.Account.TwoFactor, UpdatedAt: fixtureEpoch,
			User: memberUserJSON{Email: m.Account.Email, ID: m.Account.ID, Name: name},
		}})
	}
	page, status, aerr := c.paginate(rows, []string{"email", "id"})
	if aerr != nil {
		return 0, nil, aerr
	}
	return status, page, nil
}

func (s *Server) teamPermissionList(c *call) (int, any, *apiError) {
	var rows []row
	for _, p := range renderPerms(appPermOrder) {
		rows = append(rows, row{keys: map[string]string{"name": p.Name}, v: p})
	}
	page, status, aerr := c.paginate(rows, []string{"name"})
	if aerr != nil {
		return 0, nil, aerr
	}
	return status, page, nil
}

// OAuth authorizations. Only a global credential (the API key or a global
// token) manages them, and only its own account's.

// authFor finds the request's {id} among the caller's authorizations.
func (c *call) authFor() (*authorization, *apiError) {
	id := strings.ToLower(c.r.PathValue("id"))
	a := c.s.w.auths[id]
	if a == nil || a.AccountID != c.cred.account.ID {
		return nil, errNotFound("Couldn't find that authorization.")
	}
	return a, nil
}

func (s *Server) authorizationCreate(c *call) (int, any, *apiError) {
	body, aerr := c.object()
	if aerr != nil {
		return 0, nil, aerr
	}
	scope, aerr := parseScope(body["scope"])
	if aerr != nil {
		return 0, nil, aerr
	}
	desc := ""
	if v, ok := body["description"]; ok && v != nil {
		d, ok := v.(string)
		if !ok {
			return 0, nil, errInvalidParams("Invalid description: expected a string.")
		}
		desc = d
	}
	var expiresIn *int64
	if v, ok := body["expires_in"]; ok && v != nil {
		n, ok := v.(json.Number)
		secs, err := n.Int64()
		if !ok || err != nil || secs <= 0 {
			return 0, nil, errInvalidParams("Invalid expires_in: expected a positive integer number of seconds.")
		}
		expiresIn = &secs
	}
	if v, ok := body["client"]; ok && v != nil {
		// No OAuth clients are registered on this server.
		return 0, nil, errInvalidParams("Invalid client: no such OAuth client.")
	}
	token := newAccessToken()
	a := &authorization{ID: uuid.NewString(), AccountID: c.cred.account.ID, Scope: scope, Description: desc,
		TokenID: uuid.NewString(), Fingerprint: fingerprint(token), ExpiresIn: expiresIn, CreatedAt: c.now, UpdatedAt: c.now}
	if expiresIn != nil {
		t := c.now.Add(time.Duration(*expiresIn) * time.Second)
		a.ExpiresAt = &t
	}
	s.w.addAuth(a)
	return http.StatusCreated, renderAuthorization(a, c.cred.account, c.now, token), nil
}

// parseScope checks the scope of a new authorization: a non-empty array of
// known scopes ("Require array: scope." is Heroku's answer to a string).
func parseScope(v any) ([]string, *apiError) {
	if v == nil {
		return nil, errInvalidParams("Missing required params: scope.")
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errInvalidParams("Require array: scope.")
	}
	if len(list) == 0 {
		return nil, errInvalidParams("Invalid scope: at least one scope is required.")
	}
	var out []string
	for _, x := range list {
		sc, ok := x.(string)
		if !ok || !knownScopes[sc] {
			return nil, errInvalidParams("Invalid scope: " + strconv.Quote(stringOf(x)) + ". Valid scopes are global, identity, read, write, read-protected, write-protected.")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

func stringOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) authorizationList(c *call) (int, any, *apiError) {
	var rows []row
	for _, a := range s.w.sortedAuths(c.cred.account.ID) {
		rows = append(rows, row{keys: map[string]string{"id": a.ID}, v: renderAuthorization(a, c.cred.account, c.now, "")})
	}
	page, status, aerr := c.paginate(rows, []string{"id"})
	if aerr != nil {
		return 0, nil, aerr
	}
	return status, page, nil
}

func (s *Server) authorizationInfo(c *call) (int, any, *apiError) {
	a, aerr := c.authFor()
	if aerr != nil {
		return 0, nil, aerr
	}
	return http.StatusOK, renderAuthorization(a, c.cred.account, c.now, ""), nil
}

// authorizationUpdate changes the description. The contract requires a
// client object; as no OAuth client is registered here, one naming a client
// is refused.
func (s *Server) authorizationUpdate(c *call) (int, any, *apiError) {
	a, aerr := c.authFor()
	if aerr != nil {
		return 0, nil, aerr
	}
	body, aerr := c.object()
	if aerr != nil {
		return 0, nil, aerr
	}
	client, ok := body["client"]
	if !ok {
		return 0, nil, errInvalidParams("Missing required params: client.")
	}
	cm, ok := client.(map[string]any)
	if !ok {
		return 0, nil, errInvalidParams("Invalid client: expected an object.")
	}
	if id, ok := cm["id"]; ok && id != nil {
		return 0, nil, errInvalidParams("Invalid client: no such OAuth client.")
	}
	if v, ok := body["description"]; ok && v != nil {
		d, ok := v.(string)
		if !ok {
			return 0, nil, errInvalidParams("Invalid description: expected a string.")
		}
		a.Description = d
		a.UpdatedAt = c.now
	}
	return http.StatusOK, renderAuthorization(a, c.cred.account, c.now, ""), nil
}

// authorizationDelete revokes an authorization: its token is refused from
// the next request on. The answer is the deleted authorization.
func (s *Server) authorizationDelete(c *call) (int, any, *apiError) {
	a, aerr := c.authFor()
	if aerr != nil {
		return 0, nil, aerr
	}
	s.w.removeAuth(a)
	return http.StatusOK, renderAuthorization(a, c.cred.account, c.now, ""), nil
}

// authorizationRegenerate replaces the access token (the old one is refused
// at once) and shows the new one. The new token gets the lifetime the
// authorization was created with, counted from now.
func (s *Server) authorizationRegenerate(c *call) (int, any, *apiError) {
	a, aerr := c.authFor()
	if aerr != nil {
		return 0, nil, aerr
	}
	token := newAccessToken()
	delete(s.w.authByFpr, a.Fingerprint)
	a.Fingerprint = fingerprint(token)
	a.TokenID = uuid.NewString()
	a.UpdatedAt = c.now
	if a.ExpiresIn != nil {
		t := c.now.Add(time.Duration(*a.ExpiresIn) * time.Second)
		a.ExpiresAt = &t
	}
	s.w.authByFpr[a.Fingerprint] = a
	return http.StatusOK, renderAuthorization(a, c.cred.account, c.now, token), nil
}
