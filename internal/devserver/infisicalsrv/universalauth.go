package infisicalsrv

import (
	"time"
)

// Routes of /api/v1/auth/universal-auth/identities/{identityId}
// (identity-universal-auth-router.ts, identity-ua-service.ts).

type uaView struct {
	ID                         string      `json:"id"`
	ClientID                   string      `json:"clientId"`
	AccessTokenTTL             int64       `json:"accessTokenTTL"`
	AccessTokenMaxTTL          int64       `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit    int64       `json:"accessTokenNumUsesLimit"`
	AccessTokenPeriod          int64       `json:"accessTokenPeriod"`
	ClientSecretTrustedIPs     []trustedIP `json:"clientSecretTrustedIps"`
	AccessTokenTrustedIPs      []trustedIP `json:"accessTokenTrustedIps"`
	LockoutEnabled             bool        `json:"lockoutEnabled"`
	LockoutThreshold           int64       `json:"lockoutThreshold"`
	LockoutDurationSeconds     int64       `json:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds int64       `json:"lockoutCounterResetSeconds"`
	IdentityID                 string      `json:"identityId"`
	OrgID                      string      `json:"orgId"`
	CreatedAt                  time.Time   `json:"createdAt"`
	UpdatedAt                  time.Time   `json:"updatedAt"`
}

func viewUA(ua *universalAuth, orgID string) uaView {
	return uaView{
		ID: ua.ID, ClientID: ua.ClientID, AccessTokenTTL: ua.AccessTokenTTL, AccessTokenMaxTTL: ua.AccessTokenMaxTTL,
		AccessTokenNumUsesLimit: ua.AccessTokenNumUsesLimit, AccessTokenPeriod: ua.AccessTokenPeriod,
		ClientSecretTrustedIPs: ua.ClientSecretTrustedIPs, AccessTokenTrustedIPs: ua.AccessTokenTrustedIPs,
		LockoutEnabled: ua.LockoutEnabled, LockoutThreshold: ua.LockoutThreshold, LockoutDurationSeconds: ua.LockoutDurationSeconds,
		LockoutCounterResetSeconds: ua.LockoutCounterResetSeconds, IdentityID: ua.IdentityID, OrgID: orgID,
		CreatedAt: ua.CreatedAt, UpdatedAt: ua.UpdatedAt,
	}
}

type clientSecretView struct {
	ID                       string    `json:"id"`
	CreatedAt                time.Time `json:"createdAt"`
	UpdatedAt                time.Time `json:"updatedAt"`
	Description              string    `json:"description"`
	ClientSecretPrefix       string    `json:"clientSecretPrefix"`
	ClientSecretNumUses      int64     `json:"clientSecretNumUses"`
	ClientSecretNumUsesLimit int64     `json:"clientSecretNumUsesLimit"`
	ClientSecretTTL          int64     `json:"clientSecretTTL"`
	IdentityUAID             string    `json:"identityUAId"`
	IsClientSecretRevoked    bool      `json:"isClientSecretRevoked"`
	IdentityID               string    `json:"identityId,omitempty"`
}

func viewClientSecret(cs *clientSecret) clientSecretView {
	return clientSecretView{ID: cs.ID, CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt, Description: cs.Description,
		ClientSecretPrefix: cs.Prefix, ClientSecretNumUses: cs.NumUses, ClientSecretNumUsesLimit: cs.NumUsesLimit,
		ClientSecretTTL: cs.TTL, IdentityUAID: cs.UAID, IsClientSecretRevoked: cs.Revoked}
}

func uaBody(withDefaults bool) *schema {
	ttl := integer().gte(0).lte(315360000).opt()
	return object(
		field("clientSecretTrustedIps", trustedIPs()),
		field("accessTokenTrustedIps", trustedIPs()),
		field("accessTokenTTL", ttl),
		field("accessTokenMaxTTL", ttl),
		field("accessTokenNumUsesLimit", integer().gte(0).opt()),
		field("accessTokenPeriod", integer().gte(0).opt()),
		field("lockoutEnabled", boolean().opt()),
		field("lockoutThreshold", num().gte(1).lte(30).opt()),
		field("lockoutDurationSeconds", num().gte(30).lte(86400).opt()),
		field("lockoutCounterResetSeconds", num().gte(5).lte(3600).opt()),
	).withRefine(func(v any, path []any, add func(zodIssue)) {
		if !withDefaults {
			return
		}
		m := bodyMap(v)
		ttl, okT := getNumber(m, "accessTokenTTL")
		if !okT {
			ttl = defaultAccessTokenTTL
		}
		maxTTL, okM := getNumber(m, "accessTokenMaxTTL")
		if !okM {
			maxTTL = defaultAccessTokenTTL
		}
		if maxTTL > 0 && ttl > maxTTL {
			add(customIssue(path, "Access Token TTL cannot be greater than Access Token Max TTL."))
		}
	})
}

var (
	attachUABody = uaBody(true)
	updateUABody = uaBody(false)
)

// readTrustedIPs parses a trusted-IP list; the second result is false when
// the field is absent.
func (s *Server) readTrustedIPs(m map[string]any, key string) ([]trustedIP, bool, *apiError) {
	raw, ok := m[key]
	if !ok {
		return nil, false, nil
	}
	var out []trustedIP
	for _, e := range asSlice(raw) {
		ipStr, _ := getString(bodyMap(e), "ipAddress", true)
		t, valid := parseTrustedIP(ipStr)
		if s.noIPAllowlist && !(valid && isWildcardIP(t)) {
			return nil, true, errBadRequest("Failed to add IP access range to service token due to plan restriction. Upgrade plan to add IP access range.")
		}
		if !valid {
			return nil, true, errBadRequest("The IP is not a valid IPv4, IPv6, or CIDR block")
		}
		out = append(out, t)
	}
	return out, true, nil
}

func defaultTrustedIPs() []trustedIP {
	a, _ := parseTrustedIP("0.0.0.0/0")
	b, _ := parseTrustedIP("::/0")
	return []trustedIP{a, b}
}

func intField(m map[string]any, key string, def int64) int64 {
	if f, ok := getNumber(m, key); ok {
		return int64(f)
	}
	return def
}

func (s *Server) attachUA(c *call) (any, *apiError) {
	m, verr := c.validateBody(attachUABody)
	if verr != nil {
		return nil, verr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.lookupIdentity(c, c.r.PathValue("identityId"))
	if err != nil {
		return nil, err
	}
	if s.st.uas[id.ID] != nil {
		return nil, errBadRequest("Failed to add universal auth to already configured identity")
	}
	if _, err := s.requireOrg(c.actor, id.OrgID, actCreate, subIdentity); err != nil {
		return nil, err
	}
	csIPs, ok, err := s.readTrustedIPs(m, "clientSecretTrustedIps")
	if err != nil {
		return nil, err
	}
	if !ok {
		csIPs = defaultTrustedIPs()
	}
	atIPs, ok, err := s.readTrustedIPs(m, "accessTokenTrustedIps")
	if err != nil {
		return nil, err
	}
	if !ok {
		atIPs = defaultTrustedIPs()
	}
	lockout := true
	if b, ok := getBool(m, "lockoutEnabled"); ok {
		lockout = b
	}
	ua := &universalAuth{
		ID: newUUID(), IdentityID: id.ID, ClientID: newUUID(),
		ClientSecretTrustedIPs: csIPs, AccessTokenTrustedIPs: atIPs,
		AccessTokenTTL:             intField(m, "accessTokenTTL", defaultAccessTokenTTL),
		AccessTokenMaxTTL:          intField(m, "accessTokenMaxTTL", defaultAccessTokenTTL),
		AccessTokenNumUsesLimit:    intField(m, "accessTokenNumUsesLimit", 0),
		AccessTokenPeriod:          intField(m, "accessTokenPeriod", 0),
		LockoutEnabled:             lockout,
		LockoutThreshold:           intField(m, "lockoutThreshold", 3),
		LockoutDurationSeconds:     intField(m, "lockoutDurationSeconds", 300),
		LockoutCounterResetSeconds: intField(m, "lockoutCounterResetSeconds", 30),
		CreatedAt:                  c.now, UpdatedAt: c.now,
	}
	s.st.uas[id.ID] = ua
	s.st.uaByClientID[ua.ClientID] = ua
	s.recordAudit(c, nil, "", "add-identity-universal-auth", map[string]any{
		"identityId": id.ID, "accessTokenTTL": ua.AccessTokenTTL, "accessTokenMaxTTL": ua.AccessTokenMaxTTL,
		"accessTokenNumUsesLimit": ua.AccessTokenNumUsesLimit,
	})
	return map[string]any{"identityUniversalAuth": viewUA(ua, id.OrgID)}, nil
}

// lookupUA finds an identity and its universal auth; missing is how each
// service method words a missing configuration.
func (s *Server) lookupUA(c *call, missing *apiError) (*identity, *universalAuth, *apiError) {
	id, err := s.lookupIdentity(c, c.r.PathValue("identityId"))
	if err != nil {
		return nil, nil, err
	}
	ua := s.st.uas[id.ID]
	if ua == nil {
		return nil, nil, missing
	}
	return id, ua, nil
}

func errNoUA(identityID string) *apiError {
	return errNotFound("Failed to find universal auth for identity with ID " + identityID)
}

func errNotUA() *apiError { return errBadRequest("The identity does not have universal auth") }

func (s *Server) getUA(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ua, err := s.lookupUA(c, errNoUA(c.r.PathValue("identityId")))
	if err != nil {
		return nil, err
	}
	if _, err := s.requireOrg(c.actor, id.OrgID, actRead, subIdentity); err != nil {
		return nil, err
	}
	s.recordAudit(c, nil, "", "get-identity-universal-auth", map[string]any{"identityId": id.ID})
	return map[string]any{"identityUniversalAuth": viewUA(ua, id.OrgID)}, nil
}

func (s *Server) updateUA(c *call) (any, *apiError) {
	m, verr := c.validateBody(updateUABody)
	if verr != nil {
		return nil, verr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ua, err := s.lookupUA(c, errNoUA(c.r.PathValue("identityId")))
	if err != nil {
		return nil, err
	}
	ttl := intField(m, "accessTokenTTL", ua.AccessTokenTTL)
	maxTTL := intField(m, "accessTokenMaxTTL", ua.AccessTokenMaxTTL)
	if maxTTL > 0 && ttl > maxTTL {
		return nil, errBadRequest("Access token TTL cannot be greater than max TTL")
	}
	if _, err := s.requireOrg(c.actor, id.OrgID, actEdit, subIdentity); err != nil {
		return nil, err
	}
	csIPs, hasCS, err := s.readTrustedIPs(m, "clientSecretTrustedIps")
	if err != nil {
		return nil, err
	}
	atIPs, hasAT, err := s.readTrustedIPs(m, "accessTokenTrustedIps")
	if err != nil {
		return nil, err
	}
	if hasCS {
		ua.ClientSecretTrustedIPs = csIPs
	}
	if hasAT {
		ua.AccessTokenTrustedIPs = atIPs
	}
	ua.AccessTokenTTL, ua.AccessTokenMaxTTL = ttl, maxTTL
	ua.AccessTokenNumUsesLimit = intField(m, "accessTokenNumUsesLimit", ua.AccessTokenNumUsesLimit)
	ua.AccessTokenPeriod = intField(m, "accessTokenPeriod", ua.AccessTokenPeriod)
	if b, ok := getBool(m, "lockoutEnabled"); ok {
		ua.LockoutEnabled = b
	}
	ua.LockoutThreshold = intField(m, "lockoutThreshold", ua.LockoutThreshold)
	ua.LockoutDurationSeconds = intField(m, "lockoutDurationSeconds", ua.LockoutDurationSeconds)
	ua.LockoutCounterResetSeconds = intField(m, "lockoutCounterResetSeconds", ua.LockoutCounterResetSeconds)
	ua.UpdatedAt = c.now
	s.recordAudit(c, nil, "", "update-identity-universal-auth", map[string]any{
		"identityId": id.ID, "accessTokenTTL": ua.AccessTokenTTL, "accessTokenMaxTTL": ua.AccessTokenMaxTTL,
		"accessTokenNumUsesLimit": ua.AccessTokenNumUsesLimit,
	})
	return map[string]any{"identityUniversalAuth": viewUA(ua, id.OrgID)}, nil
}

func (s *Server) deleteUA(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ua, err := s.lookupUA(c, errNotUA())
	if err != nil {
		return nil, err
	}
	ab, err := s.requireOrg(c.actor, id.OrgID, actEdit, subIdentity)
	if err != nil {
		return nil, err
	}
	if err := ab.requireBoundary("Failed to revoke universal auth of identity with more privileged role", actRevokeAuth, subIdentity); err != nil {
		return nil, err
	}
	view := viewUA(ua, id.OrgID)
	s.st.deleteUniversalAuth(ua)
	s.recordAudit(c, nil, "", "revoke-identity-universal-auth", map[string]any{"identityId": id.ID})
	return map[string]any{"identityUniversalAuth": view}, nil
}

var createClientSecretBody = object(
	field("description", str().trimmed().opt()),
	field("numUsesLimit", num().gte(0).opt()),
	field("ttl", num().gte(0).lte(315360000).opt()),
)

func (s *Server) createClientSecret(c *call) (any, *apiError) {
	m, verr := c.validateBody(createClientSecretBody)
	if verr != nil {
		return nil, verr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ua, err := s.lookupUA(c, errNotUA())
	if err != nil {
		return nil, err
	}
	ab, err := s.requireOrg(c.actor, id.OrgID, actCreate, subIdentity)
	if err != nil {
		return nil, err
	}
	if err := ab.requireBoundary("Failed to create client secret for identity", actCreateToken, subIdentity); err != nil {
		return nil, err
	}
	desc, _ := getString(m, "description", true)
	plain := newClientSecret()
	cs := &clientSecret{
		ID: newUUID(), UAID: ua.ID, IdentityID: id.ID, Description: desc, Prefix: plain[:4], Hash: hashSecret(plain),
		NumUsesLimit: intField(m, "numUsesLimit", 0), TTL: intField(m, "ttl", 0), CreatedAt: c.now, UpdatedAt: c.now,
	}
	s.st.addClientSecret(cs)
	s.recordAudit(c, nil, "", "create-identity-universal-auth-client-secret", map[string]any{"identityId": id.ID, "clientSecretId": cs.ID})
	return map[string]any{"clientSecret": plain, "clientSecretData": viewClientSecret(cs)}, nil
}

func (s *Server) listClientSecrets(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ua, err := s.lookupUA(c, errNotUA())
	if err != nil {
		return nil, err
	}
	ab, err := s.requireOrg(c.actor, id.OrgID, actRead, subIdentity)
	if err != nil {
		return nil, err
	}
	if err := ab.requireBoundary("Failed to get identity client secret with more privileged role", actGetToken, subIdentity); err != nil {
		return nil, err
	}
	out := []clientSecretView{}
	for _, cs := range s.st.clientSecretsOf(ua.ID) {
		if !cs.Revoked {
			out = append(out, viewClientSecret(cs))
		}
	}
	s.recordAudit(c, nil, "", "get-identity-universal-auth-client-secret", map[string]any{"identityId": id.ID})
	return map[string]any{"clientSecretData": out}, nil
}

// lookupClientSecret finds a client secret of the identity's universal auth.
func (s *Server) lookupClientSecret(c *call) (*identity, *clientSecret, *apiError) {
	id, ua, err := s.lookupUA(c, errNotUA())
	if err != nil {
		return nil, nil, err
	}
	cs := s.st.clientSecrets[c.r.PathValue("clientSecretId")]
	if cs == nil || cs.UAID != ua.ID {
		return nil, nil, errNotFound("Failed to find identity with ID " + id.ID)
	}
	return id, cs, nil
}

func (s *Server) getClientSecret(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, cs, err := s.lookupClientSecret(c)
	if err != nil {
		return nil, err
	}
	ab, err := s.requireOrg(c.actor, id.OrgID, actRead, subIdentity)
	if err != nil {
		return nil, err
	}
	if err := ab.requireBoundary("Failed to read identity client secret of identity with more privileged role", actGetToken, subIdentity); err != nil {
		return nil, err
	}
	v := viewClientSecret(cs)
	v.IdentityID = id.ID
	s.recordAudit(c, nil, "", "get-identity-universal-auth-client-secret-by-id", map[string]any{"identityId": id.ID, "clientSecretId": cs.ID})
	return map[string]any{"clientSecretData": v}, nil
}

func (s *Server) revokeClientSecret(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, cs, err := s.lookupClientSecret(c)
	if err != nil {
		return nil, err
	}
	ab, err := s.requireOrg(c.actor, id.OrgID, actDelete, subIdentity)
	if err != nil {
		return nil, err
	}
	if err := ab.requireBoundary("Failed to revoke identity client secret with more privileged role", actDeleteToken, subIdentity); err != nil {
		return nil, err
	}
	cs.Revoked = true
	cs.UpdatedAt = c.now
	v := viewClientSecret(cs)
	v.IdentityID = id.ID
	s.recordAudit(c, nil, "", "revoke-identity-universal-auth-client-secret", map[string]any{"identityId": id.ID, "clientSecretId": cs.ID})
	return map[string]any{"clientSecretData": v}, nil
}

// clearLockouts is POST .../clear-lockouts.
func (s *Server) clearLockouts(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ua, err := s.lookupUA(c, errNotUA())
	if err != nil {
		return nil, err
	}
	if _, err := s.requireOrg(c.actor, id.OrgID, actEdit, subIdentity); err != nil {
		return nil, err
	}
	deleted := 0
	if _, ok := s.st.lockouts[lockoutKey(id.ID, ua.ClientID)]; ok {
		delete(s.st.lockouts, lockoutKey(id.ID, ua.ClientID))
		deleted = 1
	}
	return map[string]any{"deleted": deleted}, nil
}
