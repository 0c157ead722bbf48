package spec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/json"
)

// ConfigFile is the name of the repository configuration file.
const ConfigFile = "handoff.hcl"

// Config is the parsed handoff.hcl: connection settings and policy. It holds
// no secret; provisioner credentials come from the environment only.
//
// Each block is nil when absent. The same type holds the default policy file
// (schema/default-policy.hcl), which has only a policy block.
type Config struct {
	// Filename is the path of the file, as used in every range.
	Filename string
	// Incomplete is true when the file had errors, so some values may be
	// missing; checks that need the whole file skip rather than guess.
	Incomplete bool

	Infisical *InfisicalConfig // the vault; required by policy.Check
	GitHub    *GitHubConfig    // the App that mints tokens; required when a handoff uses github
	Policy    *PolicyConfig    // overrides of the default policy
}

// InfisicalConfig is the infisical block of handoff.hcl. SiteURL,
// OrganizationID and ProjectID may be omitted when the environment supplies
// them (INFISICAL_SITE_URL, INFISICAL_PROJECT_ID). HandoffRoot is the vault
// folder under which each handoff gets its own <HandoffRoot>/<slug>/.
type InfisicalConfig struct {
	DefRange       hcl.Range // the block header
	SiteURL        String    // base URL of the Infisical instance
	OrganizationID String    // organization owning the project
	ProjectID      String    // project holding the secrets
	Environment    String    // default environment slug of handoffs
	HandoffRoot    String    // absolute folder of the handoffs' own folders
}

// GitHubConfig is the github block of handoff.hcl: the API base URL
// (default https://api.github.com) and the id of the App that mints
// handoff tokens. The App's private key comes from the environment.
type GitHubConfig struct {
	DefRange hcl.Range // the block header
	APIURL   String    // REST API base URL; defaults to DefaultGitHubAPIURL
	AppID    Int       // id of the GitHub App
}

// PolicyConfig is a policy block. Each field is valid only when written, so
// that package policy can override its defaults field by field.
type PolicyConfig struct {
	// DefRange is the block header.
	DefRange hcl.Range
	// MaxTTL is the longest TTL a handoff may ask for (never above 24h).
	MaxTTL Duration
	// GitHubPermissions is the ceiling of GitHub permissions any handoff
	// may ask for (name → "read"|"write").
	GitHubPermissions StringMap
	// VaultReadRoots are vault folders a handoff may read besides its own.
	VaultReadRoots StringList
	// VaultReadEnvironments are the environment slugs a handoff's read
	// paths may be in. Unset, package policy allows only the environment
	// of the infisical block.
	VaultReadEnvironments StringList
}

// DefaultGitHubAPIURL is the api_url used when the github block omits it.
const DefaultGitHubAPIURL = "https://api.github.com"

var (
	configFileDef = &blockDef{
		name:   ConfigFile,
		blocks: []string{"infisical", "github", "policy"},
	}
	infisicalConfigDef = &blockDef{
		typ:  "infisical",
		name: "The infisical block of " + ConfigFile,
		attrs: []attrDef{
			{name: "site_url", example: `site_url = "https://app.infisical.com"`},
			{name: "organization_id", example: `organization_id = "org-raxx"`},
			{name: "project_id", example: `project_id = "proj-moosequest"`},
			{name: "environment", required: true, example: `environment = "staging"`},
			{name: "handoff_root", required: true, example: `handoff_root = "/MooseQuest/handoffs"`},
		},
	}
	githubConfigDef = &blockDef{
		typ:  "github",
		name: "The github block of " + ConfigFile,
		attrs: []attrDef{
			{name: "api_url", example: `api_url = "https://api.github.com"`},
			{name: "app_id", required: true, example: `app_id = 123456`},
		},
	}
	policyConfigDef = &blockDef{
		typ:  "policy",
		name: "A policy block",
		attrs: []attrDef{
			{name: "max_ttl", example: `max_ttl = "24h"`},
			{name: "github_permissions", example: `github_permissions = { contents = "write", pull_requests = "write", metadata = "read" }`},
			{name: "vault_read_roots", example: `vault_read_roots = ["/MooseQuest/queue/staging"]`},
			{name: "vault_read_environments", example: `vault_read_environments = ["staging"]`},
		},
	}
)

// ParseConfig parses handoff.hcl (or a file of the same language, such as
// the default policy). The syntax follows the name as for ParseHandoffFile.
// It returns a non-nil Config whenever the file is syntactically valid,
// marked Incomplete when other errors were found; nil on syntax errors.
func ParseConfig(filename string, src []byte) (*Config, hcl.Diagnostics) {
	file, diags := parseSyntax(filename, src)
	if diags.HasErrors() || file == nil || file.Body == nil {
		return nil, diags
	}
	d := &decoder{diags: diags}
	top := d.content(file.Body, configFileDef, FileRange(filename))
	cfg := &Config{Filename: filename}
	if blk := d.single(top, "infisical"); blk != nil {
		b := d.content(blk.Body, infisicalConfigDef, blk.DefRange)
		cfg.Infisical = &InfisicalConfig{
			DefRange:       blk.DefRange,
			SiteURL:        d.str(b, "site_url", ""),
			OrganizationID: d.str(b, "organization_id", ""),
			ProjectID:      d.str(b, "project_id", ""),
			Environment:    d.str(b, "environment", ""),
			HandoffRoot:    d.str(b, "handoff_root", ""),
		}
	}
	if blk := d.single(top, "github"); blk != nil {
		b := d.content(blk.Body, githubConfigDef, blk.DefRange)
		cfg.GitHub = &GitHubConfig{
			DefRange: blk.DefRange,
			APIURL:   d.str(b, "api_url", DefaultGitHubAPIURL),
			AppID:    d.integer(b, "app_id"),
		}
	}
	if blk := d.single(top, "policy"); blk != nil {
		b := d.content(blk.Body, policyConfigDef, blk.DefRange)
		cfg.Policy = &PolicyConfig{
			DefRange:              blk.DefRange,
			MaxTTL:                d.duration(b, "max_ttl", ""),
			GitHubPermissions:     d.strMap(b, "github_permissions"),
			VaultReadRoots:        d.list(b, "vault_read_roots"),
			VaultReadEnvironments: d.list(b, "vault_read_environments"),
		}
	}
	cfg.Incomplete = d.diags.HasErrors()
	return cfg, d.diags
}

// parseSyntax parses src as HCL JSON when filename ends in ".json" and as
// native HCL otherwise.
func parseSyntax(filename string, src []byte) (*hcl.File, hcl.Diagnostics) {
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(filename, ".json") {
		f, diags = json.Parse(src, filename)
	} else {
		f, diags = hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	for _, d := range diags {
		if hint, ok := syntaxHints[d.Summary]; ok {
			d.Detail = strings.TrimSpace(d.Detail) + " " + hint
		}
	}
	return f, diags
}

// syntaxHints complete the parser's messages for common syntax errors with
// what to do about them.
var syntaxHints = map[string]string{
	"Invalid expression":                    "Write a value after the equals sign: a quoted string, a number, a list [...] or a map { ... }.",
	"Trailing comma in object":              "Remove the comma after the last property.",
	"Trailing comma in array":               "Remove the comma after the last element.",
	"Unterminated template string":          "Close the string with a double quote on the same line.",
	"Missing newline after argument":        "Put each argument on its own line, or separate map items with commas.",
	"Argument or block definition required": "Each line holds name = value or a block name { ... }; check the line for a stray character.",
}
