infisical {
  site_url        = "http://127.0.0.1:8200"
  organization_id = "org-raxx"
  project_id      = "proj-moosequest"
  environment     = "prod"
  handoff_root    = "/MooseQuest/handoffs"
}

github {
  api_url = "https://github.example.com/api/v3"
  app_id  = 7
}

policy {
  max_ttl            = "12h"
  github_permissions = { contents = "write", pull_requests = "write", checks = "read" }
  vault_read_roots   = ["/MooseQuest/queue/staging", "/Shared/public"]
  # handoff folders live in prod; handoffs read only the staging copies
  vault_read_environments = ["staging"]
  heroku_apps             = ["moosequest-staging", "trademaster-api"]
  cloudflare_zones        = ["example.com", "023e105f4ecef8ad9ca31a8372d0c353"]
}
