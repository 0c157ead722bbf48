package infisical

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// Secret is one shared secret of the project. Value is the plaintext (empty
// when listed without values): String, GoString, Format and MarshalJSON
// never include it; read the field explicitly where a value is needed.
type Secret struct {
	// Path is the folder holding the secret ("/MooseQuest/handoffs/slug").
	Path string `json:"secretPath"`
	Key  string `json:"secretKey"`
	// Value is the plaintext value.
	Value string `json:"secretValue"`
	// Comment is the secret's comment (not a secret: handoff names the
	// handoff that wrote it there).
	Comment   string    `json:"secretComment"`
	Version   int       `json:"version"`
	ID        string    `json:"id"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// FullPath is the secret's folder and key joined: "/a/b/KEY".
func (s Secret) FullPath() string { return joinPath(s.Path, s.Key) }

// String describes the secret without its value.
func (s Secret) String() string {
	return fmt.Sprintf("infisical.Secret{%s v%d value:%s}", s.FullPath(), s.Version, redacted(s.Value))
}

// GoString is String.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON writes the secret's metadata without its value, so that a
// Secret dropped into a JSON document (a plan, a log) leaks nothing.
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Path      string    `json:"path"`
		Key       string    `json:"key"`
		Version   int       `json:"version"`
		ID        string    `json:"id,omitempty"`
		UpdatedAt time.Time `json:"updated_at,omitzero"`
	}{s.Path, s.Key, s.Version, s.ID, s.UpdatedAt})
}

// secretsPage is the answer of GET /api/v4/secrets (imports are skipped).
type secretsPage struct {
	Secrets []Secret `json:"secrets"`
}

type secretEnvelope struct {
	Secret   *Secret `json:"secret"`
	Approval any     `json:"approval"`
}

// ListSecrets returns the secrets of folder path in env, with their values,
// in ONE request; with recursive, those of every folder below too, each with
// its own Path. This is how the planner reads every manifest at once.
func (c *Client) ListSecrets(ctx context.Context, env, path string, recursive bool) ([]Secret, error) {
	return c.listSecrets(ctx, env, path, recursive, true)
}

// ListSecretNames is ListSecrets without values (viewSecretValue=false):
// every Value is empty. Use it where only names and versions matter.
func (c *Client) ListSecretNames(ctx context.Context, env, path string, recursive bool) ([]Secret, error) {
	return c.listSecrets(ctx, env, path, recursive, false)
}

func (c *Client) listSecrets(ctx context.Context, env, folder string, recursive, values bool) ([]Secret, error) {
	const op = "list secrets"
	folder, err := cleanFolder(op, folder)
	if err != nil {
		return nil, err
	}
	if err := c.needProject(op); err != nil {
		return nil, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	q := url.Values{
		"projectId":       {c.cfg.ProjectID},
		"environment":     {env},
		"secretPath":      {folder},
		"viewSecretValue": {boolString(values)},
		"recursive":       {boolString(recursive)},
	}
	var page secretsPage
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: "/api/v4/secrets", query: q, env: env, folder: folder}, &page); err != nil {
		return nil, err
	}
	for i := range page.Secrets {
		s := &page.Secrets[i]
		if s.Path == "" {
			s.Path = folder
		}
		if !values {
			s.Value = "" // the server puts a placeholder there
		}
	}
	return page.Secrets, nil
}

// GetSecret returns one secret with its value; a missing secret is an error
// for which IsNotFound holds.
func (c *Client) GetSecret(ctx context.Context, env, folder, key string) (Secret, error) {
	const op = "get secret"
	folder, err := c.checkSecretArgs(op, folder, key)
	if err != nil {
		return Secret{}, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	q := url.Values{
		"projectId":       {c.cfg.ProjectID},
		"environment":     {env},
		"secretPath":      {folder},
		"viewSecretValue": {"true"},
		"type":            {"shared"},
	}
	var out secretEnvelope
	cl := &call{op: op, method: http.MethodGet, path: "/api/v4/secrets/" + url.PathEscape(key), query: q, env: env, folder: folder, key: key}
	if err := c.do(ctx, cl, &out); err != nil {
		return Secret{}, err
	}
	return c.secretOf(op, out, folder, key)
}

// CreateSecret creates the shared secret key in folder; an existing one is
// an error for which IsAlreadyExists holds (see UpsertSecret). A create is
// never repeated after an ambiguous failure (a 5xx): rerun to converge.
func (c *Client) CreateSecret(ctx context.Context, env, folder, key, value string) (Secret, error) {
	return c.writeSecret(ctx, http.MethodPost, env, folder, key, value, "")
}

// CreateSecretWithComment is CreateSecret that also sets the secret's
// comment (secretComment).
func (c *Client) CreateSecretWithComment(ctx context.Context, env, folder, key, value, comment string) (Secret, error) {
	return c.writeSecret(ctx, http.MethodPost, env, folder, key, value, comment)
}

// UpdateSecret sets the value of an existing secret.
func (c *Client) UpdateSecret(ctx context.Context, env, folder, key, value string) (Secret, error) {
	return c.writeSecret(ctx, http.MethodPatch, env, folder, key, value, "")
}

// writeSecret creates (POST) or updates (PATCH) one secret: its value, and
// its comment unless comment is empty (an absent secretComment leaves an
// existing comment as it is, and a new secret's empty).
func (c *Client) writeSecret(ctx context.Context, method, env, folder, key, value, comment string) (Secret, error) {
	op := "create secret"
	if method == http.MethodPatch {
		op = "update secret"
	}
	folder, err := c.checkSecretArgs(op, folder, key)
	if err != nil {
		return Secret{}, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	body := map[string]any{
		"projectId":   c.cfg.ProjectID,
		"environment": env,
		"secretPath":  folder,
		"type":        "shared",
	}
	setSecretFields(body, value, comment)
	var out secretEnvelope
	// Setting a value is idempotent: an update is repeated after a 5xx; a
	// create is not.
	cl := &call{op: op, method: method, path: "/api/v4/secrets/" + url.PathEscape(key), body: body, idempotent: method == http.MethodPatch,
		env: env, folder: folder, key: key, scrub: []string{value}}
	if err := c.do(ctx, cl, &out); err != nil {
		return Secret{}, err
	}
	return c.secretOf(op, out, folder, key)
}

// setSecretFields sets a secret write's value and, unless empty, its
// comment: the one body builder of single and batch writes.
func setSecretFields(m map[string]any, value, comment string) {
	m["secretValue"] = value
	if comment != "" {
		m["secretComment"] = comment
	}
}

// UpsertSecret creates the secret, or updates it when it already exists.
func (c *Client) UpsertSecret(ctx context.Context, env, folder, key, value string) (Secret, error) {
	return c.UpsertSecretWithComment(ctx, env, folder, key, value, "")
}

// UpsertSecretWithComment is UpsertSecret that also sets the secret's
// comment (secretComment), e.g. "handoff <slug>: written by handoff
// apply"; an empty comment leaves an existing one as it is.
//
// Someone may delete the secret between the create that found it and the
// update (two kills of one handoff at once): the create is tried again,
// a few times, so that the write lands either way.
func (c *Client) UpsertSecretWithComment(ctx context.Context, env, folder, key, value, comment string) (Secret, error) {
	const attempts = 3
	var s Secret
	var err error
	for range attempts {
		s, err = c.writeSecret(ctx, http.MethodPost, env, folder, key, value, comment)
		if !IsAlreadyExists(err) {
			return s, err
		}
		s, err = c.writeSecret(ctx, http.MethodPatch, env, folder, key, value, comment)
		if !IsNotFound(err) {
			return s, err
		}
	}
	return s, err
}

// DeleteSecret deletes a secret; one already gone is not an error.
func (c *Client) DeleteSecret(ctx context.Context, env, folder, key string) error {
	const op = "delete secret"
	folder, err := c.checkSecretArgs(op, folder, key)
	if err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	body := map[string]any{"projectId": c.cfg.ProjectID, "environment": env, "secretPath": folder, "type": "shared"}
	err = c.do(ctx, &call{op: op, method: http.MethodDelete, path: "/api/v4/secrets/" + url.PathEscape(key), body: body, env: env, folder: folder, key: key}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

func (c *Client) checkSecretArgs(op, folder, key string) (string, error) {
	folder, err := cleanFolder(op, folder)
	if err != nil {
		return "", err
	}
	if key == "" || strings.ContainsAny(key, "/ ") {
		return "", fmt.Errorf("infisical: %s: invalid secret name %q", op, key)
	}
	return folder, c.needProject(op)
}

// secretOf unwraps a single-secret answer.
func (c *Client) secretOf(op string, out secretEnvelope, folder, key string) (Secret, error) {
	if out.Secret == nil {
		if out.Approval != nil {
			return Secret{}, approvalError(op, key, folder)
		}
		return Secret{}, fmt.Errorf("infisical: %s %s: the server answered without the secret", op, key)
	}
	s := *out.Secret
	if s.Path == "" {
		s.Path = folder
	}
	return s, nil
}

// Folder is a folder of the project.
type Folder struct {
	ID   string
	Name string
	// Path is the folder's absolute path ("/MooseQuest/handoffs/slug").
	Path string
	// ParentID is empty for a folder at the root.
	ParentID string
}

type wireFolder struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	ParentID *string `json:"parentId"`
}

// EnsureFolder creates the folder path in env and any missing parent,
// tolerating folders that exist (or appear concurrently). In the common case
// where the parent exists it costs one request.
func (c *Client) EnsureFolder(ctx context.Context, env, folder string) error {
	const op = "create folder"
	folder, err := cleanFolder(op, folder)
	if err != nil {
		return err
	}
	if err := c.needProject(op); err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	return c.ensureFolder(ctx, env, folder, 0)
}

func (c *Client) ensureFolder(ctx context.Context, env, folder string, depth int) error {
	if folder == "/" {
		return nil
	}
	if depth > 64 {
		return fmt.Errorf("infisical: create folder %s: too deep", folder)
	}
	parent, name := path.Split(folder)
	parent = cleanPath(parent)
	body := map[string]any{"projectId": c.cfg.ProjectID, "environment": env, "name": name, "path": parent}
	// Creating a folder is safe to repeat: "already exists" counts as done.
	cl := &call{op: "create folder", method: http.MethodPost, path: "/api/v2/folders", body: body, idempotent: true, env: env, folder: parent}
	err := c.do(ctx, cl, nil)
	switch {
	case err == nil || IsAlreadyExists(err) || isConflict(err):
		return nil
	case IsNotFound(err) && parent != "/":
		// The parent is missing: create it, then this one.
		if err := c.ensureFolder(ctx, env, parent, depth+1); err != nil {
			return err
		}
		err = c.do(ctx, cl, nil)
		if err == nil || IsAlreadyExists(err) || isConflict(err) {
			return nil
		}
	}
	return err
}

func isConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// DeleteFolder deletes the folder path in env with everything in it
// (forceDelete: a handoff's folder holds its secrets). A folder already gone
// is not an error. The root cannot be deleted.
func (c *Client) DeleteFolder(ctx context.Context, env, folder string) error {
	const op = "delete folder"
	folder, err := cleanFolder(op, folder)
	if err != nil {
		return err
	}
	if folder == "/" {
		return fmt.Errorf("infisical: %s: refusing to delete the root folder", op)
	}
	if err := c.needProject(op); err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	parent, name := path.Split(folder)
	parent = cleanPath(parent)
	body := map[string]any{"projectId": c.cfg.ProjectID, "environment": env, "path": parent, "forceDelete": true}
	err = c.do(ctx, &call{op: op, method: http.MethodDelete, path: "/api/v2/folders/" + url.PathEscape(name), body: body, env: env, folder: folder}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// ListFolders lists the folders directly in path, or with recursive every
// folder below it, each with its absolute Path.
func (c *Client) ListFolders(ctx context.Context, env, folder string, recursive bool) ([]Folder, error) {
	const op = "list folders"
	folder, err := cleanFolder(op, folder)
	if err != nil {
		return nil, err
	}
	if err := c.needProject(op); err != nil {
		return nil, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	q := url.Values{"projectId": {c.cfg.ProjectID}, "environment": {env}, "path": {folder}, "recursive": {boolString(recursive)}}
	var out struct {
		Folders []wireFolder `json:"folders"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: "/api/v2/folders", query: q, env: env, folder: folder}, &out); err != nil {
		return nil, err
	}
	return resolveFolders(folder, out.Folders), nil
}

// resolveFolders gives each listed folder its absolute path by walking
// parent ids: a folder whose parent is not in the list sits directly in the
// listed folder. (relativePath is not used: Infisical computes it relative
// to the listed folder, and not every server agrees.)
func resolveFolders(listed string, ws []wireFolder) []Folder {
	byID := make(map[string]*wireFolder, len(ws))
	for i := range ws {
		byID[ws[i].ID] = &ws[i]
	}
	paths := make(map[string]string, len(ws))
	var pathOf func(w *wireFolder, depth int) string
	pathOf = func(w *wireFolder, depth int) string {
		if p, ok := paths[w.ID]; ok {
			return p
		}
		parent := listed
		if w.ParentID != nil && depth < len(ws) {
			if pw, ok := byID[*w.ParentID]; ok && pw != w {
				parent = pathOf(pw, depth+1)
			}
		}
		p := joinPath(parent, w.Name)
		paths[w.ID] = p
		return p
	}
	res := make([]Folder, 0, len(ws))
	for i := range ws {
		w := &ws[i]
		f := Folder{ID: w.ID, Name: w.Name, Path: pathOf(w, 0)}
		if w.ParentID != nil {
			f.ParentID = *w.ParentID
		}
		res = append(res, f)
	}
	return res
}

// cleanFolder normalises an absolute folder path ("" is the root) and
// rejects relative ones and traversal.
func cleanFolder(op, p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("infisical: %s: folder %q is not absolute", op, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return "", fmt.Errorf("infisical: %s: folder %q contains %q", op, p, seg)
		}
	}
	return cleanPath(p), nil
}

// cleanPath is path.Clean rooted at "/".
func cleanPath(p string) string {
	p = path.Clean("/" + p)
	return p
}

// joinPath joins folder paths and names ("/" + "A" = "/A").
func joinPath(elem ...string) string { return cleanPath(path.Join(elem...)) }

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

var errNoAnswer = errors.New("the server answered without the expected object")
