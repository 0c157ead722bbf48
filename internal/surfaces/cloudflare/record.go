package cloudflare

import (
	"encoding/json"
	"time"

	"github.com/raxx-app/handoff/internal/surface"
)

// Record is the surface's entry in the manifest: the API token minted for
// a handoff (its id, name, grant and expiry, never its value).
type Record struct {
	TokenID   string `json:"token_id"`
	TokenName string `json:"token_name"`
	// Zones are the spec's zones as written; ZoneIDs their ids, in order.
	Zones   []string `json:"zones"`
	ZoneIDs []string `json:"zone_ids"`
	// PermissionGroups are the spec's groups; PermissionGroupIDs their ids,
	// in order.
	PermissionGroups   []string `json:"permission_groups"`
	PermissionGroupIDs []string `json:"permission_group_ids"`
	// RequestIP is the token's IP allowlist (empty: any address).
	RequestIP []string `json:"request_ip,omitempty"`
	// TTL is the block's ttl as written.
	TTL string `json:"ttl,omitempty"`
	// Secret is the vault secret holding the token (CLOUDFLARE_API_TOKEN).
	Secret         string    `json:"secret"`
	TokenExpiresAt time.Time `json:"token_expires_at"`
	// HandoffExpiresAt is the handoff's expiry when the token was minted: a
	// token that ends before it is refreshed ahead of its expiry.
	HandoffExpiresAt time.Time `json:"handoff_expires_at,omitzero"`
	TokenFingerprint string    `json:"token_fingerprint"`
	MintedAt         time.Time `json:"minted_at,omitzero"`
}

// Decode reads a record; nil (or one that does not decode) gives nil.
func Decode(rec surface.Record) *Record {
	if len(rec) == 0 {
		return nil
	}
	var r Record
	if json.Unmarshal(rec, &r) != nil {
		return nil
	}
	return &r
}

// secretName is the vault secret of r (the default when r names none).
func (r *Record) secretName() string {
	if r == nil || r.Secret == "" {
		return SecretName
	}
	return r.Secret
}
