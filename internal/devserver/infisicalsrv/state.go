package infisicalsrv

import (
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// The domain records. Exported fields are the persisted form (MarshalState);
// unexported fields are indexes rebuilt on restore.

type organization struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	CreatedAt time.Time `json:"createdAt"`
}

type environment struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Position int    `json:"position"`
}

type project struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Slug         string         `json:"slug"`
	OrgID        string         `json:"orgId"`
	Environments []*environment `json:"environments"`
	CreatedAt    time.Time      `json:"createdAt"`
}

func (p *project) env(slug string) *environment {
	for _, e := range p.Environments {
		if e.Slug == slug {
			return e
		}
	}
	return nil
}

// folder is a node of an environment's folder tree. The root of every
// environment is a folder named "root" at path "/".
type folder struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	ProjectID          string     `json:"projectId"`
	EnvID              string     `json:"envId"`
	EnvSlug            string     `json:"environment"`
	Path               string     `json:"path"`
	ParentID           *string    `json:"parentId"`
	Description        *string    `json:"description,omitempty"`
	Version            int        `json:"version"`
	CreatedAt          time.Time  `json:"createdAt"`
	UpdatedAt          time.Time  `json:"updatedAt"`
	LastSecretModified *time.Time `json:"lastSecretModified,omitempty"`

	parent   *folder
	children map[string]*folder
	secrets  map[string]*secret
}

func (f *folder) sortedChildren() []*folder {
	out := make([]*folder, 0, len(f.children))
	for _, c := range f.children {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f *folder) sortedSecrets() []*secret {
	out := make([]*secret, 0, len(f.secrets))
	for _, s := range f.secrets {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

type secretMeta struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	IsEncrypted bool   `json:"isEncrypted"`
}

type secretVersion struct {
	Version   int       `json:"version"`
	Key       string    `json:"key"`
	Value     string    `json:"value"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"createdAt"`
}

// secret is a shared secret in a folder. History holds the earlier versions.
type secret struct {
	ID                    string          `json:"id"`
	FolderID              string          `json:"folderId"`
	Key                   string          `json:"key"`
	Value                 string          `json:"value"`
	Comment               string          `json:"comment"`
	Type                  string          `json:"type"`
	Version               int             `json:"version"`
	SkipMultilineEncoding *bool           `json:"skipMultilineEncoding,omitempty"`
	ReminderNote          *string         `json:"reminderNote,omitempty"`
	ReminderRepeatDays    *float64        `json:"reminderRepeatDays,omitempty"`
	Metadata              []secretMeta    `json:"metadata,omitempty"`
	CreatedAt             time.Time       `json:"createdAt"`
	UpdatedAt             time.Time       `json:"updatedAt"`
	History               []secretVersion `json:"history,omitempty"`

	folder *folder
}

type metaKV struct {
	ID    string `json:"id"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// identity is a machine identity and its organization membership.
type identity struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	OrgID               string     `json:"orgId"`
	OrgMembershipID     string     `json:"orgMembershipId"`
	OrgRole             string     `json:"orgRole"`
	HasDeleteProtection bool       `json:"hasDeleteProtection"`
	Metadata            []metaKV   `json:"metadata"`
	CreatedAt           time.Time  `json:"createdAt"`
	UpdatedAt           time.Time  `json:"updatedAt"`
	LastLoginAuthMethod string     `json:"lastLoginAuthMethod,omitempty"`
	LastLoginTime       *time.Time `json:"lastLoginTime,omitempty"`
}

// trustedIP is a parsed trusted-IP entry as Infisical stores it.
type trustedIP struct {
	IPAddress string `json:"ipAddress"`
	Type      string `json:"type"`
	Prefix    *int   `json:"prefix,omitempty"`
}

type universalAuth struct {
	ID                         string      `json:"id"`
	IdentityID                 string      `json:"identityId"`
	ClientID                   string      `json:"clientId"`
	ClientSecretTrustedIPs     []trustedIP `json:"clientSecretTrustedIps"`
	AccessTokenTrustedIPs      []trustedIP `json:"accessTokenTrustedIps"`
	AccessTokenTTL             int64       `json:"accessTokenTTL"`
	AccessTokenMaxTTL          int64       `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit    int64       `json:"accessTokenNumUsesLimit"`
	AccessTokenPeriod          int64       `json:"accessTokenPeriod"`
	LockoutEnabled             bool        `json:"lockoutEnabled"`
	LockoutThreshold           int64       `json:"lockoutThreshold"`
	LockoutDurationSeconds     int64       `json:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds int64       `json:"lockoutCounterResetSeconds"`
	CreatedAt                  time.Time   `json:"createdAt"`
	UpdatedAt                  time.Time   `json:"updatedAt"`
}

// clientSecret is a universal-auth client secret; only a hash is kept.
type clientSecret struct {
	ID           string     `json:"id"`
	UAID         string     `json:"identityUAId"`
	IdentityID   string     `json:"identityId"`
	Description  string     `json:"description"`
	Prefix       string     `json:"clientSecretPrefix"`
	Hash         string     `json:"clientSecretHash"`
	NumUses      int64      `json:"clientSecretNumUses"`
	NumUsesLimit int64      `json:"clientSecretNumUsesLimit"`
	TTL          int64      `json:"clientSecretTTL"`
	Revoked      bool       `json:"isClientSecretRevoked"`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	LastUsedAt   *time.Time `json:"lastUsedAt,omitempty"`
}

// expiresAt is when a client secret with a TTL stops logging in.
func (c *clientSecret) expiresAt() *time.Time {
	if c.TTL <= 0 {
		return nil
	}
	t := c.CreatedAt.Add(time.Duration(c.TTL) * time.Second)
	return &t
}

// accessToken is the server-side record of an issued identity access token
// (the JWT carries only its id). uses counts authenticated requests.
type accessToken struct {
	tokenData
	uses atomic.Int64
}

// tokenData is the persisted part of an access token.
type tokenData struct {
	ID             string     `json:"id"`
	IdentityID     string     `json:"identityId"`
	ClientSecretID string     `json:"clientSecretId"`
	AuthMethod     string     `json:"authMethod"`
	TTL            int64      `json:"accessTokenTTL"`
	MaxTTL         int64      `json:"accessTokenMaxTTL"`
	NumUsesLimit   int64      `json:"accessTokenNumUsesLimit"`
	Period         int64      `json:"accessTokenPeriod"`
	NumUses        int64      `json:"accessTokenNumUses"`
	Revoked        bool       `json:"isAccessTokenRevoked"`
	CreatedAt      time.Time  `json:"createdAt"`
	LastRenewedAt  *time.Time `json:"accessTokenLastRenewedAt,omitempty"`
	// ExpiresAt is the exp of the newest JWT issued for this token.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

type membershipRole struct {
	ID                       string     `json:"id"`
	Role                     string     `json:"role"`
	IsTemporary              bool       `json:"isTemporary"`
	TemporaryMode            *string    `json:"temporaryMode"`
	TemporaryRange           *string    `json:"temporaryRange"`
	TemporaryAccessStartTime *time.Time `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *time.Time `json:"temporaryAccessEndTime"`
	CreatedAt                time.Time  `json:"createdAt"`
	UpdatedAt                time.Time  `json:"updatedAt"`
}

type projectMembership struct {
	ID         string            `json:"id"`
	ProjectID  string            `json:"projectId"`
	IdentityID string            `json:"identityId"`
	Roles      []*membershipRole `json:"roles"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
}

// privilege is an identity's additional privilege in a project.
type privilege struct {
	ID                       string           `json:"id"`
	Slug                     string           `json:"slug"`
	IdentityID               string           `json:"identityId"`
	ProjectID                string           `json:"projectId"`
	MembershipID             string           `json:"projectMembershipId"`
	IsTemporary              bool             `json:"isTemporary"`
	TemporaryMode            *string          `json:"temporaryMode"`
	TemporaryRange           *string          `json:"temporaryRange"`
	TemporaryAccessStartTime *time.Time       `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *time.Time       `json:"temporaryAccessEndTime"`
	Permissions              []permissionRule `json:"permissions"`
	CreatedAt                time.Time        `json:"createdAt"`
	UpdatedAt                time.Time        `json:"updatedAt"`

	compiled []*rule
}

type auditActor struct {
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
}

type auditEvent struct {
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
}

// auditLog is one audit-log row as the endpoint answers it.
type auditLog struct {
	ID            string     `json:"id"`
	IPAddress     string     `json:"ipAddress"`
	UserAgent     string     `json:"userAgent"`
	UserAgentType string     `json:"userAgentType"`
	ExpiresAt     *time.Time `json:"expiresAt"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
	OrgID         string     `json:"orgId"`
	ProjectID     *string    `json:"projectId"`
	ProjectName   *string    `json:"projectName"`
	Event         auditEvent `json:"event"`
	Actor         auditActor `json:"actor"`
}

// lockout counts failed logins of one client id (kept in memory only, as
// Infisical keeps it in Redis).
type lockout struct {
	failed    int64
	lockedOut bool
	expiresAt time.Time
}

type folderKey struct {
	projectID, env, path string
}

// state is everything the server knows, with its indexes. Guarded by
// Server.mu.
type state struct {
	org            organization
	projects       map[string]*project
	projectsBySlug map[string]*project
	folders        map[string]*folder
	folderByPath   map[folderKey]*folder
	secretsByID    map[string]*secret
	identities     map[string]*identity
	uas            map[string]*universalAuth // by identity id
	uaByClientID   map[string]*universalAuth
	clientSecrets  map[string]*clientSecret
	csByUA         map[string][]*clientSecret // universal auth id → its client secrets, oldest first
	tokens         map[string]*accessToken
	memberships    map[string]map[string]*projectMembership // project id → identity id
	privileges     map[string]*privilege
	privsByKey     map[permKey][]*privilege // (identity, project) → privileges, oldest first
	lockouts       map[string]*lockout
	signingKey     []byte
	provisioner    provisionerCreds
}

// provisionerCreds are the dev credentials `handoff dev` hands out; the
// plaintext secret is kept so a restart can hand them out again.
type provisionerCreds struct {
	IdentityID   string `json:"identityId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

func newState() *state {
	return &state{
		projects:       map[string]*project{},
		projectsBySlug: map[string]*project{},
		folders:        map[string]*folder{},
		folderByPath:   map[folderKey]*folder{},
		secretsByID:    map[string]*secret{},
		identities:     map[string]*identity{},
		uas:            map[string]*universalAuth{},
		uaByClientID:   map[string]*universalAuth{},
		clientSecrets:  map[string]*clientSecret{},
		csByUA:         map[string][]*clientSecret{},
		tokens:         map[string]*accessToken{},
		memberships:    map[string]map[string]*projectMembership{},
		privileges:     map[string]*privilege{},
		privsByKey:     map[permKey][]*privilege{},
		lockouts:       map[string]*lockout{},
	}
}

// pathSegments splits a secret path the way Infisical's folder lookup does:
// empty segments are ignored, so "//a/b/" is "/a/b".
func pathSegments(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// canonicalPath is the folder-index form of a path.
func canonicalPath(p string) string {
	return "/" + strings.Join(pathSegments(p), "/")
}

// normalizeSecretPath applies the routes' transforms (prefixWithSlash,
// removeTrailingSlash) to a path as given; it is what gets echoed back.
func normalizeSecretPath(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if p != "/" && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	return p
}

func joinPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// folderAt finds the folder at path in an environment.
func (st *state) folderAt(projectID, env, path string) *folder {
	return st.folderByPath[folderKey{projectID, env, canonicalPath(path)}]
}

func (st *state) addFolder(f *folder) {
	f.children = map[string]*folder{}
	if f.secrets == nil {
		f.secrets = map[string]*secret{}
	}
	st.folders[f.ID] = f
	st.folderByPath[folderKey{f.ProjectID, f.EnvSlug, f.Path}] = f
	if f.parent != nil {
		f.parent.children[f.Name] = f
	}
}

// newFolder creates a child folder of parent.
func (st *state) newFolder(parent *folder, name string, desc *string, now time.Time) *folder {
	pid := parent.ID
	f := &folder{
		ID: newUUID(), Name: name, ProjectID: parent.ProjectID, EnvID: parent.EnvID, EnvSlug: parent.EnvSlug,
		Path: joinPath(parent.Path, name), ParentID: &pid, Description: desc, Version: 1,
		CreatedAt: now, UpdatedAt: now, parent: parent,
	}
	st.addFolder(f)
	return f
}

// ensureFolderPath returns the folder at path, creating missing folders
// below the closest existing one (as folder creation does).
func (st *state) ensureFolderPath(projectID, env, path string, now time.Time) *folder {
	cur := st.folderAt(projectID, env, "/")
	if cur == nil {
		return nil
	}
	for _, seg := range pathSegments(path) {
		next := cur.children[seg]
		if next == nil {
			next = st.newFolder(cur, seg, nil, now)
		}
		cur = next
	}
	return cur
}

// removeFolder deletes a folder, its descendants and their secrets.
func (st *state) removeFolder(f *folder) {
	for _, c := range f.children {
		st.removeFolder(c)
	}
	for _, s := range f.secrets {
		delete(st.secretsByID, s.ID)
	}
	delete(st.folders, f.ID)
	delete(st.folderByPath, folderKey{f.ProjectID, f.EnvSlug, f.Path})
	if f.parent != nil && f.parent.children[f.Name] == f {
		delete(f.parent.children, f.Name)
	}
}

// renameFolder renames f and re-paths its subtree.
func (st *state) renameFolder(f *folder, name string) {
	if f.parent != nil {
		delete(f.parent.children, f.Name)
		f.parent.children[name] = f
	}
	f.Name = name
	var repath func(*folder, string)
	repath = func(x *folder, p string) {
		delete(st.folderByPath, folderKey{x.ProjectID, x.EnvSlug, x.Path})
		x.Path = p
		st.folderByPath[folderKey{x.ProjectID, x.EnvSlug, x.Path}] = x
		for _, c := range x.children {
			repath(c, joinPath(p, c.Name))
		}
	}
	repath(f, joinPath(f.parent.Path, name))
}

func (st *state) addSecret(f *folder, s *secret) {
	s.folder = f
	s.FolderID = f.ID
	f.secrets[s.Key] = s
	st.secretsByID[s.ID] = s
}

func (st *state) membership(projectID, identityID string) *projectMembership {
	if m := st.memberships[projectID]; m != nil {
		return m[identityID]
	}
	return nil
}

// deleteMembership removes a project membership and, by cascade, the
// identity's additional privileges in that project.
func (st *state) deleteMembership(m *projectMembership) {
	delete(st.memberships[m.ProjectID], m.IdentityID)
	for _, p := range st.privsByKey[permKey{m.IdentityID, m.ProjectID}] {
		delete(st.privileges, p.ID)
	}
	delete(st.privsByKey, permKey{m.IdentityID, m.ProjectID})
}

func (st *state) addPrivilege(p *privilege) {
	st.privileges[p.ID] = p
	k := permKey{p.IdentityID, p.ProjectID}
	st.privsByKey[k] = append(st.privsByKey[k], p)
}

func (st *state) removePrivilege(p *privilege) {
	delete(st.privileges, p.ID)
	k := permKey{p.IdentityID, p.ProjectID}
	list := st.privsByKey[k]
	for i, x := range list {
		if x == p {
			st.privsByKey[k] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(st.privsByKey[k]) == 0 {
		delete(st.privsByKey, k)
	}
}

func (st *state) addClientSecret(cs *clientSecret) {
	st.clientSecrets[cs.ID] = cs
	st.csByUA[cs.UAID] = append(st.csByUA[cs.UAID], cs)
}

// deleteUniversalAuth removes universal auth from an identity with its
// client secrets and the access tokens they issued.
func (st *state) deleteUniversalAuth(ua *universalAuth) {
	delete(st.uas, ua.IdentityID)
	delete(st.uaByClientID, ua.ClientID)
	for _, cs := range st.csByUA[ua.ID] {
		delete(st.clientSecrets, cs.ID)
	}
	delete(st.csByUA, ua.ID)
	for id, t := range st.tokens {
		if t.IdentityID == ua.IdentityID && t.AuthMethod == authMethodUA {
			delete(st.tokens, id)
		}
	}
	for k := range st.lockouts {
		if strings.HasPrefix(k, ua.IdentityID+":") {
			delete(st.lockouts, k)
		}
	}
}

// deleteIdentity removes an identity and everything hanging from it.
func (st *state) deleteIdentity(id *identity) {
	if ua := st.uas[id.ID]; ua != nil {
		st.deleteUniversalAuth(ua)
	}
	for tid, t := range st.tokens {
		if t.IdentityID == id.ID {
			delete(st.tokens, tid)
		}
	}
	for _, byIdentity := range st.memberships {
		if m := byIdentity[id.ID]; m != nil {
			st.deleteMembership(m)
		}
	}
	delete(st.identities, id.ID)
}

func (st *state) clientSecretsOf(uaID string) []*clientSecret {
	return st.csByUA[uaID]
}

// privilegesOf lists an identity's privileges in a project, or in every
// project when projectID is empty, oldest first.
func (st *state) privilegesOf(identityID, projectID string) []*privilege {
	if projectID != "" {
		return st.privsByKey[permKey{identityID, projectID}]
	}
	var out []*privilege
	for k, list := range st.privsByKey {
		if k.identityID == identityID {
			out = append(out, list...)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (st *state) sortedIdentities() []*identity {
	out := make([]*identity, 0, len(st.identities))
	for _, id := range st.identities {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (id *identity) authMethods(st *state) []string {
	if st.uas[id.ID] != nil {
		return []string{authMethodUA}
	}
	return []string{}
}
