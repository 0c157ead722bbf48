package manifest

import (
	"regexp"
	"time"
)

// fastSchemaDigest is the SHA-256 of schema/manifest.schema.json that
// fastValid was written from. TestFastCheckFollowsSchema fails when the
// schema changes: update fastValid with it, then this digest.
const fastSchemaDigest = "8e9bb5c6c9c160070e451a95b6bf8b47d8b9d5d88daa21113549c4e827c0f29b"

// fastValid reports whether doc (a manifest decoded by encoding/json into
// `any`) is valid against schema/manifest.schema.json, the way the schema
// validator would say, at a small fraction of its cost: a plan reads every
// manifest of the handoff root, and validating them with the generic
// validator was a third of a no-change plan's CPU.
//
// It may say false for a valid document (then Parse asks the schema
// validator, which decides and explains), never true for an invalid one:
// TestFastCheckAgreesWithSchema checks both verdicts on thousands of
// mutated manifests.
func fastValid(doc any) bool {
	m, ok := doc.(map[string]any)
	if !ok || !onlyKeys(m, topKeys) || !hasKeys(m, topRequired) {
		return false
	}
	if n, ok := m["schema_version"].(float64); !ok || n != 1 {
		return false
	}
	if !matches(m["slug"], slugRE) || !nonEmpty(m["spec_file"]) || !matches(m["spec_digest"], digestRE) ||
		!nonEmpty(m["approved_by"]) || !dateTime(m["created_at"]) || !dateTime(m["updated_at"]) || !dateTime(m["expires_at"]) {
		return false
	}
	if v, ok := m["card"]; ok && !integerAtLeast(v, 1) {
		return false
	}
	if v, ok := m["git_commit"]; ok && !matches(v, gitCommitRE) {
		return false
	}
	switch m["status"] {
	case "active":
	case "revoked":
		if _, ok := m["revocation"]; !ok {
			return false
		}
	default:
		return false
	}
	if v, ok := m["revocation"]; ok && !revocationValid(v) {
		return false
	}
	if !secretsValid(m["secrets"]) || !surfacesValid(m["surfaces"]) {
		return false
	}
	if v, ok := m["history"]; ok {
		list, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range list {
			if !eventValid(e) {
				return false
			}
		}
	}
	return true
}

var (
	topKeys = keySet("schema_version", "slug", "card", "spec_file", "spec_digest", "git_commit", "approved_by",
		"created_at", "updated_at", "expires_at", "status", "revocation", "secrets", "surfaces", "history")
	topRequired = []string{"schema_version", "slug", "spec_file", "spec_digest", "approved_by", "created_at",
		"updated_at", "expires_at", "status", "secrets", "surfaces"}
	revocationKeys = keySet("at", "kind", "reason", "by", "surfaces", "untombstoned_at")
	eventKeys      = keySet("at", "action", "surface", "detail", "fingerprint", "git_commit")
	githubKeys     = keySet("installation_id", "repository", "repository_id", "permissions", "secret",
		"token_expires_at", "token_fingerprint", "minted_at")
	githubRequired = []string{"installation_id", "repository", "permissions", "secret", "token_expires_at", "token_fingerprint"}
	infisicalKeys  = keySet("identity_id", "identity_name", "universal_auth_id", "client_secret_id", "membership_id",
		"privilege_id", "environment", "read_paths", "client_secret_expires_at", "client_id_secret", "client_secret_secret")
	infisicalRequired = []string{"identity_id", "identity_name", "environment", "read_paths"}
	mcpKeys           = keySet("allow", "exclude")

	slugRE        = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{1,61})[a-z0-9]$`)
	digestRE      = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{12}$`)
	secretNameRE  = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	gitCommitRE   = regexp.MustCompile(`^([0-9a-f]{7,64})?$`)
	surfaceNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	repositoryRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	absPathRE     = regexp.MustCompile(`^/`)
	// dateTimeRE is RFC 3339's date-time, upper case only; time.Parse then
	// checks the ranges (a date-time it refuses goes to the schema
	// validator, which may accept a leap second or lower-case t and z).
	dateTimeRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)
)

func revocationValid(v any) bool {
	r, ok := v.(map[string]any)
	if !ok || !onlyKeys(r, revocationKeys) || !hasKeys(r, []string{"at", "reason", "kind"}) {
		return false
	}
	switch r["kind"] {
	case "expired", "deleted", "manual":
	default:
		return false
	}
	if !dateTime(r["at"]) || !isString(r["reason"]) {
		return false
	}
	if v, ok := r["by"]; ok && !isString(v) {
		return false
	}
	if v, ok := r["surfaces"]; ok && !stringList(v, nil) {
		return false
	}
	if v, ok := r["untombstoned_at"]; ok && !dateTime(v) {
		return false
	}
	return true
}

func eventValid(v any) bool {
	e, ok := v.(map[string]any)
	if !ok || !onlyKeys(e, eventKeys) || !hasKeys(e, []string{"at", "action"}) || !dateTime(e["at"]) {
		return false
	}
	switch e["action"] {
	case "create", "refresh", "replace", "revoke", "adopt", "untombstone":
	default:
		return false
	}
	for _, k := range []string{"surface", "detail", "git_commit"} {
		if v, ok := e[k]; ok && !isString(v) {
			return false
		}
	}
	if v, ok := e["fingerprint"]; ok && !matches(v, fingerprintRE) {
		return false
	}
	return true
}

func secretsValid(v any) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok || !secretNameRE.MatchString(s) || seen[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

func surfacesValid(v any) bool {
	s, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for name, rec := range s {
		if !surfaceNameRE.MatchString(name) {
			return false
		}
		var valid bool
		switch name {
		case "github":
			valid = githubValid(rec)
		case "infisical":
			valid = infisicalValid(rec)
		case "mcp":
			valid = mcpValid(rec)
		default:
			valid = genericValid(rec)
		}
		if !valid {
			return false
		}
	}
	return true
}

func githubValid(v any) bool {
	g, ok := v.(map[string]any)
	if !ok || !onlyKeys(g, githubKeys) || !hasKeys(g, githubRequired) {
		return false
	}
	if !integerAtLeast(g["installation_id"], 1) || !matches(g["repository"], repositoryRE) ||
		!matches(g["secret"], secretNameRE) || !dateTime(g["token_expires_at"]) || !matches(g["token_fingerprint"], fingerprintRE) {
		return false
	}
	if v, ok := g["repository_id"]; ok && !integerAtLeast(v, 1) {
		return false
	}
	if v, ok := g["minted_at"]; ok && !dateTime(v) {
		return false
	}
	perms, ok := g["permissions"].(map[string]any)
	if !ok {
		return false
	}
	for _, level := range perms {
		if level != "read" && level != "write" {
			return false
		}
	}
	return true
}

func infisicalValid(v any) bool {
	r, ok := v.(map[string]any)
	if !ok || !onlyKeys(r, infisicalKeys) || !hasKeys(r, infisicalRequired) {
		return false
	}
	if !nonEmpty(r["identity_id"]) || !nonEmpty(r["identity_name"]) || !nonEmpty(r["environment"]) ||
		!stringList(r["read_paths"], absPathRE) {
		return false
	}
	for _, k := range []string{"universal_auth_id", "client_secret_id", "membership_id", "privilege_id"} {
		if v, ok := r[k]; ok && !isString(v) {
			return false
		}
	}
	if v, ok := r["client_secret_expires_at"]; ok && !dateTime(v) {
		return false
	}
	for _, k := range []string{"client_id_secret", "client_secret_secret"} {
		if v, ok := r[k]; ok && !matches(v, secretNameRE) {
			return false
		}
	}
	return true
}

func mcpValid(v any) bool {
	r, ok := v.(map[string]any)
	if !ok || !onlyKeys(r, mcpKeys) {
		return false
	}
	for _, k := range []string{"allow", "exclude"} {
		if v, ok := r[k]; ok && !stringList(v, nil) {
			return false
		}
	}
	return true
}

// genericValid: an object whose values are anything but null.
func genericValid(v any) bool {
	r, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, e := range r {
		if e == nil {
			return false
		}
	}
	return true
}

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func onlyKeys(m map[string]any, allowed map[string]bool) bool {
	for k := range m {
		if !allowed[k] {
			return false
		}
	}
	return true
}

func hasKeys(m map[string]any, required []string) bool {
	for _, k := range required {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

func isString(v any) bool { _, ok := v.(string); return ok }

func nonEmpty(v any) bool { s, ok := v.(string); return ok && s != "" }

func matches(v any, re *regexp.Regexp) bool { s, ok := v.(string); return ok && re.MatchString(s) }

// integerAtLeast: a JSON number with no fraction, at least min, and small
// enough that float64 holds it exactly.
func integerAtLeast(v any, min float64) bool {
	n, ok := v.(float64)
	return ok && n == float64(int64(n)) && n >= min && n < 1<<53
}

func dateTime(v any) bool {
	s, ok := v.(string)
	if !ok || !dateTimeRE.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// stringList: an array of strings, each matching re when given.
func stringList(v any, re *regexp.Regexp) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range list {
		s, ok := e.(string)
		if !ok || (re != nil && !re.MatchString(s)) {
			return false
		}
	}
	return true
}
