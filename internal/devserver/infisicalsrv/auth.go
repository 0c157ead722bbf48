package infisicalsrv

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	authMethodUA             = "universal-auth"
	authTokenTypeIdentity    = "identityAccessToken"
	msgTokenMissing          = "Token missing"
	msgNoToken               = "No identity access token found"
	msgIPNotAllowed          = "You are not allowed to access this resource from the current IP address"
	msgInvalidCredentials    = "Invalid credentials"
	msgTokenExpired          = "Your token has expired. Please re-authenticate."
	msgTokenMalformed        = "The provided access token is malformed. Please use a valid token or generate a new one and try again."
	msgTokenInvalidAlgorithm = "The access token is signed with an invalid algorithm. Please provide a valid token and try again."
)

// actor is the authenticated identity of a request.
type actor struct {
	identityID   string
	identityName string
	orgID        string
	orgRole      string
	tokenID      string
}

// authenticate is injectIdentity + verifyAuth for identity access tokens:
// JWT problems are 403 TokenError, a missing header or a token the server
// no longer knows is 401, a token used from an untrusted IP is 403.
func (s *Server) authenticate(c *call) (*actor, *apiError) {
	header := c.r.Header.Get("Authorization")
	if header == "" {
		return nil, errUnauthorized(msgTokenMissing)
	}
	tok := ""
	if len(header) > 7 {
		tok = header[7:] // authHeader.slice(7): whatever the scheme says
	}
	if strings.HasPrefix(tok, "st.") {
		return nil, errUnauthorized("Failed to authorize service token")
	}
	s.mu.RLock()
	a, drop, err := s.authenticateLocked(c, tok)
	s.mu.RUnlock()
	if drop != "" {
		s.mu.Lock()
		delete(s.st.tokens, drop)
		s.mu.Unlock()
	}
	return a, err
}

// authenticateLocked runs under the read lock; drop names a token to delete
// (use limit reached or TTL passed) once the lock is released.
func (s *Server) authenticateLocked(c *call, tok string) (*actor, string, *apiError) {
	claims, err := s.verifyJWT(tok, c.now)
	if err != nil {
		return nil, "", err
	}
	if claims.tokenType != authTokenTypeIdentity {
		return nil, "", errUnauthorized(msgTokenMissing)
	}
	t := s.st.tokens[claims.tokenID]
	if t == nil || t.Revoked {
		return nil, "", errUnauthorized(msgNoToken)
	}
	if ua := s.st.uas[t.IdentityID]; ua != nil && t.AuthMethod == authMethodUA {
		if !ipAllowed(ua.AccessTokenTrustedIPs, c.ip) {
			return nil, "", errForbiddenRequest("", msgIPNotAllowed, nil)
		}
	}
	id := s.st.identities[t.IdentityID]
	if id == nil {
		return nil, "", errBadRequest("Identity does not belong to this organization")
	}
	if e := tokenStillValid(t, c.now); e != nil {
		return nil, t.ID, e
	}
	for {
		u := t.uses.Load()
		if t.NumUsesLimit > 0 && u > 0 && u >= t.NumUsesLimit {
			return nil, t.ID, errUnauthorized("Unable to renew because access token number of uses limit reached")
		}
		if t.uses.CompareAndSwap(u, u+1) {
			break
		}
	}
	return &actor{identityID: id.ID, identityName: id.Name, orgID: id.OrgID, orgRole: id.OrgRole, tokenID: t.ID}, "", nil
}

// tokenStillValid is validateAccessTokenExp's TTL half: the record's own
// TTL, counted from the last renewal.
func tokenStillValid(t *accessToken, now time.Time) *apiError {
	if t.TTL <= 0 {
		return nil
	}
	from := t.CreatedAt
	if t.LastRenewedAt != nil {
		from = *t.LastRenewedAt
	}
	if now.After(from.Add(time.Duration(t.TTL) * time.Second)) {
		return errUnauthorized("Failed to renew MI access token due to TTL expiration")
	}
	return nil
}

var errBadAlgorithm = errors.New("invalid algorithm")

type tokenClaims struct {
	tokenType      string
	tokenID        string
	identityID     string
	clientSecretID string
}

// verifyJWT is jsonwebtoken's verify with the errors it raises, as
// Infisical's error handler words them.
func (s *Server) verifyJWT(tok string, now time.Time) (tokenClaims, *apiError) {
	var out tokenClaims
	if tok == "" {
		return out, errToken("jwt must be provided")
	}
	if strings.Count(tok, ".") != 2 {
		return out, errToken(msgTokenMalformed)
	}
	key := s.st.signingKey
	parsed, err := jwt.NewParser(jwt.WithoutClaimsValidation()).Parse(tok, func(t *jwt.Token) (any, error) {
		if t.Method == nil || t.Method.Alg() != "HS256" {
			return nil, errBadAlgorithm
		}
		return key, nil
	})
	if err != nil {
		switch {
		case errors.Is(err, errBadAlgorithm):
			return out, errToken(msgTokenInvalidAlgorithm)
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			return out, errToken("invalid signature")
		default:
			return out, errToken("invalid token")
		}
	}
	mc, _ := parsed.Claims.(jwt.MapClaims)
	if exp, ok := mc["exp"].(float64); ok && now.Unix() >= int64(exp) {
		return out, errToken(msgTokenExpired)
	}
	out.tokenType, _ = mc["authTokenType"].(string)
	out.tokenID, _ = mc["identityAccessTokenId"].(string)
	out.identityID, _ = mc["identityId"].(string)
	out.clientSecretID, _ = mc["clientSecretId"].(string)
	return out, nil
}

// signToken issues the JWT for a token record; ttl 0 means no exp.
func (s *Server) signToken(t *accessToken, now time.Time, ttl int64) string {
	claims := jwt.MapClaims{
		"identityId":            t.IdentityID,
		"clientSecretId":        t.ClientSecretID,
		"identityAccessTokenId": t.ID,
		"authTokenType":         authTokenTypeIdentity,
		"iat":                   now.Unix(),
	}
	t.ExpiresAt = nil
	if ttl > 0 {
		exp := now.Add(time.Duration(ttl) * time.Second)
		claims["exp"] = exp.Unix()
		t.ExpiresAt = &exp
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.st.signingKey)
	if err != nil {
		panic("infisicalsrv: sign token: " + err.Error())
	}
	return signed
}

// parseTrustedIP is isValidIpOrCidr + extractIPDetails.
func parseTrustedIP(s string) (trustedIP, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return trustedIP{}, false
		}
		bits := p.Bits()
		return trustedIP{IPAddress: p.Addr().String(), Type: ipType(p.Addr()), Prefix: &bits}, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return trustedIP{}, false
	}
	return trustedIP{IPAddress: a.String(), Type: ipType(a)}, true
}

func ipType(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// ipAllowed is checkIPAgainstBlocklist: the address must fall in one of the
// trusted ranges of its own family.
func ipAllowed(list []trustedIP, ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, t := range list {
		a, err := netip.ParseAddr(t.IPAddress)
		if err != nil || a.Is4() != ip.Is4() {
			continue
		}
		if t.Prefix == nil {
			if a == ip {
				return true
			}
			continue
		}
		if p, err := a.Prefix(*t.Prefix); err == nil && p.Contains(ip) {
			return true
		}
	}
	return false
}

func isWildcardIP(t trustedIP) bool {
	return t.Prefix != nil && *t.Prefix == 0 && (t.IPAddress == "0.0.0.0" || t.IPAddress == "::")
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func secretMatches(secret, hash string) bool {
	h := hashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(h), []byte(hash)) == 1
}

// newClientSecret is crypto.randomBytes(32).toString("hex").
func newClientSecret() string { return randomHex(32) }

// Routes: /api/v1/auth/universal-auth/login, /api/v1/auth/token/renew,
// /api/v1/auth/token/revoke.

type tokenResponse struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int64  `json:"expiresIn"`
	AccessTokenMaxTTL int64  `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

var loginSchema = object(
	field("clientId", str().trimmed()),
	field("clientSecret", str().trimmed()),
	field("subOrganizationName", str().trimmed().opt()),
	field("organizationSlug", str().trimmed().opt()),
)

func lockoutKey(identityID, clientID string) string {
	return identityID + ":" + authMethodUA + ":" + clientID
}

func (s *Server) login(c *call) (any, *apiError) {
	m, verr := c.validateBody(loginSchema)
	if verr != nil {
		return nil, verr
	}
	clientID, _ := getString(m, "clientId", true)
	secretIn, _ := getString(m, "clientSecret", true)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	ua := st.uaByClientID[clientID]
	if ua == nil {
		return nil, errUnauthorized(msgInvalidCredentials)
	}
	id := st.identities[ua.IdentityID]
	if id == nil {
		return nil, errUnauthorized(msgInvalidCredentials)
	}
	if !ipAllowed(ua.ClientSecretTrustedIPs, c.ip) {
		return nil, errForbiddenRequest("", msgIPNotAllowed, nil)
	}
	key := lockoutKey(ua.IdentityID, clientID)
	lo := st.lockouts[key]
	if lo != nil && !c.now.Before(lo.expiresAt) {
		delete(st.lockouts, key)
		lo = nil
	}
	if lo != nil && lo.lockedOut {
		return nil, errUnauthorized("This identity auth method is temporarily locked, please try again later")
	}
	var match *clientSecret
	prefix := secretIn
	if len(prefix) > 4 {
		prefix = prefix[:4]
	}
	for _, cs := range st.clientSecretsOf(ua.ID) {
		if !cs.Revoked && cs.Prefix == prefix && secretMatches(secretIn, cs.Hash) {
			match = cs
			break
		}
	}
	if match == nil {
		if ua.LockoutEnabled {
			if lo == nil {
				lo = &lockout{}
				st.lockouts[key] = lo
			}
			lo.failed++
			if lo.failed >= ua.LockoutThreshold {
				lo.lockedOut = true
				lo.expiresAt = c.now.Add(time.Duration(ua.LockoutDurationSeconds) * time.Second)
			} else {
				lo.expiresAt = c.now.Add(time.Duration(ua.LockoutCounterResetSeconds) * time.Second)
			}
		}
		return nil, errUnauthorized(msgInvalidCredentials)
	}
	delete(st.lockouts, key)
	if exp := match.expiresAt(); exp != nil && c.now.After(*exp) {
		match.Revoked = true
		match.UpdatedAt = c.now
		return nil, errUnauthorized("Access denied due to expired client secret")
	}
	if match.NumUsesLimit > 0 && match.NumUses >= match.NumUsesLimit {
		match.Revoked = true
		match.UpdatedAt = c.now
		return nil, errUnauthorized("Access denied due to client secret usage limit reached")
	}
	for _, name := range []string{"subOrganizationName", "organizationSlug"} {
		if v, ok := getString(m, name, true); ok && v != "" && v != st.org.Slug {
			return nil, errNotFound("Sub organization with name " + v + " not found")
		}
	}
	ttl, maxTTL := ua.AccessTokenTTL, ua.AccessTokenMaxTTL
	if ua.AccessTokenPeriod > 0 {
		ttl, maxTTL = ua.AccessTokenPeriod, 1000000000
	}
	match.NumUses++
	match.LastUsedAt = &c.now
	match.UpdatedAt = c.now
	t := &accessToken{tokenData: tokenData{
		ID: newUUID(), IdentityID: id.ID, ClientSecretID: match.ID, AuthMethod: authMethodUA,
		TTL: ttl, MaxTTL: maxTTL, NumUsesLimit: ua.AccessTokenNumUsesLimit, Period: ua.AccessTokenPeriod,
		CreatedAt: c.now,
	}}
	st.tokens[t.ID] = t
	signed := s.signToken(t, c.now, ttl)
	now := c.now
	id.LastLoginAuthMethod, id.LastLoginTime = authMethodUA, &now
	s.recordAudit(c, &actor{identityID: id.ID, identityName: id.Name, orgID: id.OrgID}, "", "login-identity-universal-auth", map[string]any{
		"identityId": id.ID, "identityUniversalAuthId": ua.ID, "clientSecretId": match.ID, "identityAccessTokenId": t.ID,
	})
	return tokenResponse{AccessToken: signed, ExpiresIn: ttl, AccessTokenMaxTTL: maxTTL, TokenType: "Bearer"}, nil
}

var accessTokenBody = object(field("accessToken", str().trimmed()))

// renew is renewAccessToken: the token must be valid, not used up and not
// past its TTL; the new expiry may not pass the max TTL.
func (s *Server) renew(c *call) (any, *apiError) {
	m, verr := c.validateBody(accessTokenBody)
	if verr != nil {
		return nil, verr
	}
	tok, _ := getString(m, "accessToken", true)
	s.mu.Lock()
	defer s.mu.Unlock()
	claims, err := s.verifyJWT(tok, c.now)
	if err != nil {
		return nil, err
	}
	if claims.tokenType != authTokenTypeIdentity {
		return nil, errBadRequest("Only identity access tokens can be renewed")
	}
	t := s.st.tokens[claims.tokenID]
	if t == nil || t.Revoked {
		return nil, errUnauthorized(msgNoToken)
	}
	if u := t.uses.Load(); t.NumUsesLimit > 0 && u > 0 && u >= t.NumUsesLimit {
		delete(s.st.tokens, t.ID)
		return nil, errUnauthorized("Unable to renew because access token number of uses limit reached")
	}
	if e := tokenStillValid(t, c.now); e != nil {
		delete(s.st.tokens, t.ID)
		return nil, e
	}
	if t.MaxTTL > 0 && t.Period == 0 {
		maxAt := t.CreatedAt.Add(time.Duration(t.MaxTTL) * time.Second)
		if c.now.After(maxAt) {
			delete(s.st.tokens, t.ID)
			return nil, errUnauthorized("Failed to renew MI access token due to Max TTL expiration")
		}
		if c.now.Add(time.Duration(t.TTL) * time.Second).After(maxAt) {
			delete(s.st.tokens, t.ID)
			return nil, errUnauthorized("Failed to renew MI access token past its Max TTL expiration")
		}
	}
	now := c.now
	t.LastRenewedAt = &now
	ttl := t.TTL
	if t.Period > 0 {
		ttl = t.Period
	}
	signed := s.signToken(t, c.now, ttl)
	if id := s.st.identities[t.IdentityID]; id != nil {
		s.recordAudit(c, &actor{identityID: id.ID, identityName: id.Name, orgID: id.OrgID}, "", "renew-identity-access-token",
			map[string]any{"identityId": id.ID, "identityAccessTokenId": t.ID})
	}
	return tokenResponse{AccessToken: signed, ExpiresIn: ttl, AccessTokenMaxTTL: t.MaxTTL, TokenType: "Bearer"}, nil
}

func (s *Server) revokeToken(c *call) (any, *apiError) {
	m, verr := c.validateBody(accessTokenBody)
	if verr != nil {
		return nil, verr
	}
	tok, _ := getString(m, "accessToken", true)
	s.mu.Lock()
	defer s.mu.Unlock()
	claims, err := s.verifyJWT(tok, c.now)
	if err != nil {
		return nil, err
	}
	if claims.tokenType != authTokenTypeIdentity {
		return nil, errUnauthorized("Only identity access tokens can be revoked")
	}
	t := s.st.tokens[claims.tokenID]
	if t == nil || t.Revoked {
		return nil, errUnauthorized(msgNoToken)
	}
	t.Revoked = true
	if id := s.st.identities[t.IdentityID]; id != nil {
		s.recordAudit(c, &actor{identityID: id.ID, identityName: id.Name, orgID: id.OrgID}, "", "revoke-identity-access-token",
			map[string]any{"identityId": id.ID, "identityAccessTokenId": t.ID})
	}
	return map[string]string{"message": "Successfully revoked access token"}, nil
}
