package infisicalsrv

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Authorization follows Infisical's CASL model
// (backend/src/ee/services/permission): a role is a list of rules
// {subject, action[], conditions?, inverted?}; an actor's ability is the
// union of the rules of its active roles and active additional privileges,
// inverted rules sorted last so that they win; a check on a subject instance
// takes the highest-priority rule whose conditions match.

// Project subjects and actions used by the emulated routes.
const (
	subSecrets       = "secrets"
	subSecretFolders = "secret-folders"
	subIdentity      = "identity"
	subAuditLogs     = "audit-logs"

	actRead           = "read" // for secrets: the legacy "describe and read value"
	actDescribeSecret = "describeSecret"
	actReadValue      = "readValue"
	actCreate         = "create"
	actEdit           = "edit"
	actDelete         = "delete"

	actGrantPrivileges           = "grant-privileges"
	actAssignRole                = "assign-role"
	actAssignAdditionalPrivilege = "assign-additional-privileges"
	actRevokeAuth                = "revoke-auth"
	actCreateToken               = "create-token"
	actGetToken                  = "get-token"
	actDeleteToken               = "delete-token"
)

// Project roles and organization roles that exist without custom roles.
const (
	roleAdmin    = "admin"
	roleMember   = "member"
	roleViewer   = "viewer"
	roleNoAccess = "no-access"
)

var crud = []string{actRead, actCreate, actEdit, actDelete}

// projectSubjects lists the subjects a project permission may name and the
// actions each accepts (ProjectPermissionV2Schema).
var projectSubjects = map[string][]string{
	subSecrets:       {actRead, actDescribeSecret, actReadValue, actCreate, actEdit, actDelete},
	subSecretFolders: crud,
	"secret-imports": crud,
	"dynamic-secrets": {"read-root-credential", "create-root-credential", "edit-root-credential",
		"delete-root-credential", "lease"},
	subIdentity: {actRead, actCreate, actEdit, actDelete, actGrantPrivileges, actAssignRole,
		actAssignAdditionalPrivilege, "assume-privileges", actGetToken, actCreateToken, actDeleteToken, actRevokeAuth},
	"member":           {actRead, actCreate, actEdit, actDelete, actGrantPrivileges, actAssignRole, actAssignAdditionalPrivilege, "assume-privileges"},
	"groups":           {actRead, actCreate, actEdit, actDelete, actGrantPrivileges, actAssignRole},
	"role":             crud,
	"integrations":     crud,
	"webhooks":         crud,
	"service-tokens":   crud,
	"settings":         crud,
	"environments":     crud,
	"tags":             crud,
	subAuditLogs:       {actRead},
	"ip-allowlist":     crud,
	"workspace":        {actEdit, actDelete},
	"project":          {actEdit, actDelete},
	"secret-rollback":  {actRead, actCreate},
	"secret-approval":  crud,
	"secret-rotation":  crud,
	"kms":              {actEdit},
	"cmek":             {actRead, actCreate, actEdit, actDelete, "encrypt", "decrypt", "sign", "verify"},
	"commits":          {actRead, "perform-rollback"},
	"secret-syncs":     {actRead, actCreate, actEdit, actDelete, "sync-secrets", "import-secrets", "remove-secrets"},
	"app-connections":  {actRead, actCreate, actEdit, actDelete, "connect"},
	"certificates":     crud,
	"pki-alerts":       crud,
	"pki-collections":  crud,
	"ssh-certificates": crud,
}

// conditionFields lists, per subject, the condition fields the schema keeps
// (others are stripped, as zod strips unknown keys).
var conditionFields = map[string][]string{
	subSecrets:        {"environment", "secretPath", "secretName", "secretTags"},
	subSecretFolders:  {"environment", "secretPath"},
	"secret-imports":  {"environment", "secretPath"},
	"dynamic-secrets": {"environment", "secretPath", "metadata"},
	subIdentity:       {"identityId"},
}

// permissionRule is a rule as stored and answered ("unpacked" CASL rule).
type permissionRule struct {
	Subject    string         `json:"subject"`
	Action     []string       `json:"action"`
	Conditions map[string]any `json:"conditions,omitempty"`
	Inverted   bool           `json:"inverted,omitempty"`
}

// ruleDetail is an element of a PermissionDenied answer's details.
type ruleDetail struct {
	Action     []string       `json:"action"`
	Inverted   bool           `json:"inverted"`
	Subject    string         `json:"subject"`
	Conditions map[string]any `json:"conditions,omitempty"`
}

// fieldCond is one compiled condition field: every operator present must
// hold.
type fieldCond struct {
	eq, ne *string
	in     []string
	hasIn  bool
	glob   *glob
}

func (c *fieldCond) match(v string) bool {
	if c.eq != nil && v != *c.eq {
		return false
	}
	if c.ne != nil && v == *c.ne {
		return false
	}
	if c.hasIn && !contains(c.in, v) {
		return false
	}
	if c.glob != nil && !c.glob.match(v) {
		return false
	}
	return true
}

// matchAbsent is the answer for a subject that lacks the field: only $ne
// holds for an undefined value in a Mongo-style query.
func (c *fieldCond) matchAbsent() bool {
	return c.eq == nil && !c.hasIn && c.glob == nil
}

// matchList evaluates the condition against an array field (secretTags),
// the way a Mongo query does: an operator holds when some element passes it.
func (c *fieldCond) matchList(vs []string) bool {
	if c.ne != nil && contains(vs, *c.ne) {
		return false
	}
	if c.eq == nil && !c.hasIn && c.glob == nil {
		return true
	}
	for _, v := range vs {
		if (c.eq == nil || v == *c.eq) && (!c.hasIn || contains(c.in, v)) && (c.glob == nil || c.glob.match(v)) {
			return true
		}
	}
	return false
}

type rule struct {
	subject  string
	actions  map[string]bool
	list     []string
	inverted bool
	conds    map[string]*fieldCond // nil when the rule has no conditions
	raw      map[string]any
}

func (r *rule) relevant(action, subject string) bool {
	return r.subject == subject && r.actions[action]
}

// subjectFields are the attributes of a subject instance a check carries.
type subjectFields struct {
	environment string
	secretPath  string
	secretName  string
	hasName     bool
	tags        []string
	identityID  string
	// pathOnly asks "may this act on some secret at this path": secretName
	// conditions do not restrict non-inverted rules and inverted rules with
	// a secretName condition do not deny the whole path.
	pathOnly bool
}

// matches reports whether r's conditions hold for f (nil f: a check on the
// subject type, where CASL counts conditioned rules only when they grant).
func (r *rule) matches(f *subjectFields) bool {
	if r.conds == nil {
		return true
	}
	if f == nil {
		return !r.inverted
	}
	for name, c := range r.conds {
		switch name {
		case "environment":
			if !c.match(f.environment) {
				return false
			}
		case "secretPath":
			if !c.match(f.secretPath) {
				return false
			}
		case "secretName":
			if f.pathOnly {
				if r.inverted {
					return false
				}
				continue
			}
			if f.hasName {
				if !c.match(f.secretName) {
					return false
				}
			} else if !c.matchAbsent() {
				return false
			}
		case "secretTags":
			if f.pathOnly {
				if r.inverted {
					return false
				}
				continue
			}
			if !c.matchList(f.tags) {
				return false
			}
		case "identityId":
			if f.identityID == "" {
				if !c.matchAbsent() {
					return false
				}
			} else if !c.match(f.identityID) {
				return false
			}
		default:
			if !c.matchAbsent() {
				return false
			}
		}
	}
	return true
}

// ability is a compiled permission set.
type ability struct {
	rules []*rule // non-inverted first, inverted last (last wins)
}

func newAbility(sets ...[]*rule) *ability {
	var all []*rule
	for _, s := range sets {
		all = append(all, s...)
	}
	sort.SliceStable(all, func(i, j int) bool { return !all[i].inverted && all[j].inverted })
	return &ability{rules: all}
}

// can is CASL's ability.can(action, subject(subjectType, fields)).
func (a *ability) can(action, subject string, f *subjectFields) bool {
	for i := len(a.rules) - 1; i >= 0; i-- {
		r := a.rules[i]
		if !r.relevant(action, subject) {
			continue
		}
		if r.matches(f) {
			return !r.inverted
		}
	}
	return false
}

// rulesFor is CASL's rulesFor, as the error handler lists them.
func (a *ability) rulesFor(action, subject string) []ruleDetail {
	out := []ruleDetail{}
	for i := len(a.rules) - 1; i >= 0; i-- {
		r := a.rules[i]
		if r.relevant(action, subject) {
			out = append(out, ruleDetail{Action: r.list, Inverted: r.inverted, Subject: r.subject, Conditions: r.raw})
		}
	}
	return out
}

// require is ForbiddenError.from(ability).throwUnlessCan.
func (a *ability) require(action, subject string, f *subjectFields) *apiError {
	if a.can(action, subject, f) {
		return nil
	}
	return errPermission(action, subject, a.rulesFor(action, subject))
}

// canSecret is hasSecretReadValueOrDescribePermission: describeSecret and
// readValue are also granted by the legacy "read".
func (a *ability) canSecret(action string, f *subjectFields) bool {
	if a.can(action, subSecrets, f) {
		return true
	}
	if action == actDescribeSecret || action == actReadValue {
		return a.can(actRead, subSecrets, f)
	}
	return false
}

// requireSecret is throwIfMissingSecretReadValueOrDescribePermission for
// describeSecret/readValue and a plain check for the other actions.
func (a *ability) requireSecret(action string, f *subjectFields) *apiError {
	if a.canSecret(action, f) {
		return nil
	}
	return errPermission(action, subSecrets, a.rulesFor(action, subSecrets))
}

// requireBoundary is the "new privilege system" check of
// validatePrivilegeChangeOperation.
func (a *ability) requireBoundary(base, action, subject string) *apiError {
	if a.can(action, subject, nil) {
		return nil
	}
	return errBoundary(base, action, subject)
}

func mkRule(subject string, actions ...string) *rule {
	r := &rule{subject: subject, actions: map[string]bool{}, list: actions}
	for _, a := range actions {
		r.actions[a] = true
	}
	return r
}

// Built-in project roles (default-roles.ts, the parts that matter here).
var projectRoleRules = map[string][]*rule{
	roleAdmin: {
		mkRule(subSecrets, actDescribeSecret, actRead, actReadValue, actCreate, actEdit, actDelete),
		mkRule(subSecretFolders, crud...),
		mkRule("secret-imports", crud...),
		mkRule(subIdentity, actCreate, actEdit, actDelete, actRead, actGrantPrivileges, actAssignRole,
			actAssignAdditionalPrivilege, "assume-privileges", actGetToken, actCreateToken, actDeleteToken, actRevokeAuth),
		mkRule("member", actCreate, actEdit, actDelete, actRead, actGrantPrivileges, actAssignRole, actAssignAdditionalPrivilege),
		mkRule("role", crud...),
		mkRule("environments", crud...),
		mkRule("tags", crud...),
		mkRule(subAuditLogs, actRead),
		mkRule("project", actEdit, actDelete),
	},
	roleMember: {
		mkRule(subSecrets, actDescribeSecret, actRead, actReadValue, actEdit, actCreate, actDelete),
		mkRule(subSecretFolders, crud...),
		mkRule("secret-imports", crud...),
		mkRule("member", actRead, actCreate),
		mkRule(subIdentity, actRead, actEdit, actCreate, actDelete),
		mkRule("role", actRead),
		mkRule("environments", crud...),
		mkRule("tags", crud...),
		mkRule(subAuditLogs, actRead),
	},
	roleViewer: {
		mkRule(subSecrets, actDescribeSecret, actReadValue),
		mkRule(subSecretFolders, actRead),
		mkRule("secret-imports", actRead),
		mkRule("member", actRead),
		mkRule(subIdentity, actRead),
		mkRule("role", actRead),
		mkRule("environments", actRead),
		mkRule("tags", actRead),
		mkRule(subAuditLogs, actRead),
	},
	roleNoAccess: {},
}

// Built-in organization roles. The member role is read-only on identities
// here (Infisical's member may also create and edit identities, bounded by
// its own privileges; handoff never relies on it).
var orgRoleRules = map[string][]*rule{
	roleAdmin: {
		mkRule(subIdentity, actRead, actCreate, actEdit, actDelete, actGrantPrivileges, actRevokeAuth,
			actCreateToken, actGetToken, actDeleteToken),
		mkRule(subAuditLogs, actRead),
		mkRule("workspace", actRead, actCreate, actEdit, actDelete),
		mkRule("member", crud...),
		mkRule("role", crud...),
	},
	roleMember: {
		mkRule(subIdentity, actRead),
		mkRule(subAuditLogs, actRead),
		mkRule("workspace", actCreate),
		mkRule("member", actRead),
		mkRule("role", actRead),
	},
	roleNoAccess: {},
}

func isProjectRole(r string) bool { _, ok := projectRoleRules[r]; return ok }
func isOrgRole(r string) bool     { _, ok := orgRoleRules[r]; return ok }

// activeAt reports whether a possibly temporary grant is in force at now
// (isActiveRole: only the end time counts).
func activeAt(isTemporary bool, end *time.Time, now time.Time) bool {
	return !isTemporary || (end != nil && now.Before(*end))
}

// compileRules compiles stored rules; they were validated on the way in.
func compileRules(rules []permissionRule) ([]*rule, error) {
	out := make([]*rule, 0, len(rules))
	for _, pr := range rules {
		r := mkRule(pr.Subject, pr.Action...)
		r.inverted = pr.Inverted
		if r.inverted && pr.Subject == subSecrets && r.actions[actRead] {
			// expandLegacyForbidActions: forbidding "read" forbids both halves.
			r.actions[actDescribeSecret] = true
			r.actions[actReadValue] = true
		}
		if len(pr.Conditions) > 0 {
			r.raw = pr.Conditions
			r.conds = map[string]*fieldCond{}
			for name, v := range pr.Conditions {
				c, err := compileCond(v)
				if err != nil {
					return nil, fmt.Errorf("condition %s: %w", name, err)
				}
				r.conds[name] = c
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func compileCond(v any) (*fieldCond, error) {
	c := &fieldCond{}
	switch x := v.(type) {
	case string:
		c.eq = &x
		return c, nil
	case map[string]any:
		for op, ov := range x {
			switch op {
			case "$eq":
				s, _ := ov.(string)
				c.eq = &s
			case "$ne":
				s, _ := ov.(string)
				c.ne = &s
			case "$in":
				c.hasIn = true
				for _, e := range asSlice(ov) {
					if s, ok := e.(string); ok {
						c.in = append(c.in, s)
					}
				}
			case "$glob":
				s, _ := ov.(string)
				g, err := compileGlob(s)
				if err != nil {
					return nil, err
				}
				c.glob = g
			}
		}
		return c, nil
	}
	return nil, fmt.Errorf("unsupported condition %v", v)
}

func asSlice(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// parsePermissionsV2 validates the permissions array of the v2 privilege
// routes (already shape-checked as an array of objects) and normalizes it.
// Problems are zod issues under pathPrefix.
func parsePermissionsV2(v any, pathPrefix []any) ([]permissionRule, []zodIssue) {
	var issues []zodIssue
	add := func(i zodIssue) { issues = append(issues, i) }
	var out []permissionRule
	for i, item := range asSlice(v) {
		p := clonePath(pathPrefix, i)
		m, ok := item.(map[string]any)
		if !ok {
			add(invalidType("object", item, p))
			continue
		}
		subject, _ := m["subject"].(string)
		allowed, known := projectSubjects[subject]
		if !known {
			add(zodIssue{Code: "invalid_union_discriminator", Options: sortedSubjects(), Path: clonePath(p, "subject"),
				Message: "Invalid discriminator value. Expected " + quoteJoin(sortedSubjects())})
			continue
		}
		var actions []string
		switch a := m["action"].(type) {
		case string:
			actions = []string{a}
		case []any:
			if len(a) == 0 {
				add(zodIssue{Code: "too_small", Minimum: ptrF(1), Type: "array", Inclusive: ptrB(true), Exact: ptrB(false),
					Path: clonePath(p, "action"), Message: "Array must contain at least 1 element(s)"})
			}
			for j, e := range a {
				s, ok := e.(string)
				if !ok {
					add(invalidType("string", e, clonePath(p, "action", j)))
					continue
				}
				actions = append(actions, s)
			}
		default:
			add(invalidType("array", m["action"], clonePath(p, "action")))
		}
		for j, a := range actions {
			if !contains(allowed, a) {
				add(zodIssue{Code: "invalid_enum_value", Received: a, Options: allowed, Path: clonePath(p, "action", j),
					Message: "Invalid enum value. Expected " + quoteJoin(allowed) + ", received '" + a + "'"})
			}
		}
		inverted := false
		if iv, present := m["inverted"]; present && iv != nil {
			b, ok := iv.(bool)
			if !ok {
				add(invalidType("boolean", iv, clonePath(p, "inverted")))
			}
			inverted = b
		}
		conds, condIssues := parseConditions(subject, m["conditions"], clonePath(p, "conditions"))
		issues = append(issues, condIssues...)
		out = append(out, permissionRule{Subject: subject, Action: actions, Conditions: conds, Inverted: inverted})
	}
	return out, issues
}

// parseConditions keeps the condition fields the subject's schema declares.
func parseConditions(subject string, v any, path []any) (map[string]any, []zodIssue) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, []zodIssue{invalidType("object", v, path)}
	}
	var issues []zodIssue
	out := map[string]any{}
	for _, name := range conditionFields[subject] {
		cv, present := m[name]
		if !present {
			continue
		}
		fp := clonePath(path, name)
		switch x := cv.(type) {
		case string:
			if name == "secretTags" {
				issues = append(issues, invalidType("object", cv, fp))
				continue
			}
			out[name] = x
		case map[string]any:
			ops := map[string]any{}
			for _, op := range []string{"$eq", "$ne", "$glob"} {
				if ov, ok := x[op]; ok {
					s, isStr := ov.(string)
					if !isStr {
						issues = append(issues, invalidType("string", ov, clonePath(fp, op)))
						continue
					}
					if op == "$glob" {
						if _, err := compileGlob(s); err != nil {
							issues = append(issues, customIssue(clonePath(fp, op), "Invalid glob pattern"))
							continue
						}
					}
					ops[op] = s
				}
			}
			if ov, ok := x["$in"]; ok {
				list, isList := ov.([]any)
				if !isList {
					issues = append(issues, invalidType("array", ov, clonePath(fp, "$in")))
				} else {
					var ss []any
					for k, e := range list {
						s, isStr := e.(string)
						if !isStr || strings.TrimSpace(s) == "" {
							issues = append(issues, invalidType("string", e, clonePath(fp, "$in", k)))
							continue
						}
						ss = append(ss, s)
					}
					ops["$in"] = ss
				}
			}
			if len(ops) > 0 {
				out[name] = ops
			}
		default:
			issues = append(issues, zodIssue{Code: "invalid_union", Path: fp, Message: "Invalid input"})
		}
	}
	if len(out) == 0 {
		return nil, issues
	}
	return out, issues
}

// checkReadCombination is checkForInvalidPermissionCombination.
func checkReadCombination(rules []permissionRule) *apiError {
	for _, r := range rules {
		if r.Subject != subSecrets || !contains(r.Action, actRead) {
			continue
		}
		hasValue, hasDescribe := contains(r.Action, actReadValue), contains(r.Action, actDescribeSecret)
		if !hasValue && !hasDescribe {
			continue
		}
		which := "Read Value"
		switch {
		case hasValue && hasDescribe:
			which = "both Read Value and Describe Secret"
		case hasDescribe:
			which = "Describe Secret"
		}
		return errBadRequest("You have selected Read, and " + which + ". You cannot select Read Value or Describe Secret if you have selected Read. The Read permission is a legacy action which has been replaced by Describe Secret and Read Value.")
	}
	return nil
}

func sortedSubjects() []string {
	out := make([]string, 0, len(projectSubjects))
	for s := range projectSubjects {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func quoteJoin(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, " | ")
}

// normalizeRules round-trips rules through JSON so stored conditions hold
// plain JSON values (strings, []any) whatever the input was.
func normalizeRules(rules []permissionRule) []permissionRule {
	b, err := json.Marshal(rules)
	if err != nil {
		return rules
	}
	var out []permissionRule
	if err := json.Unmarshal(b, &out); err != nil {
		return rules
	}
	return out
}
