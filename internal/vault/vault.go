// Package vault is the seam between handoff's core and the secret store
// that holds every handoff's folder: the manifests, the journals, the apply
// lock and the credentials apply writes. The core (state, reconcile, apply)
// sees only the Vault interface and this package's errors; the one
// implementation today, package infisicalvault, wraps the Infisical client,
// and tests may use any other.
//
// A Vault never logs a value, and a Secret never renders its Value in any
// fmt verb or in JSON: read the field where a value is really needed.
package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"
)

// ErrNotFound is wrapped by the error of a call on a secret or folder that
// does not exist.
var ErrNotFound = errors.New("vault: not found")

// ErrFolderNotFound is wrapped (with ErrNotFound) by the error of a listing
// of a folder that does not exist, as opposed to an unknown project or
// environment.
var ErrFolderNotFound = errors.New("vault: folder not found")

// ErrAlreadyExists is wrapped by the error of a create of a secret that
// exists.
var ErrAlreadyExists = errors.New("vault: already exists")

// IsNotFound reports whether err says that a secret or folder is missing.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsFolderNotFound reports whether err says that a listed folder is
// missing.
func IsFolderNotFound(err error) bool { return errors.Is(err, ErrFolderNotFound) }

// IsAlreadyExists reports whether err says that a created secret exists.
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }

// Secret is one secret of the vault. Value is the plaintext (empty when
// listed without values); String, GoString, Format and MarshalJSON never
// include it.
type Secret struct {
	// Path is the folder holding the secret ("/MooseQuest/handoffs/slug").
	Path string
	Key  string
	// Value is the plaintext value.
	Value string
	// Comment is the secret's comment (never secret: it names the handoff
	// and the command that wrote it).
	Comment   string
	Version   int
	ID        string
	UpdatedAt time.Time
}

// FullPath is the secret's folder and key joined: "/a/b/KEY".
func (s Secret) FullPath() string { return path.Join(s.Path, s.Key) }

// String describes the secret without its value.
func (s Secret) String() string {
	v := "empty"
	if s.Value != "" {
		v = "redacted"
	}
	return fmt.Sprintf("vault.Secret{%s v%d value:%s}", s.FullPath(), s.Version, v)
}

// GoString is String.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON writes the metadata without the value.
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Path      string    `json:"path"`
		Key       string    `json:"key"`
		Version   int       `json:"version"`
		ID        string    `json:"id,omitempty"`
		UpdatedAt time.Time `json:"updated_at,omitzero"`
	}{s.Path, s.Key, s.Version, s.ID, s.UpdatedAt})
}

// Entry is one secret of a batch write.
type Entry struct {
	Key   string
	Value string
}

// String names the entry without its value.
func (e Entry) String() string { return "vault.Entry{" + e.Key + "}" }

// Format prints String for every verb.
func (e Entry) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(e.String())) }

// Vault is the secret store. Every call names the environment; folders are
// absolute paths. Calls are safe for concurrent use.
type Vault interface {
	// ListSecrets returns the secrets of folder with their values, in one
	// request; with recursive, those of every folder below too, each with
	// its own Path.
	ListSecrets(ctx context.Context, env, folder string, recursive bool) ([]Secret, error)
	// ListSecretNames is ListSecrets without values.
	ListSecretNames(ctx context.Context, env, folder string, recursive bool) ([]Secret, error)
	// GetSecret returns one secret with its value (ErrNotFound when there is
	// none).
	GetSecret(ctx context.Context, env, folder, key string) (Secret, error)
	// CreateSecret creates a secret (ErrAlreadyExists when it exists; an
	// atomic create: the lock relies on it). comment may be empty.
	CreateSecret(ctx context.Context, env, folder, key, value, comment string) (Secret, error)
	// UpdateSecret sets the value of an existing secret (ErrNotFound when
	// there is none); the returned Version is the new one (the lock's
	// compare-and-swap relies on it).
	UpdateSecret(ctx context.Context, env, folder, key, value string) (Secret, error)
	// UpsertSecret creates or updates a secret and sets its comment (an
	// empty comment leaves an existing one as it is).
	UpsertSecret(ctx context.Context, env, folder, key, value, comment string) (Secret, error)
	// DeleteSecret deletes a secret; one already gone is not an error.
	DeleteSecret(ctx context.Context, env, folder, key string) error
	// EnsureFolder creates folder and its missing parents.
	EnsureFolder(ctx context.Context, env, folder string) error
}
