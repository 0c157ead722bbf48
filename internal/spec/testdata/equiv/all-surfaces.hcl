handoff "all-surfaces" {
  card        = 4242
  description = "Every surface of the language, once"
  ttl         = "8h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write", issues = "read" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/APPLE_IAP_*", "/MooseQuest/handoffs/all-surfaces/NOTES"]
  }

  mcp {
    allow   = ["github_pr_create", "infisical_get_secret"]
    exclude = ["stripe_charge"]
  }

  stripe {
    mode        = "live"
    permissions = { checkout_sessions = "write", subscriptions = "read" }
  }

  cloudflare {
    zones             = ["example.com"]
    permission_groups = ["DNS Write"]
    ttl               = "1h"
  }

  aws {
    role_arn       = "arn:aws:iam::123456789012:role/handoff-deploy"
    session_policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}"
    duration       = "30m"
  }

  heroku {
    app   = "moosequest-staging"
    scope = ["read", "write"]
    ttl   = "2h"
  }

  apple_iap {
    environment = "production"
    bundle_id   = "com.raxx.trademaster"
  }

  alpaca {
    mode = "paper"
  }

  live_approval {
    by     = "cfo"
    reason = "first live checkout, ticket OPS-412"
  }
}
