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
  max_ttl                 = "12h"
  github_permissions      = { contents = "write", issues = "read" }
  vault_read_roots        = ["/MooseQuest/queue/staging"]
  vault_read_environments = ["staging", "dev"]
  github_owners           = ["raxx-app"]
  github_repositories     = ["raxx-app/TradeMasterAPI", "raxx-app/Moose*"]
}
