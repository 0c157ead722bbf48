package vsim

import (
	"fmt"
	"os"
	"path/filepath"
)

// ConfigHCL is the handoff.hcl of a generated GitOps directory: the one of
// the project's root. Site URL, project, GitHub API URL and App id come
// from the environment the dev servers give (INFISICAL_SITE_URL,
// INFISICAL_PROJECT_ID, INFISICAL_ORGANIZATION_ID, HANDOFF_GITHUB_API_URL,
// HANDOFF_GITHUB_APP_ID), which override these values.
const ConfigHCL = `# Written by tools/benchrun. Connection settings come from the dev servers'
# environment, which overrides site_url, organization_id, project_id,
# api_url and app_id.

infisical {
  site_url        = "https://app.infisical.com"
  organization_id = "org-raxx"
  project_id      = "proj-moosequest"
  environment     = "staging"
  handoff_root    = "/MooseQuest/handoffs"
}

github {
  api_url = "https://api.github.com"
  app_id  = 424242
}

policy {
  max_ttl = "24h"

  github_permissions = {
    contents      = "write"
    pull_requests = "write"
    issues        = "write"
    metadata      = "read"
  }

  vault_read_roots = ["/MooseQuest/queue/staging"]

  github_owners = ["raxx-app"]
}
`

// SpecSlug is the slug of the i-th generated handoff.
func SpecSlug(i int) string { return fmt.Sprintf("bench-%05d-20260621", i) }

// SpecHCL is the i-th generated spec, shaped like
// specs/iap-notif-handler-20260621.hcl: a GitHub installation token on the
// dev fixtures' repository, the handoff's own Infisical identity with a read
// grant, the pre-provisioned App Store keys and MCP lists, so that an apply
// mints real tokens and identities on the dev servers.
func SpecHCL(i int) string {
	return fmt.Sprintf(`handoff %q {
  card        = %d
  description = "Generated benchmark task %d"
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write", issues = "write" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/APPLE_IAP_*"]
  }

  apple_iap {
    environment = "sandbox"
    bundle_id   = "com.raxx.trademaster"
  }

  mcp {
    allow   = ["github_pr_create", "github_pr_comment", "infisical_get_secret"]
    exclude = ["filesystem_write_outside_worktree", "stripe_charge", "heroku_scale"]
  }
}
`, SpecSlug(i), 10000+i, i)
}

// WriteRepo writes a GitOps directory of n handoffs under dir: handoff.hcl
// and specs/<slug>.hcl.
func WriteRepo(dir string, n int) error {
	specs := filepath.Join(dir, "specs")
	if err := os.MkdirAll(specs, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "handoff.hcl"), []byte(ConfigHCL), 0o644); err != nil {
		return err
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(specs, SpecSlug(i)+".hcl"), []byte(SpecHCL(i)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// TerraformConfig is a terraform (or OpenTofu) configuration of n terraform_data resources
// (built into terraform and OpenTofu: init downloads nothing).
func TerraformConfig(n int) string {
	var b []byte
	for i := range n {
		b = fmt.Appendf(b, "resource \"terraform_data\" %q {\n  input = %q\n}\n\n", fmt.Sprintf("r%05d", i), SpecSlug(i))
	}
	return string(b)
}
