handoff "iap-notif-handler-20260621" {
  card        = 3629
  description = "StoreKit 2 server notification handler"
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
