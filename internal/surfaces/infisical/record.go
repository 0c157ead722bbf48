package infisical

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/raxx-app/handoff/internal/surface"
)

// Record is the surface's entry in the manifest: the handoff's own machine
// identity and its grants (ids, never the client secret).
type Record struct {
	IdentityID            string    `json:"identity_id"`
	IdentityName          string    `json:"identity_name"`
	UniversalAuthID       string    `json:"universal_auth_id,omitempty"`
	ClientSecretID        string    `json:"client_secret_id,omitempty"`
	MembershipID          string    `json:"membership_id,omitempty"`
	PrivilegeID           string    `json:"privilege_id,omitempty"`
	Environment           string    `json:"environment"`
	ReadPaths             []string  `json:"read_paths"`
	ClientSecretExpiresAt time.Time `json:"client_secret_expires_at,omitzero"`
	ClientIDSecret        string    `json:"client_id_secret,omitempty"`
	ClientSecretSecret    string    `json:"client_secret_secret,omitempty"`
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
	r.ReadPaths = slices.Clone(r.ReadPaths)
	return r
}}

// secretNames are the vault secrets of r (the defaults when r names none).
func (r *Record) secretNames() (id, secret string) {
	id, secret = SecretClientID, SecretClientSecret
	if r != nil && r.ClientIDSecret != "" {
		id = r.ClientIDSecret
	}
	if r != nil && r.ClientSecretSecret != "" {
		secret = r.ClientSecretSecret
	}
	return id, secret
}
