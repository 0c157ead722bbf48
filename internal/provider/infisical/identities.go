package infisical

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Identity is a machine identity of the organization.
type Identity struct {
	ID   string
	Name string
	// OrgID is the organization the identity belongs to.
	OrgID string
	// OrgRole is the identity's organization role ("no-access" for a
	// handoff's), when the answer carried it.
	OrgRole string
	// AuthMethods lists the auth methods attached ("universal-auth").
	AuthMethods []string
	// Metadata are the identity's key/value labels (handoff's name the
	// handoff: "handoff-slug"), when the answer carried them.
	Metadata  map[string]string
	CreatedAt time.Time
}

// wireMeta is one metadata entry of an identity.
type wireMeta struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func metadataMap(ms []wireMeta) map[string]string {
	if len(ms) == 0 {
		return nil
	}
	out := make(map[string]string, len(ms))
	for _, m := range ms {
		out[m.Key] = m.Value
	}
	return out
}

type wireIdentity struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	OrgID       string     `json:"orgId"`
	AuthMethods []string   `json:"authMethods"`
	Metadata    []wireMeta `json:"metadata"`
	CreatedAt   time.Time  `json:"createdAt"`
}

func (w wireIdentity) identity() Identity {
	return Identity{ID: w.ID, Name: w.Name, OrgID: w.OrgID, AuthMethods: w.AuthMethods, Metadata: metadataMap(w.Metadata), CreatedAt: w.CreatedAt}
}

// wireOrgMembership is an identity's organization membership with the
// identity nested, as GET /api/v1/identities[/{id}] answer; the metadata
// sit on the membership.
type wireOrgMembership struct {
	Role     string       `json:"role"`
	OrgID    string       `json:"orgId"`
	Identity wireIdentity `json:"identity"`
	Metadata []wireMeta   `json:"metadata"`
}

func (m wireOrgMembership) identity() Identity {
	id := m.Identity.identity()
	id.OrgRole = m.Role
	if id.OrgID == "" {
		id.OrgID = m.OrgID
	}
	if md := metadataMap(m.Metadata); md != nil {
		id.Metadata = md
	}
	return id
}

// CreateIdentity creates a machine identity in the organization with the
// given organization role ("no-access" for a handoff's identity: it gets
// its access from a project privilege only).
func (c *Client) CreateIdentity(ctx context.Context, name, orgRole string) (Identity, error) {
	return c.CreateIdentityWithMetadata(ctx, name, orgRole, nil)
}

// CreateIdentityWithMetadata is CreateIdentity with metadata: key/value
// labels stored on the identity (sent sorted by key), which audit logs and
// the Infisical UI show, e.g. {"handoff-slug": slug}. Keys and values must
// not be empty.
func (c *Client) CreateIdentityWithMetadata(ctx context.Context, name, orgRole string, metadata map[string]string) (Identity, error) {
	const op = "create identity"
	if err := c.needOrg(op); err != nil {
		return Identity{}, err
	}
	if name == "" {
		return Identity{}, fmt.Errorf("infisical: %s: empty name", op)
	}
	if orgRole == "" {
		orgRole = "no-access"
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		Identity *wireIdentity `json:"identity"`
	}
	body := map[string]any{"name": name, "organizationId": c.cfg.OrganizationID, "role": orgRole}
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k, v := range metadata {
			if k == "" || v == "" {
				return Identity{}, fmt.Errorf("infisical: %s %s: empty metadata key or value", op, name)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		md := make([]wireMeta, len(keys))
		for i, k := range keys {
			md[i] = wireMeta{Key: k, Value: metadata[k]}
		}
		body["metadata"] = md
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodPost, path: "/api/v1/identities", body: body}, &out); err != nil {
		return Identity{}, err
	}
	if out.Identity == nil {
		return Identity{}, fmt.Errorf("infisical: %s %s: %w", op, name, errNoAnswer)
	}
	id := out.Identity.identity()
	id.OrgRole = orgRole
	if id.Metadata == nil && len(metadata) > 0 {
		id.Metadata = make(map[string]string, len(metadata))
		for k, v := range metadata {
			id.Metadata[k] = v
		}
	}
	if id.OrgID == "" {
		id.OrgID = c.cfg.OrganizationID
	}
	return id, nil
}

// GetIdentity returns an identity; a missing one is an error for which
// IsNotFound holds.
func (c *Client) GetIdentity(ctx context.Context, identityID string) (Identity, error) {
	const op = "get identity"
	if identityID == "" {
		return Identity{}, fmt.Errorf("infisical: %s: empty identity id", op)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		Identity *wireOrgMembership `json:"identity"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: "/api/v1/identities/" + url.PathEscape(identityID), identityID: identityID}, &out); err != nil {
		return Identity{}, err
	}
	if out.Identity == nil {
		return Identity{}, fmt.Errorf("infisical: %s %s: %w", op, identityID, errNoAnswer)
	}
	return out.Identity.identity(), nil
}

// DeleteIdentity deletes an identity (and with it its auth methods, client
// secrets, memberships and privileges); one already gone is not an error.
func (c *Client) DeleteIdentity(ctx context.Context, identityID string) error {
	const op = "delete identity"
	if identityID == "" {
		return fmt.Errorf("infisical: %s: empty identity id", op)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	err := c.do(ctx, &call{op: op, method: http.MethodDelete, path: "/api/v1/identities/" + url.PathEscape(identityID), identityID: identityID}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// ListIdentities returns every identity of the organization in one request.
// The route (GET /api/v1/identities?orgId=) has no paging parameters in the
// contract; when the server reports more identities (totalCount) than it
// returned, ListIdentities fails rather than return a partial list that
// would make present identities look deleted.
func (c *Client) ListIdentities(ctx context.Context) ([]Identity, error) {
	const op = "list identities"
	if err := c.needOrg(op); err != nil {
		return nil, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		Identities []wireOrgMembership `json:"identities"`
		TotalCount *float64            `json:"totalCount"`
	}
	q := url.Values{"orgId": {c.cfg.OrganizationID}}
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: "/api/v1/identities", query: q}, &out); err != nil {
		return nil, err
	}
	if out.TotalCount != nil && int(*out.TotalCount) > len(out.Identities) {
		return nil, fmt.Errorf("infisical: %s: the server returned %d of %d identities and the route has no paging: the list would be incomplete", op, len(out.Identities), int(*out.TotalCount))
	}
	res := make([]Identity, 0, len(out.Identities))
	for _, m := range out.Identities {
		res = append(res, m.identity())
	}
	return res, nil
}

// UAConfig configures universal auth on an identity. Durations are whole
// seconds on the wire.
type UAConfig struct {
	// AccessTokenTTL is the life of each access token (required; a handoff
	// uses 15 minutes).
	AccessTokenTTL time.Duration
	// AccessTokenMaxTTL caps renewals (default AccessTokenTTL: no renewal
	// beyond one life).
	AccessTokenMaxTTL time.Duration
	// AccessTokenNumUsesLimit caps uses of a token (0: unlimited).
	AccessTokenNumUsesLimit int
	// TrustedIPs restricts both client-secret logins and token use to these
	// addresses or CIDR ranges (empty: the server's default, anywhere).
	TrustedIPs []string
}

// UniversalAuth is the universal-auth configuration of an identity.
type UniversalAuth struct {
	// ID is the configuration's own id (identityUniversalAuth.id).
	ID string `json:"id"`
	// ClientID is generated by the server when universal auth is attached;
	// with a client secret it logs the identity in. It is an identifier,
	// not a secret.
	ClientID                string `json:"clientId"`
	IdentityID              string `json:"identityId"`
	AccessTokenTTL          int64  `json:"accessTokenTTL"`
	AccessTokenMaxTTL       int64  `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit int64  `json:"accessTokenNumUsesLimit"`
}

type trustedIP struct {
	IPAddress string `json:"ipAddress"`
}

// AttachUniversalAuth enables universal auth on an identity and returns the
// generated client id (and the configuration's id).
func (c *Client) AttachUniversalAuth(ctx context.Context, identityID string, ua UAConfig) (UniversalAuth, error) {
	const op = "attach universal auth"
	if identityID == "" {
		return UniversalAuth{}, fmt.Errorf("infisical: %s: empty identity id", op)
	}
	if ua.AccessTokenTTL < time.Second {
		return UniversalAuth{}, fmt.Errorf("infisical: %s: AccessTokenTTL must be at least 1s (the server's default is 30 days)", op)
	}
	if ua.AccessTokenMaxTTL == 0 {
		ua.AccessTokenMaxTTL = ua.AccessTokenTTL
	}
	if ua.AccessTokenMaxTTL < ua.AccessTokenTTL {
		return UniversalAuth{}, fmt.Errorf("infisical: %s: AccessTokenMaxTTL %s is below AccessTokenTTL %s", op, ua.AccessTokenMaxTTL, ua.AccessTokenTTL)
	}
	body := map[string]any{
		"accessTokenTTL":          int64(ua.AccessTokenTTL / time.Second),
		"accessTokenMaxTTL":       int64(ua.AccessTokenMaxTTL / time.Second),
		"accessTokenNumUsesLimit": ua.AccessTokenNumUsesLimit,
	}
	if len(ua.TrustedIPs) > 0 {
		ips := make([]trustedIP, 0, len(ua.TrustedIPs))
		for _, ip := range ua.TrustedIPs {
			ips = append(ips, trustedIP{ip})
		}
		body["clientSecretTrustedIps"] = ips
		body["accessTokenTrustedIps"] = ips
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		UA *UniversalAuth `json:"identityUniversalAuth"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodPost, path: uaPath(identityID), body: body, identityID: identityID}, &out); err != nil {
		return UniversalAuth{}, err
	}
	if out.UA == nil || out.UA.ClientID == "" {
		return UniversalAuth{}, fmt.Errorf("infisical: %s %s: %w", op, identityID, errNoAnswer)
	}
	return *out.UA, nil
}

// GetUniversalAuth returns the universal-auth configuration of an identity.
func (c *Client) GetUniversalAuth(ctx context.Context, identityID string) (UniversalAuth, error) {
	const op = "get universal auth"
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		UA *UniversalAuth `json:"identityUniversalAuth"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: uaPath(identityID), identityID: identityID}, &out); err != nil {
		return UniversalAuth{}, err
	}
	if out.UA == nil {
		return UniversalAuth{}, fmt.Errorf("infisical: %s %s: %w", op, identityID, errNoAnswer)
	}
	return *out.UA, nil
}

func uaPath(identityID string) string {
	return "/api/v1/auth/universal-auth/identities/" + url.PathEscape(identityID)
}

// ClientSecret is a universal-auth client secret of an identity. Value is
// the plaintext, known only right after CreateClientSecret (the server shows
// it once); String, GoString, Format and MarshalJSON never include it.
type ClientSecret struct {
	ID          string
	Value       string
	Prefix      string // the first characters, as the server shows them
	Description string
	// ExpiresAt is zero for a secret without a TTL.
	ExpiresAt time.Time
	CreatedAt time.Time
	Revoked   bool
	// NumUses and NumUsesLimit count logins (limit 0: unlimited).
	NumUses, NumUsesLimit int
}

// String describes the client secret without its value.
func (s ClientSecret) String() string {
	exp := "never"
	if !s.ExpiresAt.IsZero() {
		exp = s.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("infisical.ClientSecret{id %s, value %s, expires %s, revoked %t}", s.ID, redacted(s.Value), exp, s.Revoked)
}

// GoString is String.
func (s ClientSecret) GoString() string { return s.String() }

// Format prints String for every verb.
func (s ClientSecret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON writes the metadata without the value.
func (s ClientSecret) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        string    `json:"id"`
		ExpiresAt time.Time `json:"expires_at,omitzero"`
		Revoked   bool      `json:"revoked"`
	}{s.ID, s.ExpiresAt, s.Revoked})
}

type wireClientSecret struct {
	ID           string    `json:"id"`
	Description  string    `json:"description"`
	Prefix       string    `json:"clientSecretPrefix"`
	NumUses      int       `json:"clientSecretNumUses"`
	NumUsesLimit int       `json:"clientSecretNumUsesLimit"`
	TTL          int64     `json:"clientSecretTTL"`
	Revoked      bool      `json:"isClientSecretRevoked"`
	CreatedAt    time.Time `json:"createdAt"`
}

func (w wireClientSecret) clientSecret(now time.Time) ClientSecret {
	s := ClientSecret{ID: w.ID, Prefix: w.Prefix, Description: w.Description, CreatedAt: w.CreatedAt,
		Revoked: w.Revoked, NumUses: w.NumUses, NumUsesLimit: w.NumUsesLimit}
	if w.TTL > 0 {
		start := w.CreatedAt
		if start.IsZero() {
			start = now
		}
		s.ExpiresAt = start.Add(time.Duration(w.TTL) * time.Second)
	}
	return s
}

// CreateClientSecret creates a client secret for an identity's universal
// auth, valid for ttl (rounded down to seconds; 0 never expires, which a
// handoff never wants) and numUsesLimit logins (0: unlimited). The returned
// Value is the only time the plaintext is available.
func (c *Client) CreateClientSecret(ctx context.Context, identityID, description string, ttl time.Duration, numUsesLimit int) (ClientSecret, error) {
	const op = "create client secret"
	if identityID == "" {
		return ClientSecret{}, fmt.Errorf("infisical: %s: empty identity id", op)
	}
	if ttl < 0 || numUsesLimit < 0 {
		return ClientSecret{}, fmt.Errorf("infisical: %s: negative ttl or uses limit", op)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	body := map[string]any{"description": description, "ttl": int64(ttl / time.Second), "numUsesLimit": numUsesLimit}
	var out struct {
		ClientSecret string            `json:"clientSecret"`
		Data         *wireClientSecret `json:"clientSecretData"`
	}
	err := c.do(ctx, &call{op: op, method: http.MethodPost, path: uaPath(identityID) + "/client-secrets", body: body, identityID: identityID}, &out)
	if err != nil {
		return ClientSecret{}, err
	}
	if out.Data == nil || out.ClientSecret == "" {
		return ClientSecret{}, fmt.Errorf("infisical: %s for %s: %w", op, identityID, errNoAnswer)
	}
	s := out.Data.clientSecret(c.now())
	s.Value = out.ClientSecret
	return s, nil
}

// ListClientSecrets returns the live client secrets of an identity, without
// values (Infisical omits revoked ones).
func (c *Client) ListClientSecrets(ctx context.Context, identityID string) ([]ClientSecret, error) {
	const op = "list client secrets"
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		Data []wireClientSecret `json:"clientSecretData"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: uaPath(identityID) + "/client-secrets", identityID: identityID}, &out); err != nil {
		return nil, err
	}
	now := c.now()
	res := make([]ClientSecret, 0, len(out.Data))
	for _, w := range out.Data {
		res = append(res, w.clientSecret(now))
	}
	return res, nil
}

// RevokeClientSecret revokes a client secret so that it can no longer log
// in. A secret already revoked, or gone with its identity, is not an error.
func (c *Client) RevokeClientSecret(ctx context.Context, identityID, clientSecretID string) error {
	const op = "revoke client secret"
	if identityID == "" || clientSecretID == "" {
		return fmt.Errorf("infisical: %s: empty identity or client secret id", op)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	err := c.do(ctx, &call{
		op: op, method: http.MethodPost, idempotent: true, identityID: identityID,
		path: uaPath(identityID) + "/client-secrets/" + url.PathEscape(clientSecretID) + "/revoke",
	}, nil)
	if IsNotFound(err) || isAlreadyRevoked(err) {
		return nil
	}
	return err
}

func isAlreadyRevoked(err error) bool {
	e, ok := APIError(err)
	return ok && e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "revoked")
}

// AddProjectMembership makes the identity a member of the project with the
// given project role ("no-access" for a handoff: its access comes from its
// additional privilege alone) and returns the membership id.
func (c *Client) AddProjectMembership(ctx context.Context, identityID, role string) (string, error) {
	const op = "add project membership"
	if err := c.needProject(op); err != nil {
		return "", err
	}
	if identityID == "" {
		return "", fmt.Errorf("infisical: %s: empty identity id", op)
	}
	if role == "" {
		role = "no-access"
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	body := map[string]any{"roles": []map[string]any{{"role": role, "isTemporary": false}}}
	var out struct {
		Membership *struct {
			ID string `json:"id"`
		} `json:"identityMembership"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodPost, path: c.membershipPath(identityID), body: body, identityID: identityID}, &out); err != nil {
		return "", err
	}
	if out.Membership == nil || out.Membership.ID == "" {
		return "", fmt.Errorf("infisical: %s %s: %w", op, identityID, errNoAnswer)
	}
	return out.Membership.ID, nil
}

// RemoveProjectMembership removes the identity from the project; an
// identity that is not a member is not an error.
func (c *Client) RemoveProjectMembership(ctx context.Context, identityID string) error {
	const op = "remove project membership"
	if err := c.needProject(op); err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	err := c.do(ctx, &call{op: op, method: http.MethodDelete, path: c.membershipPath(identityID), identityID: identityID}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

func (c *Client) membershipPath(identityID string) string {
	return "/api/v1/projects/" + url.PathEscape(c.cfg.ProjectID) + "/memberships/identities/" + url.PathEscape(identityID)
}
