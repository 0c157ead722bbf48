package herokusrv

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// Scopes of OAuth authorizations, as Heroku's OAuth article defines them:
//
//   - global: everything the account can do; what the API key can do.
//   - identity: read-only access to the account's information.
//   - read, write: the account's apps and resources, excluding account
//     information and config vars.
//   - read-protected, write-protected: the same including config vars (the
//     runtime secrets), still excluding account information.
//
// Heroku does not say whether write implies read. Here it does, and
// write-protected implies read-protected: a PATCH of config vars answers
// with every config var of the app, so a token that can write them reads
// them anyway.
const (
	ScopeGlobal         = "global"
	ScopeIdentity       = "identity"
	ScopeRead           = "read"
	ScopeWrite          = "write"
	ScopeReadProtected  = "read-protected"
	ScopeWriteProtected = "write-protected"
)

// knownScopes lists the scopes an authorization may be created with.
var knownScopes = map[string]bool{
	ScopeGlobal: true, ScopeIdentity: true, ScopeRead: true, ScopeWrite: true,
	ScopeReadProtected: true, ScopeWriteProtected: true,
}

// capability is what a route needs from a credential's scope.
type capability int

const (
	capAccount        capability = iota // GET /account
	capRead                             // apps, collaborators, teams
	capReadConfig                       // GET config-vars
	capWriteConfig                      // PATCH config-vars
	capAuthorizations                   // /oauth/authorizations*
)

// scopesFor lists the scopes that grant a capability, for the answer that
// refuses one.
var scopesFor = map[capability][]string{
	capAccount:        {ScopeGlobal, ScopeIdentity},
	capRead:           {ScopeGlobal, ScopeRead, ScopeWrite, ScopeReadProtected, ScopeWriteProtected},
	capReadConfig:     {ScopeGlobal, ScopeReadProtected, ScopeWriteProtected},
	capWriteConfig:    {ScopeGlobal, ScopeWriteProtected},
	capAuthorizations: {ScopeGlobal},
}

// credential is who a request acts as: an account, through its API key or
// through one of its OAuth authorizations (whose scope then limits it).
type credential struct {
	account *account
	scope   []string
	auth    *authorization // nil for the API key
}

func (c *credential) allows(cp capability) bool {
	for _, have := range c.scope {
		for _, want := range scopesFor[cp] {
			if have == want {
				return true
			}
		}
	}
	return false
}

// scopeError is the refusal of a request the credential's scope does not
// cover. Heroku's wording for it is not documented; this one names the
// scopes that would do.
func scopeError(cp capability) *apiError {
	return errForbidden("This OAuth authorization's scope does not allow this request. It needs one of these scopes: " +
		strings.Join(scopesFor[cp], ", ") + ".")
}

// presentedToken reads the token of an Authorization header: "Bearer
// TOKEN", or "Basic base64(EMAIL:TOKEN)" as Heroku's CLI and netrc-based
// tools send it (the email is not checked; an empty password means the
// token was given as the user name).
func presentedToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return ""
	}
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		return rest
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return ""
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		if pass == "" {
			return user
		}
		return pass
	}
	return ""
}

// authenticate finds the credential of r. A missing, unknown, revoked or
// expired token is Heroku's 401; the token is refused the instant its
// authorization is deleted or its expiry passes on the server clock.
func (w *world) authenticate(r *http.Request, now time.Time) (*credential, *apiError) {
	tok := presentedToken(r)
	if tok == "" {
		return nil, errUnauthorized()
	}
	if a := w.accountByKey[tok]; a != nil {
		return &credential{account: a, scope: []string{ScopeGlobal}}, nil
	}
	auth := w.authByFpr[fingerprint(tok)]
	if auth == nil || auth.expired(now) {
		return nil, errUnauthorized()
	}
	a := w.accountByID[auth.AccountID]
	if a == nil {
		return nil, errUnauthorized()
	}
	return &credential{account: a, scope: append([]string(nil), auth.Scope...), auth: auth}, nil
}

// appPerms returns the app permissions an account holds on an app (empty:
// no access). An owner of a personal app has all four; a personal app's
// collaborator everything but manage. On a team app, a team admin has all
// four, a team member view on every team app, and every collaborator (team
// "collaborator" role or outside the team) the permissions granted to it on
// that app.
func appPerms(a *app, acc *account) map[string]bool {
	perms := map[string]bool{}
	grant := func(ps ...string) {
		for _, p := range ps {
			perms[p] = true
		}
	}
	if a.Team == nil {
		if a.Owner == acc {
			grant(appPermOrder...)
		}
		for _, c := range a.Collaborators {
			if c.Account == acc {
				grant("view", "deploy", "operate")
			}
		}
		return perms
	}
	for _, m := range a.Team.members {
		if m.Account != acc {
			continue
		}
		switch m.Role {
		case "admin":
			grant(appPermOrder...)
		case "member":
			grant("view")
		}
	}
	for _, c := range a.Collaborators {
		if c.Account == acc {
			grant(c.Permissions...)
		}
	}
	return perms
}

// configAccess reports whether the permissions let their holder read and
// write config vars. Heroku's app permission matrix ticks "View config
// variable values" and "Edit config variables" for two of view, deploy,
// operate and manage; its summary of deploy lists "View and edit config
// vars", and the second tick is read here as manage (the permission that
// also manages add-ons and settings). view and operate alone do not.
func configAccess(perms map[string]bool) bool { return perms["deploy"] || perms["manage"] }

// teamRole is an account's role in a team ("" when not in it).
func teamRole(t *team, acc *account) string {
	for _, m := range t.members {
		if m.Account == acc {
			return m.Role
		}
	}
	return ""
}
