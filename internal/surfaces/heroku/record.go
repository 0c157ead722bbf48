package heroku

import (
	"encoding/json"
	"time"

	"github.com/raxx-app/handoff/internal/surface"
)

// Record is the surface's entry in the manifest: the OAuth authorization
// minted for a handoff (ids, grant and reach, never the token).
type Record struct {
	// AuthorizationID is Heroku's id of the authorization, what revoke
	// deletes; Description is its deterministic description ("handoff
	// <slug>"), by which a crash's leftover is found.
	AuthorizationID string `json:"authorization_id"`
	Description     string `json:"description"`
	// App and Scope are the grant (the scopes minted, in the spec's
	// order); TTL the block's ttl as the plan shows it.
	App   string   `json:"app"`
	Scope []string `json:"scope"`
	TTL   string   `json:"ttl,omitempty"`
	// Account is the email of the account the token acts as.
	Account string `json:"account,omitempty"`
	// Reach are the apps the account (so the token) reached when it was
	// minted, sorted.
	Reach []string `json:"reach,omitempty"`
	// Secret is the vault secret holding the token (HEROKU_API_KEY).
	Secret           string `json:"secret"`
	TokenID          string `json:"token_id,omitempty"`
	TokenFingerprint string `json:"token_fingerprint"`
	// ExpiresAt is when Heroku ends the token (expires_in); RefreshEarly
	// says it ends before the handoff does (the block's ttl is shorter),
	// so it is minted again ahead of its expiry.
	ExpiresAt    time.Time `json:"expires_at"`
	RefreshEarly bool      `json:"refresh_early,omitempty"`
	MintedAt     time.Time `json:"minted_at,omitzero"`
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
