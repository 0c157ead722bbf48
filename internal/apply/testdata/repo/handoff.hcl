# Connection settings and policy of the handoffs in specs/. No secrets here:
# provisioner credentials come from the environment (INFISICAL_CLIENT_ID,
# INFISICAL_CLIENT_SECRET, GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE).

infisical {
  site_url        = "https://app.infisical.com" # env INFISICAL_SITE_URL overrides
  organization_id = "org-raxx"
  project_id      = "proj-moosequest" # env INFISICAL_PROJECT_ID overrides
  environment     = "staging"
  handoff_root    = "/MooseQuest/handoffs"
}

github {
  api_url = "https://api.github.com"
  app_id  = 424242 # the App that mints handoff tokens
}

policy {
  max_ttl = "24h"

  # Ceiling of what any handoff may ask on GitHub.
  github_permissions = {
    contents      = "write"
    pull_requests = "write"
    issues        = "write"
    metadata      = "read"
  }

  # Vault folders a handoff may read besides its own folder.
  vault_read_roots = ["/MooseQuest/queue/staging"]

  # Heroku apps a handoff may work on: every app the dedicated handoff
  # account reaches (its token reaches them all).
  heroku_apps = ["moosequest-staging", "trademaster-api"]

  # Cloudflare zones a handoff's API token may reach.
  cloudflare_zones = ["example.com"]
}
