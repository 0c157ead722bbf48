infisical {
  environment  = "staging"
  handoff_root = "/MooseQuest/handoffs"
}

github {
  app_id = 424242
}

policy {
  max_ttl          = "12h"
  vault_read_roots = ["/MooseQuest/queue/staging"]
  github_owners    = ["raxx-app"]
}
