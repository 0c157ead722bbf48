package infisicalsrv

import (
	"encoding/json"
	"sort"
	"time"
)

// Read-only inspection for tests and for `handoff dev`. None of these
// change state or return a token; only Secret and Secrets return secret
// values, and ProvisionerCredentials the provisioner's dev credentials.

// OrganizationID is the id of the organization.
func (s *Server) OrganizationID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.org.ID
}

// ProjectID is the id of the main project: the first of the fixture's
// projects (by id order after a restore).
func (s *Server) ProjectID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.mainProject(); p != nil {
		return p.ID
	}
	return ""
}

func (s *Server) mainProject() *project {
	if p := s.st.projects[DefaultProjectID]; p != nil {
		return p
	}
	if ps := s.sortedProjects(); len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// ProvisionerCredentials returns the universal-auth client id and secret of
// the fixture's provisioner identity (generated at New unless the fixture
// gave them). Hand them to a child process or a 0600 file; never print them.
func (s *Server) ProvisionerCredentials() (clientID, clientSecret string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.provisioner.ClientID, s.st.provisioner.ClientSecret
}

// ProvisionerIdentityID is the id of the provisioner identity.
func (s *Server) ProvisionerIdentityID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.provisioner.IdentityID
}

// IdentityInfo describes a machine identity.
type IdentityInfo struct {
	ID                  string
	Name                string
	OrgRole             string
	AuthMethods         []string
	ClientID            string // universal auth client id, "" without it
	HasDeleteProtection bool
	CreatedAt           time.Time
}

func (s *Server) identityInfo(id *identity) IdentityInfo {
	info := IdentityInfo{ID: id.ID, Name: id.Name, OrgRole: id.OrgRole, AuthMethods: id.authMethods(s.st),
		HasDeleteProtection: id.HasDeleteProtection, CreatedAt: id.CreatedAt}
	if ua := s.st.uas[id.ID]; ua != nil {
		info.ClientID = ua.ClientID
	}
	return info
}

// Identities lists every identity, oldest first.
func (s *Server) Identities() []IdentityInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []IdentityInfo
	for _, id := range s.st.sortedIdentities() {
		out = append(out, s.identityInfo(id))
	}
	return out
}

// Identity returns one identity by id.
func (s *Server) Identity(identityID string) (IdentityInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id := s.st.identities[identityID]
	if id == nil {
		return IdentityInfo{}, false
	}
	return s.identityInfo(id), true
}

// ClientSecretInfo describes a universal-auth client secret (never its
// value).
type ClientSecretInfo struct {
	ID           string
	Prefix       string
	Description  string
	NumUses      int64
	NumUsesLimit int64
	TTLSeconds   int64
	Revoked      bool
	ExpiresAt    *time.Time
	CreatedAt    time.Time
}

// ClientSecrets lists the client secrets of an identity, revoked ones
// included, oldest first.
func (s *Server) ClientSecrets(identityID string) []ClientSecretInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ua := s.st.uas[identityID]
	if ua == nil {
		return nil
	}
	var out []ClientSecretInfo
	for _, cs := range s.st.clientSecretsOf(ua.ID) {
		out = append(out, ClientSecretInfo{ID: cs.ID, Prefix: cs.Prefix, Description: cs.Description, NumUses: cs.NumUses,
			NumUsesLimit: cs.NumUsesLimit, TTLSeconds: cs.TTL, Revoked: cs.Revoked, ExpiresAt: cs.expiresAt(), CreatedAt: cs.CreatedAt})
	}
	return out
}

// AccessTokenInfo describes an issued access token by its id (the JWT's
// identityAccessTokenId), never the token itself.
type AccessTokenInfo struct {
	ID             string
	IdentityID     string
	ClientSecretID string
	IssuedAt       time.Time
	// ExpiresAt is the expiry of the newest JWT issued for the token (nil:
	// no expiry); MaxExpiresAt is the limit renewals cannot pass.
	ExpiresAt    *time.Time
	MaxExpiresAt *time.Time
	NumUses      int64
	NumUsesLimit int64
}

// LiveAccessTokens lists the tokens that would still authenticate now
// (by the kit's clock): not revoked, not expired, not used up.
func (s *Server) LiveAccessTokens() []AccessTokenInfo {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []AccessTokenInfo
	for _, t := range s.st.tokens {
		uses := t.uses.Load()
		if t.Revoked || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) || tokenStillValid(t, now) != nil ||
			(t.NumUsesLimit > 0 && uses >= t.NumUsesLimit) || s.st.identities[t.IdentityID] == nil {
			continue
		}
		info := AccessTokenInfo{ID: t.ID, IdentityID: t.IdentityID, ClientSecretID: t.ClientSecretID, IssuedAt: t.CreatedAt,
			ExpiresAt: t.ExpiresAt, NumUses: uses, NumUsesLimit: t.NumUsesLimit}
		if t.MaxTTL > 0 && t.Period == 0 {
			m := t.CreatedAt.Add(time.Duration(t.MaxTTL) * time.Second)
			info.MaxExpiresAt = &m
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].IssuedAt.Equal(out[j].IssuedAt) {
			return out[i].IssuedAt.Before(out[j].IssuedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// SecretInfo is a secret of the main project, value included.
type SecretInfo struct {
	ID          string
	Environment string
	Path        string
	Key         string
	Value       string
	Comment     string
	Version     int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func secretInfo(sec *secret) SecretInfo {
	return SecretInfo{ID: sec.ID, Environment: sec.folder.EnvSlug, Path: sec.folder.Path, Key: sec.Key, Value: sec.Value,
		Comment: sec.Comment, Version: sec.Version, CreatedAt: sec.CreatedAt, UpdatedAt: sec.UpdatedAt}
}

// Secret returns the secret name at path in env of the main project.
func (s *Server) Secret(env, path, name string) (SecretInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.mainProject()
	if p == nil {
		return SecretInfo{}, false
	}
	f := s.st.folderAt(p.ID, env, path)
	if f == nil || f.secrets[name] == nil {
		return SecretInfo{}, false
	}
	return secretInfo(f.secrets[name]), true
}

// Secrets lists the secrets at path in env of the main project (and below
// it when recursive), by path then name.
func (s *Server) Secrets(env, path string, recursive bool) []SecretInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.mainProject()
	if p == nil {
		return nil
	}
	f := s.st.folderAt(p.ID, env, path)
	if f == nil {
		return nil
	}
	var out []SecretInfo
	var walk func(*folder)
	walk = func(f *folder) {
		for _, sec := range f.sortedSecrets() {
			out = append(out, secretInfo(sec))
		}
		if recursive {
			for _, ch := range f.sortedChildren() {
				walk(ch)
			}
		}
	}
	walk(f)
	return out
}

// Folders lists the folder paths of env in the main project, "/" first.
func (s *Server) Folders(env string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.mainProject()
	if p == nil {
		return nil
	}
	var out []string
	for k := range s.st.folderByPath {
		if k.projectID == p.ID && k.env == env {
			out = append(out, k.path)
		}
	}
	sort.Strings(out)
	return out
}

// RoleInfo is one project role of a membership.
type RoleInfo struct {
	Role      string
	Temporary bool
	EndsAt    *time.Time
	Active    bool // by the kit's clock
}

// MembershipInfo is an identity's membership of a project.
type MembershipInfo struct {
	ID         string
	ProjectID  string
	IdentityID string
	Roles      []RoleInfo
}

// Memberships lists the project memberships of an identity.
func (s *Server) Memberships(identityID string) []MembershipInfo {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []MembershipInfo
	for _, p := range s.sortedProjects() {
		m := s.st.membership(p.ID, identityID)
		if m == nil {
			continue
		}
		mi := MembershipInfo{ID: m.ID, ProjectID: p.ID, IdentityID: identityID}
		for _, r := range m.Roles {
			mi.Roles = append(mi.Roles, RoleInfo{Role: r.Role, Temporary: r.IsTemporary, EndsAt: r.TemporaryAccessEndTime,
				Active: activeAt(r.IsTemporary, r.TemporaryAccessEndTime, now)})
		}
		out = append(out, mi)
	}
	return out
}

// PrivilegeInfo is an additional privilege of an identity.
type PrivilegeInfo struct {
	ID          string
	Slug        string
	ProjectID   string
	IdentityID  string
	Temporary   bool
	EndsAt      *time.Time
	Active      bool            // by the kit's clock
	Permissions json.RawMessage // the rules as stored (v2 shape)
}

// Privileges lists the additional privileges of an identity, all projects.
func (s *Server) Privileges(identityID string) []PrivilegeInfo {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []PrivilegeInfo
	for _, p := range s.st.privilegesOf(identityID, "") {
		raw, _ := json.Marshal(p.Permissions)
		out = append(out, PrivilegeInfo{ID: p.ID, Slug: p.Slug, ProjectID: p.ProjectID, IdentityID: p.IdentityID,
			Temporary: p.IsTemporary, EndsAt: p.TemporaryAccessEndTime, Active: activeAt(p.IsTemporary, p.TemporaryAccessEndTime, now),
			Permissions: raw})
	}
	return out
}

// Allowed reports whether identityID may, now, perform action ("read",
// "describeSecret", "readValue", "create", "edit", "delete") on the secret
// name at secretPath in env of the main project, as a request would be
// judged (without the permission cache).
func (s *Server) Allowed(identityID, action, env, secretPath, name string) bool {
	now := s.kit.Clock.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	id := s.st.identities[identityID]
	p := s.mainProject()
	if id == nil || p == nil {
		return false
	}
	ab, err := s.abilityAt(id.ID, id.OrgID, p.ID, now, false)
	if err != nil {
		return false
	}
	return ab.canSecret(action, secretFields(env, canonicalPath(secretPath), name))
}

// AuditEvent is an entry of the audit log.
type AuditEvent struct {
	ID        string
	Time      time.Time
	Type      string // kebab-case event type, e.g. "get-secret"
	ActorType string
	ActorID   string
	ActorName string
	ProjectID string
	IP        string
	UserAgent string
	Metadata  map[string]any
}

// AuditEvents returns the audit log, oldest first.
func (s *Server) AuditEvents() []AuditEvent {
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	out := make([]AuditEvent, 0, s.audit.len())
	for _, e := range s.audit.slice() {
		ev := AuditEvent{ID: e.ID, Time: e.CreatedAt, Type: e.Event.Type, ActorType: e.Actor.Type, IP: e.IPAddress,
			UserAgent: e.UserAgent, Metadata: map[string]any{}}
		ev.ActorID, _ = e.Actor.Metadata["identityId"].(string)
		ev.ActorName, _ = e.Actor.Metadata["name"].(string)
		if e.ProjectID != nil {
			ev.ProjectID = *e.ProjectID
		}
		for k, v := range e.Event.Metadata {
			ev.Metadata[k] = v
		}
		out = append(out, ev)
	}
	return out
}

// AccessLog returns the last requests made with an identity access token
// (at most 10,000), denied ones included, oldest first.
func (s *Server) AccessLog() []AccessRecord {
	s.accessMu.Lock()
	defer s.accessMu.Unlock()
	return s.accessLog.slice()
}
