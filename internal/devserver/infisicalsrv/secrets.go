package infisicalsrv

import (
	"strings"
	"time"
)

// Raw secrets: /api/v4/secrets (projectId) and the deprecated
// /api/v3/secrets/raw (workspaceId) that the Go SDK still calls.

// hiddenValue replaces a value the actor may describe but not read.
const hiddenValue = "<hidden-by-infisical>"

type secretView struct {
	ID                       string       `json:"id"`
	UnderscoreID             string       `json:"_id"`
	Workspace                string       `json:"workspace"`
	Environment              string       `json:"environment"`
	Version                  int          `json:"version"`
	Type                     string       `json:"type"`
	SecretKey                string       `json:"secretKey"`
	SecretValue              string       `json:"secretValue"`
	SecretComment            string       `json:"secretComment"`
	SecretReminderNote       *string      `json:"secretReminderNote"`
	SecretReminderRepeatDays *float64     `json:"secretReminderRepeatDays"`
	SkipMultilineEncoding    *bool        `json:"skipMultilineEncoding"`
	CreatedAt                time.Time    `json:"createdAt"`
	UpdatedAt                time.Time    `json:"updatedAt"`
	Actor                    *struct{}    `json:"actor"`
	IsRotatedSecret          bool         `json:"isRotatedSecret"`
	RotationID               *string      `json:"rotationId"`
	SecretPath               string       `json:"secretPath"`
	SecretValueHidden        bool         `json:"secretValueHidden"`
	Tags                     []any        `json:"tags"`
	SecretMetadata           []secretMeta `json:"secretMetadata"`
}

func viewSecret(projectID string, sec *secret, hidden bool) secretView {
	f := sec.folder
	skip := sec.SkipMultilineEncoding
	if skip == nil {
		b := false
		skip = &b
	}
	md := sec.Metadata
	if md == nil {
		md = []secretMeta{}
	}
	v := secretView{
		ID: sec.ID, UnderscoreID: sec.ID, Workspace: projectID, Environment: f.EnvSlug, Version: sec.Version, Type: sec.Type,
		SecretKey: sec.Key, SecretValue: sec.Value, SecretComment: sec.Comment, SecretReminderNote: sec.ReminderNote,
		SecretReminderRepeatDays: sec.ReminderRepeatDays, SkipMultilineEncoding: skip, CreatedAt: sec.CreatedAt, UpdatedAt: sec.UpdatedAt,
		SecretPath: f.Path, SecretValueHidden: hidden, Tags: []any{}, SecretMetadata: md,
	}
	if hidden {
		v.SecretValue = hiddenValue
	}
	return v
}

// secretArgs are the project, environment and path of a secrets request.
type secretArgs struct {
	projectID, environment, path string
	rawPath                      string // the secretPath as given, for audit metadata
}

func readSecretArgs(m map[string]any, projectKey string) secretArgs {
	var a secretArgs
	a.projectID, _ = getString(m, projectKey, true)
	a.environment, _ = getString(m, "environment", true)
	a.rawPath, _ = getString(m, "secretPath", true)
	if a.rawPath == "" {
		a.rawPath = "/"
	}
	a.path = canonicalPath(normalizeSecretPath(a.rawPath))
	return a
}

func secretFields(env, path, name string) *subjectFields {
	return &subjectFields{environment: env, secretPath: path, secretName: name, hasName: true, tags: nil}
}

// Listing.

func listSecretsQuery(projectKey string, v3 bool) *schema {
	props := []prop{
		field(projectKey, str().trimmed().opt()),
		field("environment", str().trimmed().opt()),
		field("secretPath", str().trimmed().opt()),
		field("viewSecretValue", booleanQuery()),
		field("expandSecretReferences", booleanQuery()),
		field("recursive", booleanQuery()),
		field("include_imports", booleanQuery()),
		field("tagSlugs", str().opt()),
		field("metadataFilter", str().opt()),
	}
	if v3 {
		props = append(props, field("workspaceSlug", str().trimmed().opt()))
	}
	return object(props...)
}

var (
	listSecretsV4Query = listSecretsQuery("projectId", false)
	listSecretsV3Query = listSecretsQuery("workspaceId", true)
)

func (s *Server) listSecretsV4(c *call) (any, *apiError) {
	q, verr := c.validateQuery(listSecretsV4Query)
	if verr != nil {
		return nil, verr
	}
	a := readSecretArgs(q, "projectId")
	if a.projectID == "" || a.environment == "" {
		return nil, errBadRequest("Missing project id or environment")
	}
	return s.listSecrets(c, q, a)
}

func (s *Server) listSecretsV3(c *call) (any, *apiError) {
	q, verr := c.validateQuery(listSecretsV3Query)
	if verr != nil {
		return nil, verr
	}
	a := readSecretArgs(q, "workspaceId")
	if slug, ok := getString(q, "workspaceSlug", true); ok && a.projectID == "" {
		s.mu.RLock()
		if p := s.st.projectsBySlug[slug]; p != nil {
			a.projectID = p.ID
		}
		s.mu.RUnlock()
		if a.projectID == "" {
			return nil, errNotFound("Project with slug '" + slug + "' not found")
		}
	}
	if a.projectID == "" || a.environment == "" {
		return nil, errBadRequest("Missing workspace id or environment")
	}
	return s.listSecrets(c, q, a)
}

// listSecrets is getSecrets of the v2 bridge: a type-level describe check,
// a path check, then per-secret filtering. Secrets of sub-folders the actor
// may not read are left out; a secret of the listed folder itself that it
// may describe but not read fails the request (throwOnMissingReadValue).
func (s *Server) listSecrets(c *call, q map[string]any, a secretArgs) (any, *apiError) {
	viewValue := q["viewSecretValue"] != "false"
	recursive := q["recursive"] == "true"
	s.mu.RLock()
	defer s.mu.RUnlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.requireSecret(actDescribeSecret, nil); err != nil {
		return nil, err
	}
	pathOnly := func(p string) *subjectFields {
		return &subjectFields{environment: a.environment, secretPath: p, pathOnly: true}
	}
	if !recursive {
		if err := ab.requireSecret(actDescribeSecret, pathOnly(a.path)); err != nil {
			return nil, err
		}
	}
	base := s.st.folderAt(a.projectID, a.environment, a.path)
	if base == nil {
		return nil, errNotFound("Folder with path '"+normalizeSecretPath(a.rawPath)+"' in environment '"+a.environment+
			"' was not found. Please ensure the environment slug and secret path is correct.", "SecretPathNotFound")
	}
	folders := []*folder{base}
	if recursive {
		var walk func(*folder)
		walk = func(f *folder) {
			for _, ch := range f.sortedChildren() {
				folders = append(folders, ch)
				walk(ch)
			}
		}
		walk(base)
	}
	out := []secretView{}
	describable := false
	for _, f := range folders {
		if !ab.canSecret(actDescribeSecret, pathOnly(f.Path)) {
			continue
		}
		describable = true
		for _, sec := range f.sortedSecrets() {
			sf := secretFields(a.environment, f.Path, sec.Key)
			if !ab.canSecret(actDescribeSecret, sf) {
				continue
			}
			canRead := ab.canSecret(actReadValue, sf)
			if viewValue && !canRead {
				if f != base {
					continue
				}
				return nil, errPermission(actReadValue, subSecrets, ab.rulesFor(actReadValue, subSecrets))
			}
			out = append(out, viewSecret(a.projectID, sec, !viewValue || !canRead))
		}
	}
	if recursive && !describable {
		return nil, ab.requireSecret(actDescribeSecret, pathOnly(a.path))
	}
	s.recordAudit(c, nil, a.projectID, "get-secrets", map[string]any{
		"environment": a.environment, "secretPath": normalizeSecretPath(a.rawPath), "numberOfSecrets": len(out),
	})
	return map[string]any{"secrets": out, "imports": []any{}}, nil
}

// Reading one secret.

func getSecretQuery(projectKey string, v3 bool) *schema {
	projectField := str().trimmed()
	if v3 {
		projectField = projectField.opt()
	}
	props := []prop{
		field(projectKey, projectField),
		field("environment", str().trimmed().opt()),
		field("secretPath", str().trimmed().opt()),
		field("version", coerceNum().opt()),
		field("type", enum("shared", "personal").opt()),
		field("viewSecretValue", booleanQuery()),
		field("expandSecretReferences", booleanQuery()),
		field("include_imports", booleanQuery()),
	}
	if v3 {
		props = append(props, field("workspaceSlug", str().trimmed().opt()))
	}
	return object(props...)
}

var (
	getSecretV4Query = getSecretQuery("projectId", false)
	getSecretV3Query = getSecretQuery("workspaceId", true)
)

func (s *Server) getSecretV4(c *call) (any, *apiError) {
	q, verr := c.validateQuery(getSecretV4Query)
	if verr != nil {
		return nil, verr
	}
	a := readSecretArgs(q, "projectId")
	if a.environment == "" {
		return nil, errBadRequest("Missing environment")
	}
	if a.projectID == "" {
		return nil, errBadRequest("You must provide  workspaceId")
	}
	return s.getSecret(c, q, a)
}

func (s *Server) getSecretV3(c *call) (any, *apiError) {
	q, verr := c.validateQuery(getSecretV3Query)
	if verr != nil {
		return nil, verr
	}
	a := readSecretArgs(q, "workspaceId")
	if slug, ok := getString(q, "workspaceSlug", true); ok && a.projectID == "" {
		s.mu.RLock()
		if p := s.st.projectsBySlug[slug]; p != nil {
			a.projectID = p.ID
		}
		s.mu.RUnlock()
	}
	if a.environment == "" {
		return nil, errBadRequest("Missing environment")
	}
	if a.projectID == "" {
		return nil, errBadRequest("You must provide workspaceId or workspaceSlug")
	}
	return s.getSecret(c, q, a)
}

func (s *Server) getSecret(c *call, q map[string]any, a secretArgs) (any, *apiError) {
	name := strings.TrimSpace(c.r.PathValue("secretName"))
	viewValue := q["viewSecretValue"] != "false"
	s.mu.RLock()
	defer s.mu.RUnlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	f := s.st.folderAt(a.projectID, a.environment, a.path)
	if f == nil {
		return nil, errNotFound("Folder with path '"+normalizeSecretPath(a.rawPath)+"' in environment with slug '"+a.environment+"' not found", "GetSecretByName")
	}
	sec := f.secrets[name]
	if sec == nil {
		return nil, errNotFound("Secret with name '" + name + "' not found")
	}
	sf := secretFields(a.environment, f.Path, name)
	if err := ab.requireSecret(actDescribeSecret, sf); err != nil {
		return nil, err
	}
	canRead := ab.canSecret(actReadValue, sf)
	if viewValue && !canRead {
		return nil, errPermission(actReadValue, subSecrets, ab.rulesFor(actReadValue, subSecrets))
	}
	v := viewSecret(a.projectID, sec, !viewValue || !canRead)
	if ver, ok := getNumber(q, "version"); ok && int(ver) != sec.Version {
		found := false
		for _, h := range sec.History {
			if h.Version == int(ver) {
				v.Version, v.SecretKey, v.SecretComment = h.Version, h.Key, h.Comment
				if !v.SecretValueHidden {
					v.SecretValue = h.Value
				}
				found = true
				break
			}
		}
		if !found {
			return nil, errNotFound("Secret with name '" + name + "' and version '" + fmtNum(ver) + "' not found")
		}
	}
	s.recordAudit(c, nil, a.projectID, "get-secret", map[string]any{
		"environment": a.environment, "secretPath": normalizeSecretPath(a.rawPath), "secretId": sec.ID,
		"secretKey": name, "secretVersion": v.Version,
	})
	return map[string]any{"secret": v}, nil
}

// Writes.

var metaInput = array(object(
	field("key", str().trimmed().minL(1)),
	field("value", str()),
	field("isEncrypted", boolean().opt()),
)).opt()

func createSecretBody(projectKey string) *schema {
	return object(
		field(projectKey, str().trimmed()),
		field("environment", str().trimmed()),
		field("secretPath", str().trimmed().opt()),
		field("secretValue", str()),
		field("secretComment", str().trimmed().opt()),
		field("secretMetadata", metaInput),
		field("tagIds", array(str()).opt()),
		field("skipMultilineEncoding", boolean().null().opt()),
		field("type", enum("shared", "personal").opt()),
		field("secretReminderRepeatDays", num().null().opt()),
		field("secretReminderNote", str().maxL(1024).null().opt()),
	)
}

func updateSecretBody(projectKey string) *schema {
	return object(
		field(projectKey, str().trimmed()),
		field("environment", str().trimmed()),
		field("secretValue", str().opt()),
		field("secretPath", str().trimmed().opt()),
		field("skipMultilineEncoding", boolean().opt()),
		field("type", enum("shared", "personal").opt()),
		field("tagIds", array(str()).opt()),
		field("metadata", record().opt()),
		field("secretMetadata", metaInput),
		field("secretReminderNote", str().maxL(1024).null().opt()),
		field("secretReminderRepeatDays", num().null().opt()),
		field("secretReminderRecipients", array(str()).opt()),
		field("newSecretName", str().trimmed().opt()),
		field("secretComment", str().trimmed().opt()),
	)
}

func deleteSecretBody(projectKey string) *schema {
	return object(
		field(projectKey, str().trimmed()),
		field("environment", str().trimmed()),
		field("secretPath", str().trimmed().opt()),
		field("type", enum("shared", "personal").opt()),
	)
}

var (
	createSecretV4Body = createSecretBody("projectId")
	createSecretV3Body = createSecretBody("workspaceId")
	updateSecretV4Body = updateSecretBody("projectId")
	updateSecretV3Body = updateSecretBody("workspaceId")
	deleteSecretV4Body = deleteSecretBody("projectId")
	deleteSecretV3Body = deleteSecretBody("workspaceId")
)

// secretNameParam is SecretNameSchema on the path parameter.
var secretNameParam = object(field("secretName", str().trimmed().minL(1).withRefine(func(v any, path []any, add func(zodIssue)) {
	if s, ok := v.(string); ok {
		if strings.Contains(s, ":") {
			add(customIssue(path, "Secret name cannot contain colon."))
		}
		if strings.Contains(s, "/") {
			add(customIssue(path, "Secret name cannot contain forward slash."))
		}
	}
})))

func (c *call) secretNameFromPath() (string, *apiError) {
	raw := c.r.PathValue("secretName")
	if issues := secretNameParam.check(map[string]any{"secretName": raw}); len(issues) > 0 {
		return "", errValidation(issues)
	}
	return strings.TrimSpace(raw), nil
}

// trimValue is the routes' secretValue transform: trimmed, a single
// trailing newline kept.
func trimValue(v string) string {
	if strings.HasSuffix(v, "\n") {
		return strings.TrimSpace(v) + "\n"
	}
	return strings.TrimSpace(v)
}

func readMeta(m map[string]any) ([]secretMeta, bool) {
	raw, ok := m["secretMetadata"]
	if !ok {
		return nil, false
	}
	out := []secretMeta{}
	for _, e := range asSlice(raw) {
		em := bodyMap(e)
		k, _ := getString(em, "key", true)
		v, _ := getString(em, "value", false)
		enc, _ := getBool(em, "isEncrypted")
		out = append(out, secretMeta{Key: k, Value: v, IsEncrypted: enc})
	}
	return out, true
}

func (s *Server) createSecretV4(c *call) (any, *apiError) {
	return s.createSecret(c, createSecretV4Body, "projectId")
}
func (s *Server) createSecretV3(c *call) (any, *apiError) {
	return s.createSecret(c, createSecretV3Body, "workspaceId")
}

func (s *Server) createSecret(c *call, sch *schema, projectKey string) (any, *apiError) {
	name, perr := c.secretNameFromPath()
	if perr != nil {
		return nil, perr
	}
	m, verr := c.validateBody(sch)
	if verr != nil {
		return nil, verr
	}
	a := readSecretArgs(m, projectKey)
	typ, ok := getString(m, "type", true)
	if !ok {
		typ = "shared"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	f := s.st.folderAt(a.projectID, a.environment, a.path)
	if f == nil {
		return nil, errNotFound("Folder with path '"+normalizeSecretPath(a.rawPath)+"' in environment with slug '"+a.environment+"' not found", "CreateSecret")
	}
	if typ == "personal" {
		return nil, errBadRequest("Must be user to create personal secret")
	}
	if f.secrets[name] != nil {
		return nil, errBadRequest("Secret already exists")
	}
	if tags := asSlice(m["tagIds"]); len(tags) > 0 {
		return nil, errNotFound("Tag not found. Found ")
	}
	if err := ab.requireSecret(actCreate, secretFields(a.environment, f.Path, name)); err != nil {
		return nil, err
	}
	sec := newSecretFrom(name, m, c.now)
	if n, ok := getString(m, "secretReminderNote", false); ok {
		sec.ReminderNote = &n
	}
	if d, ok := getNumber(m, "secretReminderRepeatDays"); ok {
		sec.ReminderRepeatDays = &d
	}
	s.st.addSecret(f, sec)
	now := c.now
	f.LastSecretModified = &now
	s.recordAudit(c, nil, a.projectID, "create-secret", map[string]any{
		"environment": a.environment, "secretPath": normalizeSecretPath(a.rawPath), "secretId": sec.ID, "secretKey": name, "secretVersion": 1,
	})
	return map[string]any{"secret": viewSecret(a.projectID, sec, false)}, nil
}

func (s *Server) updateSecretV4(c *call) (any, *apiError) {
	return s.updateSecret(c, updateSecretV4Body, "projectId")
}
func (s *Server) updateSecretV3(c *call) (any, *apiError) {
	return s.updateSecret(c, updateSecretV3Body, "workspaceId")
}

func (s *Server) updateSecret(c *call, sch *schema, projectKey string) (any, *apiError) {
	name := strings.TrimSpace(c.r.PathValue("secretName"))
	m, verr := c.validateBody(sch)
	if verr != nil {
		return nil, verr
	}
	a := readSecretArgs(m, projectKey)
	newName, hasNewName := getString(m, "newSecretName", true)
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	if hasNewName && newName == "" {
		return nil, errBadRequest("New secret name cannot be empty")
	}
	f := s.st.folderAt(a.projectID, a.environment, a.path)
	if f == nil {
		return nil, errNotFound("Folder with path '"+normalizeSecretPath(a.rawPath)+"' in environment with slug '"+a.environment+"' not found", "UpdateSecret")
	}
	if typ, _ := getString(m, "type", true); typ == "personal" {
		return nil, errBadRequest("Must be user to create personal secret")
	}
	sec := f.secrets[name]
	if sec == nil {
		return nil, errNotFound("Secret with name " + name + " not found")
	}
	if err := ab.requireSecret(actEdit, secretFields(a.environment, f.Path, name)); err != nil {
		return nil, err
	}
	if tags := asSlice(m["tagIds"]); len(tags) > 0 {
		return nil, errNotFound("Tag not found. Found ")
	}
	if hasNewName && newName != name {
		if f.secrets[newName] != nil {
			return nil, errBadRequest("Secret with the new name already exists")
		}
		if err := ab.requireSecret(actEdit, secretFields(a.environment, f.Path, newName)); err != nil {
			return nil, err
		}
	}
	applySecretUpdate(f, sec, m, c.now)
	now := c.now
	f.LastSecretModified = &now
	hidden := !ab.canSecret(actReadValue, secretFields(a.environment, f.Path, name))
	s.recordAudit(c, nil, a.projectID, "update-secret", map[string]any{
		"environment": a.environment, "secretPath": normalizeSecretPath(a.rawPath), "secretId": sec.ID, "secretKey": sec.Key, "secretVersion": sec.Version,
	})
	return map[string]any{"secret": viewSecret(a.projectID, sec, hidden)}, nil
}

func (s *Server) deleteSecretV4(c *call) (any, *apiError) {
	return s.deleteSecret(c, deleteSecretV4Body, "projectId")
}
func (s *Server) deleteSecretV3(c *call) (any, *apiError) {
	return s.deleteSecret(c, deleteSecretV3Body, "workspaceId")
}

func (s *Server) deleteSecret(c *call, sch *schema, projectKey string) (any, *apiError) {
	name := strings.TrimSpace(c.r.PathValue("secretName"))
	m, verr := c.validateBody(sch)
	if verr != nil {
		return nil, verr
	}
	a := readSecretArgs(m, projectKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	f := s.st.folderAt(a.projectID, a.environment, a.path)
	if f == nil {
		return nil, errNotFound("Folder with path '"+normalizeSecretPath(a.rawPath)+"' in environment with slug '"+a.environment+"' not found", "DeleteSecret")
	}
	if typ, _ := getString(m, "type", true); typ == "personal" {
		return nil, errBadRequest("Must be user to delete personal secret")
	}
	sec := f.secrets[name]
	if sec == nil {
		return nil, errNotFound("Secret not found")
	}
	sf := secretFields(a.environment, f.Path, name)
	if err := ab.requireSecret(actDelete, sf); err != nil {
		return nil, err
	}
	delete(f.secrets, name)
	delete(s.st.secretsByID, sec.ID)
	now := c.now
	f.LastSecretModified = &now
	s.recordAudit(c, nil, a.projectID, "delete-secret", map[string]any{
		"environment": a.environment, "secretPath": normalizeSecretPath(a.rawPath), "secretId": sec.ID, "secretKey": name, "secretVersion": sec.Version,
	})
	return map[string]any{"secret": viewSecret(a.projectID, sec, !ab.canSecret(actReadValue, sf))}, nil
}
