package github

import (
	"encoding/json"
	"maps"
	"time"

	"github.com/raxx-app/handoff/internal/surface"
)

// Record is the surface's entry in the manifest: the installation token
// minted for a handoff (never its value).
type Record struct {
	InstallationID int64             `json:"installation_id"`
	Repository     string            `json:"repository"`
	RepositoryID   int64             `json:"repository_id,omitempty"`
	Permissions    map[string]string `json:"permissions"`
	// Secret is the vault secret holding the token (GH_HANDOFF_TOKEN).
	Secret           string    `json:"secret"`
	TokenExpiresAt   time.Time `json:"token_expires_at"`
	TokenFingerprint string    `json:"token_fingerprint"`
	MintedAt         time.Time `json:"minted_at,omitzero"`
}

// Decode reads a record; nil (or one that does not decode) gives nil.
func Decode(rec surface.Record) *Record {
	if len(rec) == 0 {
		return nil
	}
	r, ok := records.Decode(rec, func(rec surface.Record) (r Record, ok bool) {
		return r, json.Unmarshal(rec, &r) == nil
	})
	if !ok {
		return nil
	}
	return &r
}

// records decodes each record once (a plan asks for one several times).
var records = surface.RecordMemo[Record]{Clone: func(r Record) Record {
	r.Permissions = maps.Clone(r.Permissions)
	return r
}}

// secretName is the vault secret of r (the default when r names none).
func (r *Record) secretName() string {
	if r == nil || r.Secret == "" {
		return SecretName
	}
	return r.Secret
}
