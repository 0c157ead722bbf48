package infisicalvault

import (
	"context"
	"net/http"
	"slices"

	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/vault"
)

var (
	_ vault.Batcher = (*Vault)(nil)
	_ vault.Limited = (*Vault)(nil)
)

// UpsertSecrets writes the entries of folder in one request (PATCH
// /api/v4/secrets/batch, mode upsert): Infisical creates the missing names
// and updates the others in one transaction, all or nothing. Setting values
// is idempotent, so the client repeats it after a 5xx.
func (v *Vault) UpsertSecrets(ctx context.Context, env, folder string, entries []vault.Entry, comment string) ([]vault.Secret, error) {
	writes := make([]infisical.SecretWrite, len(entries))
	for i, e := range entries {
		writes[i] = infisical.SecretWrite{Key: e.Key, Value: e.Value, Comment: comment}
	}
	defer clear(writes)
	list, err := v.c.UpdateSecrets(ctx, env, folder, infisical.Upsert, writes)
	return convertAll(list), translate(err, false)
}

// DeleteSecrets deletes the keys of folder in one request (DELETE
// /api/v4/secrets/batch). Infisical refuses the whole batch (404) when one
// name is missing: the folder is then listed (names only) and the batch
// sent again with the names that are there. Another deleter (a concurrent
// kill) may remove a name between the listing and the batch: after a
// second refusal each name left is deleted on its own, which tolerates a
// name already gone.
func (v *Vault) DeleteSecrets(ctx context.Context, env, folder string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	err := v.c.DeleteSecrets(ctx, env, folder, keys)
	if err == nil || !infisical.IsNotFound(err) {
		return translate(err, false)
	}
	list, lerr := v.c.ListSecretNames(ctx, env, folder, false)
	if infisical.IsNotFound(lerr) {
		return nil // the folder is gone, and its secrets with it
	}
	if lerr != nil {
		return translate(lerr, true)
	}
	var there []string
	for _, s := range list {
		if slices.Contains(keys, s.Key) {
			there = append(there, s.Key)
		}
	}
	if len(there) == 0 {
		return nil
	}
	err = v.c.DeleteSecrets(ctx, env, folder, there)
	if err == nil || !infisical.IsNotFound(err) {
		return translate(err, false)
	}
	for _, k := range there {
		if err := v.c.DeleteSecret(ctx, env, folder, k); err != nil {
			return translate(err, false)
		}
	}
	return nil
}

// routes are the Infisical routes of each kind of vault request.
var routes = map[vault.Op][2]string{
	vault.OpList:        {http.MethodGet, "/api/v4/secrets"},
	vault.OpGet:         {http.MethodGet, "/api/v4/secrets/{secretName}"},
	vault.OpCreate:      {http.MethodPost, "/api/v4/secrets/{secretName}"},
	vault.OpUpdate:      {http.MethodPatch, "/api/v4/secrets/{secretName}"},
	vault.OpDelete:      {http.MethodDelete, "/api/v4/secrets/{secretName}"},
	vault.OpBatchUpsert: {http.MethodPatch, "/api/v4/secrets/batch"},
	vault.OpBatchDelete: {http.MethodDelete, "/api/v4/secrets/batch"},
	vault.OpFolder:      {http.MethodPost, "/api/v2/folders"},
}

// RateLimit is the limit the client paces op's route to (Infisical Cloud
// counts every route on its own); none on a self-hosted server.
func (v *Vault) RateLimit(op vault.Op) (vault.Limit, bool) {
	r, ok := routes[op]
	if !ok {
		return vault.Limit{}, false
	}
	max, window, ok := v.c.RouteLimit(r[0], r[1])
	return vault.Limit{Max: max, Window: window}, ok
}

// Route is the Infisical route of a kind of vault request ("PATCH
// /api/v4/secrets/batch"), for reports.
func Route(op vault.Op) string {
	r, ok := routes[op]
	if !ok {
		return ""
	}
	return r[0] + " " + r[1]
}
