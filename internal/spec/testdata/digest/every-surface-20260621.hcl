handoff "every-surface-20260621" {
  card        = 42
  description = "every surface of the language, for the digest's golden value"
  ttl         = "8h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write" }
  }
  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/STRIPE_*", "/MooseQuest/queue/staging/APPLE_IAP_*"]
  }
  mcp {
    allow   = ["github_pr_create"]
    exclude = ["stripe_charge"]
  }
  stripe {
    mode        = "live"
    permissions = { checkout_sessions = "write" }
  }
  cloudflare {
    zones             = ["example.com"]
    permission_groups = ["DNS Write"]
    ttl               = "90m"
  }
  aws {
    role_arn       = "arn:aws:iam::123456789012:role/handoff-deploy"
    session_policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}"
    duration       = "30m"
  }
  heroku {
    app   = "moosequest-staging"
    scope = ["read"]
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
    reason = "ticket OPS-1"
  }
}
