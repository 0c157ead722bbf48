package herokusrv

import (
	"sort"
	"strings"
	"time"
)

// This file is the read-only inspection API for tests of other packages and
// for `handoff dev`. Nothing here changes the server, and nothing returns an
// OAuth access token (the server keeps only their SHA-256).

// ProvisionerEmail returns the email of the account marked provisioner
// ("" when none is).
func (s *Server) ProvisionerEmail() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.w.provisioner == nil {
		return ""
	}
	return s.w.provisioner.Email
}

// ProvisionerAPIKey returns the provisioner account's long-lived API key,
// the credential handoff's Heroku surface runs with (HEROKU_API_KEY). It is
// a secret: hand it only to the process that uses it, or write it to a
// 0600 file.
func (s *Server) ProvisionerAPIKey() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.w.provisioner == nil {
		return ""
	}
	return s.w.provisioner.APIKey
}

// APIKey returns the API key of the account with the given email. It is a
// secret, like ProvisionerAPIKey.
func (s *Server) APIKey(email string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.w.accounts {
		if strings.EqualFold(a.Email, email) {
			return a.APIKey, true
		}
	}
	return "", false
}

// AuthorizationInfo describes an OAuth authorization without its token.
type AuthorizationInfo struct {
	ID           string   `json:"id"`
	AccountEmail string   `json:"account_email"`
	Scope        []string `json:"scope"`
	Description  string   `json:"description"`
	// TokenFingerprint is the SHA-256 of the current access token, in hex.
	TokenFingerprint string     `json:"token_fingerprint"`
	CreatedAt        time.Time  `json:"created_at"`
	ExpiresAt        *time.Time `json:"expires_at,omitempty"`
	// Expired is true once the server clock reached ExpiresAt.
	Expired bool `json:"expired"`
}

// Authorizations describes every live (not deleted) OAuth authorization of
// every account, oldest first; pass an email to see one account's only.
func (s *Server) Authorizations(email string) []AuthorizationInfo {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []AuthorizationInfo{}
	for _, a := range s.w.sortedAuths("") {
		acc := s.w.accountByID[a.AccountID]
		if acc == nil || (email != "" && !strings.EqualFold(acc.Email, email)) {
			continue
		}
		info := AuthorizationInfo{ID: a.ID, AccountEmail: acc.Email, Scope: append([]string(nil), a.Scope...),
			Description: a.Description, TokenFingerprint: a.Fingerprint, CreatedAt: a.CreatedAt, Expired: a.expired(now)}
		if a.ExpiresAt != nil {
			t := *a.ExpiresAt
			info.ExpiresAt = &t
		}
		out = append(out, info)
	}
	return out
}

// TokenFingerprint returns the SHA-256 (hex) the server keeps for token, to
// match a token a test holds against AuthorizationInfo.
func TokenFingerprint(token string) string { return fingerprint(token) }

// ConfigVars returns a copy of an app's config vars (by name or id); false
// when there is no such app. The values are secrets.
func (s *Server) ConfigVars(app string) (map[string]string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.w.lookupApp(app)
	if a == nil {
		return nil, false
	}
	return cloneVars(a.ConfigVars), true
}

// SetConfigVar sets (or, with an empty value, removes) a config var of an
// app behind the API's back, as a person in the dashboard would. It reports
// false when there is no such app.
func (s *Server) SetConfigVar(app, name, value string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.w.lookupApp(app)
	if a == nil {
		return false
	}
	if value == "" {
		delete(a.ConfigVars, name)
	} else {
		a.ConfigVars[name] = value
	}
	return true
}

// Reach returns the names of the apps an account can reach (what GET /apps
// lists for its API key), sorted.
func (s *Server) Reach(email string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, acc := range s.w.accounts {
		if !strings.EqualFold(acc.Email, email) {
			continue
		}
		for _, a := range s.visibleApps(acc) {
			out = append(out, a.Name)
		}
	}
	sort.Strings(out)
	return out
}

// AppPermissions returns the team app permissions an account holds on an
// app, in Heroku's order (view, deploy, operate, manage); empty when it has
// no access.
func (s *Server) AppPermissions(email, app string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.w.lookupApp(app)
	if a == nil {
		return nil
	}
	for _, acc := range s.w.accounts {
		if strings.EqualFold(acc.Email, email) {
			perms := appPerms(a, acc)
			var out []string
			for _, p := range appPermOrder {
				if perms[p] {
					out = append(out, p)
				}
			}
			return out
		}
	}
	return nil
}

// RequestCount is how many requests a route received since the kit's
// counters were last reset; route is a registered pattern such as
// "POST /oauth/authorizations" ("unmatched" for the rest).
func (s *Server) RequestCount(route string) int64 { return s.kit.Stats.Count(route) }

// Routes returns the registered route patterns, in registration order.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

// RateLimitRemaining is what RateLimit-Remaining would say now for an
// account (its pool is shared by its API key and all its tokens).
func (s *Server) RateLimitRemaining(email string) int {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	id := ""
	for _, acc := range s.w.accounts {
		if strings.EqualFold(acc.Email, email) {
			id = acc.ID
		}
	}
	s.mu.RUnlock()
	return s.lim.remaining("account:"+id, now)
}
