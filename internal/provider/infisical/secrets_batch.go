package infisical

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// SecretWrite is one secret of a batch write. Value is the plaintext: its
// String, GoString and Format never show it.
type SecretWrite struct {
	Key   string
	Value string
	// Comment is set as the secret's comment; empty leaves an existing
	// comment as it is (and a new secret's empty).
	Comment string
}

// String describes the write without its value.
func (w SecretWrite) String() string {
	return fmt.Sprintf("infisical.SecretWrite{%s value:%s}", w.Key, redacted(w.Value))
}

// GoString is String.
func (w SecretWrite) GoString() string { return w.String() }

// Format prints String for every verb.
func (w SecretWrite) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(w.String())) }

// UpdateMode says what a batch update does with names that do not exist.
type UpdateMode string

const (
	// UpdateExisting (the server's default, "failOnNotFound"): every name
	// must exist; one missing fails the whole batch with an error for which
	// IsNotFound holds, and nothing is updated.
	UpdateExisting UpdateMode = ""
	// Upsert creates the missing names.
	Upsert UpdateMode = "upsert"
	// IgnoreMissing skips the missing names; only the existing ones are
	// updated and returned.
	IgnoreMissing UpdateMode = "ignore"
)

const batchPath = "/api/v4/secrets/batch"

// CreateSecrets creates the shared secrets in folder in one request (POST
// /api/v4/secrets/batch). It is all or nothing, as the server is: if one
// name already exists, none is created and the error is one for which
// IsAlreadyExists holds, naming it. Like CreateSecret it is never repeated
// after an ambiguous failure (a 5xx). The secrets come back in the order
// given.
func (c *Client) CreateSecrets(ctx context.Context, env, folder string, secrets []SecretWrite) ([]Secret, error) {
	return c.batchWrite(ctx, "create secrets", http.MethodPost, env, folder, UpdateExisting, secrets)
}

// UpdateSecrets sets the values (and comments) of the secrets in folder in
// one request (PATCH /api/v4/secrets/batch). With UpdateExisting it is all
// or nothing: one missing name fails the batch (IsNotFound, naming it) and
// nothing is updated; Upsert creates the missing ones, IgnoreMissing skips
// them. Setting values is idempotent, so a 5xx is retried. The secrets come
// back in the order given (without the skipped ones).
func (c *Client) UpdateSecrets(ctx context.Context, env, folder string, mode UpdateMode, secrets []SecretWrite) ([]Secret, error) {
	switch mode {
	case UpdateExisting, Upsert, IgnoreMissing:
	default:
		return nil, fmt.Errorf("infisical: update secrets: unknown mode %q", mode)
	}
	return c.batchWrite(ctx, "update secrets", http.MethodPatch, env, folder, mode, secrets)
}

// DeleteSecrets deletes the shared secrets keys of folder in one request
// (DELETE /api/v4/secrets/batch). It is all or nothing: if one name does
// not exist, nothing is deleted and the error is one for which IsNotFound
// holds (the server's message names the keys it found, not the missing
// one). A delete repeated after a 5xx may find them gone: IsNotFound then.
func (c *Client) DeleteSecrets(ctx context.Context, env, folder string, keys []string) error {
	const op = "delete secrets"
	folder, err := c.checkBatch(op, folder, keys)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		items = append(items, map[string]any{"secretKey": k, "type": "shared"})
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	body := map[string]any{"projectId": c.cfg.ProjectID, "environment": env, "secretPath": folder, "secrets": items}
	var out batchEnvelope
	if err := c.do(ctx, &call{op: op, method: http.MethodDelete, path: batchPath, body: body, env: env, folder: folder, batch: keys}, &out); err != nil {
		return err
	}
	if out.Secrets == nil && out.Approval != nil {
		return approvalError(op, strings.Join(keys, ", "), folder)
	}
	return nil
}

type batchEnvelope struct {
	Secrets  []Secret `json:"secrets"`
	Approval any      `json:"approval"`
}

func (c *Client) batchWrite(ctx context.Context, op, method, env, folder string, mode UpdateMode, secrets []SecretWrite) ([]Secret, error) {
	keys := make([]string, len(secrets))
	values := make([]string, len(secrets))
	items := make([]map[string]any, len(secrets))
	for i, s := range secrets {
		keys[i], values[i] = s.Key, s.Value
		items[i] = map[string]any{"secretKey": s.Key}
		setSecretFields(items[i], s.Value, s.Comment)
	}
	folder, err := c.checkBatch(op, folder, keys)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"projectId": c.cfg.ProjectID, "environment": env, "secretPath": folder, "secrets": items}
	if mode != UpdateExisting {
		body["mode"] = string(mode)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out batchEnvelope
	cl := &call{op: op, method: method, path: batchPath, body: body, idempotent: method == http.MethodPatch,
		env: env, folder: folder, batch: keys, scrub: values}
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	if out.Secrets == nil && out.Approval != nil {
		return nil, approvalError(op, strings.Join(keys, ", "), folder)
	}
	// The server answers in its own order: give the caller's back.
	byKey := make(map[string]Secret, len(out.Secrets))
	for _, s := range out.Secrets {
		if s.Path == "" {
			s.Path = folder
		}
		byKey[s.Key] = s
	}
	res := make([]Secret, 0, len(keys))
	for _, k := range keys {
		if s, ok := byKey[k]; ok {
			res = append(res, s)
		}
	}
	if len(res) != len(out.Secrets) || (mode != IgnoreMissing && len(res) != len(keys)) {
		return nil, fmt.Errorf("infisical: %s in %s: the server answered with %d secrets for %d names", op, folder, len(out.Secrets), len(keys))
	}
	return res, nil
}

// checkBatch checks a batch's folder and names: at least one, each valid,
// none twice (the server would keep the last silently).
func (c *Client) checkBatch(op, folder string, keys []string) (string, error) {
	if len(keys) == 0 {
		return "", fmt.Errorf("infisical: %s: no secrets", op)
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		var err error
		if folder, err = c.checkSecretArgs(op, folder, k); err != nil {
			return "", err
		}
		if strings.Contains(k, ":") {
			return "", fmt.Errorf("infisical: %s: invalid secret name %q", op, k)
		}
		if seen[k] {
			return "", fmt.Errorf("infisical: %s: %s is named twice", op, k)
		}
		seen[k] = true
	}
	return folder, nil
}

func approvalError(op, keys, folder string) error {
	return fmt.Errorf("infisical: %s %s: a change-approval policy covers %s, so the change awaits approval: exempt the handoff root from approval policies", op, keys, folder)
}
