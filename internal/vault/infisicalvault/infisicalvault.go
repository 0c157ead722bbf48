// Package infisicalvault is the vault of handoff on Infisical: it adapts
// the provisioner's Infisical client (internal/provider/infisical) to
// vault.Vault, translating its errors into the vault's (not found, folder
// not found, already exists) so that the core never reads an Infisical
// error.
package infisicalvault

import (
	"context"
	"fmt"
	"strings"

	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/internal/vault"
)

// Vault is an Infisical project seen as a vault.Vault.
type Vault struct {
	c *infisical.Client
}

var _ vault.Vault = (*Vault)(nil)

// New returns the vault of the client's project.
func New(c *infisical.Client) *Vault { return &Vault{c: c} }

// Client is the Infisical client underneath.
func (v *Vault) Client() *infisical.Client { return v.c }

// ListSecrets lists folder (and every folder below with recursive), with
// values, in one request.
func (v *Vault) ListSecrets(ctx context.Context, env, folder string, recursive bool) ([]vault.Secret, error) {
	list, err := v.c.ListSecrets(ctx, env, folder, recursive)
	return convertAll(list), translate(err, true)
}

// ListSecretNames is ListSecrets without values.
func (v *Vault) ListSecretNames(ctx context.Context, env, folder string, recursive bool) ([]vault.Secret, error) {
	list, err := v.c.ListSecretNames(ctx, env, folder, recursive)
	return convertAll(list), translate(err, true)
}

// GetSecret reads one secret with its value.
func (v *Vault) GetSecret(ctx context.Context, env, folder, key string) (vault.Secret, error) {
	ctx = paced(ctx)
	s, err := v.c.GetSecret(ctx, env, folder, key)
	return convert(s), translate(err, false)
}

// CreateSecret creates a secret atomically.
func (v *Vault) CreateSecret(ctx context.Context, env, folder, key, value, comment string) (vault.Secret, error) {
	ctx = paced(ctx)
	var s infisical.Secret
	var err error
	if comment == "" {
		s, err = v.c.CreateSecret(ctx, env, folder, key, value)
	} else {
		s, err = v.c.CreateSecretWithComment(ctx, env, folder, key, value, comment)
	}
	return convert(s), translate(err, false)
}

// UpdateSecret sets the value of an existing secret.
func (v *Vault) UpdateSecret(ctx context.Context, env, folder, key, value string) (vault.Secret, error) {
	ctx = paced(ctx)
	s, err := v.c.UpdateSecret(ctx, env, folder, key, value)
	return convert(s), translate(err, false)
}

// UpsertSecret creates or updates a secret with its comment.
func (v *Vault) UpsertSecret(ctx context.Context, env, folder, key, value, comment string) (vault.Secret, error) {
	ctx = paced(ctx)
	s, err := v.c.UpsertSecretWithComment(ctx, env, folder, key, value, comment)
	return convert(s), translate(err, false)
}

// DeleteSecret deletes a secret (gone is fine).
func (v *Vault) DeleteSecret(ctx context.Context, env, folder, key string) error {
	ctx = paced(ctx)
	return translate(v.c.DeleteSecret(ctx, env, folder, key), false)
}

// EnsureFolder creates folder and its missing parents.
func (v *Vault) EnsureFolder(ctx context.Context, env, folder string) error {
	return translate(v.c.EnsureFolder(ctx, env, folder), false)
}

func convert(s infisical.Secret) vault.Secret {
	return vault.Secret{Path: s.Path, Key: s.Key, Value: s.Value, Comment: s.Comment, Version: s.Version, ID: s.ID, UpdatedAt: s.UpdatedAt}
}

func convertAll(list []infisical.Secret) []vault.Secret {
	if list == nil {
		return nil
	}
	out := make([]vault.Secret, len(list))
	for i := range list {
		out[i] = convert(list[i])
		list[i].Value = ""
	}
	return out
}

// translate wraps err with the vault's sentinel errors. Infisical answers
// the same 404 for a missing folder and for an unknown environment; its
// message tells a folder apart ("Folder with path … not found").
func translate(err error, listing bool) error {
	switch {
	case err == nil:
		return nil
	case infisical.IsNotFound(err):
		if ae, ok := infisical.APIError(err); listing && ok && strings.Contains(strings.ToLower(ae.Message), "folder") {
			return &wrapped{err: err, kinds: []error{vault.ErrNotFound, vault.ErrFolderNotFound}}
		}
		return &wrapped{err: err, kinds: []error{vault.ErrNotFound}}
	case infisical.IsAlreadyExists(err):
		return &wrapped{err: err, kinds: []error{vault.ErrAlreadyExists}}
	}
	return err
}

// wrapped keeps Infisical's error (its message names the operation, the
// status and the remedy) and adds the vault's kinds for errors.Is.
type wrapped struct {
	err   error
	kinds []error
}

func (w *wrapped) Error() string { return w.err.Error() }

func (w *wrapped) Unwrap() []error { return append([]error{w.err}, w.kinds...) }

// String is Error.
func (w *wrapped) String() string { return fmt.Sprint(w.err) }

// paced carries an urgent request (vault.Urgent) to the client's pacer:
// the lease's requests go ahead of the run's queued ones on their routes.
func paced(ctx context.Context) context.Context {
	if vault.IsUrgent(ctx) {
		return pace.WithPriority(ctx)
	}
	return ctx
}
