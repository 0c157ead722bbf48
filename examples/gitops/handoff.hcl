# Connection settings and policy of the handoffs in specs/. No secrets here:
# the provisioner's credentials come from the environment only
# (INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET, GITHUB_APP_PRIVATE_KEY or
# GITHUB_APP_PRIVATE_KEY_FILE, CLOUDFLARE_API_TOKEN), which the workflow
# fills from Actions secrets.
# Reference of every block and argument: docs/spec-reference.md.

infisical {
  site_url        = "https://app.infisical.com" # env INFISICAL_SITE_URL overrides
  organization_id = "org-raxx"                  # env INFISICAL_ORGANIZATION_ID overrides
  project_id      = "proj-moosequest"           # env INFISICAL_PROJECT_ID overrides
  environment     = "staging"
  handoff_root    = "/MooseQuest/handoffs" # each handoff gets <handoff_root>/<slug>/
}

github {
  api_url = "https://api.github.com" # https://HOST/api/v3 on GitHub Enterprise Server
  app_id  = 424242                   # the App that mints handoff tokens; env HANDOFF_GITHUB_APP_ID overrides
}

policy {
  max_ttl = "24h"

  # Ceiling of what any handoff may ask on GitHub. Give the App no more.
  github_permissions = {
    contents      = "write"
    pull_requests = "write"
    issues        = "write"
    metadata      = "read"
  }

  # Vault folders a handoff may read besides its own folder.
  vault_read_roots = ["/MooseQuest/queue/staging"]

  # Cloudflare zones a handoff's API token may reach (none unless listed).
  # Give the provisioner token Zone Read on exactly these.
  cloudflare_zones = ["example.com"]
}
