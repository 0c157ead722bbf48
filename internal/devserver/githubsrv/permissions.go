package githubsrv

import (
	"fmt"
	"strings"
)

// appPermissionLevels lists every GitHub App permission of the contract's
// `app-permissions` schema with the levels GitHub accepts for it.
var appPermissionLevels = map[string][]string{
	"actions":                              {"read", "write"},
	"administration":                       {"read", "write"},
	"artifact_metadata":                    {"read", "write"},
	"attestations":                         {"read", "write"},
	"checks":                               {"read", "write"},
	"code_quality":                         {"read", "write"},
	"codespaces":                           {"read", "write"},
	"contents":                             {"read", "write"},
	"dependabot_secrets":                   {"read", "write"},
	"deployments":                          {"read", "write"},
	"discussions":                          {"read", "write"},
	"environments":                         {"read", "write"},
	"issues":                               {"read", "write"},
	"merge_queues":                         {"read", "write"},
	"metadata":                             {"read", "write"},
	"packages":                             {"read", "write"},
	"pages":                                {"read", "write"},
	"pull_requests":                        {"read", "write"},
	"repository_custom_properties":         {"read", "write"},
	"repository_hooks":                     {"read", "write"},
	"repository_projects":                  {"read", "write", "admin"},
	"secret_scanning_alerts":               {"read", "write"},
	"secrets":                              {"read", "write"},
	"security_events":                      {"read", "write"},
	"single_file":                          {"read", "write"},
	"statuses":                             {"read", "write"},
	"vulnerability_alerts":                 {"read", "write"},
	"workflows":                            {"write"},
	"custom_properties_for_organizations":  {"read", "write"},
	"members":                              {"read", "write"},
	"organization_administration":          {"read", "write"},
	"organization_custom_roles":            {"read", "write"},
	"organization_custom_org_roles":        {"read", "write"},
	"organization_custom_properties":       {"read", "write", "admin"},
	"organization_copilot_seat_management": {"read", "write"},
	"organization_copilot_agent_settings":  {"read", "write"},
	"organization_announcement_banners":    {"read", "write"},
	"organization_events":                  {"read"},
	"organization_hooks":                   {"read", "write"},
	"organization_personal_access_tokens":  {"read", "write"},
	"organization_personal_access_token_requests": {"read", "write"},
	"organization_plan":                           {"read"},
	"organization_projects":                       {"read", "write", "admin"},
	"organization_packages":                       {"read", "write"},
	"organization_secrets":                        {"read", "write"},
	"organization_self_hosted_runners":            {"read", "write"},
	"organization_user_blocking":                  {"read", "write"},
	"email_addresses":                             {"read", "write"},
	"followers":                                   {"read", "write"},
	"git_ssh_keys":                                {"read", "write"},
	"gpg_keys":                                    {"read", "write"},
	"interaction_limits":                          {"read", "write"},
	"profile":                                     {"write"},
	"starring":                                    {"read", "write"},
	"enterprise_custom_properties_for_organizations": {"read", "write", "admin"},
}

// Permission levels, ordered: a higher level includes the lower ones.
const (
	levelNone = iota
	levelRead
	levelWrite
	levelAdmin
)

// permLevel returns the rank of a permission level ("read" < "write" <
// "admin"); unknown levels rank as none.
func permLevel(level string) int {
	switch level {
	case "read":
		return levelRead
	case "write":
		return levelWrite
	case "admin":
		return levelAdmin
	}
	return levelNone
}

// hasPerm reports whether perms grant name at least at level min.
func hasPerm(perms map[string]string, name string, min int) bool {
	return permLevel(perms[name]) >= min
}

// validLevel reports whether level is one GitHub accepts for permission name.
func validLevel(name, level string) bool {
	for _, l := range appPermissionLevels[name] {
		if l == level {
			return true
		}
	}
	return false
}

// checkPermissionSet validates a permission map of a fixture.
func checkPermissionSet(what string, perms map[string]string) error {
	for name, level := range perms {
		if _, ok := appPermissionLevels[name]; !ok {
			return fmt.Errorf("%s: unknown permission %q", what, name)
		}
		if !validLevel(name, level) {
			return fmt.Errorf("%s: permission %s cannot be %q (want one of %s)", what, name, level, strings.Join(appPermissionLevels[name], ", "))
		}
	}
	return nil
}

// within reports whether every permission of inner is granted by outer.
func within(inner, outer map[string]string) bool {
	for name, level := range inner {
		if permLevel(outer[name]) < permLevel(level) {
			return false
		}
	}
	return true
}

func clonePerms(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// acceptedPermissions renders the X-Accepted-GitHub-Permissions header GitHub
// sends with a 403: alternative permission sets separated by "; ", e.g.
// "issues=write; pull_requests=write".
func acceptedPermissions(alternatives ...string) string {
	return strings.Join(alternatives, "; ")
}
