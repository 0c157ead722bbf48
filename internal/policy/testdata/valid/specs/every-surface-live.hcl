handoff "every-surface-live" {
  card        = 1
  description = "Every surface, live where it can be, with its approval"
  ttl         = "12h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "read", pull_requests = "write", checks = "read" }
  }

  infisical {
    environment = "staging"
    read = [
      "/MooseQuest/queue/staging/STRIPE_*",
      "/MooseQuest/queue/staging/*",
      "/Shared/public/README",
      "/MooseQuest/handoffs/every-surface-live/NOTES",
    ]
  }

  mcp {
    allow   = ["github_pr_create", "stripe.checkout:create"]
    exclude = ["stripe_*"]
  }

  stripe {
    mode        = "live"
    permissions = { checkout_sessions = "write", subscriptions = "read" }
  }

  cloudflare {
    zones             = ["example.com", "023e105f4ecef8ad9ca31a8372d0c353"]
    permission_groups = ["DNS Write"]
    ttl               = "12h"
  }

  aws {
    role_arn       = "arn:aws-us-gov:iam::123456789012:role/path/handoff-deploy"
    session_policy = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":\"*\"}}"
    duration       = "15m"
  }

  heroku {
    app   = "moosequest-staging"
    scope = ["read", "write-protected"]
  }

  apple_iap {
    environment = "production"
    bundle_id   = "com.raxx.trademaster"
  }

  alpaca {
    mode = "live"
  }

  live_approval {
    by     = "cfo"
    reason = "first live run, ticket OPS-412"
  }
}
