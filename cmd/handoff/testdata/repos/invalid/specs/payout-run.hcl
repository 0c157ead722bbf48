handoff "payout-run" {
  card        = 3700
  description = "Weekly payout run"
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", workflows = "write" }
  }

  stripe {
    mode        = "live"
    permissions = { payouts = "write" }
  }

  infisical {
    read = ["/MooseQuest/queue/staging/../prod/STRIPE_*"]
  }
}
