package infisicalsrv

import (
	"time"

	"github.com/google/uuid"
)

// Folders: /api/v2/folders (secret-folder-router.ts) and the deprecated
// /api/v1/folders that the Go SDK still calls (workspaceId, directory).

type folderView struct {
	ID                 string         `json:"id"`
	Name               string         `json:"name"`
	Version            int            `json:"version"`
	CreatedAt          time.Time      `json:"createdAt"`
	UpdatedAt          time.Time      `json:"updatedAt"`
	EnvID              string         `json:"envId"`
	ParentID           *string        `json:"parentId"`
	IsReserved         bool           `json:"isReserved"`
	Description        *string        `json:"description"`
	LastSecretModified *time.Time     `json:"lastSecretModified"`
	Path               string         `json:"path,omitempty"`
	RelativePath       string         `json:"relativePath,omitempty"`
	Environment        map[string]any `json:"environment,omitempty"`
	ProjectID          string         `json:"projectId,omitempty"`
}

func viewFolder(f *folder) folderView {
	return folderView{ID: f.ID, Name: f.Name, Version: f.Version, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, EnvID: f.EnvID,
		ParentID: f.ParentID, Description: f.Description, LastSecretModified: f.LastSecretModified}
}

// folderArgs are the common fields of the folder routes, whatever the
// version calls them.
type folderArgs struct {
	projectID, environment, path string
}

func readFolderArgs(m map[string]any, projectKey string) folderArgs {
	a := folderArgs{path: "/"}
	a.projectID, _ = getString(m, projectKey, true)
	a.environment, _ = getString(m, "environment", true)
	if p, ok := getString(m, "path", true); ok && p != "" {
		a.path = p
	} else if d, ok := getString(m, "directory", true); ok && d != "" {
		a.path = d
	}
	a.path = normalizeSecretPath(a.path)
	return a
}

func folderBody(projectKey string, withName bool, extra ...prop) *schema {
	props := []prop{
		field(projectKey, str().trimmed()),
		field("environment", str().trimmed()),
		field("path", str().trimmed().opt()),
		field("directory", str().trimmed().opt()),
	}
	if withName {
		props = append(props, field("name", folderName()))
	}
	return object(append(props, extra...)...)
}

var (
	createFolderV2Body = folderBody("projectId", true, field("description", str().null().opt()))
	updateFolderV2Body = folderBody("projectId", true, field("description", str().null().opt()))
	deleteFolderV2Body = folderBody("projectId", false, field("forceDelete", boolean().opt()))
	createFolderV1Body = folderBody("workspaceId", true)
	deleteFolderV1Body = folderBody("workspaceId", false)
)

func (s *Server) createFolderV2(c *call) (any, *apiError) {
	return s.createFolder(c, createFolderV2Body, "projectId")
}
func (s *Server) createFolderV1(c *call) (any, *apiError) {
	return s.createFolder(c, createFolderV1Body, "workspaceId")
}

func (s *Server) createFolder(c *call, sch *schema, projectKey string) (any, *apiError) {
	m, verr := c.validateBody(sch)
	if verr != nil {
		return nil, verr
	}
	a := readFolderArgs(m, projectKey)
	name, _ := getString(m, "name", true)
	var desc *string
	if d, ok := getString(m, "description", false); ok {
		desc = &d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actCreate, subSecretFolders, &subjectFields{environment: a.environment, secretPath: canonicalPath(a.path)}); err != nil {
		return nil, err
	}
	p := s.st.projects[a.projectID]
	if p.env(a.environment) == nil {
		return nil, errNotFound("Environment with slug '" + a.environment + "' in project with ID '" + a.projectID + "' not found")
	}
	full := joinPath(canonicalPath(a.path), name)
	if s.st.folderAt(a.projectID, a.environment, full) != nil {
		return nil, errBadRequest("Folder with name '" + name + "' already exists in path '" + a.path + "'")
	}
	parent := s.st.ensureFolderPath(a.projectID, a.environment, a.path, c.now)
	if parent == nil {
		return nil, errNotFound("Parent folder for path '" + full + "' not found")
	}
	f := s.st.newFolder(parent, name, desc, c.now)
	s.recordAudit(c, nil, a.projectID, "create-folder", map[string]any{
		"environment": a.environment, "folderId": f.ID, "folderName": name, "folderPath": a.path, "secretPath": a.path,
	})
	v := viewFolder(f)
	v.Path = f.Path
	return map[string]any{"folder": v}, nil
}

var listFoldersV2Query = object(
	field("projectId", str().trimmed()),
	field("environment", str().trimmed()),
	field("path", str().trimmed().opt()),
	field("directory", str().trimmed().opt()),
	field("recursive", booleanQuery()),
	field("lastSecretModified", dateTime().opt()),
)

var listFoldersV1Query = object(
	field("workspaceId", str().trimmed()),
	field("environment", str().trimmed()),
	field("path", str().trimmed().opt()),
	field("directory", str().trimmed().opt()),
)

func (s *Server) listFoldersV2(c *call) (any, *apiError) {
	return s.listFolders(c, listFoldersV2Query, "projectId")
}
func (s *Server) listFoldersV1(c *call) (any, *apiError) {
	return s.listFolders(c, listFoldersV1Query, "workspaceId")
}

// listFolders answers any project member: Infisical does not filter folder
// names by secret permissions.
func (s *Server) listFolders(c *call, sch *schema, projectKey string) (any, *apiError) {
	q, verr := c.validateQuery(sch)
	if verr != nil {
		return nil, verr
	}
	a := readFolderArgs(q, projectKey)
	recursive := q["recursive"] == "true"
	var since *time.Time
	if v, ok := getString(q, "lastSecretModified", true); ok {
		t, _ := parseISOTime(v)
		since = &t
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, err := s.projectAbility(c, a.projectID); err != nil {
		return nil, err
	}
	if s.st.projects[a.projectID].env(a.environment) == nil {
		return nil, errNotFound("Environment with slug '" + a.environment + "' not found")
	}
	out := []folderView{}
	keep := func(f *folder) bool {
		return since == nil || (f.LastSecretModified != nil && !f.LastSecretModified.Before(*since))
	}
	if parent := s.st.folderAt(a.projectID, a.environment, a.path); parent != nil {
		if recursive {
			var walk func(*folder)
			walk = func(f *folder) {
				for _, ch := range f.sortedChildren() {
					if keep(ch) {
						v := viewFolder(ch)
						v.RelativePath = ch.Path
						out = append(out, v)
					}
					walk(ch)
				}
			}
			walk(parent)
		} else {
			for _, ch := range parent.sortedChildren() {
				if keep(ch) {
					out = append(out, viewFolder(ch))
				}
			}
		}
	}
	s.recordAudit(c, nil, a.projectID, "get-folders", map[string]any{"environment": a.environment, "secretPath": a.path, "numberOfFolders": len(out)})
	return map[string]any{"folders": out}, nil
}

func (s *Server) getFolderV2(c *call) (any, *apiError) {
	id := c.r.PathValue("folderIdOrName")
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.st.folders[id]
	if f == nil {
		return nil, errNotFound("Folder with ID '" + id + "' not found")
	}
	if _, err := s.projectAbility(c, f.ProjectID); err != nil {
		return nil, err
	}
	p := s.st.projects[f.ProjectID]
	env := p.env(f.EnvSlug)
	v := viewFolder(f)
	v.Path, v.ProjectID = f.Path, f.ProjectID
	v.Environment = map[string]any{"envId": env.ID, "envName": env.Name, "envSlug": env.Slug}
	s.recordAudit(c, nil, f.ProjectID, "get-folder", map[string]any{"environment": f.EnvSlug, "folderId": f.ID, "folderPath": f.Path})
	return map[string]any{"folder": v}, nil
}

// childByIDOrName is the folder route's "id, or for the CLI, a name".
func childByIDOrName(parent *folder, idOrName string) *folder {
	if f := parent.children[idOrName]; f != nil {
		return f
	}
	for _, f := range parent.children {
		if f.ID == idOrName {
			return f
		}
	}
	return nil
}

func (s *Server) updateFolderV2(c *call) (any, *apiError) {
	m, verr := c.validateBody(updateFolderV2Body)
	if verr != nil {
		return nil, verr
	}
	a := readFolderArgs(m, "projectId")
	name, _ := getString(m, "name", true)
	idOrName := c.r.PathValue("folderIdOrName")
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actEdit, subSecretFolders, &subjectFields{environment: a.environment, secretPath: canonicalPath(a.path)}); err != nil {
		return nil, err
	}
	parent := s.st.folderAt(a.projectID, a.environment, a.path)
	if parent == nil {
		return nil, errNotFound("Folder with path '"+a.path+"' in environment with slug '"+a.environment+"' not found", "UpdateFolder")
	}
	f := childByIDOrName(parent, idOrName)
	if f == nil {
		return nil, errNotFound("Folder with ID '"+idOrName+"' not found", "UpdateFolder")
	}
	if name != f.Name {
		if parent.children[name] != nil {
			return nil, &apiError{status: 400, name: "UpdateFolder", message: "Folder with specified name already exists"}
		}
		s.st.renameFolder(f, name)
	}
	if _, ok := m["description"]; ok {
		if d, isStr := getString(m, "description", false); isStr {
			f.Description = &d
		} else {
			f.Description = nil
		}
	}
	f.Version++
	f.UpdatedAt = c.now
	s.recordAudit(c, nil, a.projectID, "update-folder", map[string]any{"environment": a.environment, "folderId": f.ID, "newFolderName": name, "folderPath": a.path})
	v := viewFolder(f)
	v.Path = f.Path
	return map[string]any{"folder": v}, nil
}

func (s *Server) deleteFolderV2(c *call) (any, *apiError) {
	return s.deleteFolder(c, deleteFolderV2Body, "projectId", false)
}

// deleteFolderV1 keeps the deprecated route's behaviour of deleting a folder
// with its content.
func (s *Server) deleteFolderV1(c *call) (any, *apiError) {
	return s.deleteFolder(c, deleteFolderV1Body, "workspaceId", true)
}

func (s *Server) deleteFolder(c *call, sch *schema, projectKey string, force bool) (any, *apiError) {
	m, verr := c.validateBody(sch)
	if verr != nil {
		return nil, verr
	}
	a := readFolderArgs(m, projectKey)
	if b, ok := getBool(m, "forceDelete"); ok {
		force = b
	}
	idOrName := c.r.PathValue("folderIdOrName")
	s.mu.Lock()
	defer s.mu.Unlock()
	ab, err := s.projectAbility(c, a.projectID)
	if err != nil {
		return nil, err
	}
	if err := ab.require(actDelete, subSecretFolders, &subjectFields{environment: a.environment, secretPath: canonicalPath(a.path)}); err != nil {
		return nil, err
	}
	if s.st.projects[a.projectID].env(a.environment) == nil {
		return nil, errNotFound("Environment with slug '" + a.environment + "' not found")
	}
	parent := s.st.folderAt(a.projectID, a.environment, a.path)
	if parent == nil {
		return nil, errNotFound("Folder with path '" + a.path + "' in environment with slug '" + a.environment + "' not found")
	}
	f := parent.children[idOrName]
	if f == nil {
		if _, perr := uuid.Parse(idOrName); perr == nil {
			f = childByIDOrName(parent, idOrName)
		}
	}
	if f == nil {
		return nil, errNotFound("Folder with ID '" + idOrName + "' not found")
	}
	if !force && (len(f.secrets) > 0 || len(f.children) > 0) {
		return nil, &apiError{status: 400, name: "deleteFolder",
			message: "Cannot delete folder \"" + f.Name + "\" because it contains resources. Use forceDelete=true to delete it forcefully."}
	}
	v := viewFolder(f)
	s.st.removeFolder(f)
	s.recordAudit(c, nil, a.projectID, "delete-folder", map[string]any{"environment": a.environment, "folderId": f.ID, "folderName": f.Name, "folderPath": a.path})
	return map[string]any{"folder": v}, nil
}
