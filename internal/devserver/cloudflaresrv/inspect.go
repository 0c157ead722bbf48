package cloudflaresrv

import (
	"sort"
	"strings"
	"time"
)

// Read-only inspection for tests of other packages and for `handoff dev`.
// Nothing here changes the server, and nothing returns a token value except
// ProvisionerToken.

// ProvisionerToken returns the value of the fixture's provisioner token
// (generated at New unless the fixture gave it), as an operator would put it
// in CLOUDFLARE_API_TOKEN. Hand it to a child process or a 0600 file; never
// print it. It is "" when the fixture marks no provisioner or the token was
// deleted.
func (s *Server) ProvisionerToken() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if t := s.st.tokenByID[s.st.ProvisionerID]; t != nil {
		return t.Value
	}
	return ""
}

// ProvisionerTokenID is the id of the provisioner token ("" without one).
func (s *Server) ProvisionerTokenID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.ProvisionerID
}

// UserID is the id of the server's one user.
func (s *Server) UserID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.User.ID
}

// AccountInfo describes an account of the user.
type AccountInfo struct {
	ID   string
	Name string
}

// Accounts lists the user's accounts in fixture order.
func (s *Server) Accounts() []AccountInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]AccountInfo, 0, len(s.st.Accounts))
	for _, a := range s.st.Accounts {
		out = append(out, AccountInfo{ID: a.ID, Name: a.Name})
	}
	return out
}

// ZoneInfo describes a zone.
type ZoneInfo struct {
	ID          string
	Name        string
	Status      string
	AccountID   string
	AccountName string
}

func (s *Server) zoneInfo(z *zone) ZoneInfo {
	return ZoneInfo{ID: z.ID, Name: z.Name, Status: z.Status, AccountID: z.AccountID, AccountName: s.st.accountByID[z.AccountID].Name}
}

// Zones lists every zone in fixture order.
func (s *Server) Zones() []ZoneInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ZoneInfo, 0, len(s.st.Zones))
	for _, z := range s.st.Zones {
		out = append(out, s.zoneInfo(z))
	}
	return out
}

// ZoneByName finds a zone by its name (case-insensitive).
func (s *Server) ZoneByName(name string) (ZoneInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, z := range s.st.Zones {
		if strings.EqualFold(z.Name, name) {
			return s.zoneInfo(z), true
		}
	}
	return ZoneInfo{}, false
}

// PermissionGroups returns the catalogue, sorted by name.
func (s *Server) PermissionGroups() []PermissionGroup {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]PermissionGroup, len(s.st.Groups))
	for i, g := range s.st.Groups {
		g.Scopes = append([]string(nil), g.Scopes...)
		out[i] = g
	}
	return out
}

// PermissionGroupByName finds a permission group of the catalogue.
func (s *Server) PermissionGroupByName(name string) (PermissionGroup, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.st.groupByName[name]
	if g == nil {
		return PermissionGroup{}, false
	}
	out := *g
	out.Scopes = append([]string(nil), g.Scopes...)
	return out, true
}

// PolicyInfo is a token policy with its permission groups by name.
type PolicyInfo struct {
	ID               string
	Effect           string
	PermissionGroups []string
	Resources        map[string]any
}

// TokenInfo describes a user API token without its value.
type TokenInfo struct {
	ID   string
	Name string
	// Status is active, disabled or expired, at the server's clock.
	Status string
	// Fingerprint is the SHA-256 of the value, in hex.
	Fingerprint    string
	IssuedOn       time.Time
	ModifiedOn     time.Time
	LastUsedOn     *time.Time
	NotBefore      *time.Time
	ExpiresOn      *time.Time
	Policies       []PolicyInfo
	RequestIPIn    []string
	RequestIPNotIn []string
	// Uses counts the requests the token authenticated.
	Uses int64
}

func (s *Server) tokenInfo(t *token, now time.Time) TokenInfo {
	info := TokenInfo{ID: t.ID, Name: t.Name, Status: t.status(now), Fingerprint: t.Fingerprint,
		IssuedOn: t.IssuedOn, ModifiedOn: t.ModifiedOn, NotBefore: copyTime(t.NotBefore), ExpiresOn: copyTime(t.ExpiresOn),
		RequestIPIn: append([]string(nil), t.RequestIPIn...), RequestIPNotIn: append([]string(nil), t.RequestIPNotIn...)}
	s.usageMu.Lock()
	info.LastUsedOn, info.Uses = copyTime(t.LastUsedOn), t.Uses
	s.usageMu.Unlock()
	for _, p := range t.Policies {
		pi := PolicyInfo{ID: p.ID, Effect: p.Effect, Resources: copyResources(p.Resources)}
		for _, id := range p.PermissionGroups {
			if g := s.st.groupByID[id]; g != nil {
				pi.PermissionGroups = append(pi.PermissionGroups, g.Name)
			}
		}
		info.Policies = append(info.Policies, pi)
	}
	return info
}

// Tokens describes every token of the user, in creation order.
func (s *Server) Tokens() []TokenInfo {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]TokenInfo, 0, len(s.st.Tokens))
	for _, t := range s.st.Tokens {
		out = append(out, s.tokenInfo(t, now))
	}
	return out
}

// Token describes one token by id.
func (s *Server) Token(id string) (TokenInfo, bool) {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.tokenByID[id]
	if t == nil {
		return TokenInfo{}, false
	}
	return s.tokenInfo(t, now), true
}

// TokenPolicies returns a token's policies, permission groups by name.
func (s *Server) TokenPolicies(id string) ([]PolicyInfo, bool) {
	info, ok := s.Token(id)
	return info.Policies, ok
}

// TokenByValue describes the token a value authenticates as, if any (the
// value is only hashed, never kept).
func (s *Server) TokenByValue(value string) (TokenInfo, bool) {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.tokenByFpr[fingerprint(value)]
	if t == nil {
		return TokenInfo{}, false
	}
	return s.tokenInfo(t, now), true
}

// ZonePermissions lists, sorted, the names of the permission groups a
// token holds on a zone (its allow policies less its deny policies).
func (s *Server) ZonePermissions(tokenID, zoneID string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, z := s.st.tokenByID[tokenID], s.st.zoneByID[zoneID]
	if t == nil || z == nil {
		return nil
	}
	var out []string
	for id := range s.st.effective(t, zoneTarget(z)) {
		out = append(out, s.st.groupByID[id].Name)
	}
	sort.Strings(out)
	return out
}

// DNSRecordInfo describes a DNS record.
type DNSRecordInfo struct {
	ID      string
	Type    string
	Name    string
	Content string
	TTL     int
	Proxied bool
}

// DNSRecords lists a zone's records in creation order.
func (s *Server) DNSRecords(zoneID string) []DNSRecordInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []DNSRecordInfo
	for _, r := range s.st.recordsOf(zoneID) {
		out = append(out, DNSRecordInfo{ID: r.ID, Type: r.Type, Name: r.Name, Content: r.Content, TTL: r.TTL, Proxied: r.Proxied})
	}
	return out
}

// RateLimitUsed is how many requests the user made in the current
// rate-limit window.
func (s *Server) RateLimitUsed() int { return s.lim.used(s.UserID()) }

// RequestCount is the number of requests received on a route, keyed as
// devkit counts them ("GET /client/v4/zones", "POST /client/v4/user/tokens").
func (s *Server) RequestCount(route string) int64 { return s.kit.Stats.Count(route) }

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

func copyResources(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if nested, ok := v.(map[string]any); ok {
			v = copyResources(nested)
		}
		out[k] = v
	}
	return out
}
