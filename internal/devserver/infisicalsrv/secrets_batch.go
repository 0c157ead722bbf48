package infisicalsrv

import (
	"sort"
	"strings"
	"time"
)

// Batch raw secrets: POST|PATCH|DELETE /api/v4/secrets/batch (projectId)
// and the deprecated /api/v3/secrets/batch/raw (workspaceId or
// projectSlug), answered as createManySecret, updateManySecret and
// deleteManySecret of Infisical's secret-v2 bridge: one transaction, all or
// nothing, the same CASL checks per secret as the single-secret routes.
//
// Where the reference's observations (a real server, 2026-12-05) and the
// source disagree, the observations win: "Secret already exists: <NAME>"
// (the source reads "exist").

// secretNameField is SecretNameSchema: trimmed, not empty, no ':' or '/'.
var secretNameField = str().trimmed().minL(1).withRefine(func(v any, path []any, add func(zodIssue)) {
	if s, ok := v.(string); ok {
		if strings.Contains(s, ":") {
			add(customIssue(path, "Secret name cannot contain colon."))
		}
		if strings.Contains(s, "/") {
			add(customIssue(path, "Secret name cannot contain forward slash."))
		}
	}
})

// batchProject is the body's project fields: projectId on v4; workspaceId
// and projectSlug, both optional, on v3.
func batchProject(v3 bool) []prop {
	if v3 {
		return []prop{field("projectSlug", str().trimmed().opt()), field("workspaceId", str().trimmed().opt())}
	}
	return []prop{field("projectId", str().trimmed())}
}

func batchBody(v3 bool, extra []prop, item *schema) *schema {
	props := batchProject(v3)
	props = append(props, field("environment", str().trimmed()), field("secretPath", str().trimmed().opt()))
	props = append(props, extra...)
	props = append(props, field("secrets", array(item).minL(1)))
	return object(props...)
}

var (
	createManyItem = object(
		field("secretKey", secretNameField),
		field("secretValue", str()),
		field("secretComment", str().trimmed().opt()),
		field("skipMultilineEncoding", boolean().null().opt()),
		field("metadata", record().opt()),
		field("secretMetadata", metaInput),
		field("tagIds", array(str()).opt()),
	)
	updateManyItem = object(
		field("secretKey", secretNameField),
		field("secretValue", str().opt()),
		field("secretPath", str().trimmed().opt()),
		field("secretComment", str().trimmed().opt()),
		field("skipMultilineEncoding", boolean().opt()),
		field("newSecretName", secretNameField.opt()),
		field("tagIds", array(str()).opt()),
		field("secretReminderNote", str().maxL(1024).null().opt()),
		field("secretMetadata", metaInput),
		field("secretReminderRepeatDays", num().null().opt()),
	)
	deleteManyItem = object(
		field("secretKey", str()),
		field("type", enum("shared", "personal").opt()),
	)
	updateMode = []prop{field("mode", enum("ignore", "upsert", "failOnNotFound").opt())}

	createManyV4Body = batchBody(false, nil, createManyItem)
	createManyV3Body = batchBody(true, nil, createManyItem)
	updateManyV4Body = batchBody(false, updateMode, updateManyItem)
	updateManyV3Body = batchBody(true, updateMode, updateManyItem)
	deleteManyV4Body = batchBody(false, nil, deleteManyItem)
	deleteManyV3Body = batchBody(true, nil, deleteManyItem)
)

// batchKind selects the entry shape of a batch answer.
type batchKind int

const (
	batchCreated batchKind = iota
	batchUpdated
	batchDeleted
)

// batchEntry is one element of a batch answer, with the keys a real server
// sends for that operation (observed): no secretPath, tags or metadata;
// secretValueHidden on updates and deletes; no rotation fields on deletes.
func batchEntry(projectID string, sec *secret, hidden bool, kind batchKind) map[string]any {
	skip := false
	if sec.SkipMultilineEncoding != nil {
		skip = *sec.SkipMultilineEncoding
	}
	value := sec.Value
	if hidden {
		value = hiddenValue
	}
	e := map[string]any{
		"id": sec.ID, "_id": sec.ID, "workspace": projectID, "environment": sec.folder.EnvSlug, "version": sec.Version,
		"type": sec.Type, "secretKey": sec.Key, "secretValue": value, "secretComment": sec.Comment,
		"secretReminderNote": sec.ReminderNote, "secretReminderRepeatDays": sec.ReminderRepeatDays,
		"skipMultilineEncoding": skip, "createdAt": sec.CreatedAt, "updatedAt": sec.UpdatedAt,
	}
	if kind != batchDeleted {
		e["isRotatedSecret"] = false
		e["rotationId"] = nil
	}
	if kind != batchCreated {
		e["secretValueHidden"] = hidden
	}
	return e
}

// batchAnswer orders the entries by secret id: a real server answers in
// database order, not in request order, and so does this one.
func batchAnswer(projectID string, secs []*secret, hidden func(*secret) bool, kind batchKind) map[string]any {
	sort.Slice(secs, func(i, j int) bool { return secs[i].ID < secs[j].ID })
	out := make([]map[string]any, 0, len(secs))
	for _, sec := range secs {
		out = append(out, batchEntry(projectID, sec, hidden(sec), kind))
	}
	return map[string]any{"secrets": out}
}

// batchAudit is the metadata of a create-secrets, update-secrets or
// delete-secrets event.
func batchAudit(env, path string, secs []*secret) map[string]any {
	list := make([]map[string]any, 0, len(secs))
	for _, sec := range secs {
		list = append(list, map[string]any{"secretId": sec.ID, "secretKey": sec.Key, "secretVersion": sec.Version})
	}
	return map[string]any{"environment": env, "secretPath": path, "secrets": list}
}

// batchArgs validates the body and finds the project: projectId on v4; on
// v3 workspaceId, else projectSlug, else 400.
func (s *Server) batchArgs(c *call, sch *schema, v3 bool) (map[string]any, secretArgs, *apiError) {
	m, verr := c.validateBody(sch)
	if verr != nil {
		return nil, secretArgs{}, verr
	}
	if !v3 {
		return m, readSecretArgs(m, "projectId"), nil
	}
	a := readSecretArgs(m, "workspaceId")
	if a.projectID == "" {
		slug, ok := getString(m, "projectSlug", true)
		if !ok || slug == "" {
			return nil, a, errBadRequest("Must provide either project slug or projectId")
		}
		s.mu.RLock()
		p := s.st.projectsBySlug[slug]
		s.mu.RUnlock()
		if p == nil {
			return nil, a, errNotFound("Project with slug '" + slug + "' not found")
		}
		a.projectID = p.ID
	}
	return m, a, nil
}

func (s *Server) createManyV4(c *call) (any, *apiError) {
	return s.createMany(c, createManyV4Body, false)
}
func (s *Server) createManyV3(c *call) (any, *apiError) {
	return s.createMany(c, createManyV3Body, true)
}
func (s *Server) updateManyV4(c *call) (any, *apiError) {
	return s.updateMany(c, updateManyV4Body, false)
}
func (s *Server) updateManyV3(c *call) (any, *apiError) {
	return s.updateMany(c, updateManyV3Body, true)
}
func (s *Server) deleteManyV4(c *call) (any, *apiError) {
	return s.deleteMany(c, deleteManyV4Body, false)
}
func (s *Server) deleteManyV3(c *call) (any, *apiError) {
	return s.deleteMany(c, deleteManyV3Body, true)
}

// batchItems returns the body's secrets as objects.
func batchItems(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range asSlice(m["secrets"]) {
		out = append(out, bodyMap(e))
	}
	return out
}

func itemKey(it map[string]any) string {
	k, _ := getString(it, "secretKey", true)
	return k
}

func hasTags(items []map[string]any) bool {
	for _, it := range items {
		if len(asSlice(it["tagIds"])) > 0 {
			return true
		}
	}
	return false
}

// newSecretFrom builds the version-1 shared secret key from a create item
// (or a single-secret create body).
func newSecretFrom(key string, it map[string]any, now time.Time) *secret {
	value, _ := getString(it, "secretValue", false)
	comment, _ := getString(it, "secretComment", true)
	sec := &secret{ID: newUUID(), Key: key, Value: trimValue(value), Comment: comment, Type: "shared", Version: 1, CreatedAt: now, UpdatedAt: now}
	if b, ok := getBool(it, "skipMultilineEncoding"); ok {
		sec.SkipMultilineEncoding = &b
	}
	sec.Metadata, _ = readMeta(it)
	return sec
}

func (s *Server) createMany(c *call, sch *schema, v3 bool) (any, *apiError) {
	m, a, err := s.batchArgs(c, sch, v3)
	if err != nil {
		return nil, err
	}
	items := batchItems(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	f := s.st.folderAt(a.projectID, a.environment, a.path)
	if f == nil {
		return nil, errNotFound("Folder with path '"+normalizeSecretPath(a.rawPath)+"' in environment with slug '"+a.environment+"' not found", "CreateManySecret")
	}
	// A name given twice makes one secret with the last value (observed).
	last := map[string]map[string]any{}
	var order []string
	var exist []string
	for _, it := range items {
		k := itemKey(it)
		if _, seen := last[k]; !seen {
			order = append(order, k)
			if f.secrets[k] != nil {
				exist = append(exist, k)
			}
		}
		last[k] = it
	}
	if len(exist) > 0 {
		return nil, errBadRequest("Secret already exists: " + strings.Join(exist, ","))
	}
	if hasTags(items) {
		return nil, errNotFound("Tag not found. Found ")
	}
	for _, k := range order {
		if err := ab.requireSecret(actCreate, secretFields(a.environment, f.Path, k)); err != nil {
			return nil, err
		}
	}
	created := make([]*secret, 0, len(order))
	for _, k := range order {
		sec := newSecretFrom(k, last[k], c.now)
		s.st.addSecret(f, sec)
		created = append(created, sec)
	}
	now := c.now
	f.LastSecretModified = &now
	s.recordAudit(c, nil, a.projectID, "create-secrets", batchAudit(a.environment, normalizeSecretPath(a.rawPath), created))
	return batchAnswer(a.projectID, created, func(sec *secret) bool {
		return !ab.canSecret(actReadValue, secretFields(a.environment, f.Path, sec.Key))
	}, batchCreated), nil
}

// updateGroup is the items of an update that share a folder.
type updateGroup struct {
	f        *folder
	toUpdate []map[string]any // items whose secret exists
	toCreate []map[string]any // items whose secret does not (upsert)
}

func (s *Server) updateMany(c *call, sch *schema, v3 bool) (any, *apiError) {
	m, a, err := s.batchArgs(c, sch, v3)
	if err != nil {
		return nil, err
	}
	mode, ok := getString(m, "mode", true)
	if !ok {
		mode = "failOnNotFound"
	}
	items := batchItems(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	if s.st.projects[a.projectID].env(a.environment) == nil {
		return nil, errNotFound("Environment with slug '" + a.environment + "' in project with ID '" + a.projectID + "' not found")
	}
	// Items are grouped by their own secretPath, or the body's.
	byPath := map[string][]map[string]any{}
	var paths []string
	for _, it := range items {
		p := a.path
		if raw, ok := getString(it, "secretPath", true); ok {
			p = canonicalPath(normalizeSecretPath(raw))
		}
		if _, seen := byPath[p]; !seen {
			paths = append(paths, p)
		}
		byPath[p] = append(byPath[p], it)
	}
	sort.Strings(paths)
	var groups []*updateGroup
	for _, p := range paths {
		f := s.st.folderAt(a.projectID, a.environment, p)
		if f == nil {
			// The source interpolates null where the path should be.
			return nil, errNotFound("Folder with path 'null' in environment with slug '"+a.environment+"' not found", "UpdateManySecret")
		}
		groups = append(groups, &updateGroup{f: f})
	}
	// Every check runs before anything changes: the real server does its
	// writes in one transaction that any failure rolls back.
	for _, g := range groups {
		group := byPath[g.f.Path]
		existing := map[string]bool{}
		var missing []string
		for _, it := range group {
			k := itemKey(it)
			if g.f.secrets[k] != nil {
				existing[k] = true
				g.toUpdate = append(g.toUpdate, it)
			} else {
				missing = append(missing, k)
				g.toCreate = append(g.toCreate, it)
			}
		}
		if len(existing) != len(group) && mode == "failOnNotFound" {
			return nil, errNotFound("Secret does not exist: " + strings.Join(missing, ", ") + " in path " + g.f.Path)
		}
		for k := range existing {
			if err := ab.requireSecret(actEdit, secretFields(a.environment, g.f.Path, k)); err != nil {
				return nil, err
			}
		}
		if hasTags(group) {
			return nil, errNotFound("Tag not found")
		}
		if mode == "upsert" {
			for _, it := range g.toCreate {
				if err := ab.requireSecret(actCreate, secretFields(a.environment, g.f.Path, itemKey(it))); err != nil {
					return nil, err
				}
			}
		}
		var renamed []string
		for _, it := range g.toUpdate {
			if nn, ok := getString(it, "newSecretName", true); ok && nn != itemKey(it) && g.f.secrets[nn] != nil {
				renamed = append(renamed, nn)
			}
		}
		if len(renamed) > 0 {
			return nil, errBadRequest("Secret with new name already exists: " + strings.Join(renamed, ", "))
		}
		for _, it := range g.toUpdate {
			if nn, ok := getString(it, "newSecretName", true); ok {
				if err := ab.requireSecret(actCreate, secretFields(a.environment, g.f.Path, nn)); err != nil {
					return nil, err
				}
			}
		}
	}
	var changed []*secret
	for _, g := range groups {
		for _, it := range g.toUpdate {
			changed = append(changed, applySecretUpdate(g.f, g.f.secrets[itemKey(it)], it, c.now))
		}
		if mode == "upsert" {
			for _, it := range g.toCreate {
				if old := g.f.secrets[itemKey(it)]; old != nil { // a name given twice
					changed = append(changed, applySecretUpdate(g.f, old, it, c.now))
					continue
				}
				sec := newSecretFrom(itemKey(it), it, c.now)
				s.st.addSecret(g.f, sec)
				changed = append(changed, sec)
			}
		}
		if len(g.toUpdate) > 0 || (mode == "upsert" && len(g.toCreate) > 0) {
			now := c.now
			g.f.LastSecretModified = &now
		}
	}
	changed = uniqueSecrets(changed)
	s.recordAudit(c, nil, a.projectID, "update-secrets", batchAudit(a.environment, normalizeSecretPath(a.rawPath), changed))
	return batchAnswer(a.projectID, changed, func(sec *secret) bool {
		return !ab.canSecret(actReadValue, secretFields(a.environment, sec.folder.Path, sec.Key))
	}, batchUpdated), nil
}

// uniqueSecrets drops repeats (an item given twice updates one secret).
func uniqueSecrets(in []*secret) []*secret {
	seen := map[*secret]bool{}
	out := in[:0:0]
	for _, sec := range in {
		if !seen[sec] {
			seen[sec] = true
			out = append(out, sec)
		}
	}
	return out
}

// applySecretUpdate writes one update item to sec, keeping the previous
// version in its history, and returns it.
func applySecretUpdate(f *folder, sec *secret, it map[string]any, now time.Time) *secret {
	sec.History = append(sec.History, secretVersion{Version: sec.Version, Key: sec.Key, Value: sec.Value, Comment: sec.Comment, CreatedAt: sec.UpdatedAt})
	if v, ok := getString(it, "secretValue", false); ok {
		sec.Value = trimValue(v)
	}
	if cm, ok := getString(it, "secretComment", true); ok {
		sec.Comment = cm
	}
	if b, ok := getBool(it, "skipMultilineEncoding"); ok {
		sec.SkipMultilineEncoding = &b
	}
	if n, ok := getString(it, "secretReminderNote", false); ok {
		sec.ReminderNote = &n
	}
	if d, ok := getNumber(it, "secretReminderRepeatDays"); ok {
		sec.ReminderRepeatDays = &d
	}
	if md, ok := readMeta(it); ok {
		sec.Metadata = md
	}
	if nn, ok := getString(it, "newSecretName", true); ok && nn != sec.Key {
		delete(f.secrets, sec.Key)
		sec.Key = nn
		f.secrets[nn] = sec
	}
	sec.Version++
	sec.UpdatedAt = now
	return sec
}

func (s *Server) deleteMany(c *call, sch *schema, v3 bool) (any, *apiError) {
	m, a, err := s.batchArgs(c, sch, v3)
	if err != nil {
		return nil, err
	}
	items := batchItems(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	f := s.st.folderAt(a.projectID, a.environment, a.path)
	if f == nil {
		return nil, errNotFound("Folder with path '"+normalizeSecretPath(a.rawPath)+"' in environment with slug '"+a.environment+"' not found", "DeleteManySecret")
	}
	var found []*secret
	seen := map[string]bool{}
	for _, it := range items {
		k, _ := getString(it, "secretKey", false)
		if sec := f.secrets[k]; sec != nil && !seen[k] {
			seen[k] = true
			found = append(found, sec)
		}
	}
	if len(found) != len(items) {
		// The message lists the names that do exist (observed).
		names := make([]string, len(found))
		for i, sec := range found {
			names[i] = sec.Key
		}
		return nil, errNotFound("One or more secrets does not exist: " + strings.Join(names, ", "))
	}
	for _, sec := range found {
		if err := ab.requireSecret(actDelete, secretFields(a.environment, f.Path, sec.Key)); err != nil {
			return nil, err
		}
	}
	for _, sec := range found {
		delete(f.secrets, sec.Key)
		delete(s.st.secretsByID, sec.ID)
	}
	now := c.now
	f.LastSecretModified = &now
	s.recordAudit(c, nil, a.projectID, "delete-secrets", batchAudit(a.environment, normalizeSecretPath(a.rawPath), found))
	return batchAnswer(a.projectID, found, func(sec *secret) bool {
		return !ab.canSecret(actReadValue, secretFields(a.environment, f.Path, sec.Key))
	}, batchDeleted), nil
}
