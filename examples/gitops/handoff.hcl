# Connection settings and policy of the handoffs in specs/. No secrets here:
# the provisioner's credentials come from the environment only
# (INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET, GITHUB_APP_PRIVATE_KEY or
# GITHUB_APP_PRIVATE_KEY_FILE, CLOUDFLARE_API_TOKEN, HEROKU_API_KEY, and
# AWS's standard credential chain), which the workflow fills from Actions
# secrets and, for AWS, from GitHub's OIDC token.
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

# The interval of the scheduled apply: the cron of
# .github/workflows/handoff.yml ("*/15 * * * *"). The planner refreshes each
# hour-long token in the last run before it expires and spreads the early
# refreshes over the runs; change both together.
apply {
  schedule = "15m"
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

  # GitHub accounts whose repositories a handoff may name (no default).
  github_owners = ["raxx-app"]

  # Cloudflare zones a handoff's API token may reach (none unless listed).
  # Give the provisioner token Zone Read on exactly these.
  cloudflare_zones = ["example.com"]

  # AWS roles prepared for handoffs (none unless listed), and what their
  # sessions may read (docs/vendors/aws.md).
  aws_role_arns      = ["arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent"]
  aws_ssm_read_roots = ["/raxx/"]

  # Every Heroku app the dedicated handoff account reaches (none unless
  # listed): its tokens reach them all (docs/vendors/heroku.md).
  heroku_apps = ["moosequest-staging", "trademaster-api"]
}
