package infisical

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ActionRead is the secret action a handoff's privilege grants: the legacy
// alias of describeSecret plus readValue, observed to work on a running
// Infisical server and accepted by every version.
const ActionRead = "read"

// SubjectSecrets is the permission subject of secrets.
const SubjectSecrets = "secrets"

// Cond is a condition on one field of a permission rule: equality or a
// glob. The zero Cond means "no condition on this field".
type Cond struct {
	Op    string // "$eq" or "$glob" (also "$ne", "$in" when read back)
	Value string
}

// Eq is the condition "field equals v".
func Eq(v string) Cond { return Cond{Op: "$eq", Value: v} }

// Glob is the condition "field matches the glob v" (picomatch syntax on the
// server: '*' within a segment, "**" across segments).
func Glob(v string) Cond { return Cond{Op: "$glob", Value: v} }

// IsZero reports whether the condition is absent.
func (c Cond) IsZero() bool { return c.Op == "" }

// String is "$glob /a/**".
func (c Cond) String() string {
	if c.IsZero() {
		return "any"
	}
	return c.Op + " " + c.Value
}

// MarshalJSON writes {"$op": value}.
func (c Cond) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{c.Op: c.Value})
}

// UnmarshalJSON reads a plain string (equality) or an operator object.
func (c *Cond) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*c = Eq(s)
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, op := range []string{"$eq", "$glob", "$ne", "$in"} {
		raw, ok := m[op]
		if !ok {
			continue
		}
		if json.Unmarshal(raw, &s) == nil {
			*c = Cond{Op: op, Value: s}
			return nil
		}
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("condition %s: %w", op, err)
		}
		*c = Cond{Op: op, Value: strings.Join(list, ",")}
		return nil
	}
	*c = Cond{}
	return nil
}

// Rule is one permission rule of a privilege (Infisical's v2 "packed" CASL
// rule).
type Rule struct {
	Subject     string
	Actions     []string
	Environment string // environment slug; "" = any (never for a handoff)
	SecretPath  Cond
	SecretName  Cond
	Inverted    bool
}

// String is a compact form for plans and tests: "read secrets in staging
// where secretPath $glob /a/** and secretName $glob K_*".
func (r Rule) String() string {
	var b strings.Builder
	if r.Inverted {
		b.WriteString("deny ")
	}
	fmt.Fprintf(&b, "%s %s", strings.Join(r.Actions, ","), r.Subject)
	if r.Environment != "" {
		fmt.Fprintf(&b, " in %s", r.Environment)
	}
	var where []string
	if !r.SecretPath.IsZero() {
		where = append(where, "secretPath "+r.SecretPath.String())
	}
	if !r.SecretName.IsZero() {
		where = append(where, "secretName "+r.SecretName.String())
	}
	if len(where) > 0 {
		b.WriteString(" where " + strings.Join(where, " and "))
	}
	return b.String()
}

type wireConditions struct {
	Environment *Cond `json:"environment,omitempty"`
	SecretPath  *Cond `json:"secretPath,omitempty"`
	SecretName  *Cond `json:"secretName,omitempty"`
}

type wireRule struct {
	Subject    string          `json:"subject"`
	Action     json.RawMessage `json:"action"`
	Conditions *wireConditions `json:"conditions,omitempty"`
	Inverted   bool            `json:"inverted,omitempty"`
}

func (r Rule) wire() map[string]any {
	m := map[string]any{"subject": r.Subject, "action": r.Actions}
	cond := map[string]any{}
	if r.Environment != "" {
		// A plain string: the form observed on a running server.
		cond["environment"] = r.Environment
	}
	if !r.SecretPath.IsZero() {
		cond["secretPath"] = r.SecretPath
	}
	if !r.SecretName.IsZero() {
		cond["secretName"] = r.SecretName
	}
	if len(cond) > 0 {
		m["conditions"] = cond
	}
	if r.Inverted {
		m["inverted"] = true
	}
	return m
}

func (w wireRule) rule() Rule {
	r := Rule{Subject: w.Subject, Inverted: w.Inverted}
	var one string
	if json.Unmarshal(w.Action, &one) == nil {
		r.Actions = []string{one}
	} else {
		_ = json.Unmarshal(w.Action, &r.Actions)
	}
	if w.Conditions != nil {
		if e := w.Conditions.Environment; e != nil {
			r.Environment = e.Value
		}
		if p := w.Conditions.SecretPath; p != nil {
			r.SecretPath = *p
		}
		if n := w.Conditions.SecretName; n != nil {
			r.SecretName = *n
		}
	}
	return r
}

// ReadRules builds the rules of a handoff's privilege: read its own folder
// (and everything below it) and each spec read path, all in env.
//
// A read path is a folder followed by a secret name, a name prefix ending
// in '*', or "**":
//
//	/MooseQuest/queue/staging/APPLE_IAP_*  → secretPath $eq /MooseQuest/queue/staging, secretName $glob APPLE_IAP_*
//	/MooseQuest/queue/staging/API_KEY      → secretPath $eq /MooseQuest/queue/staging, secretName $eq API_KEY
//	/MooseQuest/queue/staging/*            → every secret directly in that folder
//	/MooseQuest/queue/staging/**           → secretPath $glob /MooseQuest/queue/staging/** (the folder and below)
//
// The own folder uses "<folder>/**", which the server matches against the
// folder itself as well as its sub-folders. Duplicates are dropped.
func ReadRules(env, ownFolder string, readPaths []string) []Rule {
	read := func() []string { return []string{ActionRead} }
	rules := make([]Rule, 0, 1+len(readPaths))
	seen := map[string]bool{}
	add := func(r Rule) {
		if k := r.String(); !seen[k] {
			seen[k] = true
			rules = append(rules, r)
		}
	}
	if ownFolder != "" {
		add(Rule{Subject: SubjectSecrets, Actions: read(), Environment: env, SecretPath: Glob(strings.TrimSuffix(cleanPath(ownFolder), "/") + "/**")})
	}
	for _, p := range readPaths {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.HasSuffix(p, "/**") {
			add(Rule{Subject: SubjectSecrets, Actions: read(), Environment: env, SecretPath: Glob(cleanPath(strings.TrimSuffix(p, "/**")) + "/**")})
			continue
		}
		dir, name := path.Split(cleanPath(p))
		r := Rule{Subject: SubjectSecrets, Actions: read(), Environment: env, SecretPath: Eq(cleanPath(dir))}
		if strings.Contains(name, "*") {
			r.SecretName = Glob(name)
		} else {
			r.SecretName = Eq(name)
		}
		add(r)
	}
	return rules
}

// Temporary makes a privilege expire: it grants from Start for Range, after
// which the server stops honouring it even if nobody deletes it.
type Temporary struct {
	Start time.Time
	Range time.Duration
}

// End is when the privilege stops granting.
func (t Temporary) End() time.Time { return t.Start.Add(t.Range) }

// Privilege is an additional privilege of an identity in the project.
type Privilege struct {
	ID         string
	Slug       string
	IdentityID string
	ProjectID  string
	// Temporary privileges grant from Start to End only.
	Temporary  bool
	Start, End time.Time
	Range      time.Duration
	// Rules are the permissions; empty when listed (the list omits them).
	Rules     []Rule
	CreatedAt time.Time
}

type wirePrivilege struct {
	ID                       string     `json:"id"`
	Slug                     string     `json:"slug"`
	IdentityID               string     `json:"identityId"`
	ProjectID                string     `json:"projectId"`
	IsTemporary              bool       `json:"isTemporary"`
	TemporaryRange           *string    `json:"temporaryRange"`
	TemporaryAccessStartTime *time.Time `json:"temporaryAccessStartTime"`
	TemporaryAccessEndTime   *time.Time `json:"temporaryAccessEndTime"`
	Permissions              []wireRule `json:"permissions"`
	CreatedAt                time.Time  `json:"createdAt"`
}

func (w wirePrivilege) privilege() Privilege {
	p := Privilege{ID: w.ID, Slug: w.Slug, IdentityID: w.IdentityID, ProjectID: w.ProjectID, Temporary: w.IsTemporary, CreatedAt: w.CreatedAt}
	if w.TemporaryAccessStartTime != nil {
		p.Start = *w.TemporaryAccessStartTime
	}
	if w.TemporaryRange != nil {
		p.Range, _ = ParseMsDuration(*w.TemporaryRange)
	}
	switch {
	case w.TemporaryAccessEndTime != nil:
		p.End = *w.TemporaryAccessEndTime
	case p.Temporary && !p.Start.IsZero() && p.Range > 0:
		p.End = p.Start.Add(p.Range)
	}
	for _, r := range w.Permissions {
		p.Rules = append(p.Rules, r.rule())
	}
	return p
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// PrivilegeSlug derives a valid privilege slug (lower-case, at most 60
// characters) from a handoff slug: "handoff-<slug>", shortened with a hash
// suffix when too long.
func PrivilegeSlug(handoffSlug string) string {
	s := "handoff-" + strings.ToLower(handoffSlug)
	if len(s) <= 60 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return strings.TrimRight(s[:51], "-") + "-" + hex.EncodeToString(sum[:])[:8]
}

// CreatePrivilege grants an identity the rules in the project, permanently
// when temporary is nil, else from temporary.Start for temporary.Range (at
// least one second; sent in whole seconds or larger units). The identity
// must already be a project member.
func (c *Client) CreatePrivilege(ctx context.Context, identityID, slug string, rules []Rule, temporary *Temporary) (Privilege, error) {
	const op = "create privilege"
	if err := c.needProject(op); err != nil {
		return Privilege{}, err
	}
	if identityID == "" {
		return Privilege{}, fmt.Errorf("infisical: %s: empty identity id", op)
	}
	if len(slug) > 60 || !slugRE.MatchString(slug) {
		return Privilege{}, fmt.Errorf("infisical: %s: slug %q must be 1 to 60 lower-case letters, digits and hyphens (see PrivilegeSlug)", op, slug)
	}
	perms, err := wireRules(op, slug, rules)
	if err != nil {
		return Privilege{}, err
	}
	typ, err := c.wireType(op, slug, temporary)
	if err != nil {
		return Privilege{}, err
	}
	body := map[string]any{"identityId": identityID, "projectId": c.cfg.ProjectID, "slug": slug, "permissions": perms, "type": typ}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		Privilege *wirePrivilege `json:"privilege"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodPost, path: "/api/v2/identity-project-additional-privilege", body: body, identityID: identityID}, &out); err != nil {
		return Privilege{}, err
	}
	if out.Privilege == nil {
		return Privilege{}, fmt.Errorf("infisical: %s %s: %w", op, slug, errNoAnswer)
	}
	p := out.Privilege.privilege()
	if len(p.Rules) == 0 {
		p.Rules = rules
	}
	return p, nil
}

// wireRules is the permissions array of a privilege's body.
func wireRules(op, slug string, rules []Rule) ([]map[string]any, error) {
	if len(rules) == 0 {
		return nil, fmt.Errorf("infisical: %s %s: no rules", op, slug)
	}
	perms := make([]map[string]any, 0, len(rules))
	for _, r := range rules {
		if r.Subject == "" || len(r.Actions) == 0 {
			return nil, fmt.Errorf("infisical: %s %s: rule %q lacks a subject or actions", op, slug, r)
		}
		perms = append(perms, r.wire())
	}
	return perms, nil
}

// wireType is the type object of a privilege's body: permanent when
// temporary is nil.
func (c *Client) wireType(op, slug string, temporary *Temporary) (map[string]any, error) {
	if temporary == nil {
		return map[string]any{"isTemporary": false}, nil
	}
	if temporary.Range < time.Second {
		return nil, fmt.Errorf("infisical: %s %s: temporary range %s is shorter than a second", op, slug, temporary.Range)
	}
	start := temporary.Start
	if start.IsZero() {
		start = c.now()
	}
	return map[string]any{
		"isTemporary":              true,
		"temporaryMode":            "relative",
		"temporaryRange":           FormatMsDuration(temporary.Range),
		"temporaryAccessStartTime": start.UTC().Format(time.RFC3339),
	}, nil
}

// UpdatePrivilege replaces, in place, the rules of a privilege (PATCH
// /api/v2/identity-project-additional-privilege/{id}); its id stays, and
// slug (its current slug, as GetPrivilege returns it) keeps its name. A
// real server requires slug, permissions and type in this body (it answers
// 422 naming each one missing). The type is temporary from
// temporary.Start for temporary.Range (the window it had, to keep it), or
// permanent when temporary is nil. A missing privilege is an error for
// which IsNotFound holds.
func (c *Client) UpdatePrivilege(ctx context.Context, privilegeID, slug string, rules []Rule, temporary *Temporary) (Privilege, error) {
	const op = "update privilege"
	if privilegeID == "" {
		return Privilege{}, fmt.Errorf("infisical: %s: empty privilege id", op)
	}
	if slug == "" || len(slug) > 60 {
		// Sent as the server has it (it may predate handoff's slugs).
		return Privilege{}, fmt.Errorf("infisical: %s %s: the privilege's slug is required (1 to 60 characters), got %q", op, privilegeID, slug)
	}
	perms, err := wireRules(op, privilegeID, rules)
	if err != nil {
		return Privilege{}, err
	}
	typ, err := c.wireType(op, privilegeID, temporary)
	if err != nil {
		return Privilege{}, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		Privilege *wirePrivilege `json:"privilege"`
	}
	// Every field is set to a fixed value: repeating it is harmless.
	body := map[string]any{"slug": slug, "permissions": perms, "type": typ}
	if err := c.do(ctx, &call{op: op, method: http.MethodPatch, path: privilegePath(privilegeID), body: body, idempotent: true}, &out); err != nil {
		return Privilege{}, err
	}
	if out.Privilege == nil {
		return Privilege{}, fmt.Errorf("infisical: %s %s: %w", op, privilegeID, errNoAnswer)
	}
	p := out.Privilege.privilege()
	if len(p.Rules) == 0 {
		p.Rules = rules
	}
	return p, nil
}

// GetPrivilege returns a privilege with its rules; a missing one is an error
// for which IsNotFound holds.
func (c *Client) GetPrivilege(ctx context.Context, privilegeID string) (Privilege, error) {
	const op = "get privilege"
	if privilegeID == "" {
		return Privilege{}, fmt.Errorf("infisical: %s: empty privilege id", op)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		Privilege *wirePrivilege `json:"privilege"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: privilegePath(privilegeID)}, &out); err != nil {
		return Privilege{}, err
	}
	if out.Privilege == nil {
		return Privilege{}, fmt.Errorf("infisical: %s %s: %w", op, privilegeID, errNoAnswer)
	}
	return out.Privilege.privilege(), nil
}

// ListPrivileges returns the additional privileges of an identity in the
// project (without rules: the server omits them in lists).
func (c *Client) ListPrivileges(ctx context.Context, identityID string) ([]Privilege, error) {
	const op = "list privileges"
	if err := c.needProject(op); err != nil {
		return nil, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		Privileges []wirePrivilege `json:"privileges"`
	}
	q := url.Values{"identityId": {identityID}, "projectId": {c.cfg.ProjectID}}
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: "/api/v2/identity-project-additional-privilege", query: q, identityID: identityID}, &out); err != nil {
		return nil, err
	}
	res := make([]Privilege, 0, len(out.Privileges))
	for _, w := range out.Privileges {
		res = append(res, w.privilege())
	}
	return res, nil
}

// DeletePrivilege deletes a privilege; one already gone is not an error.
func (c *Client) DeletePrivilege(ctx context.Context, privilegeID string) error {
	const op = "delete privilege"
	if privilegeID == "" {
		return fmt.Errorf("infisical: %s: empty privilege id", op)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	err := c.do(ctx, &call{op: op, method: http.MethodDelete, path: privilegePath(privilegeID)}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

func privilegePath(id string) string {
	return "/api/v2/identity-project-additional-privilege/" + url.PathEscape(id)
}

// FormatMsDuration writes d in the single-unit form of the "ms" library the
// server parses ("2h", "90m", "20s"): ms does not read compound durations
// such as "1h30m". d is rounded down to whole seconds.
func FormatMsDuration(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s > 0 && s%86400 == 0:
		return strconv.FormatInt(s/86400, 10) + "d"
	case s > 0 && s%3600 == 0:
		return strconv.FormatInt(s/3600, 10) + "h"
	case s > 0 && s%60 == 0:
		return strconv.FormatInt(s/60, 10) + "m"
	}
	return strconv.FormatInt(s, 10) + "s"
}

var msRE = regexp.MustCompile(`(?i)^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$`)

// ParseMsDuration reads a duration in the "ms" library's syntax ("2h",
// "20s", "1d", "1.5 hours", or bare milliseconds).
func ParseMsDuration(s string) (time.Duration, error) {
	m := msRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	unit := time.Millisecond
	switch u := strings.ToLower(m[2]); {
	case u == "" || strings.HasPrefix(u, "ms") || strings.HasPrefix(u, "msec") || strings.HasPrefix(u, "milli"):
	case strings.HasPrefix(u, "s"):
		unit = time.Second
	case strings.HasPrefix(u, "m"):
		unit = time.Minute
	case strings.HasPrefix(u, "h"):
		unit = time.Hour
	case strings.HasPrefix(u, "d"):
		unit = 24 * time.Hour
	case strings.HasPrefix(u, "w"):
		unit = 7 * 24 * time.Hour
	case strings.HasPrefix(u, "y"):
		unit = time.Duration(365.25 * 24 * float64(time.Hour))
	}
	return time.Duration(n * float64(unit)), nil
}
