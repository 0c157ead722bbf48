package infisicalsrv

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
)

// buildState turns a fixture into the initial state.
func (s *Server) buildState(fx Fixture) (*state, error) {
	now := s.kit.Clock.Now()
	st := newState()
	key, err := hex.DecodeString(randomHex(32))
	if err != nil {
		return nil, err
	}
	st.signingKey = key
	name := fx.Organization.Name
	if name == "" {
		name = fx.Organization.ID
	}
	slug := fx.Organization.Slug
	if slug == "" {
		slug = fx.Organization.ID
	}
	st.org = organization{ID: fx.Organization.ID, Name: name, Slug: slug, CreatedAt: now}
	for _, fp := range fx.Projects {
		p := &project{ID: fp.ID, Name: fp.Name, Slug: fp.Slug, OrgID: st.org.ID, CreatedAt: now}
		if p.Name == "" {
			p.Name = fp.Slug
		}
		for i, fe := range fp.Environments {
			env := &environment{ID: newUUID(), Name: fe.Name, Slug: fe.Slug, Position: i + 1}
			if env.Name == "" {
				env.Name = fe.Slug
			}
			p.Environments = append(p.Environments, env)
			st.addFolder(&folder{ID: newUUID(), Name: "root", ProjectID: p.ID, EnvID: env.ID, EnvSlug: env.Slug, Path: "/",
				Version: 1, CreatedAt: now, UpdatedAt: now})
		}
		st.projects[p.ID] = p
		st.projectsBySlug[p.Slug] = p
		for _, ff := range fp.Folders {
			st.ensureFolderPath(p.ID, ff.Environment, ff.Path, now)
		}
		for _, fs := range fp.Secrets {
			f := st.ensureFolderPath(p.ID, fs.Environment, fs.Path, now)
			if f.secrets[fs.Key] != nil {
				return nil, fmt.Errorf("fixture: project %s: secret %s%s listed twice", p.ID, fs.Path, fs.Key)
			}
			st.addSecret(f, &secret{ID: newUUID(), Key: fs.Key, Value: fs.Value, Comment: fs.Comment, Type: "shared",
				Version: 1, CreatedAt: now, UpdatedAt: now})
			t := now
			f.LastSecretModified = &t
		}
	}
	for _, fi := range fx.Identities {
		id := &identity{ID: fi.ID, Name: fi.Name, OrgID: st.org.ID, OrgMembershipID: newUUID(), OrgRole: fi.OrgRole,
			Metadata: []metaKV{}, CreatedAt: now, UpdatedAt: now}
		if id.ID == "" {
			id.ID = newUUID()
		}
		if id.OrgRole == "" {
			id.OrgRole = roleNoAccess
		}
		if st.identities[id.ID] != nil {
			return nil, fmt.Errorf("fixture: identity id %s listed twice", id.ID)
		}
		st.identities[id.ID] = id
		if fu := fi.UniversalAuth; fu != nil {
			ua := &universalAuth{ID: newUUID(), IdentityID: id.ID, ClientID: fu.ClientID,
				AccessTokenTTL: fu.AccessTokenTTL, AccessTokenMaxTTL: fu.AccessTokenMaxTTL,
				LockoutEnabled: true, LockoutThreshold: 3, LockoutDurationSeconds: 300, LockoutCounterResetSeconds: 30,
				CreatedAt: now, UpdatedAt: now}
			if ua.ClientID == "" {
				ua.ClientID = newUUID()
			}
			if st.uaByClientID[ua.ClientID] != nil {
				return nil, fmt.Errorf("fixture: client id of %s is used twice", fi.Name)
			}
			if ua.AccessTokenTTL == 0 {
				ua.AccessTokenTTL = defaultAccessTokenTTL
			}
			if ua.AccessTokenMaxTTL == 0 {
				ua.AccessTokenMaxTTL = defaultAccessTokenTTL
			}
			if ua.AccessTokenMaxTTL < ua.AccessTokenTTL {
				return nil, fmt.Errorf("fixture: identity %s: access_token_ttl exceeds access_token_max_ttl", fi.Name)
			}
			ips := fu.TrustedIPs
			if len(ips) == 0 {
				ips = []string{"0.0.0.0/0", "::/0"}
			}
			for _, raw := range ips {
				t, ok := parseTrustedIP(raw)
				if !ok {
					return nil, fmt.Errorf("fixture: identity %s: trusted IP %q is not an IP or CIDR", fi.Name, raw)
				}
				ua.ClientSecretTrustedIPs = append(ua.ClientSecretTrustedIPs, t)
				ua.AccessTokenTrustedIPs = append(ua.AccessTokenTrustedIPs, t)
			}
			st.uas[id.ID] = ua
			st.uaByClientID[ua.ClientID] = ua
			plain := fu.ClientSecret
			if plain == "" {
				plain = newClientSecret()
			}
			if len(plain) < 4 {
				return nil, fmt.Errorf("fixture: identity %s: client_secret is too short", fi.Name)
			}
			cs := &clientSecret{ID: newUUID(), UAID: ua.ID, IdentityID: id.ID, Description: "fixture", Prefix: plain[:4],
				Hash: hashSecret(plain), CreatedAt: now, UpdatedAt: now}
			st.addClientSecret(cs)
			if fi.Provisioner {
				st.provisioner = provisionerCreds{IdentityID: id.ID, ClientID: ua.ClientID, ClientSecret: plain}
			}
		}
		pids := make([]string, 0, len(fi.ProjectRoles))
		for pid := range fi.ProjectRoles {
			pids = append(pids, pid)
		}
		sort.Strings(pids)
		for _, pid := range pids {
			if st.memberships[pid] == nil {
				st.memberships[pid] = map[string]*projectMembership{}
			}
			st.memberships[pid][id.ID] = &projectMembership{ID: newUUID(), ProjectID: pid, IdentityID: id.ID, CreatedAt: now, UpdatedAt: now,
				Roles: []*membershipRole{{ID: newUUID(), Role: fi.ProjectRoles[pid], CreatedAt: now, UpdatedAt: now}}}
		}
	}
	return st, nil
}

// snapshot is the JSON form of the whole state.
type snapshot struct {
	Format         int                  `json:"format"`
	SigningKey     string               `json:"signingKey"`
	Provisioner    provisionerCreds     `json:"provisioner"`
	Organization   organization         `json:"organization"`
	Projects       []*project           `json:"projects"`
	Folders        []*folder            `json:"folders"`
	Secrets        []*secret            `json:"secrets"`
	Identities     []*identity          `json:"identities"`
	UniversalAuths []*universalAuth     `json:"universalAuths"`
	ClientSecrets  []*clientSecret      `json:"clientSecrets"`
	AccessTokens   []tokenData          `json:"accessTokens"`
	Memberships    []*projectMembership `json:"memberships"`
	Privileges     []*privilege         `json:"privileges"`
	AuditLogs      []*auditLog          `json:"auditLogs"`
}

const snapshotFormat = 1

// MarshalState returns the full state as JSON, so that `handoff dev -state`
// survives a restart. It holds secret values, the provisioner's client
// secret and the token signing key: store it with mode 0600.
func (s *Server) MarshalState() ([]byte, error) {
	s.mu.RLock()
	st := s.st
	snap := snapshot{
		Format: snapshotFormat, SigningKey: hex.EncodeToString(st.signingKey), Provisioner: st.provisioner,
		Organization: st.org, Projects: s.sortedProjects(), Identities: st.sortedIdentities(),
	}
	for _, f := range st.folders {
		snap.Folders = append(snap.Folders, f)
	}
	sort.Slice(snap.Folders, func(i, j int) bool {
		a, b := snap.Folders[i], snap.Folders[j]
		if a.ProjectID != b.ProjectID {
			return a.ProjectID < b.ProjectID
		}
		if a.EnvSlug != b.EnvSlug {
			return a.EnvSlug < b.EnvSlug
		}
		return a.Path < b.Path
	})
	for _, f := range snap.Folders {
		snap.Secrets = append(snap.Secrets, f.sortedSecrets()...)
	}
	for _, id := range snap.Identities {
		if ua := st.uas[id.ID]; ua != nil {
			snap.UniversalAuths = append(snap.UniversalAuths, ua)
			snap.ClientSecrets = append(snap.ClientSecrets, st.clientSecretsOf(ua.ID)...)
		}
	}
	for _, t := range st.tokens {
		d := t.tokenData
		d.NumUses = t.uses.Load()
		snap.AccessTokens = append(snap.AccessTokens, d)
	}
	sort.Slice(snap.AccessTokens, func(i, j int) bool { return snap.AccessTokens[i].ID < snap.AccessTokens[j].ID })
	for _, p := range snap.Projects {
		for _, id := range snap.Identities {
			if m := st.membership(p.ID, id.ID); m != nil {
				snap.Memberships = append(snap.Memberships, m)
			}
		}
	}
	for _, id := range snap.Identities {
		snap.Privileges = append(snap.Privileges, st.privilegesOf(id.ID, "")...)
	}
	b, err := func() ([]byte, error) {
		s.auditMu.Lock()
		defer s.auditMu.Unlock()
		snap.AuditLogs = s.audit.slice()
		return json.Marshal(snap)
	}()
	s.mu.RUnlock()
	return b, err
}

// RestoreState replaces the whole state with one produced by MarshalState.
// Empty input (or JSON null) leaves the state as it is.
func (s *Server) RestoreState(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("infisical state: %w", err)
	}
	if snap.Format != snapshotFormat {
		return fmt.Errorf("infisical state: format %d not understood", snap.Format)
	}
	st, err := stateFromSnapshot(&snap)
	if err != nil {
		return fmt.Errorf("infisical state: %w", err)
	}
	s.mu.Lock()
	s.st = st
	s.auditMu.Lock()
	s.audit = newRing[*auditLog](s.auditCap)
	for _, e := range snap.AuditLogs {
		s.audit.push(e)
	}
	s.auditMu.Unlock()
	s.mu.Unlock()
	s.permMu.Lock()
	s.permCache = map[permKey]permEntry{}
	s.permMu.Unlock()
	s.limiter.reset()
	return nil
}

func stateFromSnapshot(snap *snapshot) (*state, error) {
	st := newState()
	key, err := hex.DecodeString(snap.SigningKey)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("invalid signing key")
	}
	st.signingKey = key
	st.provisioner = snap.Provisioner
	if snap.Organization.ID == "" {
		return nil, fmt.Errorf("organization id missing")
	}
	st.org = snap.Organization
	for _, p := range snap.Projects {
		if p == nil || p.ID == "" {
			return nil, fmt.Errorf("project without id")
		}
		st.projects[p.ID] = p
		st.projectsBySlug[p.Slug] = p
	}
	folders := append([]*folder(nil), snap.Folders...)
	sort.SliceStable(folders, func(i, j int) bool {
		return len(pathSegments(folders[i].Path)) < len(pathSegments(folders[j].Path))
	})
	for _, f := range folders {
		if f == nil || st.projects[f.ProjectID] == nil {
			return nil, fmt.Errorf("folder of an unknown project")
		}
		if f.ParentID != nil {
			parent := st.folders[*f.ParentID]
			if parent == nil {
				return nil, fmt.Errorf("folder %s: parent %s missing", f.Path, *f.ParentID)
			}
			f.parent = parent
			f.Path = joinPath(parent.Path, f.Name)
		} else {
			f.Path = "/"
		}
		st.addFolder(f)
	}
	for _, sec := range snap.Secrets {
		f := st.folders[sec.FolderID]
		if f == nil {
			return nil, fmt.Errorf("secret %s: folder %s missing", sec.Key, sec.FolderID)
		}
		st.addSecret(f, sec)
	}
	for _, id := range snap.Identities {
		st.identities[id.ID] = id
	}
	for _, ua := range snap.UniversalAuths {
		st.uas[ua.IdentityID] = ua
		st.uaByClientID[ua.ClientID] = ua
	}
	for _, cs := range snap.ClientSecrets {
		st.addClientSecret(cs)
	}
	for _, d := range snap.AccessTokens {
		t := &accessToken{tokenData: d}
		t.uses.Store(d.NumUses)
		st.tokens[t.ID] = t
	}
	for _, m := range snap.Memberships {
		if st.memberships[m.ProjectID] == nil {
			st.memberships[m.ProjectID] = map[string]*projectMembership{}
		}
		st.memberships[m.ProjectID][m.IdentityID] = m
	}
	for _, p := range snap.Privileges {
		compiled, err := compileRules(p.Permissions)
		if err != nil {
			return nil, fmt.Errorf("privilege %s: %w", p.ID, err)
		}
		p.compiled = compiled
		st.addPrivilege(p)
	}
	return st, nil
}
